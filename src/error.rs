//! Errors and findings, each naming the document it is about, and the exit code of each
//! error ([`Error::exit`], the only place that maps one to the other).

use crate::bundle::BundleError;
use crate::config::ConfigErrors;

/// Exit codes. Listed in `--help` and the README (`EXIT_CODES` in `cli.rs`); never reuse
/// a number.
///
/// # Examples
/// ```
/// use trust_inject::{Exit, Options, process};
/// let opts = Options::from_configmap("corp-ca", "ca.crt");
/// let err = process("a: [\n", &opts).expect_err("invalid YAML");
/// assert_eq!(err.exit(), Exit::BadInput);
/// assert_eq!(std::process::ExitCode::from(Exit::BadInput), std::process::ExitCode::from(3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// A workload could not be injected (a conflict, or warnings under --strict).
    InjectFailed = 1,
    /// Bad command line.
    Usage = 2,
    /// Unreadable or invalid input (I/O, invalid YAML, over a limit, empty under --fail-on-empty).
    BadInput = 3,
    /// Invalid configuration (config file, functionConfig, option values, CA files).
    BadConfig = 4,
    /// The output could not be written (disk full, file size limit, unwritable place).
    WriteFailed = 5,
    /// A bug: the run crashed (nothing was written).
    Internal = 6,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every exit code is in the table `--help` and the README print, with the meaning
    /// its variant documents.
    #[test]
    fn every_exit_code_is_in_the_documented_table() {
        for (exit, word) in [
            (Exit::Ok, "success"),
            (Exit::InjectFailed, "could not be injected"),
            (Exit::Usage, "usage error"),
            (Exit::BadInput, "input error"),
            (Exit::BadConfig, "configuration error"),
            (Exit::WriteFailed, "could not be written"),
            (Exit::Internal, "internal error"),
        ] {
            let line = format!("\n  {}  ", exit as u8);
            let at = crate::cli::EXIT_CODES
                .find(&line)
                .unwrap_or_else(|| panic!("{exit:?} is not in the table"));
            let rest = crate::cli::EXIT_CODES.get(at + line.len()..).unwrap_or("");
            let text = rest.lines().next().unwrap_or("");
            assert!(text.contains(word), "{exit:?}: {text}");
        }
    }
}

#[cfg(test)]
mod typed_tests {
    use super::*;
    use crate::{Options, process};

    fn fails(input: &str, opts: &Options) -> Error {
        match process(input, opts) {
            Ok(_) => panic!("{input:?} was accepted"),
            Err(e) => e,
        }
    }

