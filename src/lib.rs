//! Injects a private CA bundle into every PodSpec of a stream of rendered Kubernetes
//! manifests, editing only what it must.
//!
//! The library reads a multi-document YAML stream, finds every workload (Deployments,
//! StatefulSets, DaemonSets, Jobs, CronJobs, Pods, Lists, common CRDs), and adds the
//! volume, the mounts and the environment variables that make each container trust the
//! bundle. Documents it does not edit come out byte for byte; edited documents only gain
//! lines.
//!
//! - [`Options`] say what to inject; [`cli::resolve`] builds them (through
//!   [`Settings`]) from a command line, an environment and a config document, as the
//!   binary does.
//! - [`process`] injects into a stream; [`plan_edits`] plans without assembling the text.
//! - [`krm::run`] runs as a KRM function on a `ResourceList`.
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
pub mod cli;
pub mod config;
mod error;
mod generate;
mod inject;
pub mod krm;
mod marker;
mod merge;
mod object;
mod pipeline;
mod proxy;
mod reach;
mod report;
#[doc(hidden)]
pub mod well_known;
mod workload;
#[doc(hidden)]
pub mod yaml;

pub use bundle::{BundleError, BundleWarning, Certificate, PublicRoots, ReadBundle, WarningKind};
pub use config::{Options, Settings};
pub use error::{DocRef, Error, Exit, Finding, OddLineBreak, OverLimit, Severity};
pub use inject::{Skip, SkipReason};
pub use merge::{MergeArgs, MergeError, Merged, merge};
pub use pipeline::{
    Processed, Reports, Summary, WorkloadReport, plan_edits, plan_edits_reporting, process,
};
pub use reach::{SourceObject, partial_notice, source_dependency};
pub use report::{check_problems, json_report, no_workload_warning};
pub use workload::ObjectRef;

/// Internals that the project's own tests and fuzz targets reach into (with the hidden
/// `yaml` and `well_known` modules). Not part of the API: anything here may change in any
/// release.
#[doc(hidden)]
pub mod internals {
    pub use crate::bundle::read_ca_files;
    pub use crate::workload::BUILTIN_KINDS;
}
