//! The binary's work apart from `main`: one run, its input and its output.

pub mod input;
pub mod output;
pub mod run;

use std::io;

use trust_inject::Severity;

/// The severity word, coloured when standard error is a terminal and `NO_COLOR` is unset.
pub fn paint(severity: Severity) -> String {
    use std::io::IsTerminal;
    let color =
        io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let code = match severity {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Info => "1;36",
    };
    if color {
        format!("\x1b[{code}m{severity}\x1b[0m")
    } else {
        severity.to_string()
    }
}
