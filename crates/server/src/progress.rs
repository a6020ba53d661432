//! A one-line progress bar on standard error for the terminal commands.
//! When standard error is not a terminal (a redirected log, journald) it
//! writes plain lines instead, at most one every five seconds plus the
//! last, so the log gets no carriage returns and no flood.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

pub struct Bar {
    started: Instant,
    last: Mutex<Option<Instant>>,
    terminal: bool,
}

const WIDTH: usize = 30;

impl Bar {
    pub fn new() -> Bar {
        Bar {
            started: Instant::now(),
            last: Mutex::new(None),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Redraws at most ten times a second (a line every five seconds off a terminal).
    pub fn show(&self, done: i64, total: Option<i64>) {
        let now = Instant::now();
        let every_ms = if self.terminal { 100 } else { 5000 };
        if let Ok(mut last) = self.last.lock() {
            let complete = total.is_some_and(|t| done >= t);
            if !complete && last.is_some_and(|t| now.duration_since(t).as_millis() < every_ms) {
                return;
            }
            *last = Some(now);
        }
        let secs = self.started.elapsed().as_secs_f64();
        let line = match total.filter(|t| *t > 0) {
            Some(t) => {
                let frac = (done as f64 / t as f64).clamp(0.0, 1.0);
                let filled = (frac * WIDTH as f64).round() as usize;
                format!(
                    "\r[{}{}] {done}/{t} records ({:.0}%) {secs:.1}s",
                    "#".repeat(filled),
                    " ".repeat(WIDTH - filled),
                    frac * 100.0
                )
            }
            None => format!("\r{done} records {secs:.1}s"),
        };
        let line = if self.terminal {
            line
        } else {
            format!("{}\n", line.trim_start_matches('\r'))
        };
        let mut err = std::io::stderr();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
    }

    pub fn finish(&self) {
        if !self.terminal {
            return;
        }
        let _ = std::io::stderr().write_all(b"\n");
    }
}
