"""Serves the browser app (index.html, static/), the API's OpenAPI document and its /docs page."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from . import csp
from .errors import Handler, NotFound

STATIC_PREFIX = "/static/"
# The browser app's own routes; a reload on any of them must get the app back.
APP_PAGES = ("/", "/login", "/slots")
# The interactive API reference: vendored swagger-ui rendering OPENAPI_DOCUMENT.
DOCS_PAGE = "/docs"
OPENAPI_DOCUMENT = Path(__file__).parent / "openapi.yaml"
# For a browser at an unknown path (/slots/, a typo): the legacy theme's card and a way back.
NOT_FOUND_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>Page not found · SmartParking</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/static/style.css" />
    <link rel="stylesheet" href="/static/not-found.css" />
  </head>
  <body>
    <main class="page login-page">
      <div class="card login-card">
        <p class="logo">SmartParking</p>
        <h1 class="not-found-title">Page not found</h1>
        <p class="subtitle">There is no page at this address.</p>
        <a class="btn btn-primary not-found-home" href="/">Go to SmartParking</a>
      </div>
    </main>
  </body>
</html>
"""


def setup(app: web.Application, static_dir: Path) -> None:
    index = static_dir / "index.html"
    # Hashed once: a changed import map needs a restart, like any server code.
    app_policy = csp.for_app(index.read_text(encoding="utf-8"))
    docs = static_dir / "docs" / "index.html"

    async def serve_index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(
            index, headers={"Cache-Control": "no-cache", "Content-Security-Policy": app_policy}
        )

    async def serve_docs(request: web.Request) -> web.FileResponse:
        return web.FileResponse(docs, headers={"Cache-Control": "no-cache"})

    async def serve_openapi(request: web.Request) -> web.FileResponse:
        return web.FileResponse(
            OPENAPI_DOCUMENT,
            headers={"Content-Type": "application/yaml", "Cache-Control": "no-cache"},
        )

    root = static_dir.resolve()

    async def serve_static(request: web.Request) -> web.FileResponse:
        # Resolved first, so "..", encoded or not, and symlinks cannot leave static/.
        try:
            path = (root / request.match_info["path"]).resolve()
            found = path.is_relative_to(root) and path.is_file()
        except (OSError, ValueError):  # a NUL (ValueError) or a name too long (ENAMETOOLONG)
            found = False
        if not found:
            raise NotFound("No such file.")
        # Vendored files only change with their version; app code must revalidate
        # (cheap: FileResponse answers If-None-Match / If-Modified-Since with 304).
        vendored = path.is_relative_to(root / "vendor")
        cache = "public, max-age=86400" if vendored else "no-cache"
        return web.FileResponse(path, headers={"Cache-Control": cache})

    for page in APP_PAGES:
        app.router.add_get(page, serve_index)
    app.router.add_get("/openapi.yaml", serve_openapi)
    app.router.add_get(DOCS_PAGE, serve_docs)
    app.router.add_get(STATIC_PREFIX + "{path:.+}", serve_static)


@web.middleware
async def html_not_found(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Browsers asking for a page at an unknown path get a plain HTML 404, not the API's JSON.

    Placed before the JWT middleware, which would answer such a path with a 401.
    """
    # aiohttp resolves the route before middlewares run; an unknown path carries its 404 here.
    unknown = isinstance(request.match_info.http_exception, web.HTTPNotFound)
    # A browser's navigation asks for text/html; fetch(), curl and API clients do not.
    wants_page = "text/html" in request.headers.get("Accept", "")
    if unknown and wants_page and request.method in ("GET", "HEAD"):
        return web.Response(text=NOT_FOUND_PAGE, status=404, content_type="text/html")
    return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Browser hardening for every response; a handler's own values win."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Content-Security-Policy", csp.DEFAULT)
    # API answers carry tokens and personal data: never store them in caches.
    response.headers.setdefault("Cache-Control", "no-store")
