-- migrate:up
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL,
    display_name  text NOT NULL,
    role          text NOT NULL DEFAULT 'driver',
    -- NULL for users who only sign in through an external identity provider.
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_role_check CHECK (role IN ('driver', 'admin')),
    CONSTRAINT users_email_not_blank CHECK (email <> '')
);

-- Emails are unique regardless of case; login looks users up by lower(email).
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Ready for OIDC: an external identity (issuer, subject) resolves to a local user.
CREATE TABLE user_identities (
    provider   text NOT NULL,
    subject    text NOT NULL,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_identities_pkey PRIMARY KEY (provider, subject)
);

CREATE INDEX user_identities_user_id_idx ON user_identities (user_id);

-- migrate:down
DROP TABLE user_identities;
DROP TABLE users;
