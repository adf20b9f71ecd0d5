"""Security: no secret in logs, login throttling, body limits, hostile input and the static route.

Proved elsewhere, so not repeated here:
- tests/test_auth_tokens.py: every bad token (garbage, expired, wrong key, alg none,
  HS512, no exp or sub, unknown user, tampered payload, wrong scheme) is a JSON 401;
  the public-path whitelist is exact, not a prefix match.
- tests/test_realtime.py: WebSocket auth by first message (bad, expired, missing or
  late token closes with 4401), the socket closes when its token expires, and
  foreign Origins are refused before the upgrade.
- tests/test_login.py: the same 401 for a wrong password and an unknown email,
  throttling with a lowered limit and per-email keys, 413 for an oversized login
  body, passwords past bcrypt's 72 bytes refused rather than truncated.
- tests/test_api_basics.py: missing static files are a JSON 404.
- tests/test_fuzz.py: generated (also invalid) input for every operation never gets a 5xx.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg
import jwt
import pytest
import yaml

from server.db import POOL
from server.errors import ServerBusy, TooManySignIns
from server.frontend import OPENAPI_DOCUMENT
from server.login import PasswordChecks
from server.settings import PROJECT_ROOT
from tests.support import (
    ADMIN,
    DRIVER1,
    DRIVER2,
    PASSWORD,
    TEST_JWT_SECRET,
    eventually,
    server_process,
    slot_body,
    tomorrow,
)

WRONG_PASSWORD = "Wr0ng-but-distinctive-passw0rd"
# A line of server/settings.py: if a response carries it, the source leaked.
SETTINGS_SOURCE_MARKER = b"_SECRET_NAMES = frozenset"


def forged_token(user_id: int) -> str:
    """A well-formed token signed with the wrong key."""
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + 600}
    return jwt.encode(claims, "not-the-server-secret-" + "z" * 40, algorithm="HS256")


def secrets_in(text: str, secrets: Iterable[str]) -> list[str]:
    return [secret for secret in secrets if secret in text]


def token_secrets(tokens: Iterable[str]) -> set[str]:
    """Each token, and a JWT's signature alone: either is enough to replay or forge."""
    return {part for token in tokens for part in (token, token.split(".")[-1])}


