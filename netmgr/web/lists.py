"""What every list page shares: the bounded list request, sort links, page sizes, kept filters, bulk forms
and the CSV export of the filtered list.

Handler → ``list_view(ctx, sorting)`` → the service's ``list_*``/``iter_*`` with ``view.request`` → template
macros ``sort_th``, ``list_tools``, ``kept_params`` and ``bulk_box`` (``_macros.html``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.responses import Response
from starlette.datastructures import FormData

from netmgr import localtime
from netmgr.security.formulas import SafeCsvWriter
from netmgr.services.listing import PAGE_SIZES, ListRequest, Sorting
from netmgr.web.context import PageContext
from netmgr.web.pages import Pager


@dataclass(frozen=True)
class ListView:
    """A list page's request, its pager and the links its header and tools need."""

    request: ListRequest
    path: str
    query: str
    sizes: tuple[int, ...] = PAGE_SIZES

    @property
    def export_url(self) -> str:
        """The CSV of the same filtered, sorted list (page and size do not apply to an export)."""
        return f"{self.path}.csv" + (f"?{self.query}" if self.query else "")

    def pager(self, total: int) -> Pager:
        size = self.request.size
        return Pager(page=self.request.page, pages=max(1, math.ceil(total / size)), total=total,
                     offset=self.request.offset, limit=size)

    def next_order(self, key: str) -> str:
        """Clicking the sorted column flips its direction; another column starts ascending."""
        if key == self.request.sort:
            return "asc" if self.request.descending else "desc"
        return "asc"

    def aria_sort(self, key: str) -> str:
        if key != self.request.sort:
            return "none"
        return "descending" if self.request.descending else "ascending"


def list_view(ctx: PageContext, sorting: Sorting) -> ListView:
    """The bounded sort, order, page and size of this request (nonsense falls back to the defaults)."""
    return ListView(request=ListRequest.parse(ctx.request.query_params, sorting), path=ctx.request.url.path,
                    query=ctx.request.url.query)


def selected_ids(form: FormData, name: str = "id") -> list[int]:
    """The ticked row ids of a bulk form; anything that is not a positive integer is dropped."""
    out = []
    for raw in form.getlist(name):
        if isinstance(raw, str) and raw.isdigit() and len(raw) <= 12 and int(raw) > 0:
            out.append(int(raw))
    return sorted(set(out))


def back_to(form: FormData, list_path: str) -> str:
    """Where a bulk form returns: the list with its filters (``next``) when it is that list, else the list."""
    back = form.get("next")
    if isinstance(back, str) and (back == list_path or back.startswith(f"{list_path}?")):
        return back
    return list_path


def csv_time(moment: datetime | None, tz: str) -> str:
    """A time for a CSV cell, in the installation's zone (``settings.timezone``): ``2026-12-07 08:15``."""
    return "" if moment is None else localtime.to_local(moment, tz).strftime("%Y-%m-%d %H:%M")


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A CSV download; every text cell is formula-safe (``netmgr.security.formulas``).

    The rows are read while the handler still holds its database session (20,000 devices are about 2 MB).
    """
    buffer = io.StringIO()
    buffer.write("\ufeff")  # spreadsheets then read the file as UTF-8
    writer = SafeCsvWriter(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return Response(buffer.getvalue().encode(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
