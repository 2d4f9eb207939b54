import re

import pytest


@pytest.mark.django_db
def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert body["database_engine"] == "postgresql"


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("error")


@pytest.mark.django_db
def test_favicon_ico_is_the_site_icon_not_a_404(client):
    """B13: browsers fetch /favicon.ico on every site."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml" and response.content.startswith(b"<svg")


@pytest.mark.django_db
def test_api_docs_load_nothing_from_other_hosts(client):
    """B13: ReDoc's page linked Google Fonts, which the CSP blocks and an offline demo can't reach."""
    for url in ("/api/redoc/", "/api/docs/"):
        page = client.get(url).content.decode()
        hosts = set(re.findall(r'(?:src|href)="(https?://[^/"]+)', page))
        assert hosts == set(), (url, hosts)
