from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render

from . import selectors

PAGE_SIZE = 24
SEARCH_LIMIT = 48


class BrowseForm(forms.Form):
    """The listing's filters; bad values are dropped with a message rather than failing the page."""

    min_price = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label="Min price"
    )
    max_price = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label="Max price"
    )
    in_stock = forms.BooleanField(required=False, label="In stock only")
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("newest", "Newest"),
            ("price_asc", "Price: low to high"),
            ("price_desc", "Price: high to low"),
            ("title", "Name"),
        ],
    )


def search(request):
    query = request.GET.get("q", "").replace("\x00", "")[:200]  # PostgreSQL refuses NUL bytes
    results = list(selectors.product_search(query=query)[:SEARCH_LIMIT])
    return render(request, "catalog/search.html", {"query": query, "results": results})


def product_list(request, category_slug: str | None = None):
    category = selectors.category_get(slug=category_slug) if category_slug else None
    form = BrowseForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    products = selectors.products_browse(
        category=category,
        min_price=filters.get("min_price"),
        max_price=filters.get("max_price"),
        in_stock=bool(filters.get("in_stock")),
        sort=filters.get("sort") or "newest",
    )
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "category": category,
        "categories": selectors.categories_top(),
        "form": form,
        "page": page,
        "products": list(page.object_list),
        "querystring": query.urlencode(),
    }
    return render(request, "catalog/product_list.html", context, status=400 if form.errors else 200)
