-- migrate:up
-- A driver holds at most lot_rules.max_upcoming_per_driver booked reservations
-- that have not ended, even when many bookings by one driver race (on several
-- servers). Bookings the attendant makes for a driver (created_by is not the
-- holder) are exempt, and lowering the limit cancels nothing: only inserts
-- are checked.
CREATE FUNCTION reservations_enforce_booking_limit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    allowed integer;
    held integer;
BEGIN
    IF NEW.user_id IS NULL OR NEW.created_by IS DISTINCT FROM NEW.user_id THEN
        RETURN NEW;
    END IF;
    SELECT max_upcoming_per_driver INTO allowed FROM lot_rules;
    IF allowed IS NULL THEN
        RETURN NEW;
    END IF;
    -- One booking per driver at a time: a racing booking by the same driver
    -- waits here for this one to commit, then counts it in a new snapshot.
    -- (NO KEY UPDATE does not block the foreign key checks' KEY SHARE.)
    PERFORM 1 FROM users WHERE id = NEW.user_id FOR NO KEY UPDATE;
    SELECT count(*) INTO held FROM reservations
    WHERE user_id = NEW.user_id AND status = 'booked' AND end_time > now();
    IF held >= allowed THEN
        RAISE EXCEPTION 'booking limit of % reached', allowed
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reservations_booking_limit',
                  DETAIL = allowed::text;
    END IF;
    RETURN NEW;
END;
$$;

-- BEFORE triggers run in name order: after reservations_default_creator
-- (which fills created_by), before reservations_refuse_closed_slots.
CREATE TRIGGER reservations_enforce_booking_limit
    BEFORE INSERT ON reservations
    FOR EACH ROW EXECUTE FUNCTION reservations_enforce_booking_limit();

-- migrate:down
DROP TRIGGER reservations_enforce_booking_limit ON reservations;
DROP FUNCTION reservations_enforce_booking_limit();
