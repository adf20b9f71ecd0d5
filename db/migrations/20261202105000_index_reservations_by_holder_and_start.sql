-- migrate:up
-- A driver's reservations in start order, read a page or a window at a time
-- however long the history behind them: the calendar feed's latest events and
-- the CSV export's keyset pages (repository/credentials.py, reports.py).
CREATE INDEX reservations_user_start_idx ON reservations (user_id, start_time, id);

-- migrate:down
DROP INDEX reservations_user_start_idx;
