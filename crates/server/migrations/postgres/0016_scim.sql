-- SCIM 2.0 provisioning (`/scim/v2`): the company's directory (Entra ID, Okta) creates, changes
-- and removes people. An organisation's bearer tokens, stored hashed, revocable; and per
-- provisioned person what the directory calls them (its `userName` and `externalId`, the name's
-- parts, what it gave as address country and language), so that what it reads back is what it
-- wrote. A person's own row keeps what Relay uses.
-- Keep in step with migrations/sqlite and migrations/postgres: the queries are shared.
CREATE TABLE scim_tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX scim_tokens_org ON scim_tokens (org_id);

CREATE TABLE scim_users (
    person_id          TEXT PRIMARY KEY REFERENCES people(id),
    org_id             TEXT NOT NULL REFERENCES orgs(id),
    user_name          TEXT NOT NULL,
    -- Lower-cased: userName is compared without regard to case (RFC 7643 §4.1.1).
    user_name_key      TEXT NOT NULL,
    external_id        TEXT,
    given_name         TEXT,
    family_name        TEXT,
    formatted_name     TEXT,
    display_name       TEXT,
    country            TEXT,
    preferred_language TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (org_id, user_name_key)
);
CREATE INDEX scim_users_external ON scim_users (org_id, external_id);
