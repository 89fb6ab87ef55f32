//! What a run did, for people and for machines: the JSON report (`--report`) and the
//! verdicts of `trust-inject check`. Builds values; printing is the binary's business.

use std::fmt::Write as _;

use crate::config::{Options, SourceKind};
use crate::pipeline::{Processed, WorkloadReport};
use crate::yaml::Val;

/// Version of the JSON report's layout; bumped on any incompatible change.
pub const REPORT_VERSION: i64 = 1;

fn opt_str(s: Option<&str>) -> Val {
    s.map_or(Val::Str(String::new()), Val::str)
}

fn workload_val(w: &WorkloadReport, opts: &Options) -> Val {
    let containers = w
        .containers
        .iter()
        .map(|c| {
            let kept = |list: &[(String, String)]| {
                Val::Seq(
                    list.iter()
                        .map(|(what, why)| {
                            Val::map([("what", Val::str(what)), ("reason", Val::str(why))])
                        })
                        .collect(),
                )
            };
            Val::map([
                ("name", Val::str(&c.name)),
                ("path", Val::str(&c.path)),
                (
                    "mountsAdded",
                    Val::Seq(c.mounts.iter().map(Val::str).collect()),
                ),
                ("envSet", Val::Seq(c.env.iter().map(Val::str).collect())),
                ("mountsKept", kept(&c.kept_mounts)),
                ("envKept", kept(&c.kept_env)),
                runtimes_val(opts, c),
            ])
        })
        .collect();
    Val::map([
        (
            "document",
            Val::Int(i64::try_from(w.doc.index).unwrap_or(i64::MAX)),
        ),
        (
            "lines",
            Val::Seq(vec![
                Val::Int(i64::try_from(w.doc.first_line).unwrap_or(0)),
                Val::Int(i64::try_from(w.doc.last_line).unwrap_or(0)),
            ]),
        ),
        ("source", opt_str(w.doc.source.as_deref())),
        ("apiVersion", Val::str(&w.object.api_version)),
        ("kind", Val::str(&w.object.kind)),
        ("namespace", opt_str(w.object.namespace.as_deref())),
        ("name", Val::str(&w.object.name)),
        ("podSpecPath", Val::str(&w.spec_path)),
        (
            "skipped",
            opt_str(w.skipped.as_ref().map(|s| s.reason().as_str())),
        ),
        ("changed", Val::Bool(w.changed)),
        ("volumeAdded", Val::Bool(w.volume_added)),
        ("containers", Val::Seq(containers)),
    ])
}

/// Which runtimes of the container gain the CAs (`runtimes.trust`) and which do not.
fn runtimes_val(opts: &Options, c: &crate::inject::ContainerPlan) -> (&'static str, Val) {
    let (gain, miss) = crate::reach::container_reach(opts, c);
    let list =
        |rs: &[crate::reach::Runtime]| Val::Seq(rs.iter().map(|r| Val::str(r.name())).collect());
    (
        "runtimes",
        Val::map([("trust", list(&gain)), ("doNotTrust", list(&miss))]),
    )
}

/// The JSON report of a run.
#[must_use]
pub fn json_report(p: &Processed, opts: &Options) -> String {
    let s = &p.summary;
    let source = Val::map([
        (
            "kind",
            Val::str(match opts.source.kind {
                SourceKind::ConfigMap => "ConfigMap",
                SourceKind::Secret => "Secret",
                SourceKind::ClusterTrustBundle { signer: false, .. } => "ClusterTrustBundle",
                SourceKind::ClusterTrustBundle { signer: true, .. } => "ClusterTrustBundle signer",
            }),
        ),
        ("name", Val::str(&opts.source.name)),
        ("key", Val::str(&opts.source.key)),
        ("complete", Val::Bool(opts.source.complete)),
        ("generated", Val::Bool(opts.generated)),
        ("sha256", opt_str(opts.bundle_hash.as_deref())),
    ]);
    let count = |n: usize| Val::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let summary = Val::map([
        ("documents", count(s.documents)),
        ("objects", count(s.objects)),
        ("workloads", count(s.workloads)),
        ("containers", count(s.containers)),
        (
            "namespaces",
            Val::Seq(s.namespaces.iter().map(Val::str).collect()),
        ),
        (
            "skipped",
            Val::Map(
                s.skipped
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), count(*v)))
                    .collect(),
            ),
        ),
        ("warnings", count(s.warnings)),
        ("changedDocuments", count(s.changed)),
    ]);
    let findings = p
        .findings
        .iter()
        .map(|f| {
            Val::map([
                ("severity", Val::str(f.severity.to_string())),
                ("document", count(f.doc.as_ref().map_or(0, |d| d.index))),
                (
                    "object",
                    opt_str(f.doc.as_ref().and_then(|d| d.object.as_deref())),
                ),
                ("path", opt_str(f.path.as_deref())),
                ("message", Val::str(&f.message)),
            ])
        })
        .collect();
    let root = Val::map([
        ("reportVersion", Val::Int(REPORT_VERSION)),
        ("source", source),
        ("summary", summary),
        (
            "workloads",
            Val::Seq(p.workloads.iter().map(|w| workload_val(w, opts)).collect()),
        ),
        ("findings", Val::Seq(findings)),
        (
            "partialTrust",
            opt_str(crate::reach::partial_notice(p, opts).as_deref()),
        ),
        (
            "sourceDependency",
            opt_str(crate::reach::source_dependency(p, opts).as_deref()),
        ),
        (
            "proxy",
            opts.proxy.as_ref().map_or(Val::Map(Vec::new()), proxy_val),
        ),
    ]);
    let mut out = String::new();
    pretty(&root, 0, &mut out);
    out.push('\n');
    out
}

