"""A driver's inbox and notification settings, and the sweeper's reminders and summaries.

Every insert into notifications fires notification_created (db/migrations/
*_create_notifications_and_outbox.sql), which queues the row's mail in the
same transaction and announces it to the driver's sockets.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from ..db import Db

_NOTIFICATION = "id, kind, reservation_id, data, created_at, read_at"

# Newest first, before the id $2 (NULL: from the newest).
LIST_NOTIFICATIONS = f"""
SELECT {_NOTIFICATION} FROM notifications
WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2)
ORDER BY id DESC
LIMIT $3
"""

UNREAD_COUNT = "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL"

# Up to the id $2 (NULL: all); answers the unread count left.
MARK_READ = """
WITH marked AS (
    UPDATE notifications SET read_at = now()
    WHERE user_id = $1 AND read_at IS NULL AND ($2::bigint IS NULL OR id <= $2)
    RETURNING id
)
SELECT count(*) - (SELECT count(*) FROM marked)
FROM notifications WHERE user_id = $1 AND read_at IS NULL
"""

GET_SETTINGS = """
SELECT COALESCE(s.email, true) AS email, COALESCE(s.reminders, true) AS reminders
FROM users u LEFT JOIN notification_settings s ON s.user_id = u.id
WHERE u.id = $1
"""

# Only the fields sent change ($2, $3 NULL: keep).
PUT_SETTINGS = """
INSERT INTO notification_settings AS s (user_id, email, reminders)
VALUES ($1, COALESCE($2, true), COALESCE($3, true))
ON CONFLICT (user_id) DO UPDATE
SET email = COALESCE($2, s.email), reminders = COALESCE($3, s.reminders), updated_at = now()
RETURNING email, reminders
"""

# Reminders due: booked by a driver who wants them, starting within the
# rule's minutes, and booked before that moment (a booking made after its
# reminder time gets none). The unique index notifications_one_reminder_key
# makes this once per booking however many sweepers run it at once.
QUEUE_REMINDERS = """
INSERT INTO notifications (user_id, kind, reservation_id, data)
SELECT r.user_id, 'reminder', r.id, jsonb_build_object(
    'spot_number', s.spot_number, 'floor_number', s.floor_number,
    'start_time', r.start_time, 'end_time', r.end_time,
    'check_in_by', CASE WHEN l.no_show_grace_minutes > 0
                        THEN r.start_time + make_interval(mins => l.no_show_grace_minutes) END)
FROM lot_rules l
JOIN reservations r
  ON r.status = 'booked' AND r.user_id IS NOT NULL
 AND r.start_time > now()
 AND r.start_time <= now() + make_interval(mins => l.reminder_minutes_before)
 AND r.created_at < r.start_time - make_interval(mins => l.reminder_minutes_before)
JOIN spots s ON s.id = r.spot_id
LEFT JOIN notification_settings n ON n.user_id = r.user_id
WHERE l.reminder_minutes_before > 0 AND COALESCE(n.reminders, true)
ON CONFLICT DO NOTHING
RETURNING id
"""

# One summary per driver who held bookings starting in [$2, $3), the month
# $1; monthly_summaries' key makes a second run queue nothing for them.
# Hours parked: bookings that were not released before they ended (by the
# driver, the attendant or as a no-show), or whose holder checked in.
QUEUE_MONTHLY_SUMMARIES = """
WITH month_bookings AS (
    SELECT r.user_id, r.spot_id, r.released_by, r.checked_in_at,
           r.end_time - r.start_time AS length
    FROM reservations r
    WHERE r.user_id IS NOT NULL AND r.start_time >= $2 AND r.start_time < $3
),
totals AS (
    SELECT user_id,
           count(*) AS bookings,
           COALESCE(sum(extract(epoch FROM length)) FILTER (
               WHERE checked_in_at IS NOT NULL OR released_by IS NULL OR released_by = 'expired'
           ), 0) / 3600 AS hours,
           count(*) FILTER (WHERE released_by = 'no_show') AS no_shows
    FROM month_bookings GROUP BY user_id
),
favourite AS (
    SELECT DISTINCT ON (b.user_id) b.user_id, s.spot_number
    FROM month_bookings b JOIN spots s ON s.id = b.spot_id
    GROUP BY b.user_id, s.spot_number
    ORDER BY b.user_id, count(*) DESC, s.spot_number
),
claimed AS (
    INSERT INTO monthly_summaries (user_id, month)
    SELECT user_id, $1 FROM totals
    ON CONFLICT DO NOTHING
    RETURNING user_id
)
INSERT INTO notifications (user_id, kind, data)
SELECT t.user_id, 'monthly_summary', jsonb_build_object(
    'month', $1::date, 'bookings', t.bookings, 'hours', round(t.hours::numeric, 1),
    'no_shows', t.no_shows, 'top_spot_number', f.spot_number)
FROM claimed c
JOIN totals t ON t.user_id = c.user_id
LEFT JOIN favourite f ON f.user_id = c.user_id
RETURNING id
"""

FORGET_OLD = "DELETE FROM notifications WHERE created_at < now() - $1::interval"


def _row(record: Any) -> dict[str, Any]:
    row = dict(record)
    row["data"] = json.loads(row["data"])
    return row


async def list_notifications(
    db: Db, *, user_id: int, before: int | None, limit: int
) -> tuple[list[dict[str, Any]], int]:
    rows = await db.fetch(LIST_NOTIFICATIONS, user_id, before, limit)
    return [_row(r) for r in rows], await db.fetchval(UNREAD_COUNT, user_id)


async def mark_read(db: Db, *, user_id: int, up_to: int | None) -> int:
    """Mark the caller's notifications read (up to an id, or all); the unread count left."""
    return await db.fetchval(MARK_READ, user_id, up_to)


async def get_settings(db: Db, *, user_id: int) -> dict[str, bool]:
    return dict(await db.fetchrow(GET_SETTINGS, user_id))


async def put_settings(
    db: Db, *, user_id: int, email: bool | None, reminders: bool | None
) -> dict[str, bool]:
    return dict(await db.fetchrow(PUT_SETTINGS, user_id, email, reminders))


async def queue_reminders(db: Db) -> int:
    return len(await db.fetch(QUEUE_REMINDERS))


async def queue_monthly_summaries(db: Db, *, month: date, start: datetime, end: datetime) -> int:
    """Queue the month's summaries not yet queued; how many were."""
    return len(await db.fetch(QUEUE_MONTHLY_SUMMARIES, month, start, end))


async def forget_old(db: Db, *, older_than: Any) -> int:
    status = await db.execute(FORGET_OLD, older_than)
    return int(status.split()[-1])
