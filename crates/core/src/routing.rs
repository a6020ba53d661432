//! Callback routing: which agent a new missed or hangup call goes to. Pure
//! choice over candidates the store has already narrowed to the agents of
//! the call's department who may take work (never away or offline).

use crate::error::{Error, Result};
use crate::time::Timestamp;
use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// No automatic assignment (agents take calls themselves).
    #[default]
    None,
    /// In turn, by user id, continuing after the last agent assigned.
    RoundRobin,
    /// The agent with the fewest open assignments.
    LeastBusy,
    /// The agent whose last assignment is oldest (never assigned first).
    LongestIdle,
    /// Agents having every skill in `skills`; among them the least busy.
    Skills,
    /// Uniformly at random.
    Random,
}

/// A department's routing: `{"strategy":"skills","skills":["spanish"]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    #[serde(default)]
    pub strategy: Strategy,
    /// Skills an agent needs for the `skills` strategy.
    #[serde(default)]
    pub skills: Vec<String>,
}

impl Routing {
    /// Trims and de-duplicates skills; `skills` needs at least one.
    pub fn validate(mut self) -> Result<Routing> {
        self.skills = normalise_skills(&self.skills, "routing.skills")?;
        if self.strategy == Strategy::Skills && self.skills.is_empty() {
            return Err(Error::invalid(
                "routing.skills: the `skills` strategy needs at least one skill",
            ));
        }
        Ok(self)
    }
}

/// Lower-cased, trimmed, unique skills of at most 40 characters each.
pub fn normalise_skills(skills: &[String], field: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, s) in skills.iter().enumerate() {
        let s = s.trim().to_lowercase();
        if s.is_empty() || s.chars().count() > 40 {
            return Err(Error::invalid(format!(
                "{field}[{i}]: a skill is 1-40 characters"
            )));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.len() > 50 {
        return Err(Error::invalid(format!("{field}: at most 50 skills")));
    }
    Ok(out)
}

/// An agent who may receive the call.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub user_id: i64,
    /// Worklist calls assigned to them and not yet resolved.
    pub open_assignments: i64,
    pub last_assigned_at: Option<Timestamp>,
    pub skills: Vec<String>,
}

