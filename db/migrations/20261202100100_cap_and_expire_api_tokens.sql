-- migrate:up
-- A token may expire; an expired one is refused like a revoked one (IDENTIFY_TOKEN).
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;

-- A user holds at most 20 live (unexpired) tokens, even when many creations
-- race on several servers: a stolen session cannot mint thousands of them.
CREATE FUNCTION api_tokens_enforce_live_limit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    allowed CONSTANT integer := 20;
    live integer;
BEGIN
    -- One creation per user at a time: a racing one waits here for this one
    -- to commit, then counts it in a new snapshot. (NO KEY UPDATE does not
    -- block the foreign key checks' KEY SHARE.)
    PERFORM 1 FROM users WHERE id = NEW.user_id FOR NO KEY UPDATE;
    SELECT count(*) INTO live FROM api_tokens
    WHERE user_id = NEW.user_id AND (expires_at IS NULL OR expires_at > now());
    IF live >= allowed THEN
        RAISE EXCEPTION 'API token limit of % reached', allowed
            USING ERRCODE = 'check_violation', CONSTRAINT = 'api_tokens_live_limit',
                  DETAIL = allowed::text;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER api_tokens_enforce_live_limit
    BEFORE INSERT ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION api_tokens_enforce_live_limit();

-- migrate:down
DROP TRIGGER api_tokens_enforce_live_limit ON api_tokens;
DROP FUNCTION api_tokens_enforce_live_limit();
ALTER TABLE api_tokens DROP COLUMN expires_at;
