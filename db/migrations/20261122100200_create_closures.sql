-- migrate:up
-- A closure takes one spot out of service for a window of whole slots.
CREATE TABLE closures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    spot_id    integer NOT NULL REFERENCES spots (id),
    start_time timestamptz NOT NULL,
    end_time   timestamptz NOT NULL,
    reason     text NOT NULL,
    created_by bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT closures_time_order CHECK (end_time > start_time),
    CONSTRAINT closures_reason_length CHECK (char_length(reason) BETWEEN 1 AND 200)
);

-- Serves "is this spot closed at that time?" and the grid's closures of a day.
CREATE INDEX closures_spot_time_idx ON closures (spot_id, start_time, end_time);

-- No booking may land in a closed slot, whoever inserts it, even one racing
-- with the closure. Both sides lock the spot's row: this trigger with FOR KEY
-- SHARE (what the foreign key check takes anyway, so bookings never wait for
-- each other), a closure with FOR UPDATE, which conflicts with it. Whichever
-- comes second waits for the first to commit and then, in a new snapshot,
-- sees its work: a late booking sees the closure and is refused; a late
-- closure sees the booking and releases it (repository/closures.py).
CREATE FUNCTION reservations_refuse_closed_slots() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM spots WHERE id = NEW.spot_id FOR KEY SHARE;
    IF EXISTS (
        SELECT 1 FROM closures c
        WHERE c.spot_id = NEW.spot_id
          AND c.start_time < NEW.end_time AND c.end_time > NEW.start_time
    ) THEN
        RAISE EXCEPTION 'spot % is closed for this slot', NEW.spot_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reservations_spot_closed';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER reservations_refuse_closed_slots
    BEFORE INSERT ON reservations
    FOR EACH ROW EXECUTE FUNCTION reservations_refuse_closed_slots();

-- migrate:down
DROP TRIGGER reservations_refuse_closed_slots ON reservations;
DROP FUNCTION reservations_refuse_closed_slots();
DROP TABLE closures;
