from django.urls import path

from shops import views as shop_views

from . import views

urlpatterns = [
    path("search/", views.search, name="search"),
    path("products/", views.product_list, name="product_list"),
    path("categories/<slug:category_slug>/", views.product_list, name="category_detail"),
    path("shops/<slug:shop_slug>/follow/", shop_views.follow_toggle, name="shop_follow"),
]
