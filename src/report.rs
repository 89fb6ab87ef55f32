//! What a run did, for people and for machines: the JSON report (`--report`) and the
//! verdicts of `trust-inject check`. Builds values; printing is the binary's business.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::config::{Options, SourceKind};
use crate::pipeline::{Processed, WorkloadReport};

/// Version of the JSON report's layout; bumped on any incompatible change.
pub const REPORT_VERSION: i64 = 1;

// The report's layout, field by field: a contract of its own (versioned by
// `REPORT_VERSION`), kept apart from the library's types so that they can change without
// changing it. Absent text is written as `""`.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    report_version: i64,
    source: SourceJson<'a>,
    summary: SummaryJson<'a>,
    workloads: Vec<WorkloadJson<'a>>,
    findings: Vec<FindingJson<'a>>,
    partial_trust: String,
    source_dependency: String,
    proxy: ProxyJson<'a>,
}

#[derive(Serialize)]
struct SourceJson<'a> {
    kind: &'static str,
    name: &'a str,
    key: &'a str,
    complete: bool,
    generated: bool,
    sha256: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryJson<'a> {
    documents: usize,
    objects: usize,
    workloads: usize,
    containers: usize,
    namespaces: &'a std::collections::BTreeSet<String>,
    skipped: BTreeMap<&'static str, usize>,
    warnings: usize,
    changed_documents: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkloadJson<'a> {
    document: usize,
    lines: [usize; 2],
    source: &'a str,
    api_version: &'a str,
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
    pod_spec_path: &'a str,
    skipped: &'static str,
    changed: bool,
    volume_added: bool,
    containers: Vec<ContainerJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerJson<'a> {
    name: &'a str,
    path: &'a str,
    mounts_added: &'a [String],
    env_set: &'a [String],
    mounts_kept: Vec<KeptJson<'a>>,
    env_kept: Vec<KeptJson<'a>>,
    runtimes: RuntimesJson,
}

#[derive(Serialize)]
struct KeptJson<'a> {
    what: &'a str,
    reason: &'a str,
}

/// Which runtimes of the container gain the CAs (`trust`) and which do not.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuntimesJson {
    trust: Vec<&'static str>,
    do_not_trust: Vec<&'static str>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    severity: &'static str,
    document: usize,
    object: &'a str,
    path: &'a str,
    message: &'a str,
}

/// The proxy settings of the run (`--proxy` and friends); `{}` without a proxy.
#[derive(Serialize)]
#[serde(untagged)]
enum ProxyJson<'a> {
    On {
        http: &'a str,
        https: &'a str,
        secret: &'a str,
        #[serde(rename = "noProxy")]
        no_proxy: &'a [String],
        #[serde(rename = "appendNoProxy")]
        append_no_proxy: bool,
        #[serde(rename = "javaOptions")]
        java_options: String,
    },
    Off {},
}

fn workload_json<'a>(w: &'a WorkloadReport, opts: &Options) -> WorkloadJson<'a> {
    let kept = |list: &'a [(String, String)]| {
        list.iter()
            .map(|(what, why)| KeptJson { what, reason: why })
            .collect()
    };
    let names = |rs: &[crate::reach::Runtime]| rs.iter().map(|r| r.name()).collect();
    let containers = w
        .containers
        .iter()
        .map(|c| {
            let (gain, miss) = crate::reach::container_reach(opts, c);
            ContainerJson {
                name: &c.name,
                path: &c.path,
                mounts_added: &c.mounts,
                env_set: &c.env,
                mounts_kept: kept(&c.kept_mounts),
                env_kept: kept(&c.kept_env),
                runtimes: RuntimesJson {
                    trust: names(&gain),
                    do_not_trust: names(&miss),
                },
            }
        })
        .collect();
    WorkloadJson {
        document: w.doc.index,
        lines: [w.doc.first_line, w.doc.last_line],
        source: w.doc.source.as_deref().unwrap_or_default(),
        api_version: &w.object.api_version,
        kind: &w.object.kind,
        namespace: w.object.namespace.as_deref().unwrap_or_default(),
        name: &w.object.name,
        pod_spec_path: &w.spec_path,
        skipped: w.skipped.as_ref().map_or("", |s| s.reason().as_str()),
        changed: w.changed,
        volume_added: w.volume_added,
        containers,
    }
}

fn proxy_json(p: Option<&crate::proxy::Proxy>) -> ProxyJson<'_> {
    let Some(p) = p else {
        return ProxyJson::Off {};
    };
    fn url(e: Option<&crate::proxy::Endpoint>) -> &str {
        e.map_or("", |e| e.url.as_str())
    }
    ProxyJson::On {
        http: url(p.http.as_ref()),
        https: url(p.https.as_ref()),
        secret: p.secret.as_deref().unwrap_or_default(),
        no_proxy: &p.no_proxy,
        append_no_proxy: p.append_no_proxy,
        java_options: p.java_options(),
    }
}

