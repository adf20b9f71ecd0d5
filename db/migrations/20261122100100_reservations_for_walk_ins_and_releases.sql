-- migrate:up
-- The attendant books for drivers and for walk-ins, releases with a reason,
-- and (later) records arrivals. A reservation now says who holds it (a driver,
-- or a guest with a licence plate), who created it, and why it was released.
ALTER TABLE reservations
    ALTER COLUMN user_id DROP NOT NULL,
    ADD COLUMN guest_name text,
    ADD COLUMN licence_plate text,
    ADD COLUMN created_by bigint REFERENCES users (id),
    ADD COLUMN release_reason text,
    ADD COLUMN checked_in_at timestamptz;

UPDATE reservations SET created_by = user_id;
ALTER TABLE reservations ALTER COLUMN created_by SET NOT NULL;

-- A driver booking for themselves need not say so: created_by defaults to the
-- holder. (A column default cannot name another column, hence a trigger.)
CREATE FUNCTION reservations_default_creator() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_by := COALESCE(NEW.created_by, NEW.user_id);
    RETURN NEW;
END;
$$;

CREATE TRIGGER reservations_default_creator
    BEFORE INSERT ON reservations
    FOR EACH ROW EXECUTE FUNCTION reservations_default_creator();

ALTER TABLE reservations
    -- Exactly one holder: a driver, or a walk-in guest with a plate.
    ADD CONSTRAINT reservations_one_holder CHECK (
        (user_id IS NOT NULL AND guest_name IS NULL AND licence_plate IS NULL)
        OR (user_id IS NULL AND guest_name IS NOT NULL AND licence_plate IS NOT NULL)
    ),
    ADD CONSTRAINT reservations_guest_name_length CHECK (char_length(guest_name) BETWEEN 1 AND 100),
    ADD CONSTRAINT reservations_licence_plate_length CHECK (char_length(licence_plate) BETWEEN 1 AND 16),
    -- An attendant's release always says why; nobody else's carries a reason.
    ADD CONSTRAINT reservations_release_reason CHECK (
        (released_by IS NOT DISTINCT FROM 'admin') = (release_reason IS NOT NULL)
    ),
    ADD CONSTRAINT reservations_release_reason_length CHECK (char_length(release_reason) BETWEEN 1 AND 200),
    DROP CONSTRAINT reservations_released_by_check,
    -- 'user': the driver; 'expired': the sweeper after the slot ended;
    -- 'admin': the attendant; 'no_show': the sweeper, when nobody checked in.
    ADD CONSTRAINT reservations_released_by_check
        CHECK (released_by IN ('user', 'expired', 'admin', 'no_show'));

-- The board and the attendant's export look bookings up by creator rarely;
-- the foreign key needs no index. Walk-ins have no user_id, so the one-car-
-- per-driver index (user_id, start_time) leaves them alone: several walk-ins
-- can share a slot, on different spots.

-- migrate:down
DROP TRIGGER reservations_default_creator ON reservations;
DROP FUNCTION reservations_default_creator();
DELETE FROM reservations WHERE user_id IS NULL;
UPDATE reservations SET released_by = 'user', release_reason = NULL
WHERE released_by IN ('admin', 'no_show');
ALTER TABLE reservations
    DROP CONSTRAINT reservations_released_by_check,
    ADD CONSTRAINT reservations_released_by_check CHECK (released_by IN ('user', 'expired')),
    DROP CONSTRAINT reservations_release_reason_length,
    DROP CONSTRAINT reservations_release_reason,
    DROP CONSTRAINT reservations_licence_plate_length,
    DROP CONSTRAINT reservations_guest_name_length,
    DROP CONSTRAINT reservations_one_holder,
    DROP COLUMN checked_in_at,
    DROP COLUMN release_reason,
    DROP COLUMN created_by,
    DROP COLUMN licence_plate,
    DROP COLUMN guest_name,
    ALTER COLUMN user_id SET NOT NULL;
