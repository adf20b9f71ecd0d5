"""The outbox under stress: an SMTP outage, two server processes, a crash right after the commit."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest

from server.slots import slots_on
from tests.catchers import MailCatcher, SilentSmtpServer, message_ids
from tests.support import ADMIN, DRIVER1, DRIVER2, TEST_JWT_SECRET, server_process, slot_body, tomorrow


async def all_delivered(url: str, count: int, timeout: float) -> None:
    """Wait until `count` mail deliveries exist and every one is delivered."""
    conn = await asyncpg.connect(url)
    try:
        async with asyncio.timeout(timeout):
            while True:
                done = await conn.fetchval(
                    "SELECT count(*) FILTER (WHERE status = 'delivered') FROM deliveries WHERE channel = 'email'"
                )
                pending = await conn.fetchval("SELECT count(*) FROM deliveries WHERE status <> 'delivered'")
                if done >= count and pending == 0:
                    return
                await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def test_mail_queued_during_an_smtp_outage_arrives_once_it_is_back(make_client, auth, spot_ids, reset_db):
    catcher = await MailCatcher().start()
    # The schedule shrunk so that retries fall within the test: 0.5 s, 2 s, 9 s, 27 s at most.
    client = await make_client(**catcher.settings, delivery_retry_scale=0.03)
    await catcher.stop()
    loop = asyncio.get_running_loop()
    stopped_at = loop.time()
    for index in range(3):
        booked = await client.post("/reservations", json=slot_body(spot_ids[index + 1], tomorrow()), headers=auth(DRIVER1))
        reservation_id = (await booked.json())["id"]
        released = await client.put(
            f"/admin/reservations/{reservation_id}/release", json={"reason": f"Outage {index}"}, headers=auth(ADMIN)
        )
        assert released.status == 200
    conn = await asyncpg.connect(reset_db)
    try:
        # Every mail was tried, and failed, while the server was down.
        async with asyncio.timeout(10):
            while await conn.fetchval("SELECT count(*) FROM deliveries WHERE attempts >= 1 AND status = 'pending'") < 3:
                await asyncio.sleep(0.05)
        # The outage lasts 20 s, as an SMTP server's restart might.
        await asyncio.sleep(max(0.0, stopped_at + 20 - loop.time()))
        await catcher.start()
        await catcher.wait_for(3, timeout=40)
        await all_delivered(reset_db, 3, timeout=10)
        assert await conn.fetchval("SELECT min(attempts) FROM deliveries") >= 2
    finally:
        await conn.close()
        await catcher.stop()
    assert sorted(m["Subject"] for m in catcher.messages) == ["The attendant released your booking"] * 3
    assert len(set(message_ids(catcher.messages))) == 3
    assert sorted(parts_reason(m) for m in catcher.messages) == ["Outage 0", "Outage 1", "Outage 2"]


def parts_reason(message) -> str:
    return message.get_body(("plain",)).get_content().split("Reason: ")[1].splitlines()[0]


async def insert_bookings(url: str, user_ids, spot_ids, count: int) -> list[int]:
    """`count` bookings made by drivers themselves (so nobody is told), spread over days and slots."""
    conn = await asyncpg.connect(url)
    try:
        ids = []
        tz = ZoneInfo("UTC")
        for n in range(count):
            email, spot = (DRIVER1, 1) if n % 2 == 0 else (DRIVER2, 2)
            day = tomorrow() + timedelta(days=n // 6)
            slot = slots_on(day, tz)[(n // 2) % 3]
            ids.append(
                await conn.fetchval(
                    "INSERT INTO reservations (user_id, spot_id, start_time, end_time)"
                    " VALUES ($1, $2, $3, $4) RETURNING id",
                    user_ids[email], spot_ids[spot], slot.start, slot.end,
                )  # fmt: skip
            )
        return ids
    finally:
        await conn.close()


async def release_all(base_urls: list[str], auth, ids: list[int]) -> None:
    async with aiohttp.ClientSession() as session:

        async def release(n: int, reservation_id: int) -> None:
            url = f"{base_urls[n % len(base_urls)]}/admin/reservations/{reservation_id}/release"
            async with session.put(url, json={"reason": f"Release {n}"}, headers=auth(ADMIN)) as response:
                assert response.status == 200, await response.text()

        await asyncio.gather(*(release(n, rid) for n, rid in enumerate(ids)))


@pytest.fixture
def server_env(reset_db):
    return {"DATABASE_URL": reset_db, "JWT_SECRET": TEST_JWT_SECRET}


async def test_two_servers_send_fifty_releases_as_exactly_fifty_mails(
    server_env, auth, user_ids, spot_ids, reset_db, tmp_path
):
    async with MailCatcher() as catcher:
        env = {**server_env, **catcher.env}
        ids = await insert_bookings(reset_db, user_ids, spot_ids, 50)
        with contextlib.ExitStack() as running:
            first, _ = running.enter_context(server_process(env, tmp_path / "first.log"))
            second, _ = running.enter_context(server_process(env, tmp_path / "second.log"))
            await release_all([first, second], auth, ids)
            await catcher.wait_for(50, timeout=60)
            await all_delivered(reset_db, 50, timeout=20)
        assert len(catcher.messages) == 50
        assert len(set(message_ids(catcher.messages))) == 50
        assert sorted(parts_reason(m) for m in catcher.messages) == sorted(f"Release {n}" for n in range(50))


async def test_a_release_whose_mail_was_mid_send_when_both_servers_died_is_still_mailed(
    server_env, auth, user_ids, spot_ids, reset_db, tmp_path
):
    [reservation_id] = await insert_bookings(reset_db, user_ids, spot_ids, 1)
    # First an SMTP server that accepts and never answers: the mail is claimed
    # and its send is in flight when both processes are killed.
    async with SilentSmtpServer() as silent:
        env = {**server_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(silent.port), "SMTP_TLS": "none"}
        with contextlib.ExitStack() as running:
            first, one = running.enter_context(server_process(env, tmp_path / "first.log"))
            _, two = running.enter_context(server_process(env, tmp_path / "second.log"))
            await release_all([first], auth, [reservation_id])
            async with asyncio.timeout(10):
                while silent.connections == 0:
                    await asyncio.sleep(0.02)
            one.kill()
            two.kill()
            one.wait()
            two.wait()
    # Then a real one on the same port, and one new process. The committed row
    # is still there; once the dead process's lease ends (30 s) it is sent.
    async with MailCatcher(port=silent.port) as catcher:
        with server_process(env, tmp_path / "third.log"):
            messages = await catcher.wait_for(1, timeout=60)
            await all_delivered(reset_db, 1, timeout=20)
    assert [m["To"] for m in messages] == [DRIVER1]
    assert parts_reason(messages[0]) == "Release 0"
