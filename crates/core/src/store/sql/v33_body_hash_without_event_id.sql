-- A delivery with an event id is found again by that id
-- (`raw_events_event_id`); its body hash is looked up only among deliveries
-- without one (an identical body stored before its department's mapping
-- named an event id). So only those need the hash in an index: a hash is
-- random, and each new entry dirtied a page of its own in every commit (27
-- of a batch's 96 pages under `stage-bench`, BENCHMARKS.md).
DROP INDEX raw_events_body_hash;
CREATE INDEX raw_events_body_hash ON raw_events (provider_id, body_hash) WHERE event_id IS NULL;
