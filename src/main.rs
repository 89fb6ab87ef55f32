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

fn main() -> ExitCode {
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
            clap_complete::generate(
                shell,
                &mut cli::command(),
                "trust-inject",
                &mut io::stdout(),
            );
            Ok(Exit::Ok)
        }
        Some(("man", _)) => clap_mangen::Man::new(cli::command())
            .render(&mut io::stdout())
            .map(|()| Exit::Ok)
            .map_err(|e| Failure::new(Exit::BadInput, format!("<stdout>: cannot write: {e}"))),
        Some(("check", sm)) => run(sm, Mode::Check, None, false, &mut error_log),
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
            eprintln!("trust-inject: {}: {}", paint(Severity::Error), f.message);
            if let Some(path) = error_log {
                log_error(&path, &f.message);
            }
            f.exit.into()
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
    eprintln!(
        "trust-inject: the error was also written to {}",
        path.display()
    );
}

/// Options from Argo CD's config management plugin: parameters arrive as `PARAM_<NAME>`
/// (`PARAM_CONFIGMAP`, `PARAM_COMPLETE_BUNDLE`) and the Application's plugin env as
/// `ARGOCD_ENV_TRUST_INJECT_<NAME>`.
fn argocd_settings() -> Result<Settings, Failure> {
    let mut pairs: Vec<(&'static str, String)> = Vec::new();
    for f in trust_inject::config::FIELDS {
        let upper = f.flag.to_ascii_uppercase().replace('-', "_");
        for var in [format!("PARAM_{upper}"), format!("ARGOCD_ENV_{}", f.env())] {
            if let Ok(v) = std::env::var(&var) {
                pairs.push((f.flag, v));
            }
        }
        // Array parameters arrive one variable per item: PARAM_CA_FILE_0, PARAM_CA_FILE_1, ...
        let items: Vec<String> = (0..)
            .map_while(|i| std::env::var(format!("PARAM_{upper}_{i}")).ok())
            .collect();
        if !items.is_empty() {
            pairs.push((f.flag, items.join(",")));
        }
    }
    Settings::from_flat(
        pairs.iter().map(|(k, v)| (*k, v.as_str())),
        "Argo CD parameters",
    )
    .map_err(|e| Failure::new(Exit::BadConfig, format!("invalid configuration: {e}")))
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
    let cli_settings = cli::settings_from_matches(m);
    if let Some(Setting::Str(p)) = cli_settings
        .0
        .get("error-log")
        .filter(|s| !matches!(s, Setting::Str(p) if p.is_empty()))
    {
        *error_log = Some(p.into());
    } else if std::env::var_os("HELM_PLUGIN_NAME").is_some() {
        *error_log = default_error_log();
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
    let input = read_input(&files, limit)?;

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
                eprintln!("trust-inject: {}: {obj}{}", paint(r.severity), r.message);
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
        eprintln!("trust-inject: {}: {w}", paint(Severity::Warning));
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
    let processed = trust_inject::pipeline::plan_edits(&input, &opts).map_err(|e| {
        let exit = match &e {
            Error::Config(_) => Exit::BadConfig,
            e if e.is_input() => Exit::BadInput,
            _ => Exit::InjectFailed,
        };
        Failure::new(exit, e.to_string())
    })?;
    let fail_on_empty = match settings.0.get("fail-on-empty") {
        Some(Setting::Bool(b)) => *b,
        _ => std::env::var_os("ARGOCD_APP_NAME").is_some(),
    };
    if fail_on_empty && processed.summary.objects == 0 {
        return Err(Failure::new(Exit::BadInput, Error::Empty.to_string()));
    }
    if mode == Mode::Check {
        return Ok(check(&processed, quiet));
    }
    report(&processed, &opts, quiet);
    if let Some(path) = m.try_get_one::<OsString>("report").ok().flatten() {
        let json = trust_inject::report::json_report(&processed, &opts);
        if path == "-" {
            eprint!("{json}");
        } else {
            std::fs::write(path, json).map_err(|e| {
                Failure::new(
                    Exit::BadInput,
                    format!("{}: cannot write the report: {e}", path.to_string_lossy()),
                )
            })?;
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
        processed.write_output(&input, w)
    })?;
    // The process ends right after this: returning the memory piece by piece would only
    // cost time (a few percent on large streams).
    std::mem::forget(processed);
    std::mem::forget(input);
    Ok(Exit::Ok)
}

/// Prints why each workload would not trust the bundle; exit 1 when any would not.
fn check(p: &Processed, quiet: bool) -> Exit {
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
        for problem in problems {
            eprintln!("trust-inject: check: {doc}: {problem}");
        }
    }
    let total = p.workloads.iter().filter(|w| w.skipped.is_none()).count();
    let skipped = p.workloads.len() - total;
    if failing > 0 {
        eprintln!(
            "trust-inject: check failed: {failing} of {total} workloads would not trust the bundle (run the stream through trust-inject to fix them)"
        );
        Exit::InjectFailed
    } else {
        if !quiet {
            eprintln!(
                "trust-inject: check passed: all {total} workloads trust the bundle ({skipped} left alone on purpose)"
            );
        }
        Exit::Ok
    }
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
            let _ = writeln!(err, "trust-inject: {}: {f}", paint(f.severity));
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
            Failure::new(
                Exit::BadInput,
                format!("{name}: not UTF-8 text (invalid byte at offset {at}); Kubernetes manifests are UTF-8"),
            )
        })
    };
    if sources.len() == 1
        && let Some((name, bytes)) = sources.pop()
    {
        return utf8(&name, bytes);
    }
    let mut out = String::with_capacity(usize::try_from(total).unwrap_or(0));
    for (i, (name, bytes)) in sources.into_iter().enumerate() {
        let text = utf8(&name, bytes)?;
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
    write_with(path, |w| w.write_all(text.as_bytes()))
}

/// Writes to `-o FILE` or standard output through one buffer; a closed pipe is not an error.
fn write_with(
    path: Option<&OsString>,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Failure> {
    let result = match path {
        Some(p) if p != "-" => std::fs::File::create(p)
            .and_then(|file| {
                let mut w = io::BufWriter::with_capacity(1 << 20, file);
                f(&mut w)?;
                w.flush()
            })
            .map_err(|e| (p.to_string_lossy().into_owned(), e)),
        _ => {
            let stdout = io::stdout();
            let mut w = io::BufWriter::with_capacity(1 << 20, stdout.lock());
            f(&mut w)
                .and_then(|()| w.flush())
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
