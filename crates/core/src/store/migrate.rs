//! Schema migrations (`user_version` holds the version). A database newer than
//! this build is refused rather than misread.

use crate::error::{Error, Result};
use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

const V1: &str = include_str!("sql/v1.sql");
const V2: &str = include_str!("sql/v2.sql");
const V3: &str = include_str!("sql/v3_analytics.sql");
const V4: &str = include_str!("sql/v4_replica.sql");
const V5: &str = include_str!("sql/v5_ops.sql");
const V6: &str = include_str!("sql/v6_ivr.sql");
const V7: &str = include_str!("sql/v7_scale.sql");
const V8: &str = include_str!("sql/v8_cockpit.sql");
const V9: &str = include_str!("sql/v9_history.sql");
const V10: &str = include_str!("sql/v10_integrations.sql");
const V11: &str = include_str!("sql/v11_totp.sql");
const V12: &str = include_str!("sql/v12_browser_sessions.sql");
const V13: &str = include_str!("sql/v13_callbacks.sql");
const V14: &str = include_str!("sql/v14_sms.sql");
const V15: &str = include_str!("sql/v15_voicemail_inbox.sql");
const V16: &str = include_str!("sql/v16_callback_match.sql");
const V17: &str = include_str!("sql/v17_cluster.sql");
const V18: &str = include_str!("sql/v18_password_change.sql");
const V19: &str = include_str!("sql/v19_flows_replicated.sql");
const V20: &str = include_str!("sql/v20_auto_resolve.sql");
const V21: &str = include_str!("sql/v21_call_search.sql");
const V22: &str = include_str!("sql/v22_metrics_quarters.sql");
const V23: &str = include_str!("sql/v23_open_sla.sql");
const V24: &str = include_str!("sql/v24_breached_counts.sql");
const V25: &str = include_str!("sql/v25_ivr_sms.sql");
const V26: &str = include_str!("sql/v26_crm_ids.sql");
const V27: &str = include_str!("sql/v27_leads.sql");
const V28: &str = include_str!("sql/v28_leads_retention.sql");
const V29: &str = include_str!("sql/v29_recording_fetches.sql");
const V30: &str = include_str!("sql/v30_archive_reads.sql");
const V31: &str = include_str!("sql/v31_queue_legs.sql");
const V32: &str = include_str!("sql/v32_search_batched.sql");
const V33: &str = include_str!("sql/v33_body_hash_without_event_id.sql");
const V34: &str = include_str!("sql/v34_no_constant_in_lists.sql");

/// In order; the position (from 1) is the schema version.
const ALL: &[&str] = &[
    V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13, V14, V15, V16, V17, V18, V19, V20, V21,
    V22, V23, V24, V25, V26, V27, V28, V29, V30, V31, V32, V33, V34,
];

pub fn migrations() -> Migrations<'static> {
    Migrations::new(ALL.iter().map(|sql| M::up(sql)).collect())
}

pub fn known_version() -> i64 {
    ALL.len() as i64
}

/// `Err(SchemaTooNew)` when the database is newer than this build; reads
/// only (`user_version`), so a refused database is left untouched.
pub fn refuse_newer(conn: &Connection) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known_version() {
        return Err(Error::SchemaTooNew {
            found,
            known: known_version(),
        });
    }
    Ok(())
}

