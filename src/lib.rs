//! Injects a private CA bundle into every PodSpec of a stream of rendered Kubernetes
//! manifests, editing only what it must.
//!
//! The library reads a multi-document YAML stream, finds every workload (Deployments,
//! StatefulSets, DaemonSets, Jobs, CronJobs, Pods, Lists, common CRDs), and adds the
//! volume, the mounts and the environment variables that make each container trust the
//! bundle. Documents it does not edit come out byte for byte; edited documents only gain
//! lines.
//!
//! - [`Options`] say what to inject; [`resolve`] builds them (through
//!   [`Settings`]) from a command line, an environment and a config document, as the
//!   binary does.
//! - [`process`] injects into a stream; [`plan_edits`] plans without assembling the text.
//! - [`run_krm`] runs as a KRM function on a `ResourceList`.
//! - Every failure is an [`Error`], whose [`Error::exit`] is the binary's exit code.
//!
//! # Examples
//! ```
//! # fn main() -> Result<(), trust_inject::Error> {
//! let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
//! let input = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: app\n";
//! let out = trust_inject::process(input, &opts)?;
//! assert!(out.output.contains("mountPath: /etc/trust-inject\n"));
//! // Lines are added, none changed: the input's lines are all there, in their order.
//! let mut rest = out.output.lines();
//! assert!(input.lines().all(|line| rest.any(|l| l == line)));
//! assert!(out.output.contains("trust-inject.dev/injected: "));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bundle;
mod cli;
mod config;
mod error;
mod generate;
mod inject;
mod krm;
mod marker;
mod merge;
mod object;
mod pipeline;
mod proxy;
mod reach;
mod report;
mod well_known;
mod workload;
mod yaml;

pub use bundle::{
    BundleError, BundleWarning, Certificate, Location, Origin, PublicRoots, ReadBundle, WarningKind,
};
pub use cli::{Action, Env, Invocation, Stop, command, resolve};
pub use config::{ConfigErrors, Options, Settings};
pub use error::{DocRef, Error, Exit, Finding, OddLineBreak, OverLimit, Severity};
pub use inject::{ContainerPlan, Skip, SkipReason};
pub use krm::{KrmOutput, is_resource_list, run as run_krm};
pub use merge::{MergeArgs, MergeError, Merged, merge};
pub use pipeline::{
    Processed, Reports, Summary, WorkloadReport, plan_edits, plan_edits_reporting, process,
};
pub use reach::{SourceObject, partial_notice, source_dependency};
pub use report::{check_problems, json_report, no_workload_warning};
pub use workload::ObjectRef;
/// # Examples
/// ```
/// // Kubernetes refuses deep nesting and alias bombs too; a tighter limit refuses sooner.
/// let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// opts.limits = trust_inject::Limits { max_depth: 3, ..Default::default() };
/// let deep = "kind: ConfigMap\ndata: {a: {b: {c: {d: 1}}}}\n";
/// assert_eq!(trust_inject::process(deep, &opts).expect_err("too deep").exit(), trust_inject::Exit::BadInput);
/// ```
pub use yaml::Limits;

/// Hooks for the project's own tests and fuzz targets, which check the parts (the YAML
/// readers, the PEM reader, the option table, the well-known names) against independent
/// readers. Hidden and not part of the API: anything here may change in any release.
#[doc(hidden)]
pub mod internals {
    pub use crate::bundle::read_ca_files;
    pub use crate::config::{FIELDS, reference_markdown};
    pub use crate::workload::BUILTIN_KINDS;
    pub use crate::yaml::{Node, ParseError, ScalarStyle, Value, fast, parse_chunk, split_stream};

    /// The annotation, label and path names the tool writes and reads.
    pub mod well_known {
        pub use crate::well_known::*;
    }
}
