"""GET /reservations and GET /me/tokens answer in bounded keyset pages linked by `next`."""

from __future__ import annotations

import asyncio
import json

import pytest

from server.repository.reservations import LIST_OWN

from tests.support import DRIVER1, DRIVER2

# One driver's history, as the attack built it: far too much for one answer.
# Inserted in one statement, so every row has the same created_at: the id
# alone orders them, which is what the cursor must get right.
BIG_HISTORY = """
INSERT INTO reservations (user_id, spot_id, start_time, end_time, status, completed_at, released_by)
SELECT $1, $2, t, t + interval '4 hours', 'completed', t, 'user'
FROM generate_series(timestamptz '2000-01-01', timestamptz '2000-01-01' + interval '4 hours' * ($3 - 1),
                     interval '4 hours') AS t
"""


async def history(db_conn, user_id: int, spot_id: int, count: int) -> list[int]:
    await db_conn.execute(BIG_HISTORY, user_id, spot_id, count)
    return [r["id"] for r in await db_conn.fetch("SELECT id FROM reservations WHERE user_id = $1 ORDER BY id DESC", user_id)]


async def test_a_huge_history_comes_in_pages_of_fifty_and_deep_pages_stay_cheap(client, auth, db_conn, user_ids, spot_ids):
    ids = await history(db_conn, user_ids[DRIVER1], spot_ids[2], 100_000)
    first = await client.get("/reservations", headers=auth(DRIVER1))
    assert first.status == 200
    body = await first.json()
    assert [r["id"] for r in body["reservations"]] == ids[:50]
    assert body["next"] == f"/reservations?limit=50&before={ids[49]}"

    # A page near the end, straight from its cursor: a bounded scan, not an OFFSET.
    deep = await client.get(f"/reservations?limit=200&before={ids[-150]}", headers=auth(DRIVER1))
    page = await deep.json()
    assert [r["id"] for r in page["reservations"]] == ids[-149:]
    assert page["next"] is None
    # The scan starts at the cursor: it reads the rows it returns, not the 99,850 before them.
    plan = await db_conn.fetchval(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + LIST_OWN, user_ids[DRIVER1], None, 201, ids[-150]
    )
    assert rows_read(json.loads(plan)[0]["Plan"]) == 149


def rows_read(node: dict) -> int:
    """The rows the plan's scans of reservations took from the table, kept or filtered out."""
    read = 0
    if node.get("Relation Name") == "reservations":
        read += node["Actual Rows"] * node["Actual Loops"]
        read += node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    return read + sum(rows_read(child) for child in node.get("Plans", []))


async def test_following_next_visits_every_reservation_once_in_order(client, auth, db_conn, user_ids, spot_ids):
    ids = await history(db_conn, user_ids[DRIVER1], spot_ids[2], 450)
    seen, link, pages = [], "/reservations?limit=200", 0
    while link is not None:
        body = await (await client.get(link, headers=auth(DRIVER1))).json()
        seen += [r["id"] for r in body["reservations"]]
        link, pages = body["next"], pages + 1
    assert seen == ids and pages == 3


async def test_the_status_filter_is_kept_across_pages(client, auth, db_conn, user_ids, spot_ids):
    await history(db_conn, user_ids[DRIVER1], spot_ids[2], 3)
    body = await (await client.get("/reservations?status=completed&limit=2", headers=auth(DRIVER1))).json()
    assert len(body["reservations"]) == 2 and "status=completed" in body["next"]
    rest = await (await client.get(body["next"], headers=auth(DRIVER1))).json()
    assert len(rest["reservations"]) == 1 and rest["next"] is None
    booked = await (await client.get("/reservations?status=booked", headers=auth(DRIVER1))).json()
    assert booked == {"reservations": [], "next": None}


async def test_another_drivers_cursor_reads_nothing(client, auth, db_conn, user_ids, spot_ids):
    theirs = await history(db_conn, user_ids[DRIVER2], spot_ids[3], 3)
    await history(db_conn, user_ids[DRIVER1], spot_ids[2], 3)
    body = await (await client.get(f"/reservations?before={theirs[0]}", headers=auth(DRIVER1))).json()
    assert body == {"reservations": [], "next": None}


@pytest.mark.parametrize("path", ["/reservations", "/me/tokens"])
@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=ten", "limit=-1", "before=0", "before=x", "before=1e3", "before=" + "9" * 19])
async def test_a_bad_limit_or_cursor_is_a_422(client, auth, path, query):
    response = await client.get(f"{path}?{query}", headers=auth(DRIVER1))
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "validation_error"


async def test_tokens_come_in_pages_newest_first(client, auth, db_conn, user_ids):
    # Expired tokens stay listed (and never count against the cap): a long list is possible.
    await db_conn.execute(
        "INSERT INTO api_tokens (user_id, name, token_hash, expires_at) "
        "SELECT $1, 'old ' || n, sha256(n::text::bytea), now() - interval '1 day' FROM generate_series(1, 120) AS n",
        user_ids[DRIVER1],
    )
    ids = [r["id"] for r in await db_conn.fetch("SELECT id FROM api_tokens WHERE user_id = $1 ORDER BY id DESC", user_ids[DRIVER1])]
    first = await (await client.get("/me/tokens", headers=auth(DRIVER1))).json()
    assert [t["id"] for t in first["tokens"]] == ids[:50]
    second, third = await asyncio.gather(
        client.get(first["next"], headers=auth(DRIVER1)), client.get("/me/tokens?limit=200", headers=auth(DRIVER1))
    )
    assert [t["id"] for t in (await second.json())["tokens"]] == ids[50:100]
    everything = await third.json()
    assert [t["id"] for t in everything["tokens"]] == ids and everything["next"] is None
