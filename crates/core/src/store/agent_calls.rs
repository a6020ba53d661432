//! Calls grouped by agent (`GET /api/agents/calls`): a summary and one row
//! per agent, over a date range, an agent, a disposition and departments.

use crate::error::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct AgentCallsQuery {
    /// Call start (else creation) at or after, store text form.
    pub from: Option<String>,
    /// …and before.
    pub to: Option<String>,
    /// An agent id or name.
    pub agent: Option<String>,
    /// The provider's disposition/status word (`raw_status`), case-insensitive.
    pub disposition: Option<String>,
    /// Departments to include (all when `None`).
    pub departments: Option<Vec<String>>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentCallsSummary {
    pub total_agents: i64,
    pub total_calls: i64,
    /// `totalCalls / totalAgents`, two decimals (0 without agents).
    pub avg_calls_per_agent: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentCallsRow {
    /// The agent id as the provider sends it (else the agent's name).
    pub agent_id: String,
    pub agent_name: Option<String>,
    pub calls: i64,
    /// Mean talk time of the calls that have one, seconds (0 when none).
    pub avg_duration_sec: f64,
    /// Share of the agent's calls that ended `completed`, 0–1.
    pub completed_rate: f64,
    pub total_duration_min: f64,
    /// Start (else creation) time of the agent's latest call.
    pub last_call: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct AgentCalls {
    pub summary: AgentCallsSummary,
    pub data: Vec<AgentCallsRow>,
    pub limit: i64,
    pub offset: i64,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

const FILTER: &str = "COALESCE(c.agent_id, c.agent_name) IS NOT NULL
    AND (?1 IS NULL OR COALESCE(c.started_at, c.created_at) >= ?1)
    AND (?2 IS NULL OR COALESCE(c.started_at, c.created_at) < ?2)
    AND (?3 IS NULL OR c.agent_id = ?3 OR c.agent_name = ?3 COLLATE NOCASE)
    AND (?4 IS NULL OR c.raw_status = ?4 COLLATE NOCASE)
    AND (?5 IS NULL OR c.department IN (SELECT value FROM json_each(?5)))";

pub fn read(conn: &Connection, q: &AgentCallsQuery) -> Result<AgentCalls> {
    let deps = q
        .departments
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let (total_agents, total_calls): (i64, i64) = conn.query_row(
        &format!(
            "SELECT COUNT(DISTINCT COALESCE(c.agent_id, c.agent_name)), COUNT(*) FROM calls c WHERE {FILTER}"
        ),
        params![q.from, q.to, q.agent, q.disposition, deps],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let limit = q.limit.clamp(1, 1000);
    let offset = q.offset.max(0);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT COALESCE(c.agent_id, c.agent_name) AS agent, MAX(c.agent_name), COUNT(*),
                AVG(c.duration_seconds), SUM(c.status = 'completed'), COALESCE(SUM(c.duration_seconds), 0),
                MAX(COALESCE(c.started_at, c.created_at))
         FROM calls c WHERE {FILTER}
         GROUP BY agent ORDER BY COUNT(*) DESC, agent LIMIT ?6 OFFSET ?7"
    ))?;
    let rows = stmt.query_map(
        params![q.from, q.to, q.agent, q.disposition, deps, limit, offset],
        |r| {
            let calls: i64 = r.get(2)?;
            let avg: Option<f64> = r.get(3)?;
            let completed: i64 = r.get(4)?;
            let total: i64 = r.get(5)?;
            Ok(AgentCallsRow {
                agent_id: r.get(0)?,
                agent_name: r.get(1)?,
                calls,
                avg_duration_sec: round2(avg.unwrap_or(0.0)),
                completed_rate: if calls > 0 {
                    round2(completed as f64 / calls as f64)
                } else {
                    0.0
                },
                total_duration_min: round2(total as f64 / 60.0),
                last_call: r.get(6)?,
            })
        },
    )?;
    let data = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(AgentCalls {
        summary: AgentCallsSummary {
            total_agents,
            total_calls,
            avg_calls_per_agent: if total_agents > 0 {
                round2(total_calls as f64 / total_agents as f64)
            } else {
                0.0
            },
        },
        data,
        limit,
        offset,
    })
}
