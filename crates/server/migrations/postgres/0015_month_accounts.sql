-- Adoption and the months' `enrolled` count who had a device (and an account on which network)
-- at some point of a month, from the devices' sessions. An erasure deletes the person's
-- sessions: what they counted in the months whose figures are not kept yet stays here, under
-- the tombstone (`network` '' for "a device"), until those months are kept.
-- Keep in step with migrations/sqlite and migrations/postgres: the queries are shared.
CREATE TABLE month_accounts (
    org_id    TEXT NOT NULL REFERENCES orgs(id),
    month     TEXT NOT NULL,
    person_id TEXT NOT NULL,
    network   TEXT NOT NULL,
    PRIMARY KEY (person_id, month, network)
);
CREATE INDEX month_accounts_org ON month_accounts (org_id, month);
