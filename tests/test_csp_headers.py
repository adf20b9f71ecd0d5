"""Every response carries a Content-Security-Policy; the app's pages allow their import map and eval."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

from server import csp
from server.settings import PROJECT_ROOT

INDEX_HTML = PROJECT_ROOT / "static" / "index.html"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        assert name not in parsed, f"{name} appears twice"
        parsed[name] = sources
    return parsed


class InlineScripts(HTMLParser):
    """The text of every <script> without a src, as the browser would hash it."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._inside: bool = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and "src" not in dict(attrs):
            self._inside = True
            self.texts.append("")

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.texts[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inside = False


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


async def test_every_response_but_the_apps_pages_gets_the_strict_policy(client, auth):
    for path, headers in (
        ("/docs", {}),
        ("/spots", auth()),
        ("/nope", {}),
        ("/openapi.yaml", {}),
        ("/static/main.js", {}),
        ("/static/vendor/vue.esm-browser.prod.js", {}),
        ("/static/vendor/swagger-ui/swagger-ui.css", {}),
    ):
        response = await client.get(path, headers=headers)
        assert response.headers["Content-Security-Policy"] == csp.DEFAULT, path

    policy = directives(csp.DEFAULT)
    assert policy["default-src"] == ["'self'"]
    assert "script-src" not in policy and "style-src" not in policy, "both fall back to 'self'"
    assert policy["img-src"] == ["'self'", "data:"]
    for name in ("object-src", "base-uri", "form-action", "frame-ancestors"):
        assert policy[name] == ["'none'"], name
    assert "unsafe" not in csp.DEFAULT


async def test_the_apps_pages_allow_their_import_map_by_hash_and_eval_for_vue(client):
    parser = InlineScripts()
    parser.feed(INDEX_HTML.read_text(encoding="utf-8"))
    (import_map,) = parser.texts
    for page in ("/", "/login", "/slots"):
        response = await client.get(page)
        policy = directives(response.headers["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'", sha256_source(import_map), "'unsafe-eval'"], page
        del policy["script-src"]
        assert policy == directives(csp.DEFAULT), "otherwise the same strict policy"


def test_the_app_policy_hashes_each_inline_script_and_no_script_file():
    html = (
        '<script type="importmap">\n  {"imports": {}}\n</script>'
        '<script type="module" src="/static/main.js"></script>'
        "<script>console.log('two')</script>"
    )
    script_src = directives(csp.for_app(html))["script-src"]
    assert script_src == [
        "'self'",
        sha256_source('\n  {"imports": {}}\n'),
        sha256_source("console.log('two')"),
        "'unsafe-eval'",
    ]
