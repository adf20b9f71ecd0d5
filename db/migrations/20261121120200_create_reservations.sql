-- migrate:up
CREATE TABLE reservations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    spot_id      integer NOT NULL REFERENCES spots (id),
    start_time   timestamptz NOT NULL,
    end_time     timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'booked',
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    -- Who ended the booking: the driver ('user') or the stale-booking sweeper ('expired').
    released_by  text,
    CONSTRAINT reservations_status_check CHECK (status IN ('booked', 'completed')),
    CONSTRAINT reservations_released_by_check CHECK (released_by IN ('user', 'expired')),
    CONSTRAINT reservations_time_order CHECK (end_time > start_time),
    -- A booked row has no completion data; a completed row has both fields.
    CONSTRAINT reservations_completion_consistent CHECK (
        (status = 'booked' AND completed_at IS NULL AND released_by IS NULL)
        OR (status = 'completed' AND completed_at IS NOT NULL AND released_by IS NOT NULL)
    )
);

-- The slot key. Slots are a fixed partition of the day, so a slot is identified
-- by its start. At most one booked row per spot and slot: this index is what makes
-- double booking impossible, whatever the number of app processes.
CREATE UNIQUE INDEX reservations_spot_slot_key
    ON reservations (spot_id, start_time) WHERE status = 'booked';

-- One car per driver per slot.
CREATE UNIQUE INDEX reservations_user_slot_key
    ON reservations (user_id, start_time) WHERE status = 'booked';

-- Serves the stale-booking sweep: booked rows ordered by end time.
CREATE INDEX reservations_booked_end_time_idx
    ON reservations (end_time) WHERE status = 'booked';

-- Serves a driver's history, newest first.
CREATE INDEX reservations_user_created_idx ON reservations (user_id, created_at DESC);

-- migrate:down
DROP TABLE reservations;
