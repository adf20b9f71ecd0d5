-- migrate:up
-- "Any free spot": the database picks the spot and inserts the booking in one
-- statement, so no other request can slip in between a choice and its insert.
-- Candidates are the open spots of the type that look free in this snapshot,
-- lowest floor first, then lowest number. Each is tried with an ordinary
-- INSERT, so every rule still holds: the partial unique indexes (a spot per
-- slot, a driver per slot), the booking-limit trigger and the closures
-- trigger. A candidate taken since by a racing booking conflicts (no row) and
-- the next one is tried; one closed since is skipped. Returns the inserted
-- row, or no row when no spot of the type is left or the driver already holds
-- one in this slot. A driver over their booking limit gets the trigger's error.
CREATE FUNCTION book_any_spot(
    p_user_id bigint,
    p_start timestamptz,
    p_end timestamptz,
    p_type text,
    p_series_id bigint
) RETURNS SETOF reservations
LANGUAGE plpgsql AS $$
DECLARE
    candidate integer;
    refused_by text;
BEGIN
    FOR candidate IN
        SELECT s.id FROM spots s
        WHERE s.type = p_type
          AND NOT EXISTS (
              SELECT 1 FROM reservations r
              WHERE r.spot_id = s.id AND r.start_time = p_start AND r.status = 'booked')
          AND NOT EXISTS (
              SELECT 1 FROM closures c
              WHERE c.spot_id = s.id AND c.start_time < p_end AND c.end_time > p_start)
        ORDER BY s.floor_number, s.spot_number
    LOOP
        BEGIN
            RETURN QUERY
                INSERT INTO reservations (user_id, spot_id, start_time, end_time, series_id)
                VALUES (p_user_id, candidate, p_start, p_end, p_series_id)
                ON CONFLICT DO NOTHING
                RETURNING *;
        EXCEPTION WHEN check_violation THEN
            GET STACKED DIAGNOSTICS refused_by = CONSTRAINT_NAME;
            IF refused_by = 'reservations_spot_closed' THEN
                CONTINUE;  -- closed since the candidates were read
            END IF;
            RAISE;
        END;
        IF FOUND THEN
            RETURN;
        END IF;
        -- No row: a racing booking took this spot, or the driver holds one in
        -- this slot already, in which case no other spot will do either.
        IF EXISTS (
            SELECT 1 FROM reservations
            WHERE user_id = p_user_id AND start_time = p_start AND status = 'booked'
        ) THEN
            RETURN;
        END IF;
    END LOOP;
END;
$$;

-- migrate:down
DROP FUNCTION book_any_spot(bigint, timestamptz, timestamptz, text, bigint);
