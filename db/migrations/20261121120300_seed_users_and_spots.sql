-- migrate:up
-- Seed drivers; both passwords are "password123" (bcrypt, cost 12).
INSERT INTO users (email, display_name, role, password_hash) VALUES
    ('driver1@parking.com', 'Driver 1', 'driver',
     '$2b$12$zPfhqzH6VczaxIV/gMSfQOJ6iUVWB7.Z4ZIO.xtBRxKIW9DYXheuS'),
    ('driver2@parking.com', 'Driver 2', 'driver',
     '$2b$12$zZftSyMtFWLpRB5chjS/guCyv9Rs/FdTD4Kmcw0aKZGzTug4KKym.');

-- Five spots over two floors; spot 1 is accessible.
INSERT INTO spots (spot_number, floor_number, type) VALUES
    (1, 1, 'handicap'),
    (2, 1, 'regular'),
    (3, 1, 'regular'),
    (4, 2, 'regular'),
    (5, 2, 'regular');

-- migrate:down
-- Bookings reference the seed rows, so they go first.
DELETE FROM reservations
WHERE spot_id IN (SELECT id FROM spots WHERE spot_number BETWEEN 1 AND 5)
   OR user_id IN (SELECT id FROM users WHERE email IN ('driver1@parking.com', 'driver2@parking.com'));
DELETE FROM spots WHERE spot_number BETWEEN 1 AND 5;
DELETE FROM users WHERE email IN ('driver1@parking.com', 'driver2@parking.com');
