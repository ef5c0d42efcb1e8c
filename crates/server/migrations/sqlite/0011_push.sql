-- Push notifications: each device's push channel, items waiting to be announced to a person
-- (batched), and the notifications waiting to be delivered to a device. Push secrets (VAPID,
-- FCM and APNs keys) are configuration, never rows.

-- One channel per device session. `address` is the Web Push endpoint or the FCM/APNs token.
CREATE TABLE push_channels (
    device_id   TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    person_id   TEXT NOT NULL REFERENCES people(id),
    kind        TEXT NOT NULL,
    address     TEXT NOT NULL,
    p256dh      TEXT,
    auth        TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX push_channels_person ON push_channels (person_id);
CREATE UNIQUE INDEX push_channels_address ON push_channels (kind, address);

-- An item that reached a person and waits to be announced, from `due_at` (the batch window's
-- end, or the end of the person's quiet hours).
CREATE TABLE push_pending (
    person_id  TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    queued_at  BIGINT NOT NULL,
    due_at     BIGINT NOT NULL,
    PRIMARY KEY (person_id, item_id)
);
CREATE INDEX push_pending_due ON push_pending (due_at);

-- One notification for one device. An instance claims it (`claim`, until `claimed_until`)
-- before sending, so that several instances send it once.
CREATE TABLE push_deliveries (
    id             TEXT PRIMARY KEY,
    device_id      TEXT NOT NULL,
    payload        TEXT NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 0,
    next_at        BIGINT NOT NULL,
    claim          TEXT,
    claimed_until  BIGINT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX push_deliveries_next ON push_deliveries (next_at);
CREATE INDEX push_deliveries_claim ON push_deliveries (claim);

-- The person's notification preferences, for every device: a pause, quiet hours (minutes
-- after midnight, equal: none) and their time zone (none: the organisation's).
ALTER TABLE people ADD COLUMN push_paused_until BIGINT;
ALTER TABLE people ADD COLUMN quiet_start BIGINT NOT NULL DEFAULT 1260;
ALTER TABLE people ADD COLUMN quiet_end BIGINT NOT NULL DEFAULT 480;
ALTER TABLE people ADD COLUMN time_zone TEXT;

-- The feed version up to which new items were looked at for notifications, and per item the
-- audience already told about it (an audience that grows tells only the newcomers).
ALTER TABLE orgs ADD COLUMN push_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN pushed_audience TEXT;
-- What was published before push existed is not news.
UPDATE orgs SET push_version = version;
UPDATE items SET pushed_audience = audience WHERE ever_live = 1;
