//! The canonical call statuses of DESIGN.md and the rule that they only move forward.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Waiting,
    Ringing,
    Active,
    Missed,
    Hangup,
    Completed,
    Failed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Waiting,
        Status::Ringing,
        Status::Active,
        Status::Missed,
        Status::Hangup,
        Status::Completed,
        Status::Failed,
    ];
    /// Statuses shown in the live queue.
    pub const LIVE: [Status; 4] = [
        Status::Waiting,
        Status::Ringing,
        Status::Active,
        Status::Missed,
    ];
    /// Statuses that land in the missed/hangup worklist.
    pub const WORKLIST: [Status; 2] = [Status::Missed, Status::Hangup];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Ringing => "ringing",
            Status::Active => "active",
            Status::Missed => "missed",
            Status::Hangup => "hangup",
            Status::Completed => "completed",
            Status::Failed => "failed",
        }
    }

    /// Position in the call's life. Terminal statuses share the top rank: the
    /// first one that arrives is final.
    pub fn rank(self) -> u8 {
        match self {
            Status::Waiting => 1,
            Status::Ringing => 2,
            Status::Active => 3,
            Status::Missed | Status::Hangup | Status::Completed | Status::Failed => 4,
        }
    }

    pub fn is_terminal(self) -> bool {
        self.rank() == 4
    }

    pub fn is_worklist(self) -> bool {
        matches!(self, Status::Missed | Status::Hangup)
    }

    /// The status a call moves to when `incoming` arrives while it is in
    /// `current` (`answered` tells whether an agent ever picked it up).
    ///
    /// Statuses never move backwards, so a late `ringing` cannot reopen a
    /// finished call. A call that was answered and then reported as missed or
    /// hung up ended normally: platforms often send their generic "hangup"
    /// for every ended call, and an answered caller is not a callback to make.
    pub fn advance(current: Option<Status>, incoming: Status, answered: bool) -> Status {
        let incoming = if answered && incoming.is_worklist() {
            Status::Completed
        } else {
            incoming
        };
        match current {
            None => incoming,
            Some(cur) if cur.is_terminal() => cur,
            Some(cur) if incoming.rank() > cur.rank() => incoming,
            Some(cur) => cur,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown status `{0}` (expected one of waiting, ringing, active, missed, hangup, completed, failed)")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == t)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_ringing_never_reopens_a_finished_call() {
        assert_eq!(
            Status::advance(Some(Status::Completed), Status::Ringing, false),
            Status::Completed
        );
        assert_eq!(
            Status::advance(Some(Status::Active), Status::Ringing, true),
            Status::Active
        );
    }

    #[test]
    fn moves_forward() {
        assert_eq!(
            Status::advance(None, Status::Waiting, false),
            Status::Waiting
        );
        assert_eq!(
            Status::advance(Some(Status::Waiting), Status::Ringing, false),
            Status::Ringing
        );
        assert_eq!(
            Status::advance(Some(Status::Ringing), Status::Hangup, false),
            Status::Hangup
        );
    }

    #[test]
    fn answered_hangup_is_completed() {
        assert_eq!(
            Status::advance(Some(Status::Active), Status::Hangup, true),
            Status::Completed
        );
    }

    #[test]
    fn parses_case_insensitively() {
        assert_eq!("MISSED".parse::<Status>().ok(), Some(Status::Missed));
        assert!("bogus".parse::<Status>().is_err());
    }
}
