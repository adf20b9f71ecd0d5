"""Entry point: `python -m server` reads the environment and serves the app."""

from __future__ import annotations

import asyncio
import logging
import sys
import warnings

from aiohttp import web

from . import logs
from .app import create_app
from .errors import DatabaseStartupError
from .serving import ListenError, serve
from .settings import Settings, SettingsError


def main() -> None:
    # What is logged while the settings are read waits for the format they name.
    held = logs.hold()
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        logs.configure("text", held)
        sys.exit(f"Configuration error: {exc}")
    logs.configure(settings.log_format, held)
    # aiohttp-jwt logs a full traceback for every rejected token; a 401 is enough.
    logging.getLogger("aiohttp_jwt").setLevel(logging.CRITICAL)
    # pgserver narrates every pg_ctl call at INFO; its warnings still show.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # aiohttp-jwt 0.6.1 stores claims under a str key; it accepts no RequestKey.
    warnings.filterwarnings(
        "ignore", "It is recommended to use web.RequestKey", web.NotAppKeyWarning
    )
    try:
        asyncio.run(serve(create_app(settings), settings))
    except ListenError as exc:
        sys.exit(str(exc))
    except DatabaseStartupError as exc:
        sys.exit(f"Startup failed: {exc}")


if __name__ == "__main__":
    main()
