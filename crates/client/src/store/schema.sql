-- The device's database. Content tables are a cache of the server (rebuildable); the outbox,
-- accounts and item states are the person's own data (never dropped by a reset).
-- Times are Unix milliseconds. No secret is ever stored here.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE channels (
    id       TEXT PRIMARY KEY,
    slug     TEXT NOT NULL,
    names    TEXT NOT NULL,
    -- Whether new items in it deserve a notification.
    followed INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE items (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    channel_id      TEXT NOT NULL,
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    -- The body as plain text, for search.
    body_text       TEXT NOT NULL,
    url             TEXT NOT NULL,
    image_url       TEXT,
    language        TEXT NOT NULL,
    suggested_texts TEXT NOT NULL,
    published_at    INTEGER NOT NULL,
    expires_at      INTEGER,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
);
CREATE INDEX items_newest ON items (published_at DESC, id);
CREATE INDEX items_channel ON items (channel_id, published_at DESC);

-- Full-text search over the cache, folding case and accents ("resume" finds "Résumé").
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, summary, body_text,
    content = 'items', content_rowid = 'rowid',
    tokenize = "unicode61 remove_diacritics 2"
);
-- Titles weigh most, then summaries, then bodies.
INSERT INTO items_fts (items_fts, rank) VALUES ('rank', 'bm25(10.0, 4.0, 1.0)');
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, summary, body_text)
    VALUES (new.rowid, new.title, new.summary, new.body_text);
END;
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, summary, body_text)
    VALUES ('delete', old.rowid, old.title, old.summary, old.body_text);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, summary, body_text)
    VALUES ('delete', old.rowid, old.title, old.summary, old.body_text);
    INSERT INTO items_fts (rowid, title, summary, body_text)
    VALUES (new.rowid, new.title, new.summary, new.body_text);
END;

-- Read and saved marks: the person's, kept across cache resets.
CREATE TABLE item_marks (
    item_id  TEXT PRIMARY KEY,
    read_at  INTEGER,
    saved_at INTEGER
);

-- Connected social accounts: metadata only; their tokens live in the OS keychain.
CREATE TABLE accounts (
    id           TEXT PRIMARY KEY,
    network      TEXT NOT NULL,
    provider     TEXT NOT NULL,
    handle       TEXT NOT NULL,
    base_url     TEXT,
    status       TEXT NOT NULL DEFAULT 'connected',
    created_at   INTEGER NOT NULL
);

-- Shares queued on the device. User data: survives resets and sign-outs.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    item_id         TEXT NOT NULL,
    item_title      TEXT NOT NULL,
    item_url        TEXT NOT NULL,
    network         TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    text            TEXT NOT NULL,
    scheduled_at    INTEGER,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    reason          TEXT,
    retryable       INTEGER,
    post_id         TEXT,
    post_url        TEXT,
    posted_at       INTEGER,
    recorded_at     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_item ON outbox (item_id);

-- The bounded on-disk image cache's index.
CREATE TABLE images (
    url       TEXT PRIMARY KEY,
    file      TEXT NOT NULL,
    bytes     INTEGER NOT NULL,
    last_used INTEGER NOT NULL
);
CREATE INDEX images_lru ON images (last_used);
