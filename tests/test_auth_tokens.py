"""The JWT middleware: every bad token is a JSON 401; the whitelist is exact."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from tests.support import TEST_JWT_SECRET


def _token(claims: dict, secret: str = TEST_JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _claims(user_id: int, **overrides) -> dict:
    now = int(time.time())
    return {"sub": str(user_id), "email": "x", "role": "driver", "iat": now, "exp": now + 600, **overrides}


def _unsigned(claims: dict) -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def _tampered(user_id: int) -> str:
    header, _, signature = _token(_claims(user_id)).split(".")
    payload = base64.urlsafe_b64encode(json.dumps(_claims(user_id, role="admin")).encode())
    return f"{header}.{payload.rstrip(b'=').decode()}.{signature}"


BAD_AUTHORIZATION = {
    "missing": lambda uid: None,
    "garbage": lambda uid: "Bearer not-a-jwt",
    "empty bearer": lambda uid: "Bearer ",
    "expired": lambda uid: "Bearer " + _token(_claims(uid, exp=int(time.time()) - 10)),
    "wrong key": lambda uid: "Bearer " + _token(_claims(uid), secret="another-secret-" + "x" * 40),
    "alg none": lambda uid: "Bearer " + _unsigned(_claims(uid)),
    "HS512": lambda uid: "Bearer " + _token(_claims(uid), algorithm="HS512"),
    "no exp": lambda uid: "Bearer " + _token({k: v for k, v in _claims(uid).items() if k != "exp"}),
    "no sub": lambda uid: "Bearer " + _token({k: v for k, v in _claims(uid).items() if k != "sub"}),
    "unknown sub": lambda uid: "Bearer " + _token(_claims(999_999)),
    "tampered payload": lambda uid: "Bearer " + _tampered(uid),
    "unknown scheme": lambda uid: "Basic " + _token(_claims(uid)),
    "token without scheme": lambda uid: _token(_claims(uid)),
}


@pytest.mark.parametrize("case", BAD_AUTHORIZATION)
async def test_bad_tokens_are_refused_with_a_json_401(client, user_ids, case):
    value = BAD_AUTHORIZATION[case](user_ids["driver1@parking.com"])
    headers = {} if value is None else {"Authorization": value}
    response = await client.get("/spots", headers=headers)
    assert response.status == 401, case
    assert response.content_type == "application/json"
    error = (await response.json())["error"]
    assert error["code"] in {"unauthorized", "invalid_token"} and error["message"]


async def test_a_good_token_is_accepted(client, auth):
    assert (await client.get("/spots", headers=auth())).status == 200


@pytest.mark.parametrize("path", ["/login-anything", "/loginx", "/healthz/../spots", "/readyzz", "/wsx"])
async def test_whitelist_is_not_prefix_matched(client, path):
    response = await client.get(path)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_public_paths_need_no_token(client):
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200


@pytest.mark.parametrize("path", ["/reservations", "/nope", "/admin/board"])
async def test_options_without_a_token_is_the_same_401_as_any_method(client, path):
    # aiohttp-jwt lets OPTIONS through unchecked: answered as they come, anonymous
    # OPTIONS would map the API (405 for a real path, 404 for an unknown one).
    response = await client.options(path)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_options_with_a_token_reaches_the_router(client, auth):
    response = await client.options("/reservations", headers=auth())
    assert response.status == 405
