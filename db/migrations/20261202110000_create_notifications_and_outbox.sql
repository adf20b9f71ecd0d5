-- migrate:up
-- Notifications: what a driver is told (an inbox row, and a mail), and what
-- integrations are told (signed webhooks). Everything that must be delivered
-- is written to `deliveries` (the outbox) in the same transaction as the
-- change that causes it, so a rolled-back change sends nothing and a process
-- killed after the commit loses nothing. Each server's dispatcher
-- (server/dispatcher.py) claims due rows with FOR UPDATE SKIP LOCKED.

-- 0: no reminders. Minutes before a booked slot starts.
ALTER TABLE lot_rules
    ADD COLUMN reminder_minutes_before integer NOT NULL DEFAULT 30,
    ADD CONSTRAINT lot_rules_reminder_range CHECK (reminder_minutes_before BETWEEN 0 AND 1440);

-- A driver's choices; no row means the defaults (both on).
CREATE TABLE notification_settings (
    user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email      boolean NOT NULL DEFAULT true,
    reminders  boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The inbox. `data` holds the facts (spot, floor, slot, reason...); the server
-- words them in the lot's zone (server/notices.py) for the inbox and the mail.
CREATE TABLE notifications (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           text NOT NULL,
    -- No foreign key: reservations are never deleted, and a notification
    -- must not stop tests and the benchmark from truncating them.
    reservation_id bigint,
    data           jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    read_at        timestamptz,
    CONSTRAINT notifications_kind_check CHECK (
        kind IN ('booking_released', 'booked_for_you', 'reminder', 'monthly_summary')
    )
);

-- A driver's inbox, newest first; and the sweeper's 90-day clean-up.
CREATE INDEX notifications_user_id_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_created_at_idx ON notifications (created_at);

-- One reminder per booking, however many sweepers race to send it.
CREATE UNIQUE INDEX notifications_one_reminder_key
    ON notifications (reservation_id) WHERE kind = 'reminder';

-- One monthly summary per driver and month, however often the job runs. Kept
-- apart from the inbox, whose rows the sweeper deletes after 90 days.
CREATE TABLE monthly_summaries (
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    month           date NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT monthly_summaries_pkey PRIMARY KEY (user_id, month),
    CONSTRAINT monthly_summaries_first_of_month CHECK (extract(day FROM month) = 1)
);

-- Integrations the attendant registers. The secret signs every request
-- (Standard Webhooks), so it is kept as it is, unlike API tokens.
CREATE TABLE webhook_endpoints (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url        text NOT NULL,
    events     text[] NOT NULL,
    secret     text NOT NULL,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_endpoints_url_length CHECK (char_length(url) BETWEEN 1 AND 2048),
    CONSTRAINT webhook_endpoints_some_events CHECK (cardinality(events) BETWEEN 1 AND 20)
);

-- The outbox: one row per mail or webhook call to make.
CREATE TABLE deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text NOT NULL,
    notification_id bigint REFERENCES notifications (id) ON DELETE CASCADE,
    webhook_id      bigint REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type      text,
    -- A webhook's body: {"type", "timestamp", "data"}.
    payload         jsonb,
    status          text NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0,
    -- While pending: when the next attempt is due. A claim moves it past the
    -- send's timeout (a lease), so a process that dies mid-send leaves the row
    -- to be claimed again later, by any instance.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    response_status integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    CONSTRAINT deliveries_channel_check CHECK (channel IN ('email', 'webhook')),
    CONSTRAINT deliveries_status_check CHECK (status IN ('pending', 'delivered', 'failed')),
    CONSTRAINT deliveries_one_target CHECK (
        (channel = 'email' AND notification_id IS NOT NULL AND webhook_id IS NULL)
        OR (channel = 'webhook' AND webhook_id IS NOT NULL AND payload IS NOT NULL
            AND notification_id IS NULL)
    )
);

-- The dispatcher's claim: pending rows by due time.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
-- An endpoint's deliveries, newest first; the desk's count of failures.
CREATE INDEX deliveries_webhook_id_idx ON deliveries (webhook_id, id DESC) WHERE webhook_id IS NOT NULL;
CREATE INDEX deliveries_failed_idx ON deliveries (channel) WHERE status = 'failed';
CREATE INDEX deliveries_notification_id_idx ON deliveries (notification_id);