pub fn run(conn: &mut Connection) -> Result<()> {
    refuse_newer(conn)?;
    migrations()
        .to_latest(conn)
        .map_err(|e| Error::Migration(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() {
        assert!(migrations().validate().is_ok());
    }

    #[test]
    fn a_v1_database_upgrades_and_its_providers_keep_the_header_key() {
        let mut conn = Connection::open_in_memory().unwrap();
        Migrations::new(vec![M::up(V1)])
            .to_latest(&mut conn)
            .unwrap();
        conn.execute(
            "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, created_at, updated_at)
             VALUES ('old', 'Old', 'h', 'cbk_', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
            [],
        )
        .unwrap();
        run(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, known_version());
        let p = crate::store::providers::get(&conn, "old").unwrap();
        assert_eq!(p.auth_scheme, "api_key");
        assert_eq!(p.auth_config["header"], "x-api-key");
        assert!(!p.has_signing_secret && p.domains.is_empty() && p.preset.is_none());
        let cache = crate::store::ProviderCache::load(&conn).unwrap();
        assert_eq!(
            cache.get("old").unwrap().auth,
            crate::signature::AuthScheme::default()
        );
    }

    #[test]
    fn an_upgrade_keeps_a_snapshot_of_the_old_database_and_a_current_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("callboard.db");
        {
            let mut conn = Connection::open(&db).unwrap();
            Migrations::new(vec![M::up(V1)])
                .to_latest(&mut conn)
                .unwrap();
        }
        let store = crate::store::Store::open(&db, crate::time::system_clock()).unwrap();
        drop(store);
        let snaps: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("callboard.db.pre-v1-"))
            .collect();
        assert_eq!(snaps.len(), 1, "{snaps:?}");
        let snap = Connection::open(dir.path().join(&snaps[0])).unwrap();
        let v: i64 = snap
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
        // Opening the now-current database makes no further copy.
        assert!(crate::store::backup::before_migration(&db)
            .unwrap()
            .is_none());
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", known_version() + 1)
            .unwrap();
        match run(&mut conn) {
            Err(Error::SchemaTooNew { found, known }) => {
                assert_eq!(found, known_version() + 1);
                assert_eq!(known, known_version());
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    }

    /// The opcodes SQLite compiles `sql` to (`EXPLAIN`).
    fn opcodes(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
        let ops = stmt
            .query_map([], |r| r.get::<_, String>(1))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        ops
    }

    /// The writes every webhook makes, with the constraints, partial
    /// indexes and triggers they evaluate.
    const WEBHOOK_WRITES: &[&str] = &[
        "INSERT INTO raw_events (provider_id, received_at, method, body_hash, outcome)
         VALUES (1, 't', 'POST', 'h', 'applied')",
        "INSERT INTO calls (provider_id, department, call_id, status, created_at, updated_at)
         VALUES (1, 'd', 'c', 'missed', 't', 't')",
        "UPDATE calls SET status = 'missed' WHERE id = 1",
        "UPDATE calls SET resolved_at = 't', sla_breached_at = 't' WHERE id = 1",
    ];

    fn builds_no_temporary_index(conn: &Connection) -> Vec<String> {
        let mut found = Vec::new();
        for sql in WEBHOOK_WRITES {
            if opcodes(conn, sql).iter().any(|op| op == "OpenEphemeral") {
                found.push(sql.to_string());
            }
        }
        // Triggers run as subprograms that EXPLAIN does not list: their
        // text is checked for lists of three or more constants.
        let mut stmt = conn
            .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name IN ('calls', 'raw_events')")
            .unwrap();
        let triggers = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        for (name, sql) in triggers {
            let mut rest = sql.as_str();
            while let Some(at) = rest.find(" IN (") {
                let list = &rest[at + 5..];
                let list = &list[..list.find(')').unwrap_or(list.len())];
                if !list.to_uppercase().contains("SELECT") && list.matches(',').count() >= 2 {
                    found.push(format!("trigger {name}: IN ({list})"));
                }
                rest = &rest[at + 5..];
            }
        }
        found
    }

    #[test]
    fn a_webhooks_writes_build_no_temporary_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        assert_eq!(builds_no_temporary_index(&conn), Vec::<String>::new());
    }

    #[test]
    fn an_upgrade_rewrites_the_outcome_check_for_every_connection_and_keeps_the_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("callboard.db");
        let mut conn = Connection::open(&db).unwrap();
        Migrations::new(ALL[..33].iter().map(|sql| M::up(sql)).collect())
            .to_latest(&mut conn)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO providers (slug, name, api_key_hash, api_key_hint, created_at, updated_at)
                 VALUES ('p', 'P', 'h', 'cbk_', 't', 't');
             INSERT INTO calls (provider_id, department, call_id, status, created_at, updated_at, sla_breached_at)
                 VALUES (1, 'p', 'open', 'missed', 't', 't', 't'),
                        (1, 'p', 'done', 'missed', 't', 't', 't');
             UPDATE calls SET resolved_at = 't' WHERE call_id = 'done';
             INSERT INTO raw_events (provider_id, received_at, method, body_hash, outcome)
                 VALUES (1, 't', 'POST', 'h1', 'applied'), (1, 't', 'POST', 'h2', 'rejected');",
        )
        .unwrap();
        assert!(!builds_no_temporary_index(&conn).is_empty());
        // A connection open before the upgrade (a reader, a peer process).
        let other = Connection::open(&db).unwrap();
        assert!(!builds_no_temporary_index(&other).is_empty());

        run(&mut conn).unwrap();

        // `other` reads the new schema version at its next statement (an
        // EXPLAIN alone does not look).
        let kept: i64 = other
            .query_row("SELECT COUNT(*) FROM raw_events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 2);
        for (which, c) in [("upgrader", &conn), ("other", &other)] {
            assert_eq!(
                builds_no_temporary_index(c),
                Vec::<String>::new(),
                "{which}"
            );
            let ok: String = c
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(ok, "ok");
            let err = c
                .execute(
                    "INSERT INTO raw_events (provider_id, received_at, method, body_hash, outcome)
                     VALUES (1, 't', 'POST', 'h3', 'lost')",
                    [],
                )
                .unwrap_err();
            assert!(err.to_string().contains("CHECK constraint failed"), "{err}");
        }
        // The open call is in the rebuilt index and in the breach count;
        // the resolved one in neither.
        let open: Vec<String> = other
            .prepare("SELECT call_id FROM calls INDEXED BY calls_open_offered WHERE work_state <> 'resolved'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(open, ["open"]);
        other
            .execute(
                "UPDATE calls SET resolved_at = 't' WHERE call_id = 'open'",
                [],
            )
            .unwrap();
        let breached: i64 = other
            .query_row(
                "SELECT n FROM sla_breached_counts WHERE department = 'p'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(breached, 0);
    }
}
