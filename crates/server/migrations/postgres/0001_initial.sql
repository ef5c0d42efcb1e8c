-- Relay server schema (PostgreSQL). Times are Unix milliseconds; booleans are 0/1.
-- Keep in step with migrations/sqlite: the queries are shared.

CREATE TABLE orgs (
    id           TEXT PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    -- The change-feed head: bumped in every content-changing transaction.
    version      BIGINT NOT NULL DEFAULT 0,
    -- Cursors below this version cannot be served (rows were purged): answer "reset".
    purged_below BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);

CREATE TABLE people (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    name           TEXT NOT NULL,
    email          TEXT NOT NULL,
    country        TEXT NOT NULL,
    language       TEXT NOT NULL,
    department     TEXT NOT NULL,
    role           TEXT NOT NULL,
    active         BIGINT NOT NULL DEFAULT 1,
    -- Bumped when country, language or department change: the person's cursors reset.
    audience_epoch BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    UNIQUE (org_id, email)
);

CREATE TABLE enrolments (
    code_hash   TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    person_id   TEXT NOT NULL REFERENCES people(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    redeemed_at BIGINT,
    device_id   TEXT
);

CREATE TABLE sessions (
    device_id          TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES orgs(id),
    person_id          TEXT NOT NULL REFERENCES people(id),
    device_name        TEXT NOT NULL,
    platform           TEXT NOT NULL,
    access_hash        TEXT NOT NULL UNIQUE,
    access_expires_at  BIGINT NOT NULL,
    refresh_hash       TEXT NOT NULL UNIQUE,
    refresh_expires_at BIGINT NOT NULL,
    prev_refresh_hash  TEXT,
    created_at         BIGINT NOT NULL,
    last_seen_at       BIGINT NOT NULL,
    revoked_at         BIGINT
);
CREATE INDEX sessions_person ON sessions (person_id);
CREATE INDEX sessions_prev_refresh ON sessions (prev_refresh_hash);

CREATE TABLE channels (
    id      TEXT PRIMARY KEY,
    org_id  TEXT NOT NULL REFERENCES orgs(id),
    slug    TEXT NOT NULL,
    names   TEXT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (org_id, slug)
);

CREATE TABLE items (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    kind             TEXT NOT NULL,
    channel_id       TEXT NOT NULL REFERENCES channels(id),
    title            TEXT NOT NULL,
    summary          TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    url              TEXT NOT NULL,
    image_url        TEXT,
    language         TEXT NOT NULL,
    suggested_texts  TEXT NOT NULL,
    audience         TEXT NOT NULL,
    state            TEXT NOT NULL,
    publish_at       BIGINT,
    expires_at       BIGINT,
    published_at     BIGINT,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    approved_by      TEXT,
    approved_at      BIGINT,
    retracted_reason TEXT,
    -- Approved, published and unexpired right now (kept current by the publication clock).
    live             BIGINT NOT NULL DEFAULT 0,
    -- Has ever been live: only such rows can be in a device's cache, so only they are fed.
    ever_live        BIGINT NOT NULL DEFAULT 0,
    version          BIGINT NOT NULL
);
CREATE INDEX items_feed ON items (org_id, version, id);
CREATE INDEX items_org_state ON items (org_id, state, updated_at);
CREATE INDEX items_clock ON items (state, live, published_at);
CREATE INDEX items_expiry ON items (live, expires_at);

CREATE TABLE shares (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    device_id   TEXT NOT NULL,
    share_id    TEXT NOT NULL,
    person_id   TEXT NOT NULL REFERENCES people(id),
    item_id     TEXT NOT NULL REFERENCES items(id),
    network     TEXT NOT NULL,
    shared_at   BIGINT NOT NULL,
    post_url    TEXT,
    recorded_at BIGINT NOT NULL,
    UNIQUE (device_id, share_id)
);
CREATE INDEX shares_org_time ON shares (org_id, shared_at);
CREATE INDEX shares_item ON shares (item_id);

CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    at         BIGINT NOT NULL,
    actor_id   TEXT,
    action     TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX audit_org_time ON audit_log (org_id, id);
