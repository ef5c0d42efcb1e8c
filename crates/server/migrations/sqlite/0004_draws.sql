-- The monthly prize draw: setup, commitment, frozen entries and result per organisation and
-- month. The seed stays here, unpublished, until the draw reveals it.
CREATE TABLE draws (
    org_id            TEXT NOT NULL REFERENCES orgs(id),
    month             TEXT NOT NULL,
    prizes            TEXT NOT NULL,
    eligibility       TEXT NOT NULL,
    seed              TEXT,
    seed_hash         TEXT,
    beacon_round      BIGINT,
    beacon_round_at   BIGINT,
    committed_at      BIGINT,
    list_hash         TEXT,
    frozen_at         BIGINT,
    beacon_signature  TEXT,
    beacon_randomness TEXT,
    winners           TEXT,
    drawn_at          BIGINT,
    PRIMARY KEY (org_id, month)
);

-- The frozen entry list: a random, pseudonymous id per entrant.
CREATE TABLE draw_entries (
    org_id    TEXT NOT NULL REFERENCES orgs(id),
    month     TEXT NOT NULL,
    entry_id  TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people(id),
    PRIMARY KEY (org_id, month, entry_id),
    UNIQUE (org_id, month, person_id)
);

-- People who opted out of a month's draw.
CREATE TABLE draw_opt_outs (
    org_id    TEXT NOT NULL REFERENCES orgs(id),
    month     TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people(id),
    PRIMARY KEY (org_id, month, person_id)
);
