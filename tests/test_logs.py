"""LOG_FORMAT=json: one object per line; every line a request causes carries its X-Request-Id; secrets stay out."""

from __future__ import annotations

import io
import json
import logging
import signal
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web

from server.access_log import REDACTED_FEED
from server.app import create_app
from server.logs import REQUEST_ID_HEADER, handler, request_id_for
from tests.support import DRIVER1, TEST_JWT_SECRET, server_process

FEED_KEY = "f" * 43


def test_a_usable_request_id_is_kept_and_any_other_replaced():
    assert request_id_for("trace-42.abc:7") == "trace-42.abc:7"
    for unusable in (None, "", "a" * 200, "two\nlines", "with space", "tab\there", "caf\u00e9"):
        replaced = request_id_for(unusable)
        assert replaced != unusable and len(replaced) == 32 and replaced.isalnum()


def lines_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


async def test_with_log_format_json_every_line_is_json_and_names_its_request(
    tmp_path, database_url, auth, user_ids
):
    log_path = tmp_path / "server.log"
    env = {"DATABASE_URL": database_url, "JWT_SECRET": TEST_JWT_SECRET, "LOG_FORMAT": "json"}
    headers = auth(DRIVER1)
    with server_process(env, log_path) as (base_url, process):
        async with aiohttp.ClientSession() as session:
            async with session.get(
                base_url + "/spots", headers={**headers, REQUEST_ID_HEADER: "trace-spots-1"}
            ) as response:
                assert response.status == 200
                assert response.headers[REQUEST_ID_HEADER] == "trace-spots-1"
            async with session.get(
                base_url + "/healthz", headers={REQUEST_ID_HEADER: "x" * 200}
            ) as response:
                new_id = response.headers[REQUEST_ID_HEADER]
                assert new_id != "x" * 200 and len(new_id) == 32
            async with session.get(base_url + f"/calendar/{FEED_KEY}.ics") as response:
                assert response.status == 404
                feed_id = response.headers[REQUEST_ID_HEADER]
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0

    text = log_path.read_text()
    lines = lines_of(text)  # raises unless every line is a JSON object
    assert {"time", "level", "logger", "message", "request_id", "user_id"} <= set(lines[0])
    assert any(line["message"].startswith("Serving on") for line in lines)
    assert lines[-1]["message"] == "Stopped"
    (spots,) = [line for line in lines if line["request_id"] == "trace-spots-1"]
    assert spots["logger"] == "aiohttp.access" and spots["status"] == 200
    assert spots["user_id"] == user_ids[DRIVER1]
    assert spots["request"] == "GET /spots HTTP/1.1"
    assert any(line["request_id"] == new_id for line in lines)
    (feed,) = [line for line in lines if line["request_id"] == feed_id]
    assert feed["request"] == f"GET {REDACTED_FEED} HTTP/1.1"
    # Secrets stay out: the feed key and the bearer token appear nowhere.
    assert FEED_KEY not in text
    assert headers["Authorization"].removeprefix("Bearer ") not in text


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_an_error_line_a_request_causes_carries_its_request_id(
    aiohttp_client, settings, auth, user_ids, caplog, log_format
):
    app = create_app(replace(settings))

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app.router.add_get("/broken", broken)
    client = await aiohttp_client(app)
    caplog.set_level(logging.INFO)
    stream = io.StringIO()
    written = handler(log_format, stream)
    logging.getLogger().addHandler(written)
    try:
        response = await client.get("/broken", headers={**auth(DRIVER1), REQUEST_ID_HEADER: "trace-broken"})
    finally:
        logging.getLogger().removeHandler(written)
    assert response.status == 500
    assert response.headers[REQUEST_ID_HEADER] == "trace-broken"
    output = stream.getvalue()
    if log_format == "json":
        lines = lines_of(output)
        (error,) = [line for line in lines if line["level"] == "ERROR" and line["request_id"]]
        assert error["message"] == "Unhandled error for GET /broken"
        assert error["request_id"] == "trace-broken" and error["user_id"] == user_ids[DRIVER1]
        assert "RuntimeError: a bug" in error["exception"]
        access = [line for line in lines if line["logger"] == "aiohttp.access" and line["request_id"]]
        assert [line["request_id"] for line in access] == ["trace-broken"]
    else:
        (error,) = [line for line in output.splitlines() if " ERROR " in line and "[request " in line]
        assert error.endswith(
            f"Unhandled error for GET /broken [request trace-broken, user {user_ids[DRIVER1]}]"
        )
        assert any("aiohttp.access" in line and "[request trace-broken" in line for line in output.splitlines())
