"""The service worker at /sw.js: the app shell it caches, versioned by the deployed files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from aiohttp import web

# The worker's source; served from /sw.js, the origin's root, so that its
# scope covers the app's pages (/, /login, /slots) as well as /static/.
WORKER_SOURCE = "sw.js"
# Not part of the app shell: the API reference page and its bundle (/docs is
# never cached), and the vendored libraries' notes.
_NOT_SHELL = ("docs/", "vendor/swagger-ui/")
_NOT_SHELL_SUFFIXES = (".md", ".LICENSE")


def shell_files(static_dir: Path) -> list[str]:
    """The URLs of every file the app needs to open, under /static/."""
    files = []
    for path in sorted(static_dir.rglob("*")):
        relative = path.relative_to(static_dir).as_posix()
        if (
            not path.is_file()
            or relative == WORKER_SOURCE
            or relative.startswith(_NOT_SHELL)
            or relative.endswith(_NOT_SHELL_SUFFIXES)
        ):
            continue
        files.append("/static/" + relative)
    return files


def worker_script(static_dir: Path) -> str:
    """The worker: its shell list and a version hashed from every shell file and itself.

    A deployment that changes any of them changes the worker's bytes, so the
    browser installs the new worker on the next load, which caches the new
    files under a new name and deletes the old cache.
    """
    source = (static_dir / WORKER_SOURCE).read_text(encoding="utf-8")
    files = shell_files(static_dir)
    digest = hashlib.sha256(source.encode())
    for url in files:
        digest.update(url.encode() + b"\0")
        digest.update((static_dir / url.removeprefix("/static/")).read_bytes())
    shell = {"version": digest.hexdigest()[:16], "files": files}
    return f"const SHELL = {json.dumps(shell)};\n{source}"


def setup(app: web.Application, static_dir: Path) -> None:
    if not (static_dir / WORKER_SOURCE).is_file():
        return  # a static directory without the app's worker (a test's) serves none
    # Computed once, like the CSP hash of index.html: new files need a restart.
    script = worker_script(static_dir)

    async def serve_worker(request: web.Request) -> web.Response:
        # no-cache: the browser checks for a new worker on every load.
        return web.Response(
            text=script,
            content_type="text/javascript",
            headers={"Cache-Control": "no-cache"},
        )

    app.router.add_get("/sw.js", serve_worker)
