"""A local vendor REST API (week 6): the supplier catalogue, served the way real APIs misbehave.

    from delab.services.vendor_api import vendor_api
    api = vendor_api()                     # FastAPI + uvicorn on a free loopback port, in a thread
    requests.get(f"{api.url}/products", params={"page": 1}, headers={"X-API-Key": api.api_key})
    api.stats()                            # what the server saw: requests, 429s, 5xx, early retries
    api.stop()

* ``GET /products?page=N&page_size=M[&updated_since=ISO]`` returns ``{"data": [...], "page", "page_size",
  "total", "next_page"}``; rows are the ``vendor_products`` table ordered by ``product_id``. Pages
  overlap like a careless vendor's: every page after the first repeats the last product of the page
  before it, so a client must de-duplicate by ``product_id``.
* Auth: header ``X-API-Key`` (or ``Authorization: Bearer <key>``); 401 otherwise.
* Faults are deterministic, counted over authorised ``/products`` requests: every
  ``rate_limit_every``-th answers 429 with ``Retry-After: <retry_after>`` (and so does any request
  arriving before that wait is over: an *early retry*), every ``fail_every``-th answers 503.
  ``0`` turns a fault off. ``GET /health`` is always 200 and needs no key.
* ``VENDOR_API_URL`` set (and ``VENDOR_API_KEY``): the same call returns a handle on that service
  instead; nothing is started and ``stop()`` does nothing.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .errors import PortInUseError, ServiceError

URL_ENV, KEY_ENV = "VENDOR_API_URL", "VENDOR_API_KEY"
MAX_PAGE_SIZE = 500


@dataclass
class FaultPlan:
    """Which requests fail, and the server's counters (shared by its worker threads)."""

    rate_limit_every: int = 5
    fail_every: int = 7
    retry_after: int = 1
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("requests", "ok", "rate_limited", "failed", "early_retries", "unauthorized"), 0))
    blocked_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verdict(self) -> int:
        """HTTP status for the next authorised request: 200, 429 or 503 (and count it)."""
        with self.lock:
            self.counts["requests"] += 1
            n, now = self.counts["requests"], time.monotonic()
            if now < self.blocked_until:
                self.counts["early_retries"] += 1
                status = 429
            elif self.rate_limit_every and n % self.rate_limit_every == 0:
                self.blocked_until = now + self.retry_after
                status = 429
            elif self.fail_every and n % self.fail_every == 0:
                status = 503
            else:
                status = 200
            self.counts[{200: "ok", 429: "rate_limited", 503: "failed"}[status]] += 1
            return status


def build_app(products: pd.DataFrame, api_key: str, plan: FaultPlan) -> Any:
    """The FastAPI application serving ``products`` (sorted by product_id) with ``plan``'s faults."""
    from fastapi import FastAPI, Header, Query
    from fastapi.responses import JSONResponse

    rows = _records(products.sort_values("product_id"))
    app = FastAPI(title="Vendor catalogue (course API)", docs_url=None, redoc_url=None)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/products")
    def products_page(page: int = Query(1, ge=1), page_size: int = Query(100, ge=1, le=MAX_PAGE_SIZE),
                      updated_since: str | None = None, x_api_key: str | None = Header(None),
                      authorization: str | None = Header(None)) -> Any:
        if api_key not in (x_api_key, (authorization or "").removeprefix("Bearer ")):
            with plan.lock:
                plan.counts["unauthorized"] += 1
            return JSONResponse({"error": "missing or wrong API key (header X-API-Key)"}, status_code=401)
        status = plan.verdict()
        if status == 429:
            return JSONResponse({"error": "rate limit exceeded"}, status_code=429,
                                headers={"Retry-After": str(plan.retry_after)})
        if status == 503:
            return JSONResponse({"error": "upstream timeout, try again"}, status_code=503)
        return _page(rows, page, page_size, updated_since)

    return app


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: timestamps as ISO strings, numpy scalars as Python ones."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3]
    records = out.to_dict("records")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in records]


