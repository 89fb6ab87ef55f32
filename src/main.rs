//! The `trust-inject` binary: flags → options, read the input, call the library, write
//! standard output only when the whole input succeeded, print findings and errors once on
//! standard error.
#![forbid(unsafe_code)]

mod cli;

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use cli::Exit;
use trust_inject::config::{Settings, settings_from_text};
use trust_inject::{Error, Options, Processed, Severity};

/// A failure: what to print and how to exit.
struct Failure {
    exit: Exit,
    message: String,
}

impl Failure {
    fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
        }
    }
}

fn main() -> ExitCode {
    let matches = match cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Exit::Ok.into()
                }
                _ => Exit::Usage.into(),
            };
        }
    };
    match run(&matches) {
        Ok(()) => Exit::Ok.into(),
        Err(f) => {
            eprintln!("trust-inject: error: {}", f.message);
            f.exit.into()
        }
    }
}

fn run(m: &clap::ArgMatches) -> Result<(), Failure> {
    let file_settings = match m.get_one::<OsString>("config") {
        Some(path) => {
            let shown = path.to_string_lossy();
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::new(
                    Exit::BadConfig,
                    format!("{shown}: cannot read the config file: {e}"),
                )
            })?;
            settings_from_text(&text)
                .map_err(|e| Failure::new(Exit::BadConfig, format!("{shown}: {e}")))?
        }
        None => Settings::default(),
    };
    let settings = file_settings.overlay(cli::settings_from_matches(m));
    let mut opts = Options::from_settings(&settings)
        .map_err(|e| Failure::new(Exit::BadConfig, format!("invalid configuration: {e}")))?;
    let quiet = m.get_flag("quiet");
    let read = opts
        .load_bundle()
        .map_err(|e| Failure::new(Exit::BadConfig, e.to_string()))?;
    if !quiet {
        for c in &read.certificates {
            eprintln!(
                "trust-inject: read {}: {} ({}), SHA-256 {}, valid until {}",
                c.location(),
                c.subject(),
                if c.is_ca() { "CA" } else { "not a CA" },
                c.fingerprint_sha256(),
                c.not_after()
            );
        }
    }
    for w in &read.warnings {
        eprintln!("trust-inject: warning: {w}");
    }
    if opts.strict && !read.warnings.is_empty() {
        return Err(Failure::new(
            Exit::InjectFailed,
            format!(
                "{} certificate warning(s) treated as errors (--strict)",
                read.warnings.len()
            ),
        ));
    }
    let files: Vec<OsString> = m
        .get_many::<OsString>("files")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let input = read_input(&files, opts.max_input_bytes)?;
    let processed = trust_inject::process(&input, &opts).map_err(|e| {
        let exit = match &e {
            Error::Config(_) => Exit::BadConfig,
            e if e.is_input() => Exit::BadInput,
            _ => Exit::InjectFailed,
        };
        Failure::new(exit, e.to_string())
    })?;
    report(&processed, &opts, quiet);
    write_output(m.get_one::<OsString>("output"), &processed.output)
}

fn report(p: &Processed, opts: &Options, quiet: bool) {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for f in &p.findings {
        if f.severity >= Severity::Warning
            || !quiet
                && f.severity == Severity::Info
                && std::env::var_os("TRUST_INJECT_VERBOSE").is_some()
        {
            let _ = writeln!(err, "trust-inject: {}: {f}", f.severity);
        }
    }
    if quiet {
        return;
    }
    let s = &p.summary;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut line = format!(
        "trust-inject: injected {} into {} ({}) in {}",
        opts.source.name,
        plural(s.workloads, "workload", "workloads"),
        plural(s.containers, "container", "containers"),
        plural(s.namespaces.len(), "namespace", "namespaces"),
    );
    let skipped: usize = s.skipped.values().sum();
    if skipped > 0 {
        let reasons: Vec<String> = s
            .skipped
            .iter()
            .map(|(k, v)| {
                if *v == skipped && s.skipped.len() == 1 {
                    (*k).to_owned()
                } else {
                    format!("{v} {k}")
                }
            })
            .collect();
        line.push_str(&format!("; {skipped} skipped ({})", reasons.join(", ")));
    }
    if s.warnings > 0 {
        line.push_str(&format!("; {}", plural(s.warnings, "warning", "warnings")));
    }
    let _ = writeln!(err, "{line}");
}

/// Reads the FILEs (or standard input) into one stream. Files are joined so that each
/// starts a new document: a missing final newline is added and a `---` line put between
/// files that do not start with one.
fn read_input(files: &[OsString], limit: u64) -> Result<String, Failure> {
    let mut sources: Vec<(String, Vec<u8>)> = Vec::new();
    let mut total = 0u64;
    let files: Vec<OsString> = if files.is_empty() {
        vec![OsString::from("-")]
    } else {
        files.to_vec()
    };
    for f in &files {
        let name = if f == "-" {
            "<stdin>".to_owned()
        } else {
            f.to_string_lossy().into_owned()
        };
        let mut buf = Vec::new();
        let reader: Box<dyn Read> =
            if f == "-" {
                Box::new(io::stdin().lock())
            } else {
                Box::new(std::fs::File::open(f).map_err(|e| {
                    Failure::new(Exit::BadInput, format!("{name}: cannot open: {e}"))
                })?)
            };
        let room = limit.saturating_sub(total).saturating_add(1);
        reader
            .take(room)
            .read_to_end(&mut buf)
            .map_err(|e| Failure::new(Exit::BadInput, format!("{name}: cannot read: {e}")))?;
        total += buf.len() as u64;
        if total > limit {
            return Err(Failure::new(
                Exit::BadInput,
                Error::TooLarge { limit }.to_string(),
            ));
        }
        sources.push((name, buf));
    }
    let mut out = String::with_capacity(usize::try_from(total).unwrap_or(0));
    for (i, (name, bytes)) in sources.into_iter().enumerate() {
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            Failure::new(Exit::BadInput, format!("{name}: not UTF-8 text (invalid byte at offset {at}); Kubernetes manifests are UTF-8"))
        })?;
        if i > 0 && !text.is_empty() {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            if !text.starts_with("---") {
                out.push_str("---\n");
            }
        }
        out.push_str(&text);
    }
    Ok(out)
}

fn write_output(path: Option<&OsString>, text: &str) -> Result<(), Failure> {
    let result = match path {
        Some(p) if p != "-" => {
            std::fs::write(p, text).map_err(|e| (p.to_string_lossy().into_owned(), e))
        }
        _ => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            lock.write_all(text.as_bytes())
                .and_then(|()| lock.flush())
                .map_err(|e| ("<stdout>".to_owned(), e))
        }
    };
    match result {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is the reader's choice, not a failure (the Unix convention).
        Err((_, e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err((name, e)) => Err(Failure::new(
            Exit::BadInput,
            format!("{name}: cannot write: {e}"),
        )),
    }
}
