from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("shows/<int:show_id>/", views.show_detail, name="show_detail"),
    path("shows/<int:show_id>/buy/", views.show_buy, name="show_buy"),
    path("shows/<int:show_id>/waitlist/", views.show_waitlist_join, name="show_waitlist_join"),
    path("shows/<int:show_id>/remind/", views.show_reminder_toggle, name="show_remind"),
    path("shows/<int:show_id>/lots/<int:lot_id>/bid/", views.lot_bid, name="lot_bid"),
    path("shows/<int:show_id>/host/", views.host_console, name="host_console"),
    path("shows/<int:show_id>/host/stream-key/", views.host_stream_key, name="host_stream_key"),
    path("streams/on_publish", views.stream_on_publish, name="stream_on_publish"),
    path("streams/on_publish_done", views.stream_on_publish_done, name="stream_on_publish_done"),
    path("streams/on_update", views.stream_on_update, name="stream_on_update"),
    path("shops/<slug:shop_slug>/", views.shop_detail, name="shop_detail"),
    path("shops/<slug:shop_slug>/products/<slug:product_slug>/", views.product_detail, name="product_detail"),
]