/// Picks the agent for the next call; `None` when the strategy is `none` or
/// nobody fits. `last_user` is the department's previous round-robin pick.
pub fn choose(
    routing: &Routing,
    candidates: &[Candidate],
    last_user: Option<i64>,
    rng: &mut impl Rng,
) -> Option<i64> {
    if candidates.is_empty() {
        return None;
    }
    let least_busy = |pool: &[&Candidate]| {
        pool.iter()
            .min_by_key(|c| (c.open_assignments, c.last_assigned_at, c.user_id))
            .map(|c| c.user_id)
    };
    let all: Vec<&Candidate> = candidates.iter().collect();
    match routing.strategy {
        Strategy::None => None,
        Strategy::RoundRobin => {
            let mut ids: Vec<i64> = candidates.iter().map(|c| c.user_id).collect();
            ids.sort_unstable();
            let next = last_user.and_then(|last| ids.iter().copied().find(|&id| id > last));
            next.or_else(|| ids.first().copied())
        }
        Strategy::LeastBusy => least_busy(&all),
        // `None` (never assigned) sorts first: the longest idle of all.
        Strategy::LongestIdle => candidates
            .iter()
            .min_by_key(|c| (c.last_assigned_at, c.user_id))
            .map(|c| c.user_id),
        Strategy::Skills => {
            let able: Vec<&Candidate> = candidates
                .iter()
                .filter(|c| routing.skills.iter().all(|s| c.skills.contains(s)))
                .collect();
            least_busy(&able)
        }
        Strategy::Random => Some(candidates[rng.random_range(0..candidates.len())].user_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use std::collections::HashMap;

    fn agents(n: i64) -> Vec<Candidate> {
        (1..=n)
            .map(|id| Candidate {
                user_id: id * 10,
                open_assignments: 0,
                last_assigned_at: None,
                skills: vec![],
            })
            .collect()
    }

    fn routing(strategy: Strategy) -> Routing {
        Routing {
            strategy,
            skills: vec![],
        }
    }

    /// Runs `n` assignments, updating the candidates as the store would.
    fn simulate(r: &Routing, mut pool: Vec<Candidate>, n: usize, seed: u64) -> HashMap<i64, usize> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut last = None;
        let mut counts = HashMap::new();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        for i in 0..n {
            let id = choose(r, &pool, last, &mut rng).unwrap();
            last = Some(id);
            *counts.entry(id).or_insert(0) += 1;
            let c = pool.iter_mut().find(|c| c.user_id == id).unwrap();
            c.open_assignments += 1;
            c.last_assigned_at = Some(t0 + Duration::seconds(i as i64));
        }
        counts
    }

    #[test]
    fn none_assigns_nobody_and_an_empty_pool_gets_nobody() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            choose(&routing(Strategy::None), &agents(3), None, &mut rng),
            None
        );
        assert_eq!(
            choose(&routing(Strategy::RoundRobin), &[], None, &mut rng),
            None
        );
    }

    #[test]
    fn round_robin_takes_turns_and_is_exactly_fair_over_1000() {
        let mut rng = StdRng::seed_from_u64(1);
        let pool = agents(3);
        let r = routing(Strategy::RoundRobin);
        assert_eq!(choose(&r, &pool, None, &mut rng), Some(10));
        assert_eq!(choose(&r, &pool, Some(10), &mut rng), Some(20));
        assert_eq!(
            choose(&r, &pool, Some(30), &mut rng),
            Some(10),
            "wraps around"
        );
        // The last pick went away: continue with the next id after it.
        assert_eq!(choose(&r, &pool, Some(15), &mut rng), Some(20));
        let counts = simulate(&r, agents(4), 1000, 1);
        assert!(counts.values().all(|&n| n == 250), "{counts:?}");
    }

    #[test]
    fn least_busy_picks_the_fewest_open_and_balances_over_1000() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut pool = agents(3);
        pool[0].open_assignments = 4;
        pool[1].open_assignments = 1;
        pool[2].open_assignments = 2;
        assert_eq!(
            choose(&routing(Strategy::LeastBusy), &pool, None, &mut rng),
            Some(20)
        );
        // Starting unbalanced, the newcomer catches up, then all stay within one.
        let mut pool = agents(5);
        pool[0].open_assignments = 50;
        let counts = simulate(&routing(Strategy::LeastBusy), pool, 1000, 1);
        let totals: Vec<usize> = (1..=5)
            .map(|i| counts.get(&(i * 10)).copied().unwrap_or(0) + if i == 1 { 50 } else { 0 })
            .collect();
        let (min, max) = (totals.iter().min().unwrap(), totals.iter().max().unwrap());
        assert!(max - min <= 1, "{totals:?}");
    }

    #[test]
    fn longest_idle_prefers_never_assigned_then_oldest() {
        let mut rng = StdRng::seed_from_u64(1);
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        let mut pool = agents(3);
        pool[0].last_assigned_at = Some(t);
        pool[1].last_assigned_at = Some(t - Duration::minutes(5));
        pool[2].last_assigned_at = None;
        let r = routing(Strategy::LongestIdle);
        assert_eq!(choose(&r, &pool, None, &mut rng), Some(30));
        pool[2].last_assigned_at = Some(t + Duration::minutes(1));
        assert_eq!(choose(&r, &pool, None, &mut rng), Some(20));
        let counts = simulate(&r, agents(4), 1000, 1);
        assert!(counts.values().all(|&n| n == 250), "{counts:?}");
    }

    #[test]
    fn skills_only_go_to_agents_with_every_skill() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut pool = agents(4);
        pool[0].skills = vec!["spanish".into()];
        pool[1].skills = vec!["spanish".into(), "billing".into()];
        pool[2].skills = vec!["billing".into()];
        pool[3].skills = vec!["spanish".into(), "billing".into(), "vip".into()];
        let r = Routing {
            strategy: Strategy::Skills,
            skills: vec!["spanish".into(), "billing".into()],
        };
        let counts = simulate(&r, pool.clone(), 1000, 1);
        assert_eq!(counts.len(), 2, "{counts:?}");
        assert_eq!(counts[&20], 500);
        assert_eq!(counts[&40], 500);
        let r = Routing {
            strategy: Strategy::Skills,
            skills: vec!["french".into()],
        };
        assert_eq!(
            choose(&r, &pool, None, &mut rng),
            None,
            "nobody fits: nobody gets it"
        );
    }

    #[test]
    fn random_is_uniform_within_a_chi_square_bound() {
        let k = 5usize;
        let n = 1000usize;
        let counts = simulate(&routing(Strategy::Random), agents(k as i64), n, 42);
        assert_eq!(counts.len(), k, "every agent got calls");
        let expected = n as f64 / k as f64;
        let chi2: f64 = counts
            .values()
            .map(|&o| (o as f64 - expected).powi(2) / expected)
            .sum();
        // 99.9th percentile of χ² with 4 degrees of freedom.
        assert!(chi2 < 18.47, "chi-square {chi2} for {counts:?}");
    }

    #[test]
    fn routing_validation_names_the_field() {
        let e = Routing {
            strategy: Strategy::Skills,
            skills: vec![],
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("routing.skills"));
        let e = Routing {
            strategy: Strategy::RoundRobin,
            skills: vec!["  ".into()],
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("routing.skills[0]"));
        let ok = Routing {
            strategy: Strategy::Skills,
            skills: vec![" Spanish ".into(), "spanish".into()],
        }
        .validate()
        .unwrap();
        assert_eq!(ok.skills, vec!["spanish"]);
    }
}
