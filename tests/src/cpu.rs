//! CPU time read from `/proc`, so a bench can say where a request's cost
//! went (the server's threads, the load generator) and whether the machine
//! had any core left, instead of reporting a rate alone.

use anyhow::{Context, Result};
use std::collections::BTreeMap;

/// Clock ticks per second of `/proc`'s CPU times (`USER_HZ`).
pub fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `utime + stime` of a `/proc/…/stat` line, in ticks. The command name is
/// in parentheses and may hold spaces, so fields are counted after the last `)`.
fn stat_ticks(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // After the name: state is field 3, utime 14, stime 15.
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// One reading of a process: its total CPU (threads that ended included)
/// and its live threads' CPU summed by thread name, in ticks, and in
/// nanoseconds from the scheduler (`schedstat`: exact, for short phases).
#[derive(Clone, Debug, Default)]
pub struct Process {
    pub total: u64,
    pub threads: BTreeMap<String, u64>,
    pub threads_ns: BTreeMap<String, u64>,
}

impl Process {
    pub fn read(pid: u32) -> Result<Process> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let (_, total) = stat_ticks(&stat).context("unreadable /proc/<pid>/stat")?;
        let mut threads = BTreeMap::new();
        let mut threads_ns = BTreeMap::new();
        for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
            let dir = entry?.path();
            // A thread may end between the listing and the read.
            let Ok(s) = std::fs::read_to_string(dir.join("stat")) else {
                continue;
            };
            let Some((name, t)) = stat_ticks(&s) else {
                continue;
            };
            *threads.entry(name.clone()).or_insert(0) += t;
            let ns = std::fs::read_to_string(dir.join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
            if let Some(ns) = ns {
                *threads_ns.entry(name).or_insert(0) += ns;
            }
        }
        Ok(Process {
            total,
            threads,
            threads_ns,
        })
    }

    /// Nanoseconds on a CPU since `before` of the threads named `name`.
    pub fn thread_ns_since(&self, before: &Process, name: &str) -> u64 {
        let now = self.threads_ns.get(name).copied().unwrap_or(0);
        now.saturating_sub(before.threads_ns.get(name).copied().unwrap_or(0))
    }

    /// Ticks spent since `before` by the threads named `name`.
    pub fn thread_since(&self, before: &Process, name: &str) -> u64 {
        let now = self.threads.get(name).copied().unwrap_or(0);
        now.saturating_sub(before.threads.get(name).copied().unwrap_or(0))
    }
}

/// The machine's busy and total ticks over all cores (`/proc/stat`'s `cpu` line).
#[derive(Clone, Copy, Debug, Default)]
pub struct Machine {
    pub busy: u64,
    pub total: u64,
}

impl Machine {
    pub fn read() -> Result<Machine> {
        let stat = std::fs::read_to_string("/proc/stat")?;
        let line = stat.lines().next().context("empty /proc/stat")?;
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        let total: u64 = v.iter().sum();
        // idle and iowait are the 4th and 5th fields.
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        Ok(Machine {
            busy: total.saturating_sub(idle),
            total,
        })
    }

    /// Share of all cores busy since `before`, 0–1.
    pub fn busy_since(&self, before: &Machine) -> f64 {
        let total = self.total.saturating_sub(before.total);
        if total == 0 {
            return 0.0;
        }
        self.busy.saturating_sub(before.busy) as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_name_with_spaces_and_parentheses() {
        let line = "4242 (tokio (worker) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 8 0 123 456 789";
        assert_eq!(stat_ticks(line), Some(("tokio (worker) 1".into(), 42)));
    }

    /// This thread's time on a CPU, read straight from the kernel.
    fn own_ns() -> Result<u64> {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat")?;
        s.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .context("unreadable schedstat")
    }

    #[test]
    fn a_busy_thread_is_counted_under_its_name() -> Result<()> {
        let pid = std::process::id();
        let before = Process::read(pid)?;
        // Busy until this thread has had 300 ms of CPU, however loaded the
        // machine is (time waiting for a core does not count).
        let start_ns = own_ns()?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut x = 0u64;
        while own_ns()? < start_ns + 300_000_000 && std::time::Instant::now() < deadline {
            for _ in 0..10_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
        }
        std::hint::black_box(x);
        let after = Process::read(pid)?;
        let me = std::fs::read_to_string("/proc/thread-self/comm")?;
        let ns = after.thread_ns_since(&before, me.trim());
        assert!(ns >= 300_000_000, "{ns} ns on a CPU for `{}`", me.trim());
        // Ticks are 10 ms: 300 ms of CPU is at least 20 of them.
        assert!(
            after.total >= before.total + 20,
            "{} → {} ticks",
            before.total,
            after.total
        );
        assert!(after.thread_since(&before, me.trim()) >= 20);
        Ok(())
    }
}
