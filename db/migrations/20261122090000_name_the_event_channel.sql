-- migrate:up
-- The one place the event channel is named. The triggers notify on it, and each
-- server's listener asks for it (server/repository/database.py), so SQL and Python
-- cannot disagree. It is renamed from reservation_events: the lot's closures,
-- spots and rules will be published on it too.
CREATE FUNCTION parking_events_channel() RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'parking_events' $$;

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

-- migrate:down
CREATE OR REPLACE FUNCTION notify_reservation_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('reservation_events', json_build_object(
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

DROP FUNCTION parking_events_channel();
