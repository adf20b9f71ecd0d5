-- migrate:up
-- The attendant's "any free spot" (the gate's one-tap booking, for a driver or
-- a walk-in): the same choice, made the same way, as a driver's
-- (20261202130100_book_any_free_spot.sql), with who booked it (created_by,
-- NULL for the driver themselves), a walk-in's name and plate, and the
-- driver's vehicle (NULL: their only one, by reservations_default_vehicle).
CREATE FUNCTION book_any_spot(
    p_user_id bigint,
    p_start timestamptz,
    p_end timestamptz,
    p_type text,
    p_series_id bigint,
    p_created_by bigint,
    p_guest_name text,
    p_licence_plate text,
    p_vehicle_id bigint
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
                INSERT INTO reservations
                    (user_id, spot_id, start_time, end_time, series_id, created_by,
                     guest_name, licence_plate, vehicle_id)
                VALUES (p_user_id, candidate, p_start, p_end, p_series_id, p_created_by,
                        p_guest_name, p_licence_plate, p_vehicle_id)
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
        -- this slot already, in which case no other spot will do either. (A
        -- walk-in has no user_id, so only the spot can conflict.)
        IF EXISTS (
            SELECT 1 FROM reservations
            WHERE user_id = p_user_id AND start_time = p_start AND status = 'booked'
        ) THEN
            RETURN;
        END IF;
    END LOOP;
END;
$$;

-- The five-argument form stays for a release still running during a rolling
-- update (docs/scaling.md, expand/contract), and makes the same choice.
CREATE OR REPLACE FUNCTION book_any_spot(
    p_user_id bigint,
    p_start timestamptz,
    p_end timestamptz,
    p_type text,
    p_series_id bigint
) RETURNS SETOF reservations
LANGUAGE sql AS $$
    SELECT * FROM book_any_spot(p_user_id, p_start, p_end, p_type, p_series_id, NULL, NULL, NULL, NULL)
$$;

-- migrate:down
CREATE OR REPLACE FUNCTION book_any_spot(
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
                CONTINUE;
            END IF;
            RAISE;
        END;
        IF FOUND THEN
            RETURN;
        END IF;
        IF EXISTS (
            SELECT 1 FROM reservations
            WHERE user_id = p_user_id AND start_time = p_start AND status = 'booked'
        ) THEN
            RETURN;
        END IF;
    END LOOP;
END;
$$;
DROP FUNCTION book_any_spot(bigint, timestamptz, timestamptz, text, bigint, bigint, text, text, bigint);
