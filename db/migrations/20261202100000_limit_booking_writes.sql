-- migrate:up
-- Booking writes (book, release, check-in) per driver, counted for every
-- server, in a window that starts at the driver's first write. The row lock
-- of one atomic upsert serialises a driver's parallel writes, so a flood gets
-- exactly the allowed number through, however many instances it reaches.
-- One row per user: the table is bounded by the users, and needs no sweeping.
CREATE TABLE booking_writes (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    writes       integer NOT NULL,
    CONSTRAINT booking_writes_pkey PRIMARY KEY (user_id)
);

-- migrate:down
DROP TABLE booking_writes;
