-- Reads, as aggregates only: each item's reads a day, and whether a person consulted anything
-- in a month (the organisation's consult rate). Never who read what.
CREATE TABLE item_reads (
    org_id  TEXT NOT NULL REFERENCES orgs(id),
    item_id TEXT NOT NULL REFERENCES items(id),
    day     TEXT NOT NULL,
    reads   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (item_id, day)
);
CREATE TABLE consults (
    org_id    TEXT NOT NULL REFERENCES orgs(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    month     TEXT NOT NULL,
    PRIMARY KEY (person_id, month)
);
-- Which device reported which day, so that a resent report is not counted twice; purged after
-- a week (the only trace of a device's reading days, and a short one).
CREATE TABLE read_batches (
    device_id TEXT NOT NULL,
    day       TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (device_id, day)
);