/// The proxy settings of the run (`--proxy` and friends).
fn proxy_val(p: &crate::proxy::Proxy) -> Val {
    let url = |e: &Option<crate::proxy::Endpoint>| opt_str(e.as_ref().map(|e| e.url.as_str()));
    Val::map([
        ("http", url(&p.http)),
        ("https", url(&p.https)),
        ("secret", opt_str(p.secret.as_deref())),
        (
            "noProxy",
            Val::Seq(p.no_proxy.iter().map(Val::str).collect()),
        ),
        ("appendNoProxy", Val::Bool(p.append_no_proxy)),
        ("javaOptions", Val::str(p.java_options())),
    ])
}

fn pretty(v: &Val, indent: usize, out: &mut String) {
    let pad = |n: usize, out: &mut String| out.extend(std::iter::repeat_n(' ', n));
    // A non-empty collection: one item a line, each written by `item`.
    let block = |open: char,
                 close: char,
                 n: usize,
                 out: &mut String,
                 item: &mut dyn FnMut(usize, &mut String)| {
        out.push(open);
        out.push('\n');
        for i in 0..n {
            pad(indent + 2, out);
            item(i, out);
            if i + 1 < n {
                out.push(',');
            }
            out.push('\n');
        }
        pad(indent, out);
        out.push(close);
    };
    match v {
        Val::Map(entries) if !entries.is_empty() => {
            block('{', '}', entries.len(), out, &mut |i, out| {
                let (k, v) = &entries[i];
                out.push_str(&crate::yaml::render_json(&Val::str(k)));
                out.push_str(": ");
                pretty(v, indent + 2, out);
            })
        }
        Val::Seq(items) if !items.is_empty() => block('[', ']', items.len(), out, &mut |i, out| {
            pretty(&items[i], indent + 2, out)
        }),
        other => out.push_str(&crate::yaml::render_json(other)),
    }
}

/// Why a workload would not trust the bundle, for `trust-inject check`; empty when it
/// would (or when it is left alone on purpose: Windows, annotation, exclusion).
#[must_use]
pub fn check_problems(w: &WorkloadReport) -> Vec<String> {
    let mut out = Vec::new();
    if w.skipped.is_some() {
        return out;
    }
    if w.volume_added {
        out.push("the bundle volume is missing".to_owned());
    }
    for c in &w.containers {
        if !c.mounts.is_empty() {
            out.push(format!(
                "container {:?} lacks the mount(s) {}",
                c.name,
                c.mounts.join(", ")
            ));
        }
        if !c.env.is_empty() {
            out.push(format!(
                "container {:?} lacks (or has a different) {}",
                c.name,
                c.env.join(", ")
            ));
        }
        if !c.removed.is_empty() {
            out.push(format!(
                "container {:?} keeps what an injection under other options added: {}",
                c.name,
                c.removed.join(", ")
            ));
        }
        for (what, why) in c.kept_mounts.iter().chain(&c.kept_env) {
            let _ = what;
            out.push(format!("container {:?}: {why}", c.name));
        }
    }
    out.extend(
        w.merge_changes
            .iter()
            .map(|c| format!("start-up merge: {c}")),
    );
    if w.annotation_changed {
        let mut s = String::new();
        let _ = write!(
            s,
            "the pod template's {} annotation is missing or stale (pods would not roll on a CA change)",
            crate::well_known::BUNDLE_HASH_ANNOTATION
        );
        out.push(s);
    }
    out
}

/// The warning for a stream with no workload in it, if that is the case: nothing was
/// injected, which after a failed render upstream (an empty stream) is rarely what was
/// meant. `None` when some workload was found, even if every one was left alone on purpose.
/// `objects` is how many objects the input holds (in a ResourceList, its items).
#[must_use]
pub fn no_workload_warning(p: &Processed, objects: usize) -> Option<String> {
    if p.summary.workloads > 0 || !p.summary.skipped.is_empty() {
        return None;
    }
    Some(if objects == 0 {
        "the input holds no Kubernetes object (an empty stream: did the render upstream fail?); nothing was injected. Pass --fail-on-empty to make this an error".to_owned()
    } else {
        format!(
            "none of the {} object(s) in the input is a workload; nothing was injected. If some are workloads of a custom kind, name them with --workload-kind or turn on --generic-workloads",
            objects
        )
    })
}