def rendered(record: logging.LogRecord) -> str:
    """Everything a handler could write for this record: message, args, traceback, stack."""
    parts = [record.getMessage(), repr(record.args)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts += [record.exc_text or "", record.stack_info or ""]
    return "\n".join(parts)


async def exercise_auth(session: Any, base: str, user_id: int, spot_id: int) -> list[str]:
    """Log in (right and wrong), use the token, open a socket, send bad tokens; return the tokens used."""
    ok = await session.post(f"{base}/login", json={"email": DRIVER1, "password": PASSWORD})
    assert ok.status == 200
    token = (await ok.json())["token"]
    wrong = await session.post(f"{base}/login", json={"email": DRIVER2, "password": WRONG_PASSWORD})
    assert wrong.status == 401
    headers = {"Authorization": f"Bearer {token}"}
    assert (await session.get(f"{base}/spots", headers=headers)).status == 200
    booked = await session.post(f"{base}/reservations", json=slot_body(spot_id, tomorrow()), headers=headers)
    assert booked.status == 201
    reservation_id = (await booked.json())["id"]
    assert (await session.put(f"{base}/reservations/{reservation_id}/complete", headers=headers)).status == 200

    ws = await session.ws_connect(f"{base}/ws")
    await ws.send_json({"type": "auth", "token": token})
    assert json.loads((await ws.receive(timeout=5)).data) == {"type": "ready"}
    await ws.close()

    forged = forged_token(user_id)
    refused = await session.ws_connect(f"{base}/ws")
    await refused.send_json({"type": "auth", "token": forged})
    await refused.receive(timeout=5)
    assert refused.close_code == 4401

    garbage = "not-a-jwt-" + "q" * 20
    for bad in (forged, garbage):
        response = await session.get(f"{base}/spots", headers={"Authorization": f"Bearer {bad}"})
        assert response.status == 401

    # A personal API token: created, used over HTTP and a socket, revoked, refused.
    created = await (await session.post(f"{base}/me/tokens", json={"name": "script"}, headers=headers)).json()
    api_token = created["token"]
    assert (await session.get(f"{base}/spots", headers={"Authorization": f"Bearer {api_token}"})).status == 200
    ws = await session.ws_connect(f"{base}/ws")
    await ws.send_json({"type": "auth", "token": api_token})
    assert json.loads((await ws.receive(timeout=5)).data) == {"type": "ready"}
    await ws.close()
    assert (await session.delete(f"{base}/me/tokens/{created['id']}", headers=headers)).status == 204
    assert (await session.get(f"{base}/spots", headers={"Authorization": f"Bearer {api_token}"})).status == 401
    # The calendar feed: its key sits in the URL, the one place the access log must redact.
    feed = await (await session.post(f"{base}/me/calendar", headers=headers)).json()
    assert (await session.get(f"{base}{feed['path']}")).status == 200
    feed_key = feed["path"].removeprefix("/calendar/").removesuffix(".ics")
    return [token, forged, garbage, api_token, feed_key]


# --- secrets never reach the logs ------------------------------------------------


async def test_no_password_token_or_secret_reaches_any_log_record(client, user_ids, spot_ids, caplog):
    caplog.set_level(logging.DEBUG)
    base = str(client.make_url("")).rstrip("/")
    tokens = await exercise_auth(client.session, base, user_ids[DRIVER1], spot_ids[1])

    assert any(r.name == "aiohttp.access" for r in caplog.records), "the access log was not captured"
    secrets = {PASSWORD, WRONG_PASSWORD, TEST_JWT_SECRET} | token_secrets(tokens)
    leaks = [(r.name, found) for r in caplog.records if (found := secrets_in(rendered(r), secrets))]
    assert not leaks


@pytest.fixture
def logged_server(database_url: str, reset_db: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`python -m server` as start_server() runs it, but with its output in a file we can read."""
    log_path = tmp_path / "server.log"
    env = {"DATABASE_URL": database_url, "JWT_SECRET": TEST_JWT_SECRET, "PYTHONUNBUFFERED": "1"}
    with server_process(env, log_path) as (base, _):
        yield base, log_path


async def test_no_password_token_or_secret_reaches_the_server_output(logged_server, user_ids, spot_ids):
    base, log_path = logged_server
    async with aiohttp.ClientSession() as session:
        tokens = await exercise_auth(session, base, user_ids[DRIVER1], spot_ids[2])
    # A request is logged once its handler is done; a socket's once it has closed.
    expected = [
        '"POST /login HTTP/1.1" 200', '"POST /login HTTP/1.1" 401', '"GET /ws HTTP/1.1" 101',
        '"GET /spots HTTP/1.1" 401', '"GET /calendar/REDACTED.ics HTTP/1.1" 200',
    ]  # fmt: skip
    async with asyncio.timeout(10):
        while not all(line in log_path.read_text(errors="replace") for line in expected):
            await asyncio.sleep(0.05)

    output = log_path.read_text(errors="replace")
    secrets = {PASSWORD, WRONG_PASSWORD, TEST_JWT_SECRET} | token_secrets(tokens)
    assert not secrets_in(output, secrets)


# --- login brute force -------------------------------------------------------------


async def test_the_eleventh_login_is_refused_even_with_the_right_password_and_a_spoofed_address(client):
    """Default limit: 10 failures per (email, client address) within 5 minutes."""
    spoofing = [
        {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}", "Forwarded": f"for=192.0.2.{n}"}
        for n in range(11)
    ]
    # Neither the headers nor the email's case and spaces start a fresh count.
    emails = [DRIVER1, DRIVER1.upper(), f"  {DRIVER1}  "]
    for n in range(10):
        body = {"email": emails[n % 3], "password": WRONG_PASSWORD}
        assert (await client.post("/login", json=body, headers=spoofing[n])).status == 401

    refused = await client.post("/login", json={"email": DRIVER1, "password": PASSWORD}, headers=spoofing[10])
    assert refused.status == 429
    assert (await refused.json())["error"]["code"] == "too_many_attempts"
    assert 0 < int(refused.headers["Retry-After"]) <= 300


async def test_the_login_throttle_does_not_lock_out_another_client_address(client):
    for _ in range(10):
        assert (await client.post("/login", json={"email": DRIVER1, "password": WRONG_PASSWORD})).status == 401
    assert (await client.post("/login", json={"email": DRIVER1, "password": PASSWORD})).status == 429

    # Another loopback address is another client, as another machine would be.
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as elsewhere:
        async with elsewhere.post(client.make_url("/login"), json={"email": DRIVER1, "password": PASSWORD}) as ok:
            assert ok.status == 200


async def test_parallel_guesses_get_at_most_the_limits_worth_of_password_checks(make_client):
    # Two instances on one database, and a queue long enough for all: only the throttle limits.
    first, second = await make_client(login_queue_capacity=100), await make_client(login_queue_capacity=100)
    guesses = [
        client.post("/login", json={"email": DRIVER2, "password": f"{WRONG_PASSWORD}{n}"})
        for n, client in enumerate([first, second] * 30)
    ]
    statuses = sorted(response.status for response in await asyncio.gather(*guesses))
    # Each guess is counted before its password is checked, so parallel guesses
    # cannot all be checked before the first failure is recorded.
    assert statuses == [401] * 10 + [429] * 50


async def test_the_throttle_counts_the_email_as_the_database_matches_it(client):
    for _ in range(10):
        assert (await client.post("/login", json={"email": DRIVER2, "password": WRONG_PASSWORD})).status == 401
    # Spellings that PostgreSQL's lower() maps onto the same account get no fresh attempts,
    # and the right password through them is refused too.
    for email in ("drİver2@parking.com", "driver2@parkİng.com", "DRIVER2@PARKING.COM"):
        response = await client.post("/login", json={"email": email, "password": PASSWORD})
        assert response.status in (401, 429), email  # never a token
        assert response.status == 429 or not await _finds_user(client, email)


async def _finds_user(client, email):
    """Whether the database's lower() makes this email reach a user at all."""
    async with client.app[POOL].acquire() as conn:
        return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))", email)


