-- migrate:up
-- Failed-login throttling, shared by every server. Keyed by the email as the
-- login lookup matches it (lower(), PostgreSQL's, not Python's: they differ
-- for some letters) and by the client's address. An attempt is counted
-- before its password is checked, in one atomic upsert, so parallel guesses
-- cannot all slip under the limit.
CREATE TABLE login_attempts (
    email_key    text NOT NULL,
    client       text NOT NULL,
    window_start timestamptz NOT NULL,
    attempts     integer NOT NULL,
    CONSTRAINT login_attempts_pkey PRIMARY KEY (email_key, client)
);

-- Serves forgetting windows that have ended (the sweeper).
CREATE INDEX login_attempts_window_start_idx ON login_attempts (window_start);

-- migrate:down
DROP TABLE login_attempts;
