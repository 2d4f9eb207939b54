"""Domain errors of the catalog, turned into messages or 4xx only at the edge."""


class CatalogError(Exception):
    pass


class InsufficientStock(CatalogError):
    """Raised when a variant has fewer available units than asked for."""

    def __init__(self, items: list[tuple[int, int, int]]):
        # (variant_id, requested, available) for every line that could not be served.
        self.items = items
        super().__init__(", ".join(f"variant {v}: asked {r}, {a} available" for v, r, a in items))


class StockBelowAllocated(CatalogError):
    """On-hand cannot drop below what is already promised to orders."""

    def __init__(self, variant_id: int, allocated: int):
        self.variant_id = variant_id
        self.allocated = allocated
        super().__init__(f"variant {variant_id} has {allocated} units allocated")


class StockFeedError(CatalogError):
    """A stock feed that cannot be read at all (encoding, columns, syntax, size, fetch): nothing is applied."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class SkuTaken(CatalogError):
    """Another variant of the shop already has this SKU."""

    field = "sku"

    def __init__(self, sku: str):
        self.sku = sku
        super().__init__(f"Another variant of this shop already has SKU {sku}.")


class SlugTaken(CatalogError):
    field = "slug"

    def __init__(self, slug: str):
        self.slug = slug
        super().__init__(f"Another product of this shop already has the slug {slug}.")
