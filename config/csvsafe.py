"""Formula escaping for every CSV the project writes (OWASP "CSV injection").

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return, which some strip
first) as a formula, so a product or show titled `=HYPERLINK(...)` would act in a merchant's
spreadsheet. Such a text cell is written with a leading apostrophe, which spreadsheets show as text;
the product import strips it again (`csv_unescape`), so an exported file round-trips unchanged.
Numbers are written as they are.
"""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_escape(value):
    """`value` as a CSV cell: a text starting with a formula character gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return f"'{value}"
    return value


def csv_unescape(value: str) -> str:
    """The text `csv_escape` was given (a cell read back from an exported file)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value
