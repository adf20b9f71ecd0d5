-- migrate:up
-- A webhook registered or deleted is an attendant's action like any other: it
-- is recorded in the same transaction, never with its signing secret.
CREATE TRIGGER webhook_endpoints_record_change
    AFTER INSERT OR DELETE ON webhook_endpoints
    FOR EACH ROW EXECUTE FUNCTION audit_row_change('webhook', '', 'secret');

-- migrate:down
DROP TRIGGER webhook_endpoints_record_change ON webhook_endpoints;
