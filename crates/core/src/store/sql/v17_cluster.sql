-- How far this copy has followed a cluster's log (serve --database-url).
-- Local bookkeeping: never shipped to other instances, empty without a cluster.
CREATE TABLE cluster_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cluster_id TEXT NOT NULL,
    head INTEGER NOT NULL
);