    /// Invalid YAML, limits, refused line breaks and bad merge keys carry what and where
    /// as fields, and print the messages they always did.
    #[test]
    fn document_errors_carry_typed_fields() {
        let opts = Options::from_configmap("corp-ca", "ca.crt");
        let pod =
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n";

        let e = fails(&format!("{pod}---\nkind: [x\n"), &opts);
        let Error::Yaml {
            doc,
            line,
            column,
            problem,
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!((doc.index, *line, *column), (2, 9, 9), "{e}");
        assert!(
            e.to_string()
                .ends_with(&format!("invalid YAML: line 9 column 9: {problem}"))
        );

        let e = fails(&pod.replace("\n  name: p", "\r  name: p"), &opts);
        assert!(
            matches!(
                e,
                Error::LineBreak {
                    found: OddLineBreak::LoneCr,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = fails(&pod.replace("name: c", "name: c\u{2028}"), &opts);
        assert!(
            matches!(
                e,
                Error::LineBreak {
                    found: OddLineBreak::Unicode,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .contains(": the document uses a NEL, LS or PS character, which YAML 1.1"),
            "{e}"
        );

        let e = fails(&pod.replace("spec:\n", "spec:\n  <<: x\n"), &opts);
        assert!(matches!(e, Error::BadMerge { line: 6, .. }), "{e:?}");
        assert!(
            e.to_string()
                .ends_with(": line 6: a `<<` merge key must hold a mapping or a list of mappings"),
            "{e}"
        );
    }

    /// Limits carry which limit, and its numbers.
    #[test]
    fn limit_errors_carry_the_limit() {
        let mut opts = Options::from_configmap("corp-ca", "ca.crt");
        let pod =
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n";
        opts.limits.max_alias_nodes = 3;
        let aliased = pod.replace(
            "  containers:\n  - name: c\n",
            "  x: &a [1, 2, 3]\n  y: [*a, *a]\n  containers:\n  - name: c\n",
        );
        let e = fails(&aliased, &opts);
        assert!(
            matches!(
                &e,
                Error::Limit {
                    over: OverLimit::AliasNodes { limit: 3 },
                    ..
                }
            ),
            "{e:?}"
        );

        opts.max_workload_bytes = 10;
        let e = fails(pod, &opts);
        let Error::Limit {
            over: OverLimit::WorkloadBytes { bytes, limit: 10 },
            ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(*bytes, pod.len());
        assert_eq!(e.exit(), Exit::BadInput);
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        Self::from(e as u8)
    }
}

/// Where a document sits in the input, and what it is.
///
/// # Examples
/// ```
/// let doc = trust_inject::DocRef {
///     index: 2,
///     first_line: 5,
///     last_line: 9,
///     object: Some("Deployment web/api".into()),
///     source: Some("chart/templates/api.yaml".into()),
/// };
/// assert_eq!(doc.to_string(), "document 2 (lines 5-9, Deployment web/api, from chart/templates/api.yaml)");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocRef {
    /// 1-based index in the stream.
    pub index: usize,
    /// First line, 1-based.
    pub first_line: usize,
    /// Last line, 1-based.
    pub last_line: usize,
    /// The object (`Deployment default/web`), when known.
    pub object: Option<String>,
    /// The Helm template that produced it (from its `# Source:` comment), when known.
    pub source: Option<String>,
}

impl std::fmt::Display for DocRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "document {} (", self.index)?;
        if self.first_line == self.last_line {
            write!(f, "line {}", self.first_line)?;
        } else {
            write!(f, "lines {}-{}", self.first_line, self.last_line)?;
        }
        if let Some(o) = &self.object {
            write!(f, ", {o}")?;
        }
        if let Some(s) = &self.source {
            write!(f, ", from {s}")?;
        }
        f.write_str(")")
    }
}

/// How serious a finding is.
///
/// # Examples
/// ```
/// use trust_inject::Severity;
/// assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Info);
/// assert_eq!(Severity::Warning.to_string(), "warning");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something was done or left, for the record.
    Info,
    /// Something was left alone that the user may want to know about.
    Warning,
    /// The run fails.
    Error,
}

impl Severity {
    /// `info`, `warning` or `error`, as KRM results and the JSON report spell it.
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something worth telling the user: a note or a warning of a run, a conflict that stops
/// it, or a result of a KRM run. Tied to its document and object once they are known.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    trust-inject.dev/skip: \"true\"\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::process(pod, &opts)?;
/// let f: &trust_inject::Finding = &run.findings[0];
/// assert_eq!(f.severity, trust_inject::Severity::Info);
/// assert_eq!(f.to_string(), "document 1 (lines 1-9, Pod p): left alone: annotated trust-inject.dev/skip: \"true\"");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// The document (index, lines, object, Helm template), when the finding is about one.
    pub doc: Option<DocRef>,
    /// `apiVersion`, `kind`, namespace and name of the object, when known.
    pub object: Option<crate::workload::ObjectRef>,
    /// Field path inside the document, when there is one.
    pub path: Option<String>,
    /// What happened and what to do.
    pub message: String,
    /// Shown even as `info` on a run that succeeds (the partial-trust notice of a KRM
    /// run); other `info` findings are shown only with `--verbose` or when the run fails.
    pub notice: bool,
}

impl Finding {
    /// A finding with no document, object or field yet.
    #[must_use]
    pub(crate) fn new(severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            severity,
            doc: None,
            object: None,
            path: None,
            message: message.into(),
            notice: false,
        }
    }

    /// The same finding about the field `path`.
    #[must_use]
    pub(crate) fn at(self, path: impl ToString) -> Self {
        Finding {
            path: Some(path.to_string()),
            ..self
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(doc) = &self.doc {
            write!(f, "{doc}: ")?;
        }
        if let Some(p) = &self.path {
            write!(f, "{p}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The resource limit a document is over.
///
/// # Examples
/// ```
/// use trust_inject::{Error, OverLimit};
/// let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// opts.max_workload_bytes = 10;
/// let err = trust_inject::process("kind: Pod\nspec:\n  containers: []\n", &opts).expect_err("too large");
/// assert!(matches!(err, Error::Limit { over: OverLimit::WorkloadBytes { limit: 10, .. }, .. }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverLimit {
    /// A document that may hold a workload is larger than `--max-workload-bytes`.
    #[error(
        "the document may hold a workload and has {bytes} bytes, over the limit of {limit} (Kubernetes stores no object over 1.5 MiB); raise it with --max-workload-bytes"
    )]
    WorkloadBytes {
        /// The size of the document.
        bytes: usize,
        /// The limit in force.
        limit: u64,
    },
    /// Expanding the document's aliases creates more nodes than `--max-alias-nodes`.
    #[error(
        "excessive aliasing: expanding aliases creates more than {limit} nodes (raise the limit with --max-alias-nodes)"
    )]
    AliasNodes {
        /// The limit in force.
        limit: usize,
    },
}

/// A line break other than LF or CRLF.
///
/// # Examples
/// ```
/// use trust_inject::{Error, OddLineBreak};
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\r\nspec:\n  containers:\n  - name: app\r";
/// let err = trust_inject::process(pod, &opts).expect_err("a lone CR");
/// assert!(matches!(err, Error::LineBreak { found: OddLineBreak::LoneCr, .. }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OddLineBreak {
    /// A carriage return not followed by a line feed (old Mac files).
    #[error("carriage returns alone as line breaks")]
    LoneCr,
    /// NEL, LS or PS: line breaks in YAML 1.1 only.
    #[error("a NEL, LS or PS character")]
    Unicode,
}

