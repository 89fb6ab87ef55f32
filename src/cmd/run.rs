//! One run: read the input, call the library, print findings, write the output.

use std::ffi::OsString;
use std::io::{self, Write};

use trust_inject::{Action, Error, Exit, Invocation, Options, Processed, Severity};

use super::input::{Origins, read_input};
#[cfg(debug_assertions)]
use super::output::debug;
use super::output::{write_output, write_with};
use super::paint;

/// An error, and how it is shown when the input's files place it better than the
/// library's message (several FILEs: the file and the line in it).
pub struct Failed {
    pub error: Box<Error>,
    pub shown: Option<String>,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Self {
        Failed {
            error: Box::new(error),
            shown: None,
        }
    }
}

pub fn run(inv: Invocation) -> Result<Exit, Failed> {
    match inv.action {
        Action::Completions(_) | Action::Man => return print_docs(inv.action),
        Action::Merge => return run_merge(&inv),
        Action::Inject | Action::Check => {}
    }
    let quiet = inv.quiet;
    let (input, origins) = read_input(&inv.files, inv.max_input_bytes, !quiet)?;

    // KRM function mode: a ResourceList on stdin (kustomize, kpt).
    if inv.files.is_empty() && !inv.legacy && trust_inject::is_resource_list(&input) {
        return run_krm(&inv, &input);
    }

    let opts = load_options(&inv)?;
    #[cfg(debug_assertions)]
    debug::panic_before_processing();
    // Per-workload reports only for what prints them: memory then stays flat however many
    // workloads the stream holds.
    let reports = if inv.action == Action::Check || inv.report.is_some() {
        trust_inject::Reports::PerWorkload
    } else {
        trust_inject::Reports::SummaryOnly
    };
    let processed = plan(&input, &opts, &origins, reports)?;
    if inv.fail_on_empty && processed.summary.objects == 0 {
        return Err(Error::Empty.into());
    }
    // No workload at all: a warning (printed under --quiet too), an error under --strict.
    if let Some(w) = trust_inject::no_workload_warning(&processed, processed.summary.objects) {
        say!("trust-inject: {}: {w}", paint(Severity::Warning));
        if opts.strict {
            return Err(Error::StrictCount { count: 1 }.into());
        }
    }
    if inv.action == Action::Check {
        if let Some(notice) = trust_inject::partial_notice(&processed, &opts) {
            say!("trust-inject: check: notice: {notice}");
        }
        if let Some(note) = trust_inject::source_dependency(&processed, &opts) {
            say!("trust-inject: check: note: {note}");
        }
        return Ok(check(&processed, quiet, &origins));
    }
    report(&processed, &opts, quiet, inv.verbose, &origins);
    if let Some(path) = &inv.report {
        let json = trust_inject::json_report(&processed, &opts);
        if path == "-" {
            let _ = write!(io::stderr().lock(), "{json}");
        } else {
            write_with(Some(path), |w| w.write_all(json.as_bytes()))?;
        }
    }
    if inv.diff {
        write_diff(&processed, &input, inv.output.as_ref())?;
        return Ok(Exit::Ok);
    }
    write_with(inv.output.as_ref(), |w| {
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

/// The options, with the bundle of `--ca-file` read and its certificates and warnings
/// printed.
fn load_options(inv: &Invocation) -> Result<Options, Failed> {
    let mut opts = Options::from_settings(&inv.settings).map_err(Error::Config)?;
    let read = opts.load_bundle().map_err(Error::Bundle)?;
    if !inv.quiet {
        print_certificates(&read);
    }
    for w in &read.warnings {
        say!("trust-inject: {}: {w}", paint(Severity::Warning));
    }
    if opts.strict && !read.warnings.is_empty() {
        let count = read.warnings.len();
        return Err(Error::StrictCertificates { count }.into());
    }
    Ok(opts)
}

/// The edits for `input`; errors placed in the input's files.
fn plan(
    input: &str,
    opts: &Options,
    origins: &Origins,
    reports: trust_inject::Reports,
) -> Result<Processed, Failed> {
    match trust_inject::plan_edits_reporting(input, opts, reports) {
        Ok(p) => Ok(p),
        Err(Error::Strict { warnings }) => {
            // Every warning, each placed in its file, then the verdict.
            for w in &warnings {
                say!(
                    "trust-inject: {}: {}",
                    paint(Severity::Warning),
                    origins.locate_finding(w)
                );
            }
            let count = warnings.len();
            Err(Error::StrictCount { count }.into())
        }
        Err(e) => {
            let shown = Some(origins.locate_error(&e, input, opts));
            Err(Failed {
                error: Box::new(e),
                shown,
            })
        }
    }
}

/// `trust-inject merge`: the start-up merge init container's command.
fn run_merge(inv: &Invocation) -> Result<Exit, Failed> {
    let Some(args) = &inv.merge else {
        return Ok(Exit::Ok);
    };
    let done = trust_inject::merge(args).map_err(Error::Merge)?;
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

/// Prints the completion script or the man page.
fn print_docs(action: Action) -> Result<Exit, Failed> {
    let mut text = Vec::new();
    if let Action::Completions(shell) = action {
        let cmd = &mut trust_inject::command();
        clap_complete::generate(shell, cmd, "trust-inject", &mut text);
    } else {
        clap_mangen::Man::new(trust_inject::command())
            .render(&mut text)
            .map_err(|io| Error::Internal {
                what: "cannot render the man page",
                io,
            })?;
    }
    write_with(None, |w| w.write_all(&text))?;
    Ok(Exit::Ok)
}

/// Writes a unified diff of the change (`--diff`) instead of the manifests.
fn write_diff(processed: &Processed, input: &str, output: Option<&OsString>) -> Result<(), Error> {
    let mut injected = Vec::with_capacity(input.len());
    processed
        .write_output(input, &mut injected)
        .map_err(|io| Error::Internal {
            what: "cannot assemble the output",
            io,
        })?;
    let injected = String::from_utf8_lossy(&injected);
    let diff = similar::TextDiff::from_lines(input, injected.as_ref());
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header("input", "injected")
        .to_string();
    write_output(output, &text)
}

/// Runs as a KRM function on the ResourceList `input`: the results that matter on standard
/// error, the ResourceList (with its results) on the output even when it failed.
fn run_krm(inv: &Invocation, input: &str) -> Result<Exit, Failed> {
    let out = trust_inject::run_krm(input, &inv.settings);
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
    write_output(inv.output.as_ref(), &out.text)?;
    Ok(if out.invalid_config {
        Exit::BadConfig
    } else if out.failed {
        Exit::InjectFailed
    } else {
        Exit::Ok
    })
}

/// One line per CA read from `--ca-file`.
fn print_certificates(read: &trust_inject::ReadBundle) {
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

/// Prints why each workload would not trust the bundle; exit 1 when any would not.
fn check(p: &Processed, quiet: bool, origins: &Origins) -> Exit {
    let mut failing = 0usize;
    for w in &p.workloads {
        let problems = trust_inject::check_problems(w);
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

fn report(p: &Processed, opts: &Options, quiet: bool, verbose: bool, origins: &Origins) {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for f in &p.findings {
        if f.severity >= Severity::Warning || !quiet && f.severity == Severity::Info && verbose {
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
    if let Some(notice) = trust_inject::partial_notice(p, opts) {
        let _ = writeln!(err, "trust-inject: notice: {notice}");
    }
    let s = &p.summary;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut line = format!(
        "trust-inject: injected {} into {} ({}) in {}",
        if opts.inject_ca {
            opts.source_name()
        } else {
            "the proxy settings"
        },
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
                    k.to_string()
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
