//! The live queue's order: longest wait first within each status group, so
//! the caller waiting twelve minutes is on the first row, not row 300.

use super::metrics::OFFERED_AT;

/// Status groups in the order a supervisor works them: callers still in the
/// queue first, then the ones talking, then the ones to call back, then history.
pub const GROUPS: [&str; 7] = [
    "waiting",
    "ringing",
    "active",
    "missed",
    "hangup",
    "completed",
    "failed",
];

fn group_rank() -> String {
    let arms: Vec<String> = GROUPS
        .iter()
        .enumerate()
        .map(|(i, s)| format!("WHEN '{s}' THEN {i}"))
        .collect();
    format!("CASE c.status {} ELSE {} END", arms.join(" "), GROUPS.len())
}

/// The `ORDER BY` of the wait order: status group, then when the caller
/// started waiting (the platform's start time, else when Callboard first
/// saw the call), oldest first; `shortest_first` reverses the wait.
pub fn wait_order(shortest_first: bool) -> String {
    let dir = if shortest_first { "DESC" } else { "ASC" };
    format!("{}, {OFFERED_AT} {dir}, c.id {dir}", group_rank())
}

/// The order for `sort`: `wait` / `-wait` explicitly, and the default (no
/// `sort`) when the list is filtered by status (the queues). `None`: a
/// column sort (or the history's default, newest first) applies.
pub fn order_by(sort: Option<&str>, by_status: bool) -> Option<String> {
    match sort {
        Some("wait") => Some(wait_order(false)),
        Some("-wait") => Some(wait_order(true)),
        None if by_status => Some(wait_order(false)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_wait_order_only_for_queues() {
        assert_eq!(order_by(None, true), Some(wait_order(false)));
        assert_eq!(order_by(None, false), None);
        assert_eq!(order_by(Some("-created_at"), true), None);
        assert!(order_by(Some("-wait"), false)
            .unwrap()
            .contains("created_at) DESC"));
    }
}