def _page(rows: list[dict[str, Any]], page: int, size: int, since: str | None) -> dict[str, Any]:
    """One page; pages after the first start with the previous page's last row (the overlap)."""
    if since:
        rows = [r for r in rows if str(r.get("updated_at", "")) > since]
    start = max((page - 1) * size - 1, 0) if page > 1 else 0
    end = page * size
    return {"data": rows[start:end], "page": page, "page_size": size, "total": len(rows),
            "next_page": page + 1 if end < len(rows) else None}


class VendorAPI:
    """A handle on the vendor API: the local server started here, or the one ``VENDOR_API_URL`` names."""

    def __init__(self, url: str, api_key: str, server: Any = None, thread: threading.Thread | None = None,
                 plan: FaultPlan | None = None) -> None:
        self.url, self.api_key = url.rstrip("/"), api_key
        self._server, self._thread, self._plan = server, thread, plan

    @property
    def headers(self) -> dict[str, str]:
        """The auth header every request needs."""
        return {"X-API-Key": self.api_key}

    @property
    def running(self) -> bool:
        return self._thread is None or self._thread.is_alive()

    def stats(self) -> dict[str, int]:
        """Counters of the local server ({} for an external service)."""
        if self._plan is None:
            return {}
        with self._plan.lock:
            return dict(self._plan.counts)

    def reset_stats(self) -> None:
        """Zero the counters and the fault schedule (request numbering starts again at 1)."""
        if self._plan is not None:
            with self._plan.lock:
                self._plan.counts = dict.fromkeys(self._plan.counts, 0)
                self._plan.blocked_until = 0.0

    def stop(self) -> None:
        """Stop the local server (safe to call twice); does nothing for ``VENDOR_API_URL``."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def __enter__(self) -> VendorAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = "local" if self._server is not None else "VENDOR_API_URL"
        return f"VendorAPI({where}, url={self.url!r}, running={self.running})"


def vendor_api(products: pd.DataFrame | None = None, *, port: int | None = None, api_key: str | None = None,
               rate_limit_every: int = 5, fail_every: int = 7, retry_after: int = 1) -> VendorAPI:
    """Start the vendor API on 127.0.0.1 (a free port unless ``port``) serving ``products`` (default: the
    dataset's ``vendor_products``); or, with ``VENDOR_API_URL`` set, return a handle on that service."""
    external = os.environ.get(URL_ENV, "").strip()
    if external:
        if not external.startswith(("http://", "https://")):
            raise ServiceError(f"{URL_ENV}={external!r} is not an http(s) URL")
        return VendorAPI(external, os.environ.get(KEY_ENV, api_key or ""))
    for name, value in {"rate_limit_every": rate_limit_every, "fail_every": fail_every,
                        "retry_after": retry_after}.items():
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name}={value!r}: use a whole number >= 0 (0 turns the fault off)")
    if products is None:
        from ..data import read

        products = read("vendor_products")
    if "product_id" not in products.columns:
        raise ValueError("products need a product_id column")
    key = api_key or secrets.token_urlsafe(16)
    plan = FaultPlan(rate_limit_every, fail_every, retry_after)
    return _serve(build_app(products, key, plan), key, plan, port)


def _serve(app: Any, key: str, plan: FaultPlan, port: int | None) -> VendorAPI:
    """Run ``app`` with uvicorn in a daemon thread on a socket bound here (no race for the port)."""
    import uvicorn

    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port or 0))  # a taken port fails here, with nothing started yet
    except OSError as exc:
        sock.close()
        raise PortInUseError(port or 0, setting="vendor_api(port=...)") from exc
    # log_config=None: uvicorn's own logging setup (dictConfig) would close the notebook's log handlers
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="vendor-api")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ServiceError("the vendor API did not start; see the log above")
        time.sleep(0.02)
    return VendorAPI(f"http://127.0.0.1:{sock.getsockname()[1]}", key, server, thread, plan)
