-- Figures that stand still, for contents too: each item's channel and language as they were at
-- its first share of a month (a curator moving it later moves no figure of that month). And the
-- team boards read the months' members too, so people with points but no share in a month get
-- their attributes fixed; the running team totals (which followed today's membership) go.
-- Keep in step with migrations/sqlite and migrations/postgres: the queries are shared.
CREATE TABLE month_items (
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    month      TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    language   TEXT NOT NULL,
    PRIMARY KEY (item_id, month)
);
CREATE INDEX month_items_org ON month_items (org_id, month);
INSERT INTO month_items (org_id, month, item_id, channel_id, language)
SELECT DISTINCT s.org_id, s.month, s.item_id, i.channel_id, i.language
FROM shares s JOIN items i ON i.id = s.item_id;
INSERT INTO month_members (org_id, month, person_id, country, language, department)
SELECT t.org_id, t.month, t.person_id, p.country, p.language, p.department
FROM points_totals t JOIN people p ON p.id = t.person_id
WHERE t.month <> '*'
ON CONFLICT (person_id, month) DO NOTHING;
DROP TABLE team_totals;
