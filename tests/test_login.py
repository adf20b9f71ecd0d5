"""POST /login: credentials, throttling and the shape of the answer."""

from __future__ import annotations

import jwt

from tests.support import DRIVER1, PASSWORD, TEST_JWT_SECRET


async def test_seed_driver_logs_in_and_gets_a_bearer_token(client, user_ids):
    response = await client.post("/login", json={"email": DRIVER1, "password": PASSWORD})
    assert response.status == 200
    body = await response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["user"] == {
        "id": user_ids[DRIVER1],
        "email": DRIVER1,
        "display_name": "Driver 1",
        "role": "driver",
    }
    claims = jwt.decode(body["token"], TEST_JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(user_ids[DRIVER1])
    assert claims["email"] == DRIVER1 and claims["role"] == "driver"
    assert claims["exp"] - claims["iat"] == 3600


async def test_email_is_matched_case_insensitively(client):
    response = await client.post("/login", json={"email": "Driver1@Parking.COM", "password": PASSWORD})
    assert response.status == 200


async def test_wrong_password_and_unknown_email_get_the_same_401(client):
    wrong = await client.post("/login", json={"email": DRIVER1, "password": "nope"})
    unknown = await client.post("/login", json={"email": "ghost@parking.com", "password": "nope"})
    assert wrong.status == unknown.status == 401
    assert await wrong.json() == await unknown.json() == {
        "error": {"code": "invalid_credentials", "message": "Email or password is incorrect."}
    }


async def test_password_longer_than_bcrypt_accepts_is_refused_not_crashed(client):
    response = await client.post("/login", json={"email": DRIVER1, "password": PASSWORD + "x" * 80})
    assert response.status == 401


async def test_malformed_json_is_a_400(client):
    response = await client.post("/login", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_request"


async def test_a_json_array_body_is_a_400(client):
    response = await client.post("/login", json=[DRIVER1, PASSWORD])
    assert response.status == 400


async def test_missing_or_mistyped_fields_are_named_in_a_422(client):
    missing = await client.post("/login", json={"email": DRIVER1})
    assert missing.status == 422
    assert "'password'" in (await missing.json())["error"]["message"]
    mistyped = await client.post("/login", json={"email": 42, "password": PASSWORD})
    assert mistyped.status == 422
    assert "'email' must be a string" in (await mistyped.json())["error"]["message"]


async def test_oversized_body_is_a_json_413(client):
    response = await client.post("/login", data=b"{" + b" " * 100_000 + b"}")
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "payload_too_large"


async def test_repeated_failures_are_throttled_with_retry_after(make_client):
    client = await make_client(login_max_failures=3)
    for _ in range(3):
        assert (await client.post("/login", json={"email": DRIVER1, "password": "bad"})).status == 401
    blocked = await client.post("/login", json={"email": DRIVER1, "password": PASSWORD})
    assert blocked.status == 429
    assert (await blocked.json())["error"]["code"] == "too_many_attempts"
    assert 0 < int(blocked.headers["Retry-After"]) <= 300
    # Another email from the same client is not affected.
    other = await client.post("/login", json={"email": "driver2@parking.com", "password": PASSWORD})
    assert other.status == 200
