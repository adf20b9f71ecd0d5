"""CSV downloads: read in keyset pages, sent to a client that must keep reading, a few per user."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from .errors import TooManyExports
from .slots import local_time

log = logging.getLogger(__name__)

# Rows read by one query. The pooled connection is held for that query only,
# never while the client reads, so a reader that stalls holds no connection.
PAGE_ROWS = 500
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The next page after the given row (None: the first page).
FetchPage = Callable[[dict[str, Any] | None], Awaitable[list[dict[str, Any]]]]


class ExportsInFlight:
    """How many exports each user has under way on this process, and the cap on them."""

    def __init__(self, per_user: int) -> None:
        self._per_user = per_user
        self._running: Counter[int] = Counter()

    @contextmanager
    def admit(self, user_id: int) -> Iterator[None]:
        if self._running[user_id] >= self._per_user:
            raise TooManyExports(
                f"You already have {self._per_user} downloads under way. "
                "Wait for one to finish, then try again.",
                headers={"Retry-After": "10"},
            )
        self._running[user_id] += 1
        try:
            yield
        finally:
            self._running[user_id] -= 1
            if not self._running[user_id]:
                del self._running[user_id]


async def stream_csv(
    request: web.Request,
    fetch_page: FetchPage,
    columns: tuple[tuple[str, str], ...],
    *,
    filename: str,
    tz: ZoneInfo,
    write_timeout: float,
) -> web.StreamResponse:
    """The pages' rows as CSV, the header first; a client that reads nothing for `write_timeout` is dropped."""
    # Read before the response starts: a database failure here is still a JSON 503.
    page = await fetch_page(None)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _ in columns])
    # From here on the head is sent: an error must not reach the error middleware,
    # whose JSON answer would be written into the CSV as a second HTTP head. The
    # connection is broken instead, so the client sees a failed download.
    try:
        while True:
            writer.writerows([_cell(row[name], tz) for _, name in columns] for row in page)
            async with asyncio.timeout(write_timeout):
                await response.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
            if len(page) < PAGE_ROWS:
                break
            page = await fetch_page(page[-1])
        await response.write_eof()
    except ConnectionResetError:
        # Not the database's fault: stop reading rows.
        log.info("CSV export stopped: the client went away")
    except TimeoutError:
        log.warning(
            "CSV export dropped: the client was too slow, reading nothing for %.0fs", write_timeout
        )
        _break(request)
    except Exception as exc:
        log.warning("CSV export cut short after its head was sent: %r", exc)
        _break(request)
    return response


def _break(request: web.Request) -> None:
    """End the connection without the chunked body's last chunk: the download fails, visibly."""
    if request.transport is not None:
        request.transport.abort()


def _cell(value: object, tz: ZoneInfo) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_time(value, tz)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value  # shown as text, never run (OWASP's CSV injection advice)
    return value


EXPORTS_IN_FLIGHT = web.AppKey("exports_in_flight", ExportsInFlight)
