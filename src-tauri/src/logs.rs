//! The app's own log file: what support asks for when something went wrong
//! on a desk where nobody watched a terminal. One file a day in the OS's
//! log directory, the last week kept; "Open logs" and "Copy diagnostics" in
//! *This computer* reach them.

use std::path::{Path, PathBuf};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Daily files kept.
pub const KEEP_DAYS: usize = 7;
const PREFIX: &str = "callboard";

/// Where the log files go (what Tauri's `app_log_dir` names): the Logs
/// folder on macOS, the app's local data folder elsewhere.
pub fn dir(identifier: &str) -> PathBuf {
    #[cfg(target_os = "macos")]
    let base = dirs::home_dir().map(|h| h.join("Library/Logs").join(identifier));
    #[cfg(not(target_os = "macos"))]
    let base = dirs::data_local_dir().map(|d| d.join(identifier).join("logs"));
    base.unwrap_or_else(|| PathBuf::from("logs"))
}

/// The file writer's guard: dropping it flushes what is still buffered.
/// Tauri's event loop ends the process without returning, so [`flush`] is
/// called from its exit event.
static GUARD: std::sync::Mutex<Option<tracing_appender::non_blocking::WorkerGuard>> =
    std::sync::Mutex::new(None);

/// Writes out what the log file has buffered (at exit).
pub fn flush() {
    if let Ok(mut g) = GUARD.lock() {
        g.take();
    }
}

/// Logs to standard error (coloured only on a terminal) and to the daily
/// file, until [`flush`].
pub fn init(dir: &Path) {
    if let (Some(guard), Ok(mut slot)) = (init_layers(dir), GUARD.lock()) {
        *slot = Some(guard);
    }
}

fn init_layers(dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use std::io::IsTerminal;
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("CALLBOARD_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"))
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .build(dir);
    let (file, guard) = match appender {
        Ok(a) => {
            let (writer, guard) = tracing_appender::non_blocking(a);
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            (Some(layer), Some(guard))
        }
        Err(e) => {
            // No log file is no reason not to run.
            eprintln!("callboard: no log file in {}: {e}", dir.display());
            (None, None)
        }
    };
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
    guard
}

/// The newest log file's last `lines` lines.
pub fn tail(dir: &Path, lines: usize) -> String {
    let newest = std::fs::read_dir(dir).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(PREFIX))
            .max_by_key(|e| e.file_name())
    });
    let Some(entry) = newest else {
        return String::from("(no log file yet)");
    };
    match std::fs::read_to_string(entry.path()) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", entry.path().display()),
    }
}

/// Opens the folder in the desktop's file manager.
pub fn open(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(target_os = "macos")]
    let program = "open";
    #[cfg(target_os = "windows")]
    let program = "explorer";
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let program = "xdg-open";
    std::process::Command::new(program)
        .arg(dir)
        .spawn()
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_newest_files_last_lines() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(tail(d.path(), 5), "(no log file yet)");
        std::fs::write(d.path().join("callboard.2026-12-01.log"), "old\n").unwrap();
        std::fs::write(d.path().join("callboard.2026-12-02.log"), "a\nb\nc\n").unwrap();
        std::fs::write(d.path().join("other.txt"), "zzz\n").unwrap();
        assert_eq!(tail(d.path(), 2), "b\nc");
        assert_eq!(tail(d.path(), 10), "a\nb\nc");
    }
}
