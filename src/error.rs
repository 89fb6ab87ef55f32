//! Errors and findings, each naming the document it is about.

use crate::config::ConfigErrors;

/// Where a document sits in the input, and what it is.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something was done or left, for the record.
    Info,
    /// Something was left alone that the user may want to know about.
    Warning,
    /// The run fails.
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Something worth telling the user about one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// The document.
    pub doc: DocRef,
    /// `apiVersion`, `kind`, namespace and name of the object, for KRM results.
    pub object: Option<crate::workload::ObjectRef>,
    /// Field path inside the document, when there is one.
    pub path: Option<String>,
    /// What happened and what to do.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.doc)?;
        if let Some(p) = &self.path {
            write!(f, "{p}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Why a run failed. Nothing is written when any of these happens.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Invalid YAML.
    #[error("{doc}: invalid YAML: {message}")]
    Yaml {
        /// The document.
        doc: DocRef,
        /// The parser's message with line and column.
        message: String,
    },
    /// A workload that cannot be injected as it is.
    #[error("{doc}: {path}: {message}")]
    Inject {
        /// The document.
        doc: Box<DocRef>,
        /// The object, when known (for KRM results).
        object: Option<Box<crate::workload::ObjectRef>>,
        /// The field.
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A document over a resource limit (alias expansion).
    #[error("{doc}: {message}")]
    Limit {
        /// The document.
        doc: Box<DocRef>,
        /// Which limit, and how to raise it.
        message: String,
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
    /// Bad configuration.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigErrors),
}

impl Error {
    /// The document the error is about, when there is one.
    #[must_use]
    pub fn doc(&self) -> Option<&DocRef> {
        match self {
            Error::Yaml { doc, .. } => Some(doc),
            Error::Inject { doc, .. } | Error::Limit { doc, .. } => Some(&**doc),
            _ => None,
        }
    }

    /// Whether this is about the input (as opposed to the configuration or injection).
    #[must_use]
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            Error::Yaml { .. } | Error::Limit { .. } | Error::TooLarge { .. } | Error::Empty
        )
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
