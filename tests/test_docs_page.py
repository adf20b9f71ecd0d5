"""The interactive API reference at /docs: a public page whose scripts are all files."""

from __future__ import annotations

import re


async def test_docs_is_a_public_page_whose_scripts_are_all_files(client):
    response = await client.get("/docs")  # no token
    assert response.status == 200 and response.content_type == "text/html"
    page = await response.text()
    scripts = re.findall(r"<script\b([^>]*)>", page)
    assert scripts and all("src=" in attributes for attributes in scripts), "no inline script"
    for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        assert (await client.get(path)).status == 200, path
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    # Public means exactly /docs: the whitelist is anchored.
    assert (await client.get("/docs/x")).status == 401
    assert (await client.get("/docsx")).status == 401
