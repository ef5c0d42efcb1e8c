-- The monthly programme: points, tracked links, the opt-in leaderboard (PostgreSQL).
-- Keep in step with migrations/sqlite: the queries are shared.

-- Months follow the organisation's time zone (IANA name).
ALTER TABLE orgs ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- What the ledger knows of each share. `month` and `day` are the organisation's calendar;
-- `scored` is 1 when the share earned share points; `unscored` says why not.
ALTER TABLE shares ADD COLUMN proof TEXT NOT NULL DEFAULT 'declared';
ALTER TABLE shares ADD COLUMN post_id TEXT;
ALTER TABLE shares ADD COLUMN link_code TEXT;
ALTER TABLE shares ADD COLUMN month TEXT NOT NULL DEFAULT '';
ALTER TABLE shares ADD COLUMN day TEXT NOT NULL DEFAULT '';
ALTER TABLE shares ADD COLUMN scored BIGINT NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN unscored TEXT;
ALTER TABLE shares ADD COLUMN points BIGINT NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN clicks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN withdrawn_at BIGINT;
CREATE INDEX shares_person_day ON shares (person_id, day, scored);
CREATE INDEX shares_person_item ON shares (person_id, item_id, network, scored);
CREATE INDEX shares_person_time ON shares (person_id, shared_at);
CREATE INDEX shares_link ON shares (link_code);

-- Rules from a month on (the newest row at or before a month applies to it).
CREATE TABLE points_rules (
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    from_month TEXT NOT NULL,
    rules      TEXT NOT NULL,
    set_at     BIGINT NOT NULL,
    set_by     TEXT,
    PRIMARY KEY (org_id, from_month)
);

-- Every point given or taken, with the share it is for. Never recomputed by scanning shares.
CREATE TABLE points_ledger (
    id        BIGSERIAL PRIMARY KEY,
    org_id    TEXT NOT NULL REFERENCES orgs(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    month     TEXT NOT NULL,
    share_id  TEXT NOT NULL REFERENCES shares(id),
    reason    TEXT NOT NULL,
    points    BIGINT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX points_ledger_person ON points_ledger (person_id, month);

-- Running totals per person and month ('*' is all time), kept by the ledger's writes. The
-- all-time row is also the person's lock: a share record updates it first.
CREATE TABLE points_totals (
    org_id    TEXT NOT NULL REFERENCES orgs(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    month     TEXT NOT NULL,
    points    BIGINT NOT NULL DEFAULT 0,
    verified  BIGINT NOT NULL DEFAULT 0,
    declared  BIGINT NOT NULL DEFAULT 0,
    clicks    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (person_id, month)
);
CREATE INDEX points_totals_board ON points_totals (org_id, month, points);

-- Per item and month: what the top ten reads.
CREATE TABLE item_totals (
    org_id   TEXT NOT NULL REFERENCES orgs(id),
    item_id  TEXT NOT NULL REFERENCES items(id),
    month    TEXT NOT NULL,
    verified BIGINT NOT NULL DEFAULT 0,
    declared BIGINT NOT NULL DEFAULT 0,
    clicks   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (item_id, month)
);
CREATE INDEX item_totals_top ON item_totals (org_id, month, verified, clicks);

-- Tracked links: one per person, item and network. `clicks` counts unique visitors a day.
CREATE TABLE links (
    code       TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    person_id  TEXT NOT NULL REFERENCES people(id),
    item_id    TEXT NOT NULL REFERENCES items(id),
    network    TEXT NOT NULL,
    target     TEXT NOT NULL,
    clicks     BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (person_id, item_id, network)
);

-- A visitor is a salted hash of address and user agent; the salt changes daily and old salts
-- (and their visitors) are deleted, so yesterday's hashes cannot be recomputed.
CREATE TABLE link_salts (
    day  TEXT PRIMARY KEY,
    salt TEXT NOT NULL
);
CREATE TABLE link_visitors (
    code    TEXT NOT NULL REFERENCES links(code),
    day     TEXT NOT NULL,
    visitor TEXT NOT NULL,
    PRIMARY KEY (code, day, visitor)
);

-- The opt-in leaderboard: only people who joined it are listed.
CREATE TABLE board_members (
    person_id TEXT PRIMARY KEY REFERENCES people(id),
    org_id    TEXT NOT NULL REFERENCES orgs(id),
    pseudonym TEXT,
    joined_at BIGINT NOT NULL,
    UNIQUE (org_id, pseudonym)
);
