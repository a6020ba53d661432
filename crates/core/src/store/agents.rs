//! Agent availability (available, busy, away, offline) and the automatic
//! assignment of new missed and hangup calls to the agents of a department.

use super::calls::{self, Call};
use super::decode::At;
use super::users::{self, Role};
use super::Writer;
use crate::error::{Error, Result};
use crate::hub::Audience;
use crate::routing::{self, Candidate, Routing, Strategy};
use crate::time;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    Available,
    Busy,
    Away,
    Offline,
}

impl AgentState {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Available => "available",
            AgentState::Busy => "busy",
            AgentState::Away => "away",
            AgentState::Offline => "offline",
        }
    }
}

/// One user's availability and workload.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentStatus {
    pub user_id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub departments: Vec<String>,
    pub skills: Vec<String>,
    pub state: AgentState,
    /// Since when the user is in `state` (null: never set, offline).
    pub since: Option<String>,
    /// Worklist calls assigned to them and not yet resolved.
    pub open_assignments: i64,
    pub last_assigned_at: Option<String>,
}

const STATUS_SQL: &str = "SELECT u.id, u.username, u.display_name, u.role, u.departments, u.skills,
        s.state, s.since, s.last_assigned_at,
        (SELECT COUNT(*) FROM calls c WHERE c.assignee_id = u.id AND c.work_state IN ('assigned', 'attempted'))
     FROM users u LEFT JOIN agent_states s ON s.user_id = u.id WHERE u.active = 1";

fn status_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgentStatus> {
    let user_id: i64 = r.get(0)?;
    let at = At::new("users", user_id);
    Ok(AgentStatus {
        user_id,
        username: r.get(1)?,
        display_name: r.get(2)?,
        role: at.wire(r, 3, "role")?,
        departments: at.json(r, 4, "departments")?,
        skills: at.json(r, 5, "skills")?,
        // No agent_states row yet: never set, offline.
        state: At::new("agent_states", user_id)
            .wire_opt(r, 6, "state")?
            .unwrap_or(AgentState::Offline),
        since: r.get(7)?,
        last_assigned_at: r.get(8)?,
        open_assignments: r.get(9)?,
    })
}