async def test_the_throttle_says_how_long_to_wait(make_client):
    client = await make_client(login_max_failures=1, login_failure_window_seconds=300)
    await client.post("/login", json={"email": DRIVER1, "password": WRONG_PASSWORD})
    refused = await client.post("/login", json={"email": DRIVER1, "password": WRONG_PASSWORD})
    assert refused.status == 429
    assert "Please wait 5 minutes and try again." in (await refused.json())["error"]["message"]


async def test_a_flood_of_logins_is_refused_at_once_not_queued(make_client):
    # One client's share is the whole queue here: this is about the queue itself.
    client = await make_client(login_queue_capacity=2, login_checks_per_client=2)
    flood = [client.post("/login", json={"email": f"nobody{n}@example.com", "password": "x"}) for n in range(20)]
    responses = await asyncio.gather(*flood)
    busy = [r for r in responses if r.status == 503]
    assert busy and {r.status for r in responses} <= {401, 503}
    for response in busy:
        assert (await response.json())["error"]["code"] == "server_busy"
        assert response.headers["Retry-After"] == "1"
    # Refused sign-ins were not counted against anyone, and the queue drains.
    assert (await client.post("/login", json={"email": DRIVER1, "password": PASSWORD})).status == 200


def test_the_queue_admits_its_capacity_and_refuses_the_next():
    checks = PasswordChecks(capacity=2, per_client=2)
    with checks.admit("192.0.2.1"), checks.admit("192.0.2.2"):
        with pytest.raises(ServerBusy):
            with checks.admit("192.0.2.3"):
                pass
    with checks.admit("192.0.2.3"):  # freed again
        pass


def test_one_address_holds_at_most_its_share_of_the_queue():
    checks = PasswordChecks(capacity=4, per_client=1)
    with checks.admit("192.0.2.1"):
        with pytest.raises(TooManySignIns):
            with checks.admit("192.0.2.1"):
                pass
        with checks.admit("192.0.2.2"), checks.admit("192.0.2.3"), checks.admit("192.0.2.4"):
            with pytest.raises(ServerBusy):  # the whole queue is full too
                with checks.admit("192.0.2.5"):
                    pass
    with checks.admit("192.0.2.1"):  # freed again
        pass


