-- migrate:up
-- GET /reservations and GET /me/tokens answer in keyset pages, newest first
-- by id. These serve each page, however deep, as one short backward scan
-- from the cursor (id < the last one shown). The token index replaces one on
-- user_id alone; reservations keep theirs on (user_id, created_at), which
-- other reads of a driver's rows use.
CREATE INDEX reservations_user_id_id_idx ON reservations (user_id, id);
CREATE INDEX api_tokens_user_id_id_idx ON api_tokens (user_id, id);
DROP INDEX api_tokens_user_id_idx;

-- migrate:down
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);
DROP INDEX api_tokens_user_id_id_idx;
DROP INDEX reservations_user_id_id_idx;
