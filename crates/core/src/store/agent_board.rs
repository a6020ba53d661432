//! The agent board (`GET /api/agents/board`): each user's state with what
//! they are doing now and today — the call they are on, their callbacks
//! open and overdue, and how many calls they handled since the business day
//! began.
//!
//! A call is a user's when the platform's agent id is mapped to them
//! (`metadata.agent_user_id`, set at ingestion) or equals their user name.

use super::agents::{self, AgentStatus};
use super::decode::At;
use crate::error::Result;
use crate::Status;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The call a user is on (ringing at them or talking).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CurrentCall {
    pub call_id: String,
    pub department: String,
    pub status: Status,
    pub mobile_number: Option<String>,
    pub caller_name: Option<String>,
    /// Since when: answered, else started, else first seen.
    pub since: String,
}

/// One row of the board: the user's state plus today's work.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentBoardRow {
    #[serde(flatten)]
    pub agent: AgentStatus,
    /// The newest call ringing at them or in talk; null when none.
    pub current_call: Option<CurrentCall>,
    /// Open callbacks assigned to them past their callback SLA or their
    /// scheduled callback time (a subset of `open_assignments`).
    pub callbacks_overdue: i64,
    /// Calls handled since `day_start`: calls attributed to them that completed,
    /// plus callbacks they recorded a disposition on; each call once.
    pub handled_today: i64,
}

/// Who a call belongs to: the mapped user id, else the platform's agent id.
struct Owner {
    user_id: Option<i64>,
    agent_id: Option<String>,
}

impl Owner {
    fn is(&self, a: &AgentStatus) -> bool {
        match self.user_id {
            Some(id) => id == a.user_id,
            None => self.agent_id.as_deref() == Some(a.username.as_str()),
        }
    }
}

/// The board of every active user (`only`: one user). `now` and
/// `day_start` are store timestamps; calls answered today started at most a
/// day before `day_start` (`earliest`), which bounds the scan.
pub fn read(
    conn: &Connection,
    only: Option<i64>,
    now: &str,
    day_start: &str,
    earliest: &str,
) -> Result<Vec<AgentBoardRow>> {
    let agents = agents::list(conn, only)?;

    let mut current: Vec<(Owner, CurrentCall)> = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT id, call_id, department, status, mobile_number, caller_name,
                    COALESCE(answered_at, started_at, created_at), agent_id,
                    json_extract(metadata, '$.agent_user_id')
             FROM calls WHERE status IN ('ringing', 'active')
             ORDER BY updated_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            let id: i64 = r.get(0)?;
            Ok((
                Owner {
                    user_id: r.get(8)?,
                    agent_id: r.get(7)?,
                },
                CurrentCall {
                    call_id: r.get(1)?,
                    department: r.get(2)?,
                    status: At::new("calls", id).wire(r, 3, "status")?,
                    mobile_number: r.get(4)?,
                    caller_name: r.get(5)?,
                    since: r.get(6)?,
                },
            ))
        })?;
        for row in rows {
            current.push(row?);
        }
    }

    let mut overdue: HashMap<i64, i64> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT assignee_id, COUNT(*) FROM calls
             WHERE assignee_id IS NOT NULL AND work_state IN ('assigned', 'attempted')
               AND ((sla_due_at IS NOT NULL AND sla_due_at < ?1)
                    OR (next_callback_at IS NOT NULL AND next_callback_at < ?1))
             GROUP BY assignee_id",
        )?;
        let rows = stmt.query_map([now], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (u, n) = row?;
            overdue.insert(u, n);
        }
    }

    // Per user: the row ids of the calls they handled today.
    let mut handled: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT user_id, call_row_id FROM dispositions
             WHERE user_id IS NOT NULL AND created_at >= ?1",
        )?;
        let rows = stmt.query_map([day_start], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (u, call) = row?;
            handled.entry(u).or_default().insert(call);
        }
    }
    let mut answered: Vec<(Owner, i64)> = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT id, agent_id, json_extract(metadata, '$.agent_user_id') FROM calls
             WHERE created_at >= ?2 AND status = 'completed'
               AND COALESCE(ended_at, updated_at) >= ?1
               AND (agent_id IS NOT NULL OR json_extract(metadata, '$.agent_user_id') IS NOT NULL)",
        )?;
        let rows = stmt.query_map([day_start, earliest], |r| {
            Ok((
                Owner {
                    user_id: r.get(2)?,
                    agent_id: r.get(1)?,
                },
                r.get::<_, i64>(0)?,
            ))
        })?;
        for row in rows {
            answered.push(row?);
        }
    }

    Ok(agents
        .into_iter()
        .map(|agent| {
            let current_call = current
                .iter()
                .find(|(o, _)| o.is(&agent))
                .map(|(_, c)| c.clone());
            let mut calls = handled.remove(&agent.user_id).unwrap_or_default();
            calls.extend(
                answered
                    .iter()
                    .filter(|(o, _)| o.is(&agent))
                    .map(|(_, id)| *id),
            );
            AgentBoardRow {
                callbacks_overdue: overdue.get(&agent.user_id).copied().unwrap_or(0),
                handled_today: calls.len() as i64,
                current_call,
                agent,
            }
        })
        .collect())
}
