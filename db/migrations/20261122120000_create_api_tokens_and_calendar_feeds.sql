-- migrate:up
-- Personal API tokens for scripts. Only a SHA-256 hash of each is stored: the
-- token itself is shown once, when it is created. A token is 256 random bits,
-- so a fast hash is enough (a slow one would only slow every request).
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT api_tokens_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
);

CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

-- Each driver's private calendar feed: the key in its URL, hashed. One per
-- user; rotating replaces the hash, so the old URL stops at once.
CREATE TABLE calendar_feeds (
    user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key_hash   bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT calendar_feeds_key_hash_key UNIQUE (key_hash)
);

-- For the servers only: a revoked token's open sockets close on every instance.
CREATE FUNCTION notify_token_revoked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', 'token.revoked', 'token_id', OLD.id, 'user_id', OLD.user_id
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_tokens_notify_revoked
    AFTER DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION notify_token_revoked();

-- migrate:down
DROP TRIGGER api_tokens_notify_revoked ON api_tokens;
DROP FUNCTION notify_token_revoked();
DROP TABLE calendar_feeds;
DROP TABLE api_tokens;
