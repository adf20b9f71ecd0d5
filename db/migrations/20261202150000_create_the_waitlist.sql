-- migrate:up
-- A driver waits for one slot: for a named spot, or for any spot of a type.
-- When a booking in that slot is released, the first entry in line that can
-- take the spot gets it, in the release's own transaction (see below).
CREATE TABLE waitlist_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    start_time     timestamptz NOT NULL,
    end_time       timestamptz NOT NULL,
    spot_id        integer REFERENCES spots (id),
    spot_type      text NOT NULL DEFAULT 'regular',
    -- The slot's calendar date and the lot's zone when the driver joined, so
    -- that an assignment can apply the booking horizon the way a booking does.
    slot_date      date NOT NULL,
    lot_timezone   text NOT NULL,
    status         text NOT NULL DEFAULT 'waiting',
    -- The booking the waitlist made. No foreign key: reservations are never
    -- deleted, and one must not stop the tests and the benchmark from
    -- truncating them.
    reservation_id bigint,
    -- clock_timestamp(), not now(): the line's order is the order of joining,
    -- even for entries made in one transaction.
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    assigned_at    timestamptz,
    CONSTRAINT waitlist_entries_time_order CHECK (end_time > start_time),
    CONSTRAINT waitlist_entries_spot_type_check CHECK (spot_type IN ('regular', 'handicap')),
    CONSTRAINT waitlist_entries_status_check CHECK (status IN ('waiting', 'assigned', 'expired')),
    CONSTRAINT waitlist_entries_assignment CHECK (
        (status = 'assigned') = (reservation_id IS NOT NULL AND assigned_at IS NOT NULL)
    )
);

-- One place in line per driver and slot.
CREATE UNIQUE INDEX waitlist_entries_one_per_slot
    ON waitlist_entries (user_id, start_time) WHERE status = 'waiting';
-- The line of a slot, in order.
CREATE INDEX waitlist_entries_line_idx
    ON waitlist_entries (start_time, created_at, id) WHERE status = 'waiting';

-- A reservation records that the waitlist assigned it.
ALTER TABLE reservations ADD COLUMN from_waitlist boolean NOT NULL DEFAULT false;

-- Joining a line and handing out a freed spot of the same slot take this
-- lock, so they never miss each other: a driver cannot join after the check
-- saw the slot full but before a release that then found nobody waiting.
CREATE FUNCTION waitlist_lock_slot(slot_start timestamptz) RETURNS void
LANGUAGE sql AS $$
    -- Keyed by the slot's minute since the epoch: the same in every session,
    -- whatever its TimeZone.
    SELECT pg_advisory_xact_lock(hashtext('waitlist'), (extract(epoch FROM slot_start) / 60)::integer);
$$;

-- A booking released by its driver, the attendant or as a no-show, while its
-- slot has not ended, goes to the first entry in line that matches its spot:
-- one that names the spot, or any spot of its type. The assignment is an
-- ordinary INSERT, so every rule of a booking holds for the waiting driver
-- (one car per slot, the booking limit, closures, the horizon); a driver the
-- INSERT refuses is skipped and keeps their place, and the next one is tried.
-- The release's own trigger (reservations_notify_status_change) runs first
-- (AFTER triggers run in name order), so the stream says released, then
-- booked, and both commit together: nobody can book the spot in between.
CREATE FUNCTION reservations_assign_from_waitlist() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    freed_type text;
    entry waitlist_entries%ROWTYPE;
    assigned_id bigint;
BEGIN
    IF NEW.released_by NOT IN ('user', 'admin', 'no_show') OR NEW.end_time <= now() THEN
        RETURN NULL;
    END IF;
    -- A closure's release: the spot is closed, so nobody can have it.
    IF EXISTS (
        SELECT 1 FROM closures c
        WHERE c.spot_id = NEW.spot_id AND c.start_time < NEW.end_time AND c.end_time > NEW.start_time
    ) THEN
        RETURN NULL;
    END IF;
    PERFORM waitlist_lock_slot(NEW.start_time);
    SELECT type INTO freed_type FROM spots WHERE id = NEW.spot_id;
    FOR entry IN
        SELECT w.* FROM waitlist_entries w
        WHERE w.status = 'waiting' AND w.start_time = NEW.start_time
          AND (w.spot_id = NEW.spot_id OR (w.spot_id IS NULL AND w.spot_type = freed_type))
        ORDER BY w.created_at, w.id
        FOR UPDATE
    LOOP
        BEGIN
            INSERT INTO reservations
                (user_id, spot_id, start_time, end_time, created_by, from_waitlist)
            SELECT entry.user_id, NEW.spot_id, NEW.start_time, NEW.end_time, entry.user_id, true
            FROM lot_rules
            WHERE entry.slot_date <= (now() AT TIME ZONE entry.lot_timezone)::date + booking_horizon_days
            RETURNING id INTO assigned_id;
        EXCEPTION
            -- Already holds a spot in this slot, or at the booking limit.
            WHEN unique_violation OR check_violation THEN
                assigned_id := NULL;
        END;
        IF assigned_id IS NOT NULL THEN
            UPDATE waitlist_entries
            SET status = 'assigned', reservation_id = assigned_id, assigned_at = now()
            WHERE id = entry.id;
            RETURN NULL;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reservations_waitlist_assign
    AFTER UPDATE OF status ON reservations
    FOR EACH ROW WHEN (OLD.status = 'booked' AND NEW.status = 'completed')
    EXECUTE FUNCTION reservations_assign_from_waitlist();

-- The line moved (an entry joined, left, was assigned or expired): every
-- socket is told which slot, never who, so that drivers in that line refetch
-- their place and the attendant's board its counts.
CREATE FUNCTION notify_waitlist_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed waitlist_entries%ROWTYPE;
BEGIN
    changed := COALESCE(NEW, OLD);
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', 'waitlist.changed',
        'start_time', changed.start_time,
        'end_time', changed.end_time,
        'status', changed.status,
        'user_id', changed.user_id,
        'reservation_id', changed.reservation_id
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER waitlist_entries_notify
    AFTER INSERT OR UPDATE OF status OR DELETE ON waitlist_entries
    FOR EACH ROW EXECUTE FUNCTION notify_waitlist_change();

-- migrate:down
DROP TRIGGER waitlist_entries_notify ON waitlist_entries;
DROP FUNCTION notify_waitlist_change();
DROP TRIGGER reservations_waitlist_assign ON reservations;
DROP FUNCTION reservations_assign_from_waitlist();
DROP FUNCTION waitlist_lock_slot(timestamptz);
ALTER TABLE reservations DROP COLUMN from_waitlist;
DROP TABLE waitlist_entries;
