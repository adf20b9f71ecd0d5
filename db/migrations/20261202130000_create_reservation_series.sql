-- migrate:up
-- A driver's weekly series: the same slot on chosen weekdays between two lot
-- dates. Each date is one occurrence, booked as an ordinary reservation (with
-- its series_id) once the booking horizon reaches it.
CREATE TABLE reservation_series (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- ISO weekdays, Monday = 1.
    weekdays   smallint[] NOT NULL,
    -- Which of the lot's three wall-clock slots (server/slots.py), so an
    -- occurrence keeps 08:00 local across a DST change.
    slot_index smallint NOT NULL,
    first_day  date NOT NULL,
    last_day   date NOT NULL,
    -- NULL: any free spot of spot_type.
    spot_id    integer REFERENCES spots (id),
    spot_type  text NOT NULL,
    -- 'any': when spot_id is taken or closed on a date, any free spot of its type.
    fallback   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    stopped_at timestamptz,
    CONSTRAINT reservation_series_weekdays CHECK (
        cardinality(weekdays) BETWEEN 1 AND 7 AND weekdays <@ ARRAY[1, 2, 3, 4, 5, 6, 7]::smallint[]
    ),
    CONSTRAINT reservation_series_slot_index CHECK (slot_index BETWEEN 0 AND 2),
    CONSTRAINT reservation_series_day_order CHECK (last_day >= first_day),
    CONSTRAINT reservation_series_at_most_a_year CHECK (last_day <= (first_day + interval '1 year')::date),
    CONSTRAINT reservation_series_spot_type CHECK (spot_type IN ('regular', 'handicap')),
    CONSTRAINT reservation_series_fallback CHECK (fallback IN ('any', 'none'))
);

-- Serves a driver's list of their series.
CREATE INDEX reservation_series_user_idx ON reservation_series (user_id, id);

-- One row per date of a series. The primary key is what makes "each date at
-- most once" hold: a date is booked only by the transaction that holds its
-- row locked while it is 'pending' and moves it out of 'pending' (the request
-- that made the series, or a sweeper on any instance, FOR UPDATE SKIP LOCKED).
CREATE TABLE series_occurrences (
    series_id      bigint NOT NULL REFERENCES reservation_series (id) ON DELETE CASCADE,
    day            date NOT NULL,
    -- 'pending': beyond the horizon so far; 'booked' / 'refused': decided, like
    -- a single booking; 'stopped': the series was stopped before it was booked.
    status         text NOT NULL DEFAULT 'pending',
    -- The date's booking. No foreign key, like waitlist_entries.reservation_id:
    -- reservations are never deleted, and the tests and the benchmark truncate them.
    reservation_id bigint,
    error_code     text,
    error_message  text,
    decided_at     timestamptz,
    PRIMARY KEY (series_id, day),
    CONSTRAINT series_occurrences_status CHECK (status IN ('pending', 'booked', 'refused', 'stopped')),
    CONSTRAINT series_occurrences_booked_has_reservation
        CHECK ((status = 'booked') = (reservation_id IS NOT NULL)),
    CONSTRAINT series_occurrences_refused_has_error
        CHECK ((status = 'refused') = (error_code IS NOT NULL AND error_message IS NOT NULL))
);

-- Serves the sweeper's search for pending dates the horizon has reached.
CREATE INDEX series_occurrences_pending_idx ON series_occurrences (day) WHERE status = 'pending';

ALTER TABLE reservations
    ADD COLUMN series_id bigint REFERENCES reservation_series (id) ON DELETE SET NULL;

-- Serves stopping a series: its bookings.
CREATE INDEX reservations_series_idx ON reservations (series_id) WHERE series_id IS NOT NULL;

-- migrate:down
DROP INDEX reservations_series_idx;
ALTER TABLE reservations DROP COLUMN series_id;
DROP TABLE series_occurrences;
DROP TABLE reservation_series;
