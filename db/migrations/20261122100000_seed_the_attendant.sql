-- migrate:up
-- The attendant who runs the lot; the password is "password123" (bcrypt, cost 12).
INSERT INTO users (email, display_name, role, password_hash) VALUES
    ('admin@parking.com', 'Bob (attendant)', 'admin',
     '$2b$12$zvdrELgTTYCFuCq/r1YgMON2rij/I/oTpUGRH9bHsGJRSTL7eI6.q');

-- migrate:down
DELETE FROM users WHERE email = 'admin@parking.com';
