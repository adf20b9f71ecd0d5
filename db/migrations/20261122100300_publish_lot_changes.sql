-- migrate:up
-- Every change that an open page or a server must see is published on
-- parking_events_channel(), in the same transaction as the change.
--
-- Payloads carry everything any audience may see, including who holds a
-- slot. The server decides per socket what to pass on (server/events.py): the
-- attendant sees all, a holder sees their own, other drivers only that a slot
-- changed. Payloads never leave the servers unfiltered.

CREATE OR REPLACE FUNCTION notify_reservation_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', CASE WHEN TG_OP = 'INSERT' THEN 'reservation.booked'
                     WHEN NEW.status = 'completed' THEN 'reservation.released'
                     ELSE 'reservation.checked_in' END,
        'reservation_id', NEW.id,
        'spot_id', NEW.spot_id,
        'spot_number', (SELECT spot_number FROM spots WHERE id = NEW.spot_id),
        'start_time', NEW.start_time,
        'end_time', NEW.end_time,
        -- 'completed' (by the driver), 'expired', 'admin' or 'no_show'.
        'reason', CASE WHEN NEW.status = 'booked' THEN 'booked'
                       WHEN NEW.released_by = 'user' THEN 'completed'
                       ELSE NEW.released_by END,
        'release_reason', NEW.release_reason,
        'checked_in_at', NEW.checked_in_at,
        'user_id', NEW.user_id,
        'holder', CASE
            WHEN NEW.user_id IS NULL THEN json_build_object(
                'guest_name', NEW.guest_name, 'licence_plate', NEW.licence_plate)
            ELSE (SELECT json_build_object(
                      'user_id', u.id, 'display_name', u.display_name, 'email', u.email)
                  FROM users u WHERE u.id = NEW.user_id)
        END
    )::text);
    RETURN NULL;
END;
$$;

CREATE FUNCTION notify_closure_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    closure closures;
BEGIN
    closure := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', CASE WHEN TG_OP = 'DELETE' THEN 'closure.deleted' ELSE 'closure.created' END,
        'closure_id', closure.id,
        'spot_id', closure.spot_id,
        'spot_number', (SELECT spot_number FROM spots WHERE id = closure.spot_id),
        'start_time', closure.start_time,
        'end_time', closure.end_time,
        'reason', closure.reason
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER closures_notify
    AFTER INSERT OR DELETE ON closures
    FOR EACH ROW EXECUTE FUNCTION notify_closure_change();

CREATE FUNCTION notify_spot_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', CASE WHEN TG_OP = 'INSERT' THEN 'spot.created' ELSE 'spot.updated' END,
        'spot_id', NEW.id,
        'spot_number', NEW.spot_number,
        'floor_number', NEW.floor_number,
        'spot_type', NEW.type
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER spots_notify
    AFTER INSERT OR UPDATE ON spots
    FOR EACH ROW EXECUTE FUNCTION notify_spot_change();

-- For the servers only: a user whose role changed or who was deleted loses
-- what their sessions were allowed at once, on every instance.
CREATE FUNCTION notify_user_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', 'user.changed',
        'user_id', OLD.id,
        'role', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.role END
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_notify_role_change
    AFTER UPDATE OF role ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION notify_user_change();

CREATE TRIGGER users_notify_delete
    AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_user_change();

-- migrate:down
DROP TRIGGER users_notify_delete ON users;
DROP TRIGGER users_notify_role_change ON users;
DROP FUNCTION notify_user_change();
DROP TRIGGER spots_notify ON spots;
DROP FUNCTION notify_spot_change();
DROP TRIGGER closures_notify ON closures;
DROP FUNCTION notify_closure_change();

CREATE OR REPLACE FUNCTION notify_reservation_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', CASE WHEN NEW.status = 'booked' THEN 'reservation.booked'
                     ELSE 'reservation.released' END,
        'reservation_id', NEW.id,
        'spot_id', NEW.spot_id,
        'spot_number', (SELECT spot_number FROM spots WHERE id = NEW.spot_id),
        'start_time', NEW.start_time,
        'end_time', NEW.end_time,
        'reason', CASE WHEN NEW.status = 'booked' THEN 'booked'
                       WHEN NEW.released_by = 'expired' THEN 'expired'
                       ELSE 'completed' END,
        'user_id', NEW.user_id
    )::text);
    RETURN NULL;
END;
$$;
