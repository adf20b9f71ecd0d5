-- migrate:up
-- Serves /stats and the attendant's export: reservations whose slot starts
-- in a date range, whatever their status.
CREATE INDEX reservations_start_time_idx ON reservations (start_time);

-- migrate:down
DROP INDEX reservations_start_time_idx;