-- Webhooks: every change an integration may subscribe to is queued, in the
-- change's transaction, for each endpoint that subscribes to its type (or to
-- '*'). These are triggers of their own, beside the publishing ones (which
-- other migrations replace to add fields), so that no later replacement of a
-- notify_* function can silently stop the webhooks. `data` is the
-- attendant's form of the event, as the publishing triggers build it.
CREATE FUNCTION queue_webhooks(event jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deliveries (channel, webhook_id, event_type, payload)
    SELECT 'webhook', w.id, event->>'type', jsonb_build_object(
        'type', event->>'type', 'timestamp', now(), 'data', event)
    FROM webhook_endpoints w
    WHERE event->>'type' = ANY (w.events) OR '*' = ANY (w.events);
END;
$$;

CREATE FUNCTION queue_webhooks_for_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    closure closures;
BEGIN
    -- Nothing to build when nobody listens (the common case).
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints) THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'reservations' THEN
        PERFORM queue_webhooks(jsonb_build_object(
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
                WHEN NEW.user_id IS NULL THEN jsonb_build_object(
                    'guest_name', NEW.guest_name, 'licence_plate', NEW.licence_plate)
                ELSE (SELECT jsonb_build_object(
                          'user_id', u.id, 'display_name', u.display_name, 'email', u.email)
                      FROM users u WHERE u.id = NEW.user_id)
            END));
    ELSIF TG_TABLE_NAME = 'closures' THEN
        closure := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        PERFORM queue_webhooks(jsonb_build_object(
            'type', CASE WHEN TG_OP = 'DELETE' THEN 'closure.deleted' ELSE 'closure.created' END,
            'closure_id', closure.id,
            'spot_id', closure.spot_id,
            'spot_number', (SELECT spot_number FROM spots WHERE id = closure.spot_id),
            'start_time', closure.start_time,
            'end_time', closure.end_time,
            'reason', closure.reason));
    ELSIF TG_TABLE_NAME = 'spots' THEN
        PERFORM queue_webhooks(jsonb_build_object(
            'type', CASE WHEN TG_OP = 'INSERT' THEN 'spot.created' ELSE 'spot.updated' END,
            'spot_id', NEW.id,
            'spot_number', NEW.spot_number,
            'floor_number', NEW.floor_number,
            'spot_type', NEW.type));
    ELSIF TG_TABLE_NAME = 'lot_rules' THEN
        PERFORM queue_webhooks(jsonb_build_object(
            'type', 'rules.changed',
            'max_upcoming_per_driver', NEW.max_upcoming_per_driver,
            'booking_horizon_days', NEW.booking_horizon_days,
            'no_show_grace_minutes', NEW.no_show_grace_minutes,
            'reminder_minutes_before', NEW.reminder_minutes_before));
    END IF;
    RETURN NULL;
END;
$$;

-- The same rows and conditions as the publishing triggers.
CREATE TRIGGER reservations_queue_webhooks_insert
    AFTER INSERT ON reservations
    FOR EACH ROW EXECUTE FUNCTION queue_webhooks_for_change();
CREATE TRIGGER reservations_queue_webhooks_status_change
    AFTER UPDATE OF status ON reservations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION queue_webhooks_for_change();
CREATE TRIGGER reservations_queue_webhooks_check_in
    AFTER UPDATE OF checked_in_at ON reservations
    FOR EACH ROW WHEN (OLD.checked_in_at IS DISTINCT FROM NEW.checked_in_at)
    EXECUTE FUNCTION queue_webhooks_for_change();
CREATE TRIGGER closures_queue_webhooks
    AFTER INSERT OR DELETE ON closures
    FOR EACH ROW EXECUTE FUNCTION queue_webhooks_for_change();
CREATE TRIGGER spots_queue_webhooks
    AFTER INSERT OR UPDATE ON spots
    FOR EACH ROW EXECUTE FUNCTION queue_webhooks_for_change();
CREATE TRIGGER lot_rules_queue_webhooks
    AFTER UPDATE ON lot_rules
    FOR EACH ROW EXECUTE FUNCTION queue_webhooks_for_change();

