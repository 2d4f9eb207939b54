from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("shows/<int:show_id>/", views.show_detail, name="show_detail"),
    path("shops/<slug:shop_slug>/", views.shop_detail, name="shop_detail"),
    path("shops/<slug:shop_slug>/products/<slug:product_slug>/", views.product_detail, name="product_detail"),
]
