-- migrate:up
-- Every change to a slot is published on the channel "reservation_events" by the
-- database itself, in the same transaction as the change: NOTIFY is delivered on
-- commit and dropped on rollback, so an event exists exactly when the change does,
-- whoever made it (any app instance, the sweeper, or psql). The payload is the
-- final WebSocket message, so servers forward it without re-serialising.
CREATE FUNCTION notify_reservation_change() RETURNS trigger
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

CREATE TRIGGER reservations_notify_insert
    AFTER INSERT ON reservations
    FOR EACH ROW EXECUTE FUNCTION notify_reservation_change();

CREATE TRIGGER reservations_notify_status_change
    AFTER UPDATE OF status ON reservations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notify_reservation_change();

-- migrate:down
DROP TRIGGER reservations_notify_status_change ON reservations;
DROP TRIGGER reservations_notify_insert ON reservations;
DROP FUNCTION notify_reservation_change();