-- rules.changed tells every page and server the new rule too. (Replaces the
-- function of 20261122110000_create_lot_rules.sql with one more field.)
CREATE OR REPLACE FUNCTION notify_rules_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', 'rules.changed',
        'max_upcoming_per_driver', NEW.max_upcoming_per_driver,
        'booking_horizon_days', NEW.booking_horizon_days,
        'no_show_grace_minutes', NEW.no_show_grace_minutes,
        'reminder_minutes_before', NEW.reminder_minutes_before
    )::text);
    RETURN NULL;
END;
$$;

-- What a driver is told of a change to their booking, in its transaction:
-- the attendant booked for them, or the attendant, a closure or the no-show
-- rule released it. Never a walk-in (no address), never their own action.
CREATE FUNCTION notify_driver_of_reservation_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    cause text;
BEGIN
    IF NEW.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.created_by = NEW.user_id THEN
            RETURN NULL;
        END IF;
        kind := 'booked_for_you';
    ELSIF NEW.released_by = 'no_show' THEN
        kind := 'booking_released';
        cause := 'no_show';
    ELSIF NEW.released_by = 'admin' THEN
        kind := 'booking_released';
        -- A closure inserts itself, then releases what it covers, in one
        -- transaction (repository/closures.py): its created_at is this
        -- transaction's now().
        cause := CASE WHEN EXISTS (
            SELECT 1 FROM closures c
            WHERE c.spot_id = NEW.spot_id AND c.created_at = now()
              AND c.start_time < NEW.end_time AND c.end_time > NEW.start_time
        ) THEN 'closure' ELSE 'attendant' END;
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO notifications (user_id, kind, reservation_id, data)
    SELECT NEW.user_id, kind, NEW.id, jsonb_build_object(
        'spot_number', s.spot_number,
        'floor_number', s.floor_number,
        'start_time', NEW.start_time,
        'end_time', NEW.end_time,
        'cause', cause,
        'reason', NEW.release_reason,
        'grace_minutes', CASE WHEN cause = 'no_show'
                              THEN (SELECT no_show_grace_minutes FROM lot_rules) END)
    FROM spots s WHERE s.id = NEW.spot_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reservations_notify_driver_of_booking
    AFTER INSERT ON reservations
    FOR EACH ROW EXECUTE FUNCTION notify_driver_of_reservation_change();

CREATE TRIGGER reservations_notify_driver_of_release
    AFTER UPDATE OF status ON reservations
    FOR EACH ROW WHEN (OLD.status = 'booked' AND NEW.status = 'completed')
    EXECUTE FUNCTION notify_driver_of_reservation_change();

-- A new inbox row: queue its mail (unless the driver turned mail off) and
-- tell the servers, which pass it to that driver's own sockets only.
CREATE FUNCTION notification_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deliveries (channel, notification_id)
    SELECT 'email', NEW.id
    WHERE COALESCE((SELECT email FROM notification_settings WHERE user_id = NEW.user_id), true);
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', 'notification.created',
        'user_id', NEW.user_id,
        'notification', json_build_object(
            'id', NEW.id, 'kind', NEW.kind, 'reservation_id', NEW.reservation_id,
            'data', NEW.data, 'created_at', NEW.created_at, 'read_at', NEW.read_at)
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER notifications_created
    AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION notification_created();

-- migrate:down
DROP TRIGGER notifications_created ON notifications;
DROP FUNCTION notification_created();
DROP TRIGGER reservations_notify_driver_of_release ON reservations;
DROP TRIGGER reservations_notify_driver_of_booking ON reservations;
DROP FUNCTION notify_driver_of_reservation_change();

CREATE OR REPLACE FUNCTION notify_rules_change() RETURNS trigger
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

DROP TRIGGER lot_rules_queue_webhooks ON lot_rules;
DROP TRIGGER spots_queue_webhooks ON spots;
DROP TRIGGER closures_queue_webhooks ON closures;
DROP TRIGGER reservations_queue_webhooks_check_in ON reservations;
DROP TRIGGER reservations_queue_webhooks_status_change ON reservations;
DROP TRIGGER reservations_queue_webhooks_insert ON reservations;
DROP FUNCTION queue_webhooks_for_change();
DROP FUNCTION queue_webhooks(jsonb);
DROP TABLE deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE monthly_summaries;
DROP TABLE notifications;
DROP TABLE notification_settings;
ALTER TABLE lot_rules
    DROP CONSTRAINT lot_rules_reminder_range,
    DROP COLUMN reminder_minutes_before;
