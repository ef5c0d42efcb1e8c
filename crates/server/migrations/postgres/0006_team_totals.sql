-- Running totals per team (country or department) and month ('*' is all time): the points and
-- the active members (people of the team with points that month) of active people. Kept by
-- the ledger's writes and by moves between teams, so a team board reads a few rows instead of
-- grouping every person's totals.
CREATE TABLE team_totals (
    org_id TEXT NOT NULL REFERENCES orgs(id),
    month  TEXT NOT NULL,
    kind   TEXT NOT NULL,
    team   TEXT NOT NULL,
    points BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, month, kind, team)
);

INSERT INTO team_totals (org_id, month, kind, team, points, active)
SELECT t.org_id, t.month, 'country', p.country, SUM(t.points), COUNT(*)
FROM points_totals t JOIN people p ON p.id = t.person_id
WHERE t.points > 0 AND p.active = 1
GROUP BY t.org_id, t.month, p.country;

INSERT INTO team_totals (org_id, month, kind, team, points, active)
SELECT t.org_id, t.month, 'department', p.department, SUM(t.points), COUNT(*)
FROM points_totals t JOIN people p ON p.id = t.person_id
WHERE t.points > 0 AND p.active = 1
GROUP BY t.org_id, t.month, p.department;
