"""The service worker at /sw.js: public, same-origin, strict CSP, versioned by the deployed shell."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from server import csp
from server.offline import shell_files, worker_script
from server.settings import PROJECT_ROOT

STATIC = PROJECT_ROOT / "static"


def shell_of(script: str) -> dict:
    first_line = script.splitlines()[0]
    assert first_line.startswith("const SHELL = ") and first_line.endswith(";")
    return json.loads(first_line.removeprefix("const SHELL = ").removesuffix(";"))


async def test_the_worker_is_served_from_the_origins_root_without_a_token_under_the_strict_policy(client):
    answer = await client.get("/sw.js")
    assert answer.status == 200
    assert answer.content_type == "text/javascript"
    assert answer.headers["Cache-Control"] == "no-cache"  # checked for a new version on every load
    assert answer.headers["Content-Security-Policy"] == csp.DEFAULT
    assert "Service-Worker-Allowed" not in answer.headers  # at the root, its scope is "/" already
    shell = shell_of(await answer.text())
    assert "/static/main.js" in shell["files"] and "/static/vendor/vue.esm-browser.prod.js" in shell["files"]
    # The API reference page is not part of the app, and nothing outside /static/ is listed.
    assert not [url for url in shell["files"] if url.startswith("/static/docs/") or "swagger-ui" in url]
    assert all(url.startswith("/static/") for url in shell["files"])
    for url in shell["files"][:5]:
        assert (await client.get(url)).status == 200


async def test_the_manifest_makes_the_app_installable(client):
    answer = await client.get("/static/manifest.webmanifest")
    manifest = json.loads(await answer.text())
    assert manifest["name"] == "SmartParking" and manifest["theme_color"]
    assert manifest["start_url"] == "/slots" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        image = await client.get(icon["src"])
        assert image.status == 200 and (await image.read()).startswith(b"\x89PNG")
    index = (STATIC / "index.html").read_text()
    assert '<link rel="manifest" href="/static/manifest.webmanifest" />' in index


def test_a_new_deployments_files_give_a_new_worker_version(tmp_path: Path):
    deployed = tmp_path / "static"
    shutil.copytree(STATIC, deployed)
    before = shell_of(worker_script(deployed))["version"]
    assert shell_of(worker_script(deployed))["version"] == before  # the same files, the same version
    (deployed / "parking" / "format.js").write_text("// changed\n", encoding="utf-8")
    after = shell_of(worker_script(deployed))["version"]
    assert after != before
    assert shell_files(deployed) == shell_files(STATIC)