/// The JSON report of a run.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), trust_inject::Error> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::process(pod, &opts)?;
/// let report = trust_inject::json_report(&run, &opts);
/// assert!(report.starts_with("{\n  \"reportVersion\": 1,\n"));
/// assert!(report.contains("\"podSpecPath\": \"spec\""));
/// # Ok(()) }
/// ```
#[must_use]
pub fn json_report(p: &Processed, opts: &Options) -> String {
    let s = &p.summary;
    let report = Report {
        report_version: REPORT_VERSION,
        source: SourceJson {
            kind: match opts.source.kind {
                SourceKind::ConfigMap => "ConfigMap",
                SourceKind::Secret => "Secret",
                SourceKind::ClusterTrustBundle { signer: false, .. } => "ClusterTrustBundle",
                SourceKind::ClusterTrustBundle { signer: true, .. } => "ClusterTrustBundle signer",
            },
            name: &opts.source.name,
            key: &opts.source.key,
            complete: opts.source.complete,
            generated: opts.generated,
            sha256: opts.bundle_hash.as_deref().unwrap_or_default(),
        },
        summary: SummaryJson {
            documents: s.documents,
            objects: s.objects,
            workloads: s.workloads,
            containers: s.containers,
            namespaces: &s.namespaces,
            skipped: s.skipped.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
            warnings: s.warnings,
            changed_documents: s.changed,
        },
        workloads: p.workloads.iter().map(|w| workload_json(w, opts)).collect(),
        findings: p
            .findings
            .iter()
            .map(|f| FindingJson {
                severity: f.severity.as_str(),
                document: f.doc.as_ref().map_or(0, |d| d.index),
                object: f
                    .doc
                    .as_ref()
                    .and_then(|d| d.object.as_deref())
                    .unwrap_or_default(),
                path: f.path.as_deref().unwrap_or_default(),
                message: &f.message,
            })
            .collect(),
        partial_trust: crate::reach::partial_notice(p, opts).unwrap_or_default(),
        source_dependency: crate::reach::source_dependency(p, opts).unwrap_or_default(),
        proxy: proxy_json(opts.proxy.as_ref()),
    };
    let mut out = Vec::with_capacity(4096);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Escaping::default());
    // Writing into memory cannot fail, and every key is a string.
    if report.serialize(&mut ser).is_err() {
        return String::new();
    }
    let mut text = String::from_utf8(out).unwrap_or_default();
    text.push('\n');
    text
}

/// serde_json's pretty layout (two spaces a level), with the escaping the project's JSON
/// has always had: besides what JSON requires, DEL, C1 controls, the byte order mark and
/// the line and paragraph separators are written as `\uXXXX`, and so are backspace and
/// form feed, so that the report also reads as YAML (where some of those break lines)
/// and stays plain on a terminal.
#[derive(Default)]
struct Escaping(serde_json::ser::PrettyFormatter<'static>);

impl serde_json::ser::Formatter for Escaping {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| extra_escape(c)) {
            w.write_all(rest.get(..i).unwrap_or_default().as_bytes())?;
            write!(w, "\\u{:04x}", c as u32)?;
            rest = rest.get(i + c.len_utf8()..).unwrap_or_default();
        }
        w.write_all(rest.as_bytes())
    }

    fn write_char_escape<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        escape: serde_json::ser::CharEscape,
    ) -> std::io::Result<()> {
        use serde_json::ser::CharEscape;
        match escape {
            CharEscape::Backspace => w.write_all(b"\\u0008"),
            CharEscape::FormFeed => w.write_all(b"\\u000c"),
            other => serde_json::ser::CompactFormatter.write_char_escape(w, other),
        }
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Characters JSON allows raw that the report writes escaped (see [`Escaping`]).
fn extra_escape(c: char) -> bool {
    matches!(
        c,
        '\u{7f}' | '\u{80}'..='\u{9f}' | '\u{feff}' | '\u{2028}' | '\u{2029}'
    )
}

/// Why a workload would not trust the bundle, for `trust-inject check`; empty when it
/// would (or when it is left alone on purpose: Windows, annotation, exclusion).
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::plan_edits_reporting(pod, &opts, trust_inject::Reports::PerWorkload)?;
/// let problems = trust_inject::check_problems(&run.workloads[0]);
/// assert!(problems.contains(&"the bundle volume is missing".to_owned()), "{problems:?}");
/// let again = trust_inject::process(&trust_inject::process(pod, &opts)?.output, &opts)?;
/// let done = trust_inject::plan_edits_reporting(&again.output, &opts, trust_inject::Reports::PerWorkload)?;
/// assert!(trust_inject::check_problems(&done.workloads[0]).is_empty());
/// # Ok(()) }
/// ```
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
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let run = trust_inject::process("kind: Service\n", &opts)?;
/// let warning = trust_inject::no_workload_warning(&run, run.summary.objects).expect("no workload");
/// assert!(warning.starts_with("none of the 1 object(s)"), "{warning}");
/// # Ok(()) }
/// ```
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Names with control, C1, byte-order-mark and separator characters come out escaped
    /// as `\uXXXX` (as the report always wrote them), and read back as the same strings.
    #[test]
    fn report_escapes_what_breaks_yaml_and_terminals() {
        let opts = Options::from_configmap("corp-ca", "ca.crt");
        let name = "p\u{8}\u{c}\u{7f}\u{85}\u{2028}\u{feff}\u{1}\t\"q\u{e9}";
        let pod = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {}\nspec:\n  containers:\n  - name: c\n",
            crate::yaml::render_json(&crate::yaml::Val::str(name))
        );
        let run = crate::process(&pod, &opts).expect("valid");
        let report = json_report(&run, &opts);
        assert!(
            report.contains(r#""name": "p\u0008\u000c\u007f\u0085\u2028\ufeff\u0001\t\"qé","#),
            "{report}"
        );
        let read: serde_json::Value = serde_json::from_str(&report).expect("JSON");
        assert_eq!(read["workloads"][0]["name"], name);
        assert_eq!(read["proxy"], serde_json::json!({}));
        assert!(report.ends_with("\n}\n"));
    }
}
