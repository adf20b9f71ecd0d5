-- migrate:up
-- A driver the waitlist hands a freed spot to gets a waitlist_assigned
-- notification, written by the assignment itself.
ALTER TABLE notifications
    DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (
        kind IN ('booking_released', 'booked_for_you', 'reminder', 'monthly_summary',
                 'waitlist_assigned')
    );

CREATE OR REPLACE FUNCTION reservations_assign_from_waitlist() RETURNS trigger
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
            -- The driver is told (inbox, mail, their own sockets) in this same
            -- transaction; the booking is their own, so no other notice fires.
            INSERT INTO notifications (user_id, kind, reservation_id, data)
            SELECT entry.user_id, 'waitlist_assigned', assigned_id, jsonb_build_object(
                'spot_number', s.spot_number, 'floor_number', s.floor_number,
                'start_time', NEW.start_time, 'end_time', NEW.end_time)
            FROM spots s WHERE s.id = NEW.spot_id;
            RETURN NULL;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;


-- migrate:down
CREATE OR REPLACE FUNCTION reservations_assign_from_waitlist() RETURNS trigger
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


DELETE FROM notifications WHERE kind = 'waitlist_assigned';
ALTER TABLE notifications
    DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (
        kind IN ('booking_released', 'booked_for_you', 'reminder', 'monthly_summary')
    );