/// Why a run failed. Nothing is written when any of these happens.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use trust_inject::{Error, Exit};
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: 7\n";
/// let err = trust_inject::process(pod, &opts).expect_err("containers is not a list");
/// let Error::Inject(f) = &err else { panic!("{err:?}") };
/// assert_eq!(f.path.as_deref(), Some("spec.containers"));
/// assert_eq!(err.exit(), Exit::InjectFailed);
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Invalid YAML.
    #[error("{doc}: invalid YAML: line {line} column {column}: {problem}")]
    Yaml {
        /// The document.
        doc: DocRef,
        /// Where the parser stopped: line in the stream, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// What the parser found wrong.
        problem: String,
    },
    /// A workload that cannot be injected as it is: a finding of severity `error` with
    /// its document, object (when known) and field.
    #[error("{0}")]
    Inject(Box<Finding>),
    /// A document over a resource limit.
    #[error("{doc}: {over}")]
    Limit {
        /// The document.
        doc: Box<DocRef>,
        /// Which limit, and by how much.
        over: OverLimit,
    },
    /// A document whose line breaks the tool refuses (lone CR, NEL, LS, PS).
    #[error(
        "{doc}: the document uses {found}, which YAML 1.1 (what Kubernetes reads) and YAML 1.2 treat differently or this tool cannot edit safely; convert it to LF or CRLF line endings"
    )]
    LineBreak {
        /// The document.
        doc: Box<DocRef>,
        /// The line break found.
        found: OddLineBreak,
    },
    /// A `<<` merge key whose value is not a mapping or a list of mappings.
    #[error("{doc}: line {line}: a `<<` merge key must hold a mapping or a list of mappings")]
    BadMerge {
        /// The document.
        doc: Box<DocRef>,
        /// The line of the merge key in the stream, 1-based.
        line: usize,
    },
    /// Warnings under `--strict`: every one of them, each with its document.
    #[error("{} warning(s) treated as errors (--strict): {}", .warnings.len(), join_findings(.warnings))]
    Strict {
        /// The warnings, in stream order.
        warnings: Vec<Finding>,
    },
    /// The input is over the size limit.
    #[error("the input is larger than {limit} bytes (raise the limit with --max-input-bytes)")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The input has no object while one was required.
    #[error(
        "the input holds no Kubernetes object; refusing to write an empty result (a failed render upstream?). Pass --fail-on-empty=false to allow it"
    )]
    Empty,
    /// Bad option values (after layering), or a functionConfig.
    #[error("invalid configuration: {0}")]
    Config(ConfigErrors),
    /// A config file (`--config`, the kustomize plugin config) that is invalid.
    #[error("{origin}: {errors}")]
    ConfigFile {
        /// The file, or `kustomize plugin config`.
        origin: String,
        /// Every problem in it.
        errors: ConfigErrors,
    },
    /// A config file that cannot be read.
    #[error("{path}: cannot read the config file: {io}")]
    ConfigUnreadable {
        /// The file as given.
        path: String,
        /// Why.
        io: std::io::Error,
    },
    /// The CA files (`--ca-file`, `--public-roots`) cannot be used.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// Certificate warnings under `--strict` (already printed one by one).
    #[error("{count} certificate warning(s) treated as errors (--strict)")]
    StrictCertificates {
        /// How many.
        count: usize,
    },
    /// Warnings under `--strict`, already printed one by one.
    #[error(
        "{count} warning(s) treated as errors (--strict); fix what they name, or run without --strict to let warnings pass"
    )]
    StrictCount {
        /// How many.
        count: usize,
    },
    /// `check` with `-o/--output`.
    #[error(
        "check writes no manifests, so -o/--output {output} has nothing to write: drop it (check prints its verdict on standard error and exits 0 or 1); to write the injected manifests, run without check"
    )]
    CheckWithOutput {
        /// The output named.
        output: String,
    },
    /// An input file over the size limit before it is read.
    #[error(
        "{name}: the input is larger than {limit} bytes (raise the limit with --max-input-bytes)"
    )]
    InputTooLarge {
        /// The file (`<stdin>` for standard input).
        name: String,
        /// The limit.
        limit: u64,
    },
    /// An input that cannot be opened.
    #[error("{name}: cannot open: {io}")]
    Open {
        /// The file as given.
        name: String,
        /// Why.
        io: std::io::Error,
    },
    /// An input that cannot be read.
    #[error("{name}: cannot read: {io}")]
    Read {
        /// The file (`<stdin>` for standard input).
        name: String,
        /// Why.
        io: std::io::Error,
    },
    /// An input that is not UTF-8.
    #[error(
        "{name}: line {line}: not UTF-8 text (invalid byte at offset {offset}); Kubernetes manifests are UTF-8"
    )]
    NotUtf8 {
        /// The file (`<stdin>` for standard input).
        name: String,
        /// The line of the first invalid byte, 1-based.
        line: usize,
        /// Its byte offset.
        offset: usize,
    },
    /// The output cannot be written.
    #[error("{target}: cannot write the output: {io}; {kept}")]
    Write {
        /// `-o FILE`, or `<stdout>`.
        target: String,
        /// Why.
        io: std::io::Error,
        /// What became of the target.
        kept: &'static str,
    },
    /// `trust-inject merge` failed; nothing was written.
    #[error("merge: {0}")]
    Merge(crate::merge::MergeError),
    /// A bug: something that cannot fail did.
    #[error("{what}: {io}")]
    Internal {
        /// What failed (`cannot assemble the output`).
        what: &'static str,
        /// Why.
        io: std::io::Error,
    },
}

