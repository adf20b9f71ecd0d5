"""The embedded PostgreSQL for make run (pgserver): started, watched, restarted, stopped."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

from aiohttp import web

from .errors import DatabaseStartupError

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "smart_parking"


class EmbeddedPostgres:
    """pgserver's PostgreSQL in `pgdata`, and what became of it since it started.

    If the postmaster dies (killed, out of memory), watch() says so in the log
    with what to do, and restarts it: at most `max_restarts` times within
    `restart_window` seconds, then it gives up and /readyz reports it.
    """

    def __init__(
        self, pgdata: Path, *, max_restarts: int = 3, restart_window: float = 300.0
    ) -> None:
        self.pgdata = pgdata
        self._max_restarts = max_restarts
        self._restart_window = restart_window
        self._restarts: list[float] = []
        self._server: Any = None  # pgserver.PostgresServer, imported only when needed
        # "running", "restarting" or "stopped" (given up); detail says why, for /readyz.
        self.state = "running"
        self.detail = ""

    @property
    def log(self) -> Path:
        """PostgreSQL's own log file, where the reason it stopped is."""
        return Path(self._server.log)

    @property
    def url(self) -> str:
        # It listens only on a Unix socket inside its data directory.
        return f"postgresql://postgres@/{EMBEDDED_DATABASE}?host={self._server.pgdata}"

    async def start(self) -> None:
        self._server = await asyncio.to_thread(_start, self.pgdata)

    async def stop(self) -> None:
        log.info("Stopping embedded PostgreSQL")
        await asyncio.to_thread(self._server.cleanup)

    async def watch(self, interval: float = 2.0) -> None:
        while self.state != "stopped":
            await asyncio.sleep(interval)  # a poll period: the postmaster is no child of ours
            info = self._server.get_postmaster_info()
            if not info.is_running():
                await self._restart(info.pid)

    async def _restart(self, pid: int) -> None:
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < self._restart_window]
        if len(self._restarts) >= self._max_restarts:
            self.state = "stopped"
            self.detail = (
                f"The embedded PostgreSQL stopped {len(self._restarts) + 1} times within "
                f"{self._restart_window:.0f} s and is not being restarted. "
                f"Read its log ({self.log}), then restart the app."
            )
            log.error("%s", self.detail)
            return
        self._restarts.append(now)
        self.state = "restarting"
        self.detail = "The embedded PostgreSQL stopped unexpectedly and is being restarted."
        log.error(
            "The embedded PostgreSQL (pid %d, data in %s) is no longer running; restarting it. "
            "If this repeats, read its log: %s",
            pid,
            self.pgdata,
            self.log,
        )
        try:
            await asyncio.to_thread(self._server.ensure_postgres_running)
        except Exception as exc:  # pg_ctl failed or timed out: try again next poll
            log.error("Restarting the embedded PostgreSQL failed (%r); see %s", exc, self.log)
            return
        self.state, self.detail = "running", ""
        log.warning("The embedded PostgreSQL is running again (pid %d)", self._server.get_pid())


def _start(pgdata: Path) -> Any:
    try:
        # pgserver asks platformdirs for a runtime directory when it is imported,
        # which warns wherever XDG_RUNTIME_DIR is unset (CI, containers) and then
        # falls back to /tmp/runtime-<uid>, which suits it.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            import pgserver  # only needed without DATABASE_URL; see requirements-dev.txt
    except ImportError:
        raise DatabaseStartupError(
            "DATABASE_URL is not set and the embedded PostgreSQL (pgserver) is not installed"
        ) from None
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    log.info("Starting embedded PostgreSQL in %s", pgdata)
    # Under pgserver's own lock, which guards the same list in get_server and cleanup.
    with pgserver.PostgresServer._lock:
        _forget_dead_handles(pgdata)
    return pgserver.get_server(pgdata, cleanup_mode="stop")


# pgserver stops its server when the last process in this list lets go. A
# process killed -9 never lets go, so its pid stays, and a later graceful
# stop of the process that adopted the server leaves it running forever.
# The file is pgserver's own, undocumented (see docs/architecture.md);
# tests/test_embedded_database.py fails if its shape changes.
_HANDLES = ".handle_pids.json"


def _forget_dead_handles(pgdata: Path) -> None:
    handles = pgdata / _HANDLES
    if not handles.exists():
        return
    pids = json.loads(handles.read_text())
    alive = [pid for pid in pids if _is_running(pid)]
    if alive != pids:
        log.warning(
            "Adopting the embedded PostgreSQL in %s, left running by process %s, which ended "
            "without stopping it; it stops with this one",
            pgdata,
            ", ".join(str(pid) for pid in pids if pid not in alive),
        )
        handles.write_text(json.dumps(alive))


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        return True
    return True


EMBEDDED = web.AppKey("embedded", EmbeddedPostgres)
