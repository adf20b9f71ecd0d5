-- migrate:up
-- What the attendant did, written by the database in the same transaction as
-- each change, so a change and its record exist together or not at all.
--
-- Who acted: the server sets parking.actor_id for the transaction
-- (set_config(..., true), i.e. SET LOCAL; server/repository/audit.py) and the
-- triggers read it, or the row names its creator itself (created_by,
-- updated_by). A change made outside the app (psql) has no actor id; its
-- actor_name is the database role that made it.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    -- No foreign key: a record outlives its actor, and deleting a user must
    -- not have to rewrite the log.
    actor_id    bigint,
    actor_name  text NOT NULL,
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text NOT NULL,
    reason      text,
    before      jsonb,
    after       jsonb
);

-- Serves GET /admin/audit, newest first, by date range and by actor.
CREATE INDEX audit_log_recorded_idx ON audit_log (recorded_at, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, recorded_at);

-- Append-only: no UPDATE, DELETE or TRUNCATE, whoever asks. Pruning is a
-- superuser's job (docs/operating.md): session_replication_role = replica
-- turns this trigger off for one transaction, and only a superuser may set it.
CREATE FUNCTION audit_log_refuse_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_changes();

-- The app's actor for this transaction, or NULL.
CREATE FUNCTION audit_actor() RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT NULLIF(current_setting('parking.actor_id', true), '')::bigint $$;

CREATE FUNCTION record_audit(
    what text, target_kind text, target text, why text, old_state jsonb, new_state jsonb,
    actor bigint DEFAULT audit_actor()
) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO audit_log (actor_id, actor_name, action, target_type, target_id, reason, before, after)
    SELECT actor, COALESCE((SELECT display_name FROM users WHERE id = actor), session_user::text),
           what, target_kind, target, why, old_state, new_state
$$;

-- Trigger names: the record_* triggers of each table come after its notify_*
-- ones (same-event triggers fire in name order), so each change's own event
-- is published before its record is: a demoted attendant's sockets close on
-- user.changed before the record of the demotion reaches them.

-- The attendant's desk shows each record live ("Recent actions"): attendants only
-- (server/events.py sends types it does not list to the attendant alone).
CREATE FUNCTION notify_audit_record() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(parking_events_channel(), json_build_object(
        'type', 'audit.recorded',
        'id', NEW.id,
        'recorded_at', NEW.recorded_at,
        'actor_id', NEW.actor_id,
        'actor_name', NEW.actor_name,
        'action', NEW.action,
        'target_type', NEW.target_type,
        'target_id', NEW.target_id,
        'reason', NEW.reason
    )::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER audit_log_notify
    AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION notify_audit_record();

-- A reservation as its audit record shows it.
CREATE FUNCTION audit_reservation_json(r reservations) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'spot_number', (SELECT spot_number FROM spots WHERE id = r.spot_id),
        'start_time', r.start_time, 'end_time', r.end_time, 'status', r.status,
        'checked_in_at', r.checked_in_at, 'user_id', r.user_id,
        'guest_name', r.guest_name, 'licence_plate', r.licence_plate)
$$;

-- TG_ARGV[0]: the action. A booking for someone else (the creator is not the
-- holder; its actor is the creator), a release by the attendant (a closure's
-- releases included; the reason is the driver's), a check-in by anyone but
-- the holder.
CREATE FUNCTION audit_reservation_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_ARGV[0] = 'reservation.booked_for' THEN
        PERFORM record_audit(TG_ARGV[0], 'reservation', NEW.id::text, NULL, NULL,
                             audit_reservation_json(NEW), NEW.created_by);
    ELSIF TG_ARGV[0] = 'reservation.released' THEN
        PERFORM record_audit(TG_ARGV[0], 'reservation', NEW.id::text, NEW.release_reason,
                             audit_reservation_json(OLD), audit_reservation_json(NEW));
    ELSIF audit_actor() IS DISTINCT FROM NEW.user_id THEN  -- a check-in
        PERFORM record_audit(TG_ARGV[0], 'reservation', NEW.id::text, NULL,
                             audit_reservation_json(OLD), audit_reservation_json(NEW));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reservations_record_booked_for
    AFTER INSERT ON reservations
    FOR EACH ROW WHEN (NEW.created_by IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION audit_reservation_change('reservation.booked_for');

CREATE TRIGGER reservations_record_release
    AFTER UPDATE OF status ON reservations
    FOR EACH ROW WHEN (OLD.status = 'booked' AND NEW.released_by = 'admin')
    EXECUTE FUNCTION audit_reservation_change('reservation.released');

CREATE TRIGGER reservations_record_check_in
    AFTER UPDATE OF checked_in_at ON reservations
    FOR EACH ROW WHEN (OLD.checked_in_at IS NULL AND NEW.checked_in_at IS NOT NULL)
    EXECUTE FUNCTION audit_reservation_change('reservation.checked_in');

-- Any table's rows created, changed or deleted: the hook for every audited
-- resource that has an "id". TG_ARGV[0] is the target type (the action is
-- "<type>.created", ".updated" or ".deleted"), TG_ARGV[1] the column holding a
-- reason ('' for none), and any further arguments columns never to record
-- (a secret). The webhooks of the notifications branch attach it so:
--   CREATE TRIGGER webhooks_record_change AFTER INSERT OR DELETE ON webhooks
--       FOR EACH ROW EXECUTE FUNCTION audit_row_change('webhook', '', 'secret');
CREATE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    hidden text[] := TG_ARGV[2:];
    old_state jsonb := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) - hidden END;
    new_state jsonb := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) - hidden END;
    subject jsonb := COALESCE(new_state, old_state);
