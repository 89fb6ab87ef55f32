//! The `trust-inject` binary: flags → options, read the input, call the library, write
//! standard output only when the whole input succeeded, print findings and errors once on
//! standard error.
#![forbid(unsafe_code)]

mod cli;

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use cli::Exit;
use trust_inject::config::{Setting, Settings, settings_from_text};
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

/// Where errors are also logged (`--error-log`, or the default under Helm), once known; the
/// panic handler reads it too.
static ERROR_LOG: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// The first panic's message, for the error log.
static PANIC_MESSAGE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Prints a line on standard error. A failing standard error (`2>/dev/full`) must not turn
/// a good run into a crash, so errors writing it are ignored.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr().lock(), $($arg)*);
    }};
}

/// The termination signal (SIGINT, SIGTERM, SIGHUP) that arrived while an output file was
/// being written, or 0.
static SIGNALLED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Set by SIGXFSZ (a write past `ulimit -f`).
static FILE_TOO_LARGE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

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
    // kustomize's legacy exec plugin: the executable is installed as
    // `$KUSTOMIZE_PLUGIN_HOME/trust-inject.dev/v1alpha1/trustinjection/TrustInjection` and called
    // with the path of its config file as the only argument and the stream on stdin.
    let legacy = std::env::var_os("KUSTOMIZE_PLUGIN_CONFIG_STRING").is_some()
        || args
            .first()
            .and_then(|a| std::path::Path::new(a).file_name())
            .is_some_and(|n| n == "TrustInjection");
    let cli_args: Vec<OsString> = if legacy {
        args.iter().take(1).cloned().collect()
    } else {
        args.clone()
    };
    let matches = match cli::command().try_get_matches_from(cli_args) {
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
    let legacy_config = legacy.then(|| args.get(1).cloned());
    let mut error_log: Option<std::path::PathBuf> = None;
    let result = match matches.subcommand() {
        Some(("completions", sm)) => {
            let shell = sm
                .get_one::<clap_complete::Shell>("shell")
                .copied()
                .unwrap_or(clap_complete::Shell::Bash);
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cli::command(), "trust-inject", &mut script);
            write_with(None, |w| w.write_all(&script)).map(|()| Exit::Ok)
        }
        Some(("man", _)) => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cli::command())
                .render(&mut page)
                .map_err(|e| {
                    Failure::new(Exit::Internal, format!("cannot render the man page: {e}"))
                })
                .and_then(|()| write_with(None, |w| w.write_all(&page)))
                .map(|()| Exit::Ok)
        }
        Some(("check", sm)) => run(sm, Mode::Check, None, false, &mut error_log),
        Some(("merge", sm)) => merge_cmd(sm),
        _ => run(
            &matches,
            Mode::Inject,
            legacy_config.flatten(),
            legacy,
            &mut error_log,
        ),
    };
    match result {
        Ok(code) => code.into(),
        Err(f) => {
            say!("trust-inject: {}: {}", paint(Severity::Error), f.message);
            if let Some(path) = error_log {
                log_error(&path, &f.message);
            }
            f.exit.into()
        }
    }
}

