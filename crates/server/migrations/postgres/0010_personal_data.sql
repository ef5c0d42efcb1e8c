-- Erasure and individual exports. An erased person's row stays as an anonymous tombstone (no
-- name, no address, a new id) only so that the company's past figures keep their counts; every
-- row that named them or their devices is deleted or moved to that tombstone.
ALTER TABLE people ADD COLUMN erased_at BIGINT;

-- Exports of one person's figures are off unless the organisation turned them on with a reason
-- (a works-council agreement, say); every employee's app shows the switch.
ALTER TABLE orgs ADD COLUMN individual_export_reason TEXT;
ALTER TABLE orgs ADD COLUMN individual_export_since BIGINT;

-- Whether the app shows team boards (by country and department). On by default.
ALTER TABLE orgs ADD COLUMN team_boards BIGINT NOT NULL DEFAULT 1;

-- The console's analytics: a closed month's figures, computed once (nothing in a closed month
-- can change: see analytics/snapshots.rs), and indexes for the open months' readings.
CREATE TABLE analytics_snapshots (
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    month       TEXT NOT NULL,
    view        TEXT NOT NULL,
    body        TEXT NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, month, view)
);
CREATE INDEX shares_org_month ON shares (org_id, month);
CREATE INDEX consults_org_month ON consults (org_id, month);

-- The posting account's followers when a share went out, where its network said (reach);
-- NULL: unknown (LinkedIn, share pages).
ALTER TABLE shares ADD COLUMN followers BIGINT;

-- The networks a device has accounts connected on (kinds, comma-separated; never handles), as
-- the device last said: the adoption figure.
ALTER TABLE sessions ADD COLUMN networks TEXT NOT NULL DEFAULT '';