BEGIN
    PERFORM record_audit(
        TG_ARGV[0] || CASE TG_OP WHEN 'INSERT' THEN '.created' WHEN 'UPDATE' THEN '.updated'
                                 ELSE '.deleted' END,
        TG_ARGV[0], subject ->> 'id', NULLIF(subject ->> TG_ARGV[1], ''), old_state, new_state);
    RETURN NULL;
END;
$$;

CREATE TRIGGER closures_record_change
    AFTER INSERT OR DELETE ON closures
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('closure', 'reason');

CREATE TRIGGER spots_record_insert
    AFTER INSERT ON spots
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('spot', '');

CREATE TRIGGER spots_record_update
    AFTER UPDATE ON spots
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW)
    EXECUTE FUNCTION audit_row_change('spot', '');

-- The rules, before and after; the row names who changed them.
CREATE FUNCTION audit_rules_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM record_audit(
        'rules.changed', 'rules', 'lot', NULL,
        jsonb_build_object('max_upcoming_per_driver', OLD.max_upcoming_per_driver,
                           'booking_horizon_days', OLD.booking_horizon_days,
                           'no_show_grace_minutes', OLD.no_show_grace_minutes),
        jsonb_build_object('max_upcoming_per_driver', NEW.max_upcoming_per_driver,
                           'booking_horizon_days', NEW.booking_horizon_days,
                           'no_show_grace_minutes', NEW.no_show_grace_minutes),
        COALESCE(audit_actor(), NEW.updated_by));
    RETURN NULL;
END;
$$;

CREATE TRIGGER lot_rules_record_change
    AFTER UPDATE ON lot_rules
    FOR EACH ROW WHEN (
        (OLD.max_upcoming_per_driver, OLD.booking_horizon_days, OLD.no_show_grace_minutes)
        IS DISTINCT FROM (NEW.max_upcoming_per_driver, NEW.booking_horizon_days, NEW.no_show_grace_minutes)
    )
    EXECUTE FUNCTION audit_rules_change();

CREATE FUNCTION audit_role_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM record_audit('user.role_changed', 'user', NEW.id::text, NULL,
                         jsonb_build_object('role', OLD.role), jsonb_build_object('role', NEW.role));
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_record_role_change
    AFTER UPDATE OF role ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION audit_role_change();

-- migrate:down
DROP TRIGGER users_record_role_change ON users;
DROP FUNCTION audit_role_change();
DROP TRIGGER lot_rules_record_change ON lot_rules;
DROP FUNCTION audit_rules_change();
DROP TRIGGER spots_record_update ON spots;
DROP TRIGGER spots_record_insert ON spots;
DROP TRIGGER closures_record_change ON closures;
DROP FUNCTION audit_row_change();
DROP TRIGGER reservations_record_check_in ON reservations;
DROP TRIGGER reservations_record_release ON reservations;
DROP TRIGGER reservations_record_booked_for ON reservations;
DROP FUNCTION audit_reservation_change();
DROP FUNCTION audit_reservation_json(reservations);
DROP TABLE audit_log;
DROP FUNCTION notify_audit_record();
DROP FUNCTION record_audit(text, text, text, text, jsonb, jsonb, bigint);
DROP FUNCTION audit_actor();
DROP FUNCTION audit_log_refuse_changes();