impl From<ConfigErrors> for Error {
    fn from(e: ConfigErrors) -> Self {
        Error::Config(e)
    }
}

impl Error {
    /// An [`Error::Inject`] about the field `path` of the document `doc`.
    pub(crate) fn inject(
        doc: DocRef,
        object: Option<crate::workload::ObjectRef>,
        path: impl ToString,
        message: impl Into<String>,
    ) -> Error {
        Error::Inject(Box::new(Finding {
            doc: Some(doc),
            object,
            ..Finding::new(Severity::Error, message).at(path)
        }))
    }

    /// The document the error is about, when there is one.
    ///
    /// # Examples
    /// ```
    /// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// let err = trust_inject::process("kind: Service\n---\nkind: [\n", &opts).expect_err("invalid");
    /// let doc = err.doc().expect("names the document");
    /// assert_eq!((doc.index, doc.first_line), (2, 2)); // the second document starts at `---`
    /// ```
    #[must_use]
    pub fn doc(&self) -> Option<&DocRef> {
        match self {
            Error::Yaml { doc, .. } => Some(doc),
            Error::Inject(f) => f.doc.as_ref(),
            Error::Limit { doc, .. }
            | Error::LineBreak { doc, .. }
            | Error::BadMerge { doc, .. } => Some(&**doc),
            _ => None,
        }
    }