/// Active users with their states; `only` restricts to one user.
pub fn list(conn: &Connection, only: Option<i64>) -> Result<Vec<AgentStatus>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{STATUS_SQL} AND (?1 IS NULL OR u.id = ?1) ORDER BY u.username"
    ))?;
    let rows = stmt.query_map([only], status_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub fn get(conn: &Connection, user_id: i64) -> Result<AgentStatus> {
    list(conn, Some(user_id))?
        .pop()
        .ok_or_else(|| Error::not_found(format!("no active user {user_id}")))
}

/// Sets a user's state and puts it on the stream (`agent.state_changed`).
/// Setting the state they are already in keeps their `since`.
pub fn set_state(w: &mut Writer<'_>, user_id: i64, state: AgentState) -> Result<AgentStatus> {
    let user = users::get(w.conn, user_id)?;
    if !user.active {
        return Err(Error::invalid(format!(
            "user `{}` is deactivated",
            user.username
        )));
    }
    w.conn.execute(
        "INSERT INTO agent_states (user_id, state, since) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET
            since = CASE WHEN state = excluded.state THEN since ELSE excluded.since END,
            state = excluded.state",
        params![user_id, state.as_str(), time::fmt(w.now)],
    )?;
    let status = get(w.conn, user_id)?;
    let data = serde_json::to_string(&status)?;
    w.emit(
        crate::hub::EventKind::AgentStateChanged,
        None,
        Audience::All,
        data,
    )?;
    Ok(status)
}

/// Agents of `department` who may take work: active, role agent, and
/// available or busy (never away or offline).
fn candidates(conn: &Connection, department: &str) -> Result<Vec<Candidate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.skills, s.last_assigned_at,
            (SELECT COUNT(*) FROM calls c WHERE c.assignee_id = u.id AND c.work_state IN ('assigned', 'attempted'))
         FROM users u JOIN agent_states s ON s.user_id = u.id
         WHERE u.active = 1 AND u.role = 'agent' AND s.state IN ('available', 'busy')
           AND EXISTS (SELECT 1 FROM json_each(u.departments) d WHERE d.value = ?1)",
    )?;
    let rows = stmt.query_map([department], |r| {
        let last: Option<String> = r.get(2)?;
        let user_id: i64 = r.get(0)?;
        Ok(Candidate {
            user_id,
            skills: At::new("users", user_id).json(r, 1, "skills")?,
            last_assigned_at: last.as_deref().and_then(time::parse),
            open_assignments: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Assigns a call that just entered the worklist, by its department's
/// routing. Returns the assigned call, or `None` when the strategy is
/// `none` or nobody may take it.
pub(crate) fn route(w: &mut Writer<'_>, call: &Call, routing: &Routing) -> Result<Option<Call>> {
    if routing.strategy == Strategy::None || call.assignee_id.is_some() {
        return Ok(None);
    }
    let pool = candidates(w.conn, &call.department)?;
    let last: Option<i64> = w
        .conn
        .prepare_cached("SELECT last_user_id FROM routing_cursors WHERE department = ?1")?
        .query_row([&call.department], |r| r.get(0))
        .optional()?;
    let Some(user_id) = routing::choose(routing, &pool, last, &mut rand::rng()) else {
        return Ok(None);
    };
    let now = time::fmt(w.now);
    w.conn.execute(
        "INSERT INTO routing_cursors (department, last_user_id) VALUES (?1, ?2)
         ON CONFLICT (department) DO UPDATE SET last_user_id = excluded.last_user_id",
        params![call.department, user_id],
    )?;
    w.conn.execute(
        "UPDATE agent_states SET last_assigned_at = ?2 WHERE user_id = ?1",
        params![user_id, now],
    )?;
    calls::assign(w, call.id, Some(user_id), None).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit::Actor;
    use crate::store::providers::NewProvider;
    use crate::store::test_support::temp_store;
    use crate::store::users::NewUser;

    #[tokio::test]
    async fn states_are_kept_with_their_since_and_only_available_or_busy_agents_are_candidates() {
        let (_dir, store) = temp_store();
        let admin = Actor {
            user_id: None,
            name: "admin".into(),
        };
        let a = admin.clone();
        let ids = store
            .write(move |w| {
                crate::store::providers::create(
                    w,
                    NewProvider {
                        name: "Sales".into(),
                        ..Default::default()
                    },
                    &a,
                )?;
                let mut ids = Vec::new();
                for name in ["ann", "bob", "cat"] {
                    let u = users::create(
                        w,
                        NewUser {
                            username: name.into(),
                            password: "password-123".into(),
                            role: Role::Agent,
                            departments: vec!["sales".into()],
                            display_name: None,
                            skills: vec![],
                            must_change_password: false,
                        },
                        "x".into(),
                        &a,
                    )?;
                    ids.push(u.id);
                }
                Ok(ids)
            })
            .await
            .unwrap();
        let (ann, bob, cat) = (ids[0], ids[1], ids[2]);
        store
            .write(move |w| {
                set_state(w, ann, AgentState::Available)?;
                set_state(w, bob, AgentState::Away)?;
                set_state(w, cat, AgentState::Busy)
            })
            .await
            .unwrap();
        let first = store.read(move |c| get(c, ann)).await.unwrap();
        assert_eq!(first.state, AgentState::Available);
        let again = store
            .write(move |w| set_state(w, ann, AgentState::Available))
            .await
            .unwrap();
        assert_eq!(again.since, first.since, "same state keeps its since");
        let pool = store.read(|c| candidates(c, "sales")).await.unwrap();
        let mut got: Vec<i64> = pool.iter().map(|c| c.user_id).collect();
        got.sort_unstable();
        assert_eq!(got, vec![ann, cat], "away bob is never a candidate");
        assert!(store
            .read(|c| candidates(c, "other"))
            .await
            .unwrap()
            .is_empty());
    }
}
