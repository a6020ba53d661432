-- Issue 7 (part A): supervisor analytics.

-- Metrics select calls by when they were offered, `COALESCE(started_at,
-- created_at)` (store/metrics.rs OFFERED_AT): the same expression, indexed,
-- keeps a day's figures from scanning every call ever taken.
CREATE INDEX calls_offered_at ON calls (COALESCE(started_at, created_at));
-- Agent performance counts dispositions by the time they were recorded.
CREATE INDEX dispositions_created ON dispositions (created_at);
