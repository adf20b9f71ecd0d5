"""Serves the browser app (index.html, static/) and the API's OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_PREFIX = "/static/"
# The browser app's own routes; a reload on any of them must get the app back.
APP_PAGES = ("/", "/login", "/slots")
OPENAPI_DOCUMENT = Path(__file__).parent / "openapi.yaml"


def setup(app: web.Application, static_dir: Path) -> None:
    index = static_dir / "index.html"

    async def serve_index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    async def serve_openapi(request: web.Request) -> web.FileResponse:
        return web.FileResponse(
            OPENAPI_DOCUMENT,
            headers={"Content-Type": "application/yaml", "Cache-Control": "no-cache"},
        )

    for page in APP_PAGES:
        app.router.add_get(page, serve_index)
    app.router.add_get("/openapi.yaml", serve_openapi)
    # follow_symlinks=False (the default) also refuses paths that leave static_dir.
    app.router.add_static(STATIC_PREFIX, static_dir, append_version=False)
    app.on_response_prepare.append(_static_cache_headers)


async def _static_cache_headers(request: web.Request, response: web.StreamResponse) -> None:
    if not request.path.startswith(STATIC_PREFIX) or response.status >= 400:
        return
    # Vendored files only change with their version; app code must revalidate
    # (cheap: aiohttp answers If-Modified-Since / If-None-Match with 304).
    if request.path.startswith(STATIC_PREFIX + "vendor/"):
        response.headers["Cache-Control"] = "public, max-age=86400"
    else:
        response.headers["Cache-Control"] = "no-cache"
