-- Every refresh token of a session carries the session's family tag (stored hashed here), so a
-- token rotated out long ago is still recognised as that session's, and its reuse revokes it.
ALTER TABLE sessions ADD COLUMN refresh_family_hash TEXT;
-- When the previous refresh token was rotated out, and the pair it was traded for, sealed with a
-- key derived from that previous token (the server alone cannot open it): a just-rotated token
-- presented again within the grace window gets the same pair instead of a revocation.
ALTER TABLE sessions ADD COLUMN prev_rotated_at BIGINT;
ALTER TABLE sessions ADD COLUMN prev_successor TEXT;
CREATE UNIQUE INDEX sessions_refresh_family ON sessions (refresh_family_hash);
