from django.urls import path

from . import views
from .payments import views as payment_views

urlpatterns = [
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add_view, name="cart_add"),
    path("cart/lines/<int:line_id>/", views.cart_line_update, name="cart_line_update"),
    path("cart/lines/<int:line_id>/remove/", views.cart_line_delete, name="cart_line_delete"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/complete/<uuid:key>/", views.checkout_done, name="checkout_done"),
    path("payments/webhooks/<slug:gateway>/", payment_views.payment_webhook, name="payment_webhook"),
    path("account/bidding/", views.bidding_setup, name="bidding_setup"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("orders/<str:number>/cancel/", views.order_cancel_view, name="order_cancel"),
    path("orders/<str:number>/review/", views.order_review, name="order_review"),
]
