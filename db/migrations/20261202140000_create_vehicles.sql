-- migrate:up
-- Drivers' vehicles, and the plate lookup at the gate. Plates are stored as
-- typed (upper-cased and checked by server/plates.py) and matched on a
-- normalised form without spaces, hyphens or dots, so "ab 123-cd" finds
-- "AB-123-CD". One function says what "normalised" means, for the vehicles'
-- generated column and the walk-ins' expression index alike.
CREATE FUNCTION normalised_plate(plate text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT translate(plate, ' -.', '') $$;

CREATE TABLE vehicles (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    licence_plate text NOT NULL,
    plate_key     text GENERATED ALWAYS AS (normalised_plate(licence_plate)) STORED,
    label         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vehicles_licence_plate_length CHECK (char_length(licence_plate) BETWEEN 1 AND 16),
    CONSTRAINT vehicles_plate_key_not_empty CHECK (plate_key <> ''),
    CONSTRAINT vehicles_label_length CHECK (char_length(label) BETWEEN 1 AND 40),
    -- One driver cannot register one plate twice, however it is spelled; two
    -- drivers may share a car.
    CONSTRAINT vehicles_user_plate_key UNIQUE (user_id, plate_key),
    -- The target of reservations' (vehicle_id, user_id) foreign key: a booking
    -- names one of its own driver's vehicles.
    CONSTRAINT vehicles_id_user_key UNIQUE (id, user_id)
);

-- Serves the gate's lookup of a plate.
CREATE INDEX vehicles_plate_key_idx ON vehicles (plate_key);

-- At most 3 vehicles per driver, even when several registrations race (on
-- several servers): the driver's row is locked first, so a racing insert
-- waits for this one to commit and then counts it in a new snapshot.
CREATE FUNCTION vehicles_enforce_limit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    allowed CONSTANT integer := 3;
BEGIN
    PERFORM 1 FROM users WHERE id = NEW.user_id FOR NO KEY UPDATE;
    IF (SELECT count(*) FROM vehicles WHERE user_id = NEW.user_id) >= allowed THEN
        RAISE EXCEPTION 'at most % vehicles per driver', allowed
            USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicles_per_driver_limit',
                  DETAIL = allowed::text;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER vehicles_enforce_limit
    BEFORE INSERT ON vehicles
    FOR EACH ROW EXECUTE FUNCTION vehicles_enforce_limit();

-- A driver's booking may name the car; deleting the car keeps the booking.
ALTER TABLE reservations
    ADD COLUMN vehicle_id bigint,
    ADD CONSTRAINT reservations_vehicle_fkey FOREIGN KEY (vehicle_id, user_id)
        REFERENCES vehicles (id, user_id) ON DELETE SET NULL (vehicle_id),
    -- A walk-in's plate is its own column; MATCH SIMPLE would not check a
    -- vehicle_id beside a NULL user_id.
    ADD CONSTRAINT reservations_vehicle_is_a_drivers CHECK (vehicle_id IS NULL OR user_id IS NOT NULL);

CREATE INDEX reservations_vehicle_id_idx ON reservations (vehicle_id) WHERE vehicle_id IS NOT NULL;

-- Serves the gate's lookup of a walk-in's plate on a day.
CREATE INDEX reservations_guest_plate_idx
    ON reservations (normalised_plate(licence_plate), start_time) WHERE user_id IS NULL;

-- A driver with exactly one vehicle books with it unless the booking names
-- one: whoever inserts (any endpoint, psql). BEFORE triggers run in name
-- order; this one after reservations_default_creator.
CREATE FUNCTION reservations_default_vehicle() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.vehicle_id IS NULL AND NEW.user_id IS NOT NULL THEN
        SELECT min(id) INTO NEW.vehicle_id
        FROM vehicles WHERE user_id = NEW.user_id
        HAVING count(*) = 1;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER reservations_default_vehicle
    BEFORE INSERT ON reservations
    FOR EACH ROW EXECUTE FUNCTION reservations_default_vehicle();

-- The attendant's events name a driver's plate too (server/events.py keeps
-- the holder from everyone else). Replaces the function of
-- 20261122100300_publish_lot_changes.sql with one more field.
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
                      'user_id', u.id, 'display_name', u.display_name, 'email', u.email,
                      'licence_plate', (SELECT licence_plate FROM vehicles WHERE id = NEW.vehicle_id))
                  FROM users u WHERE u.id = NEW.user_id)
        END
    )::text);
    RETURN NULL;
END;
$$;

-- migrate:down
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
DROP TRIGGER reservations_default_vehicle ON reservations;
DROP FUNCTION reservations_default_vehicle();
DROP INDEX reservations_guest_plate_idx;
ALTER TABLE reservations DROP COLUMN vehicle_id;
DROP TABLE vehicles;
DROP FUNCTION vehicles_enforce_limit();
DROP FUNCTION normalised_plate(text);
