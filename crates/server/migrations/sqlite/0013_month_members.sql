-- Figures that stand still: the attributes each person had in a month, fixed at their first
-- activity in it. A month's breakdowns group people by these, so moving, deactivating or erasing
-- someone later changes no published group of that month.
-- Keep in step with migrations/sqlite and migrations/postgres: the queries are shared.
CREATE TABLE month_members (
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    month      TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    country    TEXT NOT NULL,
    language   TEXT NOT NULL,
    department TEXT NOT NULL,
    PRIMARY KEY (person_id, month)
);
CREATE INDEX month_members_org ON month_members (org_id, month);
-- The months already recorded: their people as they stand now (the best there is).
INSERT INTO month_members (org_id, month, person_id, country, language, department)
SELECT DISTINCT s.org_id, s.month, s.person_id, p.country, p.language, p.department
FROM shares s JOIN people p ON p.id = s.person_id;
