-- migrate:up
-- The lobby screen's secret URL (/lobby?key=...): one per lot, its key hashed
-- like a calendar feed's. Rotating replaces the hash, so the old URL stops at once.
CREATE TABLE lobby_screen (
    id         boolean PRIMARY KEY DEFAULT true,
    key_hash   bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT lobby_screen_one_row CHECK (id)
);

-- For the servers only: every instance closes the lobby sockets opened with
-- the old key (server/listener.py).
CREATE FUNCTION notify_lobby_key_rotated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(parking_events_channel(), json_build_object('type', 'lobby.rotated')::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER lobby_screen_notify_rotated
    AFTER UPDATE ON lobby_screen
    FOR EACH ROW EXECUTE FUNCTION notify_lobby_key_rotated();

-- migrate:down
DROP TRIGGER lobby_screen_notify_rotated ON lobby_screen;
DROP FUNCTION notify_lobby_key_rotated();
DROP TABLE lobby_screen;
