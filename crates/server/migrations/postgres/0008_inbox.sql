-- The console's lists. Content newest change first, with or without a state: read from an index in
-- order (100,000 items: the inbox's first page without sorting them all).
DROP INDEX items_org_state;
CREATE INDEX items_by_state ON items (org_id, state, updated_at, id);
CREATE INDEX items_by_change ON items (org_id, updated_at, id);
-- People by name, a page at a time.
CREATE INDEX people_by_name ON people (org_id, name, id);
