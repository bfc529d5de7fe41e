"""delab.services.vendor_api: pages, auth, deterministic 429/503 faults, and VENDOR_API_URL."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests

from delab.services import PortInUseError, ServiceError
from delab.services.vendor_api import VendorAPI, vendor_api

PRODUCTS = pd.DataFrame({
    "product_id": range(1, 11), "name": [f"p{i}" for i in range(1, 11)],
    "updated_at": pd.date_range("2025-01-01", periods=10, freq="D"),
})


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[VendorAPI]:
    monkeypatch.delenv("VENDOR_API_URL", raising=False)
    server = vendor_api(PRODUCTS, api_key="secret", rate_limit_every=0, fail_every=0)
    yield server
    server.stop()


def get(api: VendorAPI, **params: object) -> requests.Response:
    return requests.get(f"{api.url}/products", params=params, headers=api.headers, timeout=10)


def test_pages_overlap_by_one_row_and_cover_everything(api: VendorAPI) -> None:
    pages, page = [], 1
    while page:
        body = get(api, page=page, page_size=4).json()
        pages.append([r["product_id"] for r in body["data"]])
        page = body["next_page"]
        assert body["total"] == 10
    assert pages == [[1, 2, 3, 4], [4, 5, 6, 7, 8], [8, 9, 10]]
    assert get(api, page=1, page_size=4).json()["data"][0]["updated_at"] == "2025-01-01T00:00:00.000"


def test_leaves_the_notebook_logging_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = logging.getLogger("week06-test")
    handler = logging.FileHandler(tmp_path / "x.log", mode="w")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    monkeypatch.delenv("VENDOR_API_URL", raising=False)
    try:
        with vendor_api(PRODUCTS):
            log.info("still logging")
    finally:
        log.removeHandler(handler)
        handler.close()
    assert "still logging" in (tmp_path / "x.log").read_text()


def test_updated_since_filters(api: VendorAPI) -> None:
    body = get(api, page_size=100, updated_since="2025-01-08").json()
    assert [r["product_id"] for r in body["data"]] == [8, 9, 10]


def test_auth_is_required(api: VendorAPI) -> None:
    assert requests.get(f"{api.url}/products", timeout=10).status_code == 401
    bad = requests.get(f"{api.url}/products", headers={"X-API-Key": "nope"}, timeout=10)
    assert bad.status_code == 401 and "X-API-Key" in bad.json()["error"]
    bearer = requests.get(f"{api.url}/products", headers={"Authorization": "Bearer secret"}, timeout=10)
    assert bearer.status_code == 200
    assert requests.get(f"{api.url}/health", timeout=10).status_code == 200
    assert api.stats()["unauthorized"] == 2


def test_faults_are_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VENDOR_API_URL", raising=False)
    with vendor_api(PRODUCTS, rate_limit_every=4, fail_every=3, retry_after=1) as api:
        codes = []
        for _ in range(8):
            response = get(api, page=1)
            codes.append(response.status_code)
            if response.status_code == 429:
                assert response.headers["Retry-After"] == "1"
                assert get(api, page=1).status_code == 429   # too early: still limited
                time.sleep(1.05)
        assert codes == [200, 200, 503, 429, 503, 200, 429, 200]  # early retries count as requests too
        stats = api.stats()
        assert stats["early_retries"] == 2 and stats["failed"] == 2 and stats["rate_limited"] == 4
        api.reset_stats()
        assert api.stats()["requests"] == 0
        assert [get(api).status_code for _ in range(3)] == [200, 200, 503]
    assert not api.running


def test_bad_settings_and_busy_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VENDOR_API_URL", raising=False)
    with pytest.raises(ValueError, match="fail_every"):
        vendor_api(PRODUCTS, fail_every=-1)
    with pytest.raises(ValueError, match="product_id"):
        vendor_api(PRODUCTS.rename(columns={"product_id": "id"}))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(PortInUseError, match="vendor_api"):
            vendor_api(PRODUCTS, port=taken.getsockname()[1])


def test_environment_points_at_another_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENDOR_API_URL", "http://vendor.example:8080/")
    monkeypatch.setenv("VENDOR_API_KEY", "k")
    api = vendor_api()
    assert (api.url, api.api_key, api.stats()) == ("http://vendor.example:8080", "k", {})
    api.stop()  # nothing to stop
    monkeypatch.setenv("VENDOR_API_URL", "vendor.example")
    with pytest.raises(ServiceError, match="not an http"):
        vendor_api()
