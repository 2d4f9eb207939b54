"""E-mail helpers shared by the apps."""

from django.conf import settings


def subject_line(text: str, *, limit: int = 200) -> str:
    """A subject made of user text (a shop name, a product or show title) on one line: a newline in
    a header is refused by Django (BadHeaderError), which would fail the whole send (and, in a
    batch, everyone's e-mail). Whitespace runs become one space; very long subjects are cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def absolute_url(path: str) -> str:
    """A site path ("/orders/LM…/") on the site's base URL (LIVEMARKET_SITE_URL): an e-mail is read in
    a mail client, which has no page to resolve a relative link against."""
    return settings.LIVEMARKET_SITE_URL.rstrip("/") + "/" + path.lstrip("/")
