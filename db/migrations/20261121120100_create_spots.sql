-- migrate:up
CREATE TABLE spots (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    spot_number  integer NOT NULL,
    floor_number integer NOT NULL,
    type         text NOT NULL DEFAULT 'regular',
    CONSTRAINT spots_spot_number_key UNIQUE (spot_number),
    CONSTRAINT spots_spot_number_positive CHECK (spot_number > 0),
    CONSTRAINT spots_type_check CHECK (type IN ('regular', 'handicap'))
);

-- migrate:down
DROP TABLE spots;
