"""Spots listing, health endpoints and the JSON error shape of routing errors."""

from __future__ import annotations

import asyncpg

from tests.support import database_name


async def test_unknown_route_is_a_json_404(client, auth):
    response = await client.get("/nope", headers=auth())
    assert response.status == 404
    assert await response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


async def test_wrong_method_is_a_json_405_with_allow(client, auth):
    response = await client.delete("/spots", headers=auth())
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


async def test_healthz_answers_without_the_database(client):
    assert await (await client.get("/healthz")).json() == {"status": "ok"}


async def test_readyz_is_200_when_the_database_answers(client):
    assert await (await client.get("/readyz")).json() == {"status": "ready"}


async def test_readyz_is_503_when_the_database_is_unreachable(client, server_url, database_url):
    name = database_name(database_url)
    admin = await asyncpg.connect(server_url)
    # Forbid new connections to the app's database and drop the pooled ones.
    await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        response = await client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["error"]["code"] == "database_unavailable"
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    assert (await client.get("/readyz")).status == 200


async def test_spots_are_listed_by_floor_then_number(client, auth):
    response = await client.get("/spots", headers=auth())
    assert response.status == 200
    spots = (await response.json())["spots"]
    assert [(s["floor_number"], s["spot_number"]) for s in spots] == [(1, 1), (1, 2), (1, 3), (2, 4), (2, 5)]
    assert {s["type"] for s in spots} == {"regular", "handicap"}
    assert all(set(s) >= {"id", "spot_number", "floor_number", "type"} for s in spots)


async def test_the_browser_app_is_served_at_its_pages(client):
    for page in ("/", "/login", "/slots"):
        response = await client.get(page)
        assert response.status == 200 and response.content_type == "text/html", page
        assert '<div id="app">' in await response.text()


async def test_every_response_carries_the_hardening_headers(client, auth):
    for path, headers in (("/spots", auth()), ("/", {}), ("/nope", {})):
        response = await client.get(path, headers=headers)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY", path
    api = await client.get("/spots", headers=auth())
    assert api.headers["Cache-Control"] == "no-store"


async def test_static_files_get_cache_headers_and_a_json_404(client):
    app_code = await client.get("/static/main.js")
    assert app_code.status == 200 and app_code.headers["Cache-Control"] == "no-cache"
    vendored = await client.get("/static/vendor/vue.esm-browser.prod.js")
    assert vendored.headers["Cache-Control"] == "public, max-age=86400"
    revalidated = await client.get("/static/main.js", headers={"If-None-Match": app_code.headers["ETag"]})
    assert revalidated.status == 304
    missing = await client.get("/static/nope.js")
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "not_found"
