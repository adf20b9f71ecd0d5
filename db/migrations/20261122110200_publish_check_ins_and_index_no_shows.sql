-- migrate:up
-- An arrival is published like any change (notify_reservation_change names it
-- reservation.checked_in), to the holder and the attendant.
CREATE TRIGGER reservations_notify_check_in
    AFTER UPDATE OF checked_in_at ON reservations
    FOR EACH ROW WHEN (OLD.checked_in_at IS DISTINCT FROM NEW.checked_in_at)
    EXECUTE FUNCTION notify_reservation_change();

-- Serves the no-show sweep: booked rows nobody checked in for, by start.
CREATE INDEX reservations_awaiting_arrival_idx
    ON reservations (start_time) WHERE status = 'booked' AND checked_in_at IS NULL;

-- migrate:down
DROP INDEX reservations_awaiting_arrival_idx;
DROP TRIGGER reservations_notify_check_in ON reservations;
