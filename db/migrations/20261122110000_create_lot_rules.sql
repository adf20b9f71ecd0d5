-- migrate:up
-- The lot's rules, set by the attendant at run time. One row: the CHECK on
-- the key allows no second one.
CREATE TABLE lot_rules (
    id                      boolean PRIMARY KEY DEFAULT true,
    -- NULL: no limit.
    max_upcoming_per_driver integer,
    booking_horizon_days    integer NOT NULL DEFAULT 30,
    -- 0: no-shows are never released.
    no_show_grace_minutes   integer NOT NULL DEFAULT 0,
    updated_at              timestamptz NOT NULL DEFAULT now(),
    updated_by              bigint REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT lot_rules_one_row CHECK (id),
    CONSTRAINT lot_rules_max_upcoming_range CHECK (max_upcoming_per_driver BETWEEN 1 AND 100),
    CONSTRAINT lot_rules_horizon_range CHECK (booking_horizon_days BETWEEN 1 AND 365),
    CONSTRAINT lot_rules_grace_range CHECK (no_show_grace_minutes BETWEEN 0 AND 240)
);

INSERT INTO lot_rules DEFAULT VALUES;

-- Every change reaches every open page and every server at once.
CREATE FUNCTION notify_rules_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', 'rules.changed',
        'max_upcoming_per_driver', NEW.max_upcoming_per_driver,
        'booking_horizon_days', NEW.booking_horizon_days,
        'no_show_grace_minutes', NEW.no_show_grace_minutes
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER lot_rules_notify
    AFTER UPDATE ON lot_rules
    FOR EACH ROW EXECUTE FUNCTION notify_rules_change();

-- migrate:down
DROP TRIGGER lot_rules_notify ON lot_rules;
DROP FUNCTION notify_rules_change();
DROP TABLE lot_rules;
