//! The `trust-inject` binary: flags → options, read the input, call the library, write
//! standard output only when the whole input succeeded, print findings and errors once on
//! standard error.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use trust_inject::{Env, Stop};
use trust_inject::{Exit, Severity};

/// Prints a line on standard error. A failing standard error (`2>/dev/full`) must not turn
/// a good run into a crash, so errors writing it are ignored.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr().lock(), $($arg)*);
    }};
}

mod cmd;

use cmd::output::FILE_TOO_LARGE;
use cmd::paint;
use cmd::run::{Failed, run};

/// Where errors are also logged (`--error-log`, or the default under Helm), once known; the
/// panic handler reads it too.
static ERROR_LOG: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// The first panic's message, for the error log.
static PANIC_MESSAGE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn main() -> ExitCode {
    // Past `ulimit -f` the kernel sends SIGXFSZ, which ends the process by default; with a
    // handler the write fails with EFBIG instead, and is reported (exit 5) with an -o FILE
    // left as it was and its temporary file removed.
    let _ = signal_hook::flag::register(signal_hook::consts::SIGXFSZ, &FILE_TOO_LARGE);
    // A bug must not leave half a stream behind: the output is only written once it is
    // complete (see `write_with`), and a panic ends the run with its own exit code and a
    // short message instead of a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_owned());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = format!(
            "internal error (a bug): {what}{place}; nothing was written. Please report it at {BUG_REPORT_URL} with the command line and, if you can, the input"
        );
        say!("trust-inject: {}: {message}", paint(Severity::Error));
        if let Ok(mut first) = PANIC_MESSAGE.lock()
            && first.is_none()
        {
            *first = Some(message);
        }
    }));
    match std::panic::catch_unwind(real_main) {
        Ok(code) => code,
        Err(_) => {
            if let Some(path) = ERROR_LOG.get() {
                let message = PANIC_MESSAGE
                    .lock()
                    .ok()
                    .and_then(|m| m.clone())
                    .unwrap_or_else(|| "internal error (a bug)".to_owned());
                log_error(path, &message);
            }
            Exit::Internal.into()
        }
    }
}

/// Where bugs are reported.
const BUG_REPORT_URL: &str = "https://github.com/trust-inject/trust-inject/issues";

fn real_main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let env = Env::from_process();
    let read_config = &mut |p: &std::path::Path| std::fs::read_to_string(p);
    let (result, error_log) = match trust_inject::resolve(&args, &env, read_config) {
        Err(Stop::Clap(e)) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Exit::Ok.into()
                }
                _ => Exit::Usage.into(),
            };
        }
        Err(Stop::Failed { error, error_log }) => {
            let failed = Failed { error, shown: None };
            (Err(failed), error_log)
        }
        Ok(inv) => {
            if let Some(p) = &inv.error_log {
                let _ = ERROR_LOG.set(p.clone());
            }
            let log = inv.error_log.clone();
            (run(inv), log)
        }
    };
    match result {
        Ok(code) => code.into(),
        Err(Failed { error, shown }) => {
            let message = shown.unwrap_or_else(|| error.to_string());
            say!("trust-inject: {}: {message}", paint(Severity::Error));
            if let Some(path) = error_log {
                log_error(&path, &message);
            }
            error.exit().into()
        }
    }
}

/// Appends an error to the log file (Helm 4 hides a post-renderer's standard error and
/// only says the plugin "exited with error").
fn log_error(path: &std::path::Path, message: &str) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "[unix time {now}] trust-inject: error: {message}");
    }
    say!(
        "trust-inject: the error was also written to {}",
        path.display()
    );
}
