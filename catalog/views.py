from django.shortcuts import render

from .selectors import product_search


def search(request):
    query = request.GET.get("q", "")[:200]
    results = product_search(query=query) if query.strip() else []
    return render(request, "catalog/search.html", {"query": query, "results": results})