async def test_a_sign_in_flood_from_one_address_leaves_room_for_a_driver_elsewhere(make_client):
    """Two loopback addresses as two clients: the flood from 127.0.0.2, the driver from 127.0.0.1."""
    # Room for two checks, one per address: three flooders would fill a queue shared by all.
    client = await make_client(login_queue_capacity=2)
    flooder = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0), limit=0)
    stop = asyncio.Event()
    refused = []

    async def flood(session: aiohttp.ClientSession, n: int) -> None:
        while not stop.is_set():
            body = {"email": f"nobody{n}@example.com", "password": "x"}
            async with session.post(client.make_url("/login"), json=body) as response:
                refused.append(response.status)

    async with aiohttp.ClientSession(connector=flooder) as session:
        flooding = [asyncio.create_task(flood(session, n)) for n in range(3)]
        try:
            await eventually(lambda: len(refused) >= 3, timeout=20)  # the flood is under way
            for _ in range(3):
                response = await client.post("/login", json={"email": DRIVER1, "password": PASSWORD})
                assert response.status == 200, await response.text()
        finally:
            stop.set()
            await asyncio.gather(*flooding)
    # Beyond its share the flood is refused with 429 (503 only while the queue is full).
    assert 429 in refused and set(refused) <= {401, 429, 503}


# --- oversized bodies --------------------------------------------------------------


def json_body_operations() -> list[tuple[str, str]]:
    document = yaml.safe_load(OPENAPI_DOCUMENT.read_text())
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


async def chunks(data: bytes, size: int = 8192) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("sent_as", ["content-length", "chunked"])
@pytest.mark.parametrize("method, path", json_body_operations())
async def test_every_json_endpoint_refuses_an_oversized_body_with_a_json_413(client, auth, db_conn, method, path, sent_as):
    # Valid JSON, with a field far over the 64 KiB limit.
    body = json.dumps({"email": DRIVER1, "password": "x" * 100_000, "spot_id": 1}).encode()
    data = body if sent_as == "content-length" else chunks(body)
    # As the attendant on /admin/ routes: a driver is refused there before the body is read.
    caller = auth(ADMIN) if path.startswith("/admin/") else auth()
    response = await client.request(
        method, path.replace("{id}", "1"), data=data, headers={**caller, "Content-Type": "application/json"}
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "payload_too_large"
    assert await db_conn.fetchval("SELECT count(*) FROM reservations") == 0


# --- hostile strings in every parameter ----------------------------------------------

INJECTIONS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "'; DROP TABLE reservations; --",
    "1; DELETE FROM users",
    "1) OR (1=1",
    '" OR ""="',
    "%' OR '%'='",
    "$1",
    "1 UNION SELECT id, email, password_hash FROM users --",
    "'; SELECT pg_sleep(5); --",
    "2026-11-22'::date OR 'x'='x",
]


async def database_snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    return {
        "tables": await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        ),
        "users": await conn.fetch("SELECT * FROM users ORDER BY id"),
        "spots": await conn.fetch("SELECT * FROM spots ORDER BY id"),
        "reservations": await conn.fetch("SELECT * FROM reservations ORDER BY id"),
    }


