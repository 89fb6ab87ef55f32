//! Injects a private CA bundle into every PodSpec of a stream of rendered Kubernetes
//! manifests, editing only what it must.
//!
//! The library reads a multi-document YAML stream, finds every workload (Deployments,
//! StatefulSets, DaemonSets, Jobs, CronJobs, Pods, Lists, common CRDs), and adds the
//! volume, the mounts and the environment variables that make each container trust the
//! bundle. Documents it does not edit come out byte for byte; edited documents only gain
//! lines.
//!
//! # Examples
//! ```
//! # fn main() -> Result<(), trust_inject::Error> {
//! let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
//! let input = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: app\n";
//! let out = trust_inject::process(input, &opts)?;
//! assert!(out.output.contains("mountPath: /etc/trust-inject\n"));
//! assert!(out.output.starts_with(input.trim_end_matches("    image: app\n")));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bundle;
pub mod config;
pub mod error;
pub mod generate;
pub mod inject;
pub mod krm;
pub mod merge;
pub mod pipeline;
pub mod reach;
pub mod report;
pub mod well_known;
pub mod workload;
pub mod yaml;

pub use config::{Options, Settings};
pub use error::{DocRef, Error, Finding, Severity};
pub use pipeline::{Processed, Summary, WorkloadReport, process};