    /// Whether this is about the input (as opposed to the configuration or injection).
    ///
    /// # Examples
    /// ```
    /// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// assert!(trust_inject::process("kind: [\n", &opts).expect_err("invalid").is_input());
    /// let mut bad = opts.clone();
    /// bad.bundle_files = vec!["testdata/pki/test-only-key.pem".into()];
    /// let err = trust_inject::Error::from(bad.load_bundle().expect_err("a private key"));
    /// assert!(!err.is_input());
    /// ```
    #[must_use]
    pub fn is_input(&self) -> bool {
        self.exit() == Exit::BadInput
    }

    /// The exit code the binary ends with after this error: the only place that maps
    /// errors to exit codes.
    ///
    /// # Examples
    /// ```
    /// use trust_inject::{Error, Exit, Options, process};
    /// let opts = Options::from_configmap("corp-ca", "ca.crt");
    /// let err = process("kind: [unclosed\n", &opts).expect_err("invalid YAML");
    /// assert!(matches!(err, Error::Yaml { .. }));
    /// assert_eq!(err.exit(), Exit::BadInput);
    /// assert_eq!(err.exit() as u8, 3);
    /// ```
    #[must_use]
    pub fn exit(&self) -> Exit {
        match self {
            Error::Inject(_)
            | Error::Strict { .. }
            | Error::StrictCertificates { .. }
            | Error::StrictCount { .. } => Exit::InjectFailed,
            Error::CheckWithOutput { .. } => Exit::Usage,
            Error::Yaml { .. }
            | Error::Limit { .. }
            | Error::LineBreak { .. }
            | Error::BadMerge { .. }
            | Error::TooLarge { .. }
            | Error::Empty
            | Error::InputTooLarge { .. }
            | Error::Open { .. }
            | Error::Read { .. }
            | Error::NotUtf8 { .. } => Exit::BadInput,
            Error::Config(_)
            | Error::ConfigFile { .. }
            | Error::ConfigUnreadable { .. }
            | Error::Bundle(_) => Exit::BadConfig,
            Error::Merge(e) => match e {
                crate::merge::MergeError::Absent { .. }
                | crate::merge::MergeError::Empty { .. } => Exit::BadInput,
                crate::merge::MergeError::Write { .. } => Exit::WriteFailed,
                _ => Exit::BadConfig,
            },
            Error::Write { .. } => Exit::WriteFailed,
            Error::Internal { .. } => Exit::Internal,
        }
    }
}

/// The warnings of [`Error::Strict`], on one line.
fn join_findings(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