def hostile_requests(payload: str, spot_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    """The payload in each parameter the API takes, one request per parameter."""
    slot = slot_body(spot_id, tomorrow())
    segment = quote(payload, safe="")
    query = quote(payload)
    return [
        ("POST", "/login", {"email": payload, "password": PASSWORD}),
        ("POST", "/login", {"email": DRIVER1, "password": payload}),
        ("POST", "/reservations", {**slot, "spot_id": payload}),
        ("POST", "/reservations", {**slot, "start_time": payload}),
        ("POST", "/reservations", {**slot, "end_time": payload}),
        ("GET", f"/spots?date={query}", None),
        ("GET", f"/reservations?status={query}", None),
        ("GET", f"/stats?from={query}", None),
        ("GET", f"/stats?to={query}", None),
        ("GET", f"/reservations/{segment}", None),
        ("PUT", f"/reservations/{segment}/complete", None),
    ]


@pytest.mark.parametrize("payload", INJECTIONS)
async def test_sql_in_any_parameter_is_a_json_4xx_and_changes_nothing(client, auth, db_conn, spot_ids, payload):
    before = await database_snapshot(db_conn)
    for method, path, body in hostile_requests(payload, spot_ids[1]):
        response = await client.request(method, path, json=body, headers=auth())
        assert 400 <= response.status < 500, (method, path, body, response.status)
        error = (await response.json())["error"]
        assert set(error) == {"code", "message"} and error["code"] and error["message"], (method, path)
    assert await database_snapshot(db_conn) == before


async def test_a_nul_character_in_any_parameter_is_a_json_4xx_not_a_500(client, auth, spot_ids):
    """PostgreSQL text cannot hold NUL: it must be refused before it reaches a query."""
    failures = []
    for method, path, body in hostile_requests("driver1\x00@parking.com", spot_ids[1]):
        response = await client.request(method, path, json=body, headers=auth())
        if not 400 <= response.status < 500:
            failures.append((method, path, body, response.status))
    assert not failures


# --- the static route cannot be escaped ---------------------------------------------------


async def raw_get(host: str, port: int, target: str) -> tuple[int, bytes]:
    """GET with the request target sent byte for byte: no client normalises or re-encodes it."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        await writer.drain()
        async with asyncio.timeout(10):
            response = await reader.read()
    finally:
        writer.close()
    status_line = response.split(b"\r\n", 1)[0]
    return int(status_line.split()[1]), response


SETTINGS_FILE = PROJECT_ROOT / "server" / "settings.py"
TRAVERSALS = [
    "/static/../server/settings.py",
    "/static/%2e%2e/server/settings.py",
    "/static/%2E%2E/server/settings.py",
    "/static/..%2fserver/settings.py",
    "/static/..%2Fserver%2Fsettings.py",
    "/static/%2e%2e%2fserver%2fsettings.py",
    "/static/.%2e/server/settings.py",
    "/static/%252e%252e%252fserver%252fsettings.py",
    "/static/..%252fserver%252fsettings.py",
    "/static/%25252e%25252e/server/settings.py",
    "/static/..\\server\\settings.py",
    "/static/..%5cserver%5csettings.py",
    "/static/%c0%ae%c0%ae/server/settings.py",
    "/static/....//server/settings.py",
    "/static/vendor/../../server/settings.py",
    "/static/vendor/%2e%2e/%2e%2e/server/settings.py",
    "/static/./../server/settings.py",
    "/static/" + str(SETTINGS_FILE),
    "/static/" + quote(str(SETTINGS_FILE), safe=""),
    "/static/..;/server/settings.py",
    "/static/../../../../../../../../" + str(SETTINGS_FILE).lstrip("/"),
]


@pytest.mark.parametrize("target", TRAVERSALS)
async def test_the_static_route_never_serves_a_file_outside_static(client, target):
    status, response = await raw_get(client.host, client.port, target)
    assert 400 <= status < 500, status
    assert SETTINGS_SOURCE_MARKER not in response


async def test_a_symlink_inside_static_cannot_lead_outside_it(make_client, tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<div id='app'></div>")
    (static / "ok.txt").write_text("served")
    (static / "server").symlink_to(SETTINGS_FILE.parent, target_is_directory=True)
    (static / "settings.txt").symlink_to(SETTINGS_FILE)
    client = await make_client(static_dir=static)

    status, response = await raw_get(client.host, client.port, "/static/ok.txt")
    assert status == 200 and response.endswith(b"served")
    for target in ("/static/server/settings.py", "/static/settings.txt"):
        status, response = await raw_get(client.host, client.port, target)
        assert status == 404, target
        assert SETTINGS_SOURCE_MARKER not in response


@pytest.mark.parametrize(
    "target",
    ["/static/main.js%00.png", "/static/%00", "/static/" + "a" * 300],
    ids=["nul after a name", "nul alone", "name too long"],
)
async def test_an_impossible_file_name_under_static_is_a_json_404(client, target):
    """Not a 500 (NUL: ValueError) nor a 503 'database unavailable' (ENAMETOOLONG: OSError)."""
    status, response = await raw_get(client.host, client.port, target)
    assert status == 404, response[-200:]
    assert b'"code": "not_found"' in response