/// `trust-inject merge`: the start-up merge init container's command.
fn merge_cmd(m: &clap::ArgMatches) -> Result<Exit, Failure> {
    use trust_inject::merge::{MergeArgs, MergeError, merge};
    let args = MergeArgs {
        sources: m
            .get_many::<OsString>("source")
            .into_iter()
            .flatten()
            .map(std::path::PathBuf::from)
            .collect(),
        output_dir: m
            .get_one::<OsString>("output-dir")
            .map(std::path::PathBuf::from)
            .unwrap_or_default(),
        public_roots: match m.get_one::<String>("public-roots").map(String::as_str) {
            Some("none") => trust_inject::bundle::PublicRoots::None,
            Some("mozilla") | None => trust_inject::bundle::PublicRoots::Mozilla,
            Some(file) => trust_inject::bundle::PublicRoots::File(file.into()),
        },
    };
    match merge(&args) {
        Ok(done) => {
            for w in &done.warnings {
                say!("trust-inject: merge: {}: {w}", paint(Severity::Warning));
            }
            say!(
                "trust-inject: merge: wrote {} ({} private CA(s), {} certificates in the complete bundle) into {}",
                done.files.join(", "),
                done.private,
                done.total,
                args.output_dir.display()
            );
            Ok(Exit::Ok)
        }
        Err(e) => {
            let exit = match e {
                MergeError::Absent { .. } | MergeError::Empty { .. } => Exit::BadInput,
                MergeError::Write { .. } => Exit::WriteFailed,
                _ => Exit::BadConfig,
            };
            Err(Failure::new(exit, format!("merge: {e}")))
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

/// Options from Argo CD's config management plugin: parameters arrive as `PARAM_<NAME>`
/// (`PARAM_CONFIGMAP`, `PARAM_COMPLETE_BUNDLE`) and the Application's plugin env as
/// `ARGOCD_ENV_TRUST_INJECT_<NAME>`; the plugin env is laid over the parameters.
fn argocd_settings() -> Result<Settings, Failure> {
    let mut params: Vec<(&'static str, String)> = Vec::new();
    let mut plugin_env: Vec<(&'static str, String)> = Vec::new();
    for f in trust_inject::config::FIELDS {
        let upper = f.flag.to_ascii_uppercase().replace('-', "_");
        if let Ok(v) = std::env::var(format!("PARAM_{upper}")) {
            params.push((f.flag, v));
        }
        // Array parameters arrive one variable per item: PARAM_CA_FILE_0, PARAM_CA_FILE_1, ...
        let items: Vec<String> = (0..)
            .map_while(|i| std::env::var(format!("PARAM_{upper}_{i}")).ok())
            .collect();
        if !items.is_empty() {
            params.push((f.flag, items.join(",")));
        }
        if let Ok(v) = std::env::var(format!("ARGOCD_ENV_{}", f.env())) {
            plugin_env.push((f.flag, v));
        }
    }
    let layer = |pairs: &[(&'static str, String)], origin: &str| {
        Settings::from_flat(pairs.iter().map(|(k, v)| (*k, v.as_str())), origin)
            .map_err(|e| Failure::new(Exit::BadConfig, format!("invalid configuration: {e}")))
    };
    Ok(layer(&params, "Argo CD parameters")?.overlay(layer(&plugin_env, "Argo CD plugin env")?))
}

fn default_error_log() -> Option<std::path::PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))?;
    Some(cache.join("trust-inject").join("helm-post-renderer.log"))
}

/// What the run is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Inject and write the manifests.
    Inject,
    /// Only say whether every workload already trusts the bundle.
    Check,
}

/// The severity word, coloured when standard error is a terminal and `NO_COLOR` is unset.
fn paint(severity: Severity) -> String {
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

fn run(
    m: &clap::ArgMatches,
    mode: Mode,
    legacy_config: Option<OsString>,
    legacy: bool,
    error_log: &mut Option<std::path::PathBuf>,
) -> Result<Exit, Failure> {
    let (env_settings, flag_settings) = cli::settings_from_matches(m);
    let cli_settings = env_settings.overlay(flag_settings);
    if let Some(Setting::Str(p)) = cli_settings
        .0
        .get("error-log")
        .filter(|s| !matches!(s, Setting::Str(p) if p.is_empty()))
    {
        *error_log = Some(p.into());
    } else if std::env::var_os("HELM_PLUGIN_NAME").is_some() {
        *error_log = default_error_log();
    }
    if let Some(p) = error_log {
        let _ = ERROR_LOG.set(p.clone());
    }
    let config_path = m.get_one::<OsString>("config").cloned().or(legacy_config);
    let file_settings = match (
        &config_path,
        std::env::var("KUSTOMIZE_PLUGIN_CONFIG_STRING"),
    ) {
        (_, Ok(text)) if legacy && !text.trim().is_empty() => settings_from_text(&text)
            .map_err(|e| Failure::new(Exit::BadConfig, format!("kustomize plugin config: {e}")))?,
        (Some(path), _) => {
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
        (None, _) => Settings::default(),
    };
    let outer = argocd_settings()?.overlay(cli_settings);
    if let Some(Setting::Str(p)) = file_settings.0.get("error-log")
        && error_log.is_none()
        && !p.is_empty()
    {
        *error_log = Some(p.into());
        let _ = ERROR_LOG.set(p.into());
    }
    let files: Vec<OsString> = if legacy {
        Vec::new()
    } else {
        m.get_many::<OsString>("files")
            .map(|v| v.cloned().collect())
            .unwrap_or_default()
    };
    let quiet = m.get_flag("quiet");
    let limit = Options::from_settings(&file_settings.clone().overlay(outer.clone()))
        .map(|o| o.max_input_bytes)
        .unwrap_or(1 << 28);
    if mode == Mode::Check
        && let Some(o) = m.get_one::<OsString>("output")
    {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "check writes no manifests, so -o/--output {} has nothing to write: drop it (check prints its verdict on standard error and exits 0 or 1); to write the injected manifests, run without check",
                o.to_string_lossy()
            ),
        ));
    }
    let (input, origins) = read_input(&files, limit, !quiet)?;

    // KRM function mode: a ResourceList on stdin (kustomize, kpt).
    if files.is_empty() && !legacy && trust_inject::krm::is_resource_list(&input) {
        let out = trust_inject::krm::run(&input, &file_settings.overlay(outer));
        for r in &out.results {
            if r.severity >= Severity::Warning {
                let obj = r
                    .object
                    .as_ref()
                    .map(|o| format!("{o}: "))
                    .unwrap_or_default();
                say!("trust-inject: {}: {obj}{}", paint(r.severity), r.message);
            }
        }
        write_output(m.get_one::<OsString>("output"), &out.text)?;
        return Ok(if out.failed {
            Exit::InjectFailed
        } else {
            Exit::Ok
        });
    }

    let settings = file_settings.overlay(outer);
    let mut opts = Options::from_settings(&settings)
        .map_err(|e| Failure::new(Exit::BadConfig, format!("invalid configuration: {e}")))?;
    let read = opts
        .load_bundle()
        .map_err(|e| Failure::new(Exit::BadConfig, e.to_string()))?;
    if !quiet {
        for c in &read.certificates {
            say!(
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
        say!("trust-inject: {}: {w}", paint(Severity::Warning));
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
    #[cfg(debug_assertions)]
    debug::panic_before_processing();
    let processed = match trust_inject::pipeline::plan_edits(&input, &opts) {
        Ok(p) => p,
        Err(Error::Strict { warnings }) => {
            // Every warning, each placed in its file, then the verdict.
            for w in &warnings {
                say!(
                    "trust-inject: {}: {}",
                    paint(Severity::Warning),
                    origins.locate_finding(w)
                );
            }
            return Err(strict_failure(warnings.len()));
        }
        Err(e) => {
            let exit = match &e {
                Error::Config(_) => Exit::BadConfig,
                e if e.is_input() => Exit::BadInput,
                _ => Exit::InjectFailed,
            };
            return Err(Failure::new(exit, origins.locate_error(&e, &input, &opts)));
        }
    };
    let fail_on_empty = match settings.0.get("fail-on-empty") {
        Some(Setting::Bool(b)) => *b,
        _ => std::env::var_os("ARGOCD_APP_NAME").is_some(),
    };
    if fail_on_empty && processed.summary.objects == 0 {
        return Err(Failure::new(Exit::BadInput, Error::Empty.to_string()));
    }
    // No workload at all: a warning (printed under --quiet too), an error under --strict.
    if let Some(w) =
        trust_inject::report::no_workload_warning(&processed, processed.summary.objects)
    {
        say!("trust-inject: {}: {w}", paint(Severity::Warning));
        if opts.strict {
            return Err(strict_failure(1));
        }
    }
    if mode == Mode::Check {
        if let Some(notice) = trust_inject::reach::partial_notice(&processed, &opts) {
            say!("trust-inject: check: notice: {notice}");
        }
        if let Some(note) = trust_inject::reach::source_dependency(&processed, &opts) {
            say!("trust-inject: check: note: {note}");
        }
        return Ok(check(&processed, quiet, &origins));
    }
    report(&processed, &opts, quiet, &origins);
    if let Some(path) = m.try_get_one::<OsString>("report").ok().flatten() {
        let json = trust_inject::report::json_report(&processed, &opts);
        if path == "-" {
            let _ = write!(io::stderr().lock(), "{json}");
        } else {
            write_with(Some(path), |w| w.write_all(json.as_bytes()))?;
        }
    }
    if m.try_get_one::<bool>("diff")
        .ok()
        .flatten()
        .copied()
        .unwrap_or(false)
    {
        let mut output = Vec::with_capacity(input.len());
        processed.write_output(&input, &mut output).map_err(|e| {
            Failure::new(Exit::BadInput, format!("cannot assemble the output: {e}"))
        })?;
        let output = String::from_utf8_lossy(&output);
        let diff = similar::TextDiff::from_lines(input.as_str(), output.as_ref());
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header("input", "injected")
            .to_string();
        write_output(m.get_one::<OsString>("output"), &text)?;
        return Ok(Exit::Ok);
    }
    write_with(m.get_one::<OsString>("output"), |w| {
        #[cfg(debug_assertions)]
        if let Some(mut w) = debug::panic_while_writing(w) {
            return processed.write_output(&input, &mut w);
        }
        processed.write_output(&input, w)
    })?;
    // The process ends right after this: returning the memory piece by piece would only
    // cost time (a few percent on large streams).
    std::mem::forget(processed);
    std::mem::forget(input);
    Ok(Exit::Ok)
}

/// The error after the warnings that `--strict` turned into one.
fn strict_failure(count: usize) -> Failure {
    Failure::new(
        Exit::InjectFailed,
        format!(
            "{count} warning(s) treated as errors (--strict); fix what they name, or run without --strict to let warnings pass"
        ),
    )
}

/// Prints why each workload would not trust the bundle; exit 1 when any would not.
fn check(p: &Processed, quiet: bool, origins: &Origins) -> Exit {
    let mut failing = 0usize;
    for w in &p.workloads {
        let problems = trust_inject::report::check_problems(w);
        if problems.is_empty() {
            continue;
        }
        failing += 1;
        let doc = trust_inject::DocRef {
            object: Some(w.object.to_string()),
            ..w.doc.clone()
        };
        let doc = origins.locate_doc(&doc);
        for problem in problems {
            say!("trust-inject: check: {doc}: {problem}");
        }
    }
    let total = p.workloads.iter().filter(|w| w.skipped.is_none()).count();
    let skipped = p.workloads.len() - total;
    if failing > 0 {
        say!(
            "trust-inject: check failed: {failing} of {total} workloads would not trust the bundle (run the stream through trust-inject to fix them)"
        );
        Exit::InjectFailed
    } else {
        if !quiet {
            say!(
                "trust-inject: check passed: all {total} workloads trust the bundle ({skipped} left alone on purpose)"
            );
        }
        Exit::Ok
    }
}

fn report(p: &Processed, opts: &Options, quiet: bool, origins: &Origins) {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for f in &p.findings {
        if f.severity >= Severity::Warning
            || !quiet
                && f.severity == Severity::Info
                && std::env::var_os("TRUST_INJECT_VERBOSE").is_some()
        {
            let _ = writeln!(
                err,
                "trust-inject: {}: {}",
                paint(f.severity),
                origins.locate_finding(f)
            );
        }
    }
    if quiet {
        return;
    }
    if let Some(notice) = trust_inject::reach::partial_notice(p, opts) {
        let _ = writeln!(err, "trust-inject: notice: {notice}");
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

/// Where each input file sits in the joined stream, so that messages give the file and
/// the line in it. Empty when the input is standard input alone.
#[derive(Default)]
struct Origins(Vec<Origin>);

/// One input file in the joined stream.
struct Origin {
    /// As given on the command line (`<stdin>` for `-`).
    name: String,
    /// The first stream line of its part (the `---` put before it, if any).
    start_line: usize,
    /// The stream line of its own line 1.
    first_line: usize,
    /// Its bytes in the stream (without a line break added after it).
    bytes: std::ops::Range<usize>,
}

impl Origins {
    /// The file holding stream line `line`, and that line in the file.
    fn at(&self, line: usize) -> Option<(&Origin, usize)> {
        let o = self.0.iter().rev().find(|o| o.start_line <= line)?;
        Some((o, (line + 1).saturating_sub(o.first_line).max(1)))
    }

    /// `doc` with lines in its file, prefixed by the file name (unchanged for stdin alone).
    /// With several files the document number is left out: the library counts documents
    /// across the joined stream, and the lines in the file say where it is.
    fn locate_doc(&self, doc: &trust_inject::DocRef) -> String {
        let Some((o, first)) = self.at(doc.first_line) else {
            return doc.to_string();
        };
        let last = (doc.last_line + 1).saturating_sub(o.first_line).max(first);
        if self.0.len() == 1 {
            return format!("{}: {doc}", o.name);
        }
        let mut out = if first == last {
            format!("{}: line {first}", o.name)
        } else {
            format!("{}: lines {first}-{last}", o.name)
        };
        match (&doc.object, &doc.source) {
            (Some(obj), Some(src)) => out.push_str(&format!(" ({obj}, from {src})")),
            (Some(obj), None) => out.push_str(&format!(" ({obj})")),
            (None, Some(src)) => out.push_str(&format!(" (from {src})")),
            (None, None) => {}
        }
        out
    }

    fn locate_finding(&self, f: &trust_inject::Finding) -> String {
        if self.0.is_empty() {
            return f.to_string();
        }
        let path = f
            .path
            .as_ref()
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        format!("{}: {path}{}", self.locate_doc(&f.doc), f.message)
    }

    /// The error, placed in its file. With several files, the file is processed again on
    /// its own: errors are about one document, so it fails the same way, and the error then
    /// carries the document's number, lines and columns in that file.
    fn locate_error(&self, e: &Error, input: &str, opts: &Options) -> String {
        let Some((o, _)) = e.doc().and_then(|d| self.at(d.first_line)) else {
            return e.to_string();
        };
        if self.0.len() > 1
            && let Some(text) = input.get(o.bytes.clone())
            && let Err(alone) = trust_inject::pipeline::plan_edits(text, opts)
            && alone.doc().is_some()
        {
            return format!("{}: {alone}", o.name);
        }
        match e {
            Error::Yaml { doc, message } => format!(
                "{}: invalid YAML: {}",
                self.locate_doc(doc),
                self.locate_message(message)
            ),
            _ => match e.doc() {
                Some(doc) => {
                    let whole = e.to_string();
                    let rest = whole.strip_prefix(&doc.to_string()).unwrap_or(&whole);
                    format!("{}{rest}", self.locate_doc(doc))
                }
                None => e.to_string(),
            },
        }
    }

    /// A parser message starting `line N column M: ` with N in the stream, made local.
    fn locate_message(&self, message: &str) -> String {
        let parsed = message.strip_prefix("line ").and_then(|rest| {
            let (line, rest) = rest.split_once(' ')?;
            Some((line.parse::<usize>().ok()?, rest))
        });
        match parsed.and_then(|(line, rest)| Some((self.at(line)?.1, rest))) {
            Some((local, rest)) => format!("line {local} {rest}"),
            None => message.to_owned(),
        }
    }
}

/// Reads the FILEs (or standard input) into one stream. Files are joined so that each
/// starts a new document: a missing final newline is added and a `---` line put between
/// files that do not start with one. A byte order mark is kept at the start of the stream
/// only: one at the start of a later file would fall inside the stream, where YAML forbids it.
///
/// When standard input is a terminal and `hint` is set, a line on standard error says what
/// is awaited before reading it, so that a bare `trust-inject` does not seem to hang.
fn read_input(files: &[OsString], limit: u64, hint: bool) -> Result<(String, Origins), Failure> {
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
        let reader: Box<dyn Read> = if f == "-" {
            // When standard input is a file (`< big.yaml`), size the buffer once.
            use std::os::fd::AsFd;
            let meta = io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .map(std::fs::File::from)
                .and_then(|f| f.metadata());
            if let Ok(meta) = &meta
                && meta.is_file()
                && total.saturating_add(meta.len()) > limit
            {
                return Err(Failure::new(
                    Exit::BadInput,
                    format!("{name}: {}", Error::TooLarge { limit }),
                ));
            }
            if let Ok(meta) = meta
                && meta.is_file()
                && meta.len() <= limit
            {
                buf.reserve_exact(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
            }
            if hint && io::IsTerminal::is_terminal(&io::stdin()) {
                say!(
                    "trust-inject: reading manifests from standard input (the terminal): paste or type them, then press Ctrl-D; or pass FILEs (`trust-inject --help` for more)"
                );
            }
            Box::new(io::stdin().lock())
        } else {
            let file = std::fs::File::open(f)
                .map_err(|e| Failure::new(Exit::BadInput, format!("{name}: cannot open: {e}")))?;
            // Refuse a file over the limit before reading it; size the buffer once.
            if let Ok(meta) = file.metadata()
                && meta.is_file()
                && total.saturating_add(meta.len()) > limit
            {
                return Err(Failure::new(
                    Exit::BadInput,
                    format!("{name}: {}", Error::TooLarge { limit }),
                ));
            }
            if let Ok(meta) = file.metadata()
                && meta.len() <= limit
            {
                buf.reserve_exact(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
            }
            Box::new(file)
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
    let utf8 = |name: &str, bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = e
                .as_bytes()
                .get(..at)
                .map_or(0, |b| memchr::memchr_iter(b'\n', b).count())
                + 1;
            Failure::new(
                Exit::BadInput,
                format!("{name}: line {line}: not UTF-8 text (invalid byte at offset {at}); Kubernetes manifests are UTF-8"),
            )
        })
    };
    let from_files = !(files.len() == 1 && files.iter().all(|f| f == "-"));
    if sources.len() == 1
        && let Some((name, bytes)) = sources.pop()
    {
        let text = utf8(&name, bytes)?;
        let origins = if from_files {
            Origins(vec![Origin {
                name,
                start_line: 1,
                first_line: 1,
                bytes: 0..text.len(),
            }])
        } else {
            Origins::default()
        };
        return Ok((text, origins));
    }
    let mut out = String::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut origins = Vec::with_capacity(sources.len());
    let mut line = 1usize;
    for (i, (name, bytes)) in sources.into_iter().enumerate() {
        let full = utf8(&name, bytes)?;
        let text = if out.is_empty() {
            &full
        } else {
            full.strip_prefix('\u{feff}').unwrap_or(&full)
        };
        if text.is_empty() {
            continue;
        }
        if i > 0 && !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
            line += 1;
        }
        let start_line = line;
        if i > 0 && !text.starts_with("---") {
            out.push_str("---\n");
            line += 1;
        }
        let start = out.len();
        out.push_str(text);
        origins.push(Origin {
            name,
            start_line,
            first_line: line,
            bytes: start..out.len(),
        });
        line += trust_inject::yaml::count_lines(text);
    }
    Ok((out, Origins(origins)))
}

fn write_output(path: Option<&OsString>, text: &str) -> Result<(), Failure> {
    write_with(path, |w| w.write_all(text.as_bytes()))
}

/// Writes the result to `-o FILE` or standard output, so that it arrives whole or not at
/// all.
///
/// `write` runs twice: first into a counter, so that anything that could fail or panic
/// while assembling the result does so before a byte is written; then for real. A file is
/// written to a temporary file in its folder and renamed over the target, so a failed
/// write (disk full, `ulimit -f`, a crash) leaves the target as it was, even when it is
/// the input. Devices and pipes named by `-o` (`/dev/stdout`) are written in place. A
/// closed pipe on standard output is the reader's choice, not a failure (the Unix
/// convention).
fn write_with(
    path: Option<&OsString>,
    write: impl Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Failure> {
    write(&mut io::sink())
        .map_err(|e| Failure::new(Exit::Internal, format!("cannot assemble the output: {e}")))?;
    match path {
        Some(p) if p != "-" => write_file(std::path::Path::new(p), &write).map_err(|e| {
            // Stopped by a signal: the temporary file is gone; end the way the signal would
            // have ended the process (the Unix convention, so callers see the signal).
            let signal = SIGNALLED.load(std::sync::atomic::Ordering::SeqCst);
            if let Ok(signal) = i32::try_from(signal)
                && signal != 0
            {
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
            // A failed write never touches the target, so whether it exists now is whether
            // it existed before.
            let kept = if std::path::Path::new(p).exists() {
                "the file was left as it was"
            } else {
                "nothing was written"
            };
            Failure::new(
                Exit::WriteFailed,
                format!(
                    "{}: cannot write the output: {e}; {kept}",
                    p.to_string_lossy()
                ),
            )
        }),
        _ => {
            let mut w = io::BufWriter::with_capacity(1 << 20, io::stdout().lock());
            match write(&mut w).and_then(|()| w.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Failure::new(
                    Exit::WriteFailed,
                    format!(
                        "<stdout>: cannot write the output: {e}; what was written is incomplete"
                    ),
                )),
            }
        }
    }
}

/// Writes `target` through a temporary file renamed over it (see [`write_with`]).
fn write_file(
    target: &std::path::Path,
    write: &dyn Fn(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let existing = std::fs::metadata(target).ok();
    if let Some(meta) = &existing
        && !meta.is_file()
    {
        // A device or a pipe cannot be replaced; the output is complete before this.
        let file = std::fs::OpenOptions::new().write(true).open(target)?;
        let mut w = io::BufWriter::with_capacity(1 << 20, file);
        write(&mut w)?;
        return w.flush();
    }
    // Through a symbolic link, replace the file it points to, not the link.
    // A termination signal stops the writing so that the temporary file is removed.
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        if let Ok(n) = usize::try_from(signal) {
            let _ = signal_hook::flag::register_usize(signal, &SIGNALLED, n);
        }
    }
    let real = std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
    let dir = real
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        // A new file gets the usual 0666 less the umask, as the shell's `>` would.
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    if let Some(meta) = &existing {
        // Keep the target's mode and, where allowed, its owner.
        std::fs::set_permissions(tmp.path(), meta.permissions())?;
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
    }
    {
        let mut w = io::BufWriter::with_capacity(1 << 20, StopOnSignal::new(tmp.as_file_mut()));
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) != 0 {
        return Err(io::Error::other("interrupted by a signal"));
    }
    tmp.persist(&real).map_err(|e| e.error)?;
    Ok(())
}

/// A writer that fails once a termination signal has arrived (see [`SIGNALLED`]).
struct StopOnSignal<W> {
    inner: W,
    /// Debug builds: raise this signal after the first write (`TRUST_INJECT_DEBUG_SIGNAL`).
    #[cfg(debug_assertions)]
    raise: Option<i32>,
}

impl<W> StopOnSignal<W> {
    fn new(inner: W) -> Self {
        StopOnSignal {
            inner,
            #[cfg(debug_assertions)]
            raise: debug::signal_while_writing(),
        }
    }

    fn check() -> io::Result<()> {
        if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            Ok(())
        } else {
            Err(io::Error::other("interrupted by a signal"))
        }
    }
}

impl<W: Write> Write for StopOnSignal<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Self::check()?;
        let n = self.inner.write(buf)?;
        #[cfg(debug_assertions)]
        if let Some(signal) = self.raise.take() {
            let _ = signal_hook::low_level::raise(signal);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Self::check()?;
        self.inner.flush()
    }
}

/// Test hooks compiled into debug builds only: a release build has no way to trigger them.
#[cfg(debug_assertions)]
mod debug {
    use std::io::{self, Write};

    /// Panics before the input is processed when `TRUST_INJECT_DEBUG_PANIC=plan`.
    pub fn panic_before_processing() {
        if std::env::var_os("TRUST_INJECT_DEBUG_PANIC").is_some_and(|v| v == "plan") {
            panic!("forced panic before processing (TRUST_INJECT_DEBUG_PANIC=plan)");
        }
    }

    /// With `TRUST_INJECT_DEBUG_SIGNAL=term`, SIGTERM arrives while an output file is
    /// being written.
    pub fn signal_while_writing() -> Option<i32> {
        std::env::var_os("TRUST_INJECT_DEBUG_SIGNAL")
            .is_some_and(|v| v == "term")
            .then_some(signal_hook::consts::SIGTERM)
    }

    /// With `TRUST_INJECT_DEBUG_PANIC=write`, a writer that panics once 100 bytes have
    /// gone through it: a crash in the middle of writing the output.
    pub fn panic_while_writing(w: &mut dyn Write) -> Option<PanicAfter<'_>> {
        std::env::var_os("TRUST_INJECT_DEBUG_PANIC")
            .is_some_and(|v| v == "write")
            .then_some(PanicAfter {
                inner: w,
                left: 100,
            })
    }

    pub struct PanicAfter<'a> {
        inner: &'a mut dyn Write,
        left: usize,
    }

    impl Write for PanicAfter<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() >= self.left {
                panic!("forced panic while writing (TRUST_INJECT_DEBUG_PANIC=write)");
            }
            self.left -= buf.len();
            self.inner.write(buf)
        }

        fn flush(&mut self) -> io::Result<()> {
            self.inner.flush()
        }
    }
}
