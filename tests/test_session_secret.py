"""Without JWT_SECRET, sessions survive a restart: the secret is made once and kept, privately."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

from server.session_secret import session_secret
from tests.support import DRIVER1, PASSWORD


def test_a_secret_is_made_once_with_mode_0600_and_reused(tmp_path, caplog):
    caplog.set_level("DEBUG")
    path = tmp_path / ".data" / "jwt-secret"
    first = session_secret(None, path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert session_secret(None, path) == first
    assert not any(first in message for message in caplog.messages)


def test_an_explicit_jwt_secret_wins(tmp_path):
    path = tmp_path / "jwt-secret"
    assert session_secret("e" * 40, path) == "e" * 40
    assert not path.exists()


def test_a_readable_secret_file_is_made_private_again(tmp_path):
    path = tmp_path / "jwt-secret"
    path.write_text("s" * 40 + "\n")
    path.chmod(0o644)
    assert session_secret(None, path) == "s" * 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_servers_starting_together_share_one_secret(tmp_path):
    path = tmp_path / "jwt-secret"
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(lambda _: session_secret(None, path), range(8)))
    assert secrets == {path.read_text().strip()}


def test_an_unwritable_place_falls_back_to_a_random_secret_with_a_warning(tmp_path, caplog):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a directory")
    secret = session_secret(None, blocked / "jwt-secret")
    assert len(secret) >= 32
    assert any("using a random secret" in message for message in caplog.messages)


async def test_a_session_outlives_a_restart_without_jwt_secret(make_client, tmp_path):
    kept = tmp_path / "jwt-secret"
    before = await make_client(jwt_secret=None, jwt_secret_file=kept)
    login = await before.post("/login", json={"email": DRIVER1, "password": PASSWORD})
    token = (await login.json())["token"]
    await before.close()
    after = await make_client(jwt_secret=None, jwt_secret_file=kept)
    assert (await after.get("/spots", headers={"Authorization": f"Bearer {token}"})).status == 200
