-- Shares the server confirms, and a draw nobody can steer.
-- Keep in step with migrations/postgres: the queries are shared.

-- What the server knows of a share beyond the device's word. `status`: pending (the server
-- has yet to read the post), confirmed (it read it where anyone may), attested (X, LinkedIn,
-- Facebook: only the device's word), declared (a share page, or a post that could not be read
-- in time), rejected (the post is not there, not the person's or not this share's).
-- `followers` is from now on what the server read on the public profile; the device's own
-- figure is kept apart in `reported_followers` and never summed into reach.
ALTER TABLE shares ADD COLUMN status TEXT NOT NULL DEFAULT 'declared';
ALTER TABLE shares ADD COLUMN status_reason TEXT;
ALTER TABLE shares ADD COLUMN post_key TEXT;
ALTER TABLE shares ADD COLUMN account_key TEXT;
ALTER TABLE shares ADD COLUMN post_created_at BIGINT;
ALTER TABLE shares ADD COLUMN reported_followers BIGINT;
ALTER TABLE shares ADD COLUMN check_after BIGINT;
ALTER TABLE shares ADD COLUMN check_failures BIGINT NOT NULL DEFAULT 0;
-- How the share counts now, by its status and its month's rules: 'verified', 'declared', or
-- none (pending, rejected). What figures call verified.
ALTER TABLE shares ADD COLUMN counts_as TEXT;
UPDATE shares SET status = CASE WHEN proof = 'verified' THEN 'attested' ELSE 'declared' END,
    reported_followers = followers, followers = NULL, counts_as = proof;
-- A post is recorded once per organisation.
CREATE UNIQUE INDEX shares_post ON shares (org_id, network, post_key) WHERE post_key IS NOT NULL;
-- What the confirmer reads next: pending posts, and confirmed ones to read again before the
-- month closes.
CREATE INDEX shares_check ON shares (check_after) WHERE check_after IS NOT NULL;

-- An account on a network belongs to one person of the organisation: the first whose own
-- tracked link the server read in one of its posts.
CREATE TABLE social_accounts (
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    network     TEXT NOT NULL,
    account_key TEXT NOT NULL,
    person_id   TEXT NOT NULL REFERENCES people(id),
    bound_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, network, account_key)
);
CREATE INDEX social_accounts_person ON social_accounts (person_id);

-- The addresses a person's devices used today, each hashed with the day's link salt (deleted
-- with it): a click from one of them on the person's own link is not counted.
CREATE TABLE sharer_addresses (
    person_id TEXT NOT NULL REFERENCES people(id),
    day       TEXT NOT NULL,
    address   TEXT NOT NULL,
    PRIMARY KEY (person_id, day, address)
);

-- When an item was retracted: shares after it do not score, and it gets no new tracked links.
ALTER TABLE items ADD COLUMN retracted_at BIGINT;
UPDATE items SET retracted_at = updated_at WHERE state = 'retracted';

-- A draw's close as committed (the entry list is frozen then, whatever the time zone later).
ALTER TABLE draws ADD COLUMN closes_at BIGINT;
