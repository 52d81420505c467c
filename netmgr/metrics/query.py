"""InfluxQL reads through ``/query``: served natively by InfluxDB 1.x, by 2.x through its DBRP mapping, by 3.x.

Reports and pages ask with InfluxQL and bound ``$parameters``; rows come back as flat dicts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from netmgr.errors import MetricsQueryError

logger = logging.getLogger(__name__)


def rows_from_response(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten ``/query`` JSON into one dict per row: the columns plus the series' tags.

    Raises MetricsQueryError if any statement reported an error.
    """
    if "error" in payload:
        raise MetricsQueryError(f"InfluxDB refused the query: {payload['error']}")
    rows: list[dict[str, Any]] = []
    for result in payload.get("results", []):
        if "error" in result:
            raise MetricsQueryError(f"InfluxDB refused the query: {result['error']}")
        for series in result.get("series", []):
            columns = series.get("columns", [])
            tags = series.get("tags") or {}
            for values in series.get("values", []):
                row = dict(tags)
                row.update(zip(columns, values, strict=False))
                rows.append(row)
    return rows


class InfluxQLClient:
    """Runs InfluxQL against one database (and optional retention policy) over HTTP.

    Args:
        url: the server's base URL.
        database: the v1 database, or the bucket name on 2.x (its automatic DBRP mapping).
        retention_policy: empty for the database's default.
        headers: authentication, e.g. ``{"Authorization": "Token ..."}`` for 2.x.
        auth: (username, password) for 1.x with auth enabled.
        transport: an httpx transport, for tests or custom TLS.
    """

    def __init__(self, url: str, database: str, *, retention_policy: str = "", timeout_s: float = 10.0,
                 headers: Mapping[str, str] | None = None, auth: tuple[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.retention_policy = retention_policy
        self._client = httpx.Client(base_url=self.url, timeout=timeout_s, headers=dict(headers or {}), auth=auth,
                                    transport=transport)

    def query(self, influxql: str, params: Mapping[str, object] | None = None, *,
              database: str | None = None) -> list[dict[str, Any]]:
        """Run ``influxql`` with ``$name`` placeholders bound from ``params``; time comes back in ns."""
        form: dict[str, str] = {"q": influxql, "db": self.database if database is None else database, "epoch": "ns"}
        if self.retention_policy:
            form["rp"] = self.retention_policy
        if params:
            form["params"] = json.dumps(dict(params))
        try:
            response = self._client.post("/query", data=form)
        except httpx.HTTPError as exc:
            raise MetricsQueryError(f"InfluxDB at {self.url} is unreachable: {exc}") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code >= 400 or not isinstance(payload, dict):
            detail = payload.get("error") if isinstance(payload, dict) else response.text[:200]
            raise MetricsQueryError(f"InfluxDB at {self.url} answered HTTP {response.status_code} to a query: "
                                    f"{detail}")
        return rows_from_response(payload)

    def close(self) -> None:
        self._client.close()
