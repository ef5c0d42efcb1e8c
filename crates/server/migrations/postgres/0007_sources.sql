-- Sources: the company's official accounts and feeds, polled by the server; their entries
-- become drafts (or published items) in the source's channel.
CREATE TABLE sources (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs(id),
    kind              TEXT NOT NULL,
    address           TEXT NOT NULL,
    fetch_url         TEXT NOT NULL,
    channel_id        TEXT NOT NULL REFERENCES channels(id),
    auto_publish      BIGINT NOT NULL DEFAULT 0,
    interval_secs     BIGINT NOT NULL,
    paused            BIGINT NOT NULL DEFAULT 0,
    etag              TEXT,
    last_modified     TEXT,
    next_poll_at      BIGINT NOT NULL,
    failures          BIGINT NOT NULL DEFAULT 0,
    last_fetch_at     BIGINT,
    last_new_entry_at BIGINT,
    last_error        TEXT,
    failing_since     BIGINT,
    entries           BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    UNIQUE (org_id, fetch_url)
);
CREATE INDEX sources_due ON sources (paused, next_poll_at);

-- Every entry a source has shown, by the source's own id: seen once, never gathered again.
CREATE TABLE source_entries (
    source_id TEXT NOT NULL REFERENCES sources(id),
    entry_id  TEXT NOT NULL,
    item_id   TEXT REFERENCES items(id),
    seen_at   BIGINT NOT NULL,
    PRIMARY KEY (source_id, entry_id)
);

-- Items know where they came from, and their address as duplicates are found by.
ALTER TABLE items ADD COLUMN canonical_url TEXT;
ALTER TABLE items ADD COLUMN source_id TEXT REFERENCES sources(id);
CREATE INDEX items_canonical ON items (org_id, canonical_url);
