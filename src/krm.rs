//! KRM function mode: detect a `ResourceList`, read its `functionConfig` as the
//! configuration, inject into its `items`, and write the ResourceList back with
//! `results`.
//!
//! Follows kyaml's rule: the input is a ResourceList only when it is exactly one document
//! of that kind with `items` or `functionConfig`. The ResourceList is edited in place like
//! any other document, so items that are not changed are echoed back byte for byte, with
//! every annotation (`config.kubernetes.io/*`, `internal.config.kubernetes.io/*`,
//! `kustomize.config.k8s.io/id`). Even when processing fails the ResourceList is written,
//! with error results, as kpt and kustomize expect.

use crate::config::{ConfigErrors, Options, Settings, settings_from_document};
use crate::error::{Error, Finding, Severity};
use crate::well_known as wk;
use crate::workload::ObjectRef;
use crate::yaml::{Intent, Limits, Node, Op, Path, TextEditor, Val, parse_chunk};

/// API versions of `ResourceList` accepted.
pub const RESOURCE_LIST_VERSIONS: &[&str] = &[
    "config.kubernetes.io/v1",
    "config.kubernetes.io/v1beta1",
    "config.kubernetes.io/v1alpha1",
];

/// What a KRM run produced: the ResourceList to write, and whether a result is an error
/// (then the exit code is 1).
///
/// # Examples
/// ```
/// let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n    colour: red\nitems: []\n";
/// let out = trust_inject::run_krm(list, &trust_inject::Settings::default());
/// assert!(out.failed && out.invalid_config);
/// assert_eq!(out.results.len(), 1);
/// assert!(out.results[0].message.contains("unknown option"));
/// // The ResourceList is written even so, with the results, as kpt and kustomize expect.
/// assert!(out.text.contains("results:"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KrmOutput {
    /// The ResourceList, with results.
    pub text: String,
    /// Whether any result has severity `error`.
    pub failed: bool,
    /// Whether it failed on the configuration (the functionConfig, option values, CA
    /// files) rather than on an object.
    pub invalid_config: bool,
    /// The results, for printing on standard error.
    pub results: Vec<Finding>,
}

fn parse_root(input: &str) -> Option<Node> {
    let docs = parse_chunk(input, 0, 1, &Limits::default(), true).ok()?;
    let mut roots = docs
        .into_iter()
        .filter_map(|d| d.root)
        .filter(|r| !r.is_null());
    let root = roots.next()?;
    roots.next().is_none().then_some(root)
}

/// Whether `input` is a ResourceList (exactly one document of that kind, with `items` or
/// `functionConfig`).
///
/// # Examples
/// ```
/// use trust_inject::is_resource_list;
/// assert!(is_resource_list("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"));
/// // Neither a ResourceList without items or functionConfig, nor one among other documents.
/// assert!(!is_resource_list("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"));
/// assert!(!is_resource_list("kind: Service\n---\napiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"));
/// ```
#[must_use]
pub fn is_resource_list(input: &str) -> bool {
    // Cheap test first: a multi-megabyte stream of manifests is not parsed twice.
    if memchr::memmem::find(input.as_bytes(), b"ResourceList").is_none() {
        return false;
    }
    let Some(root) = parse_root(input) else {
        return false;
    };
    is_list_root(&root)
}

fn is_list_root(root: &Node) -> bool {
    root.get("kind").and_then(Node::as_str) == Some("ResourceList")
        && root
            .get("apiVersion")
            .and_then(Node::as_str)
            .is_some_and(|v| RESOURCE_LIST_VERSIONS.contains(&v))
        && (root.get("items").is_some() || root.get("functionConfig").is_some())
}

/// Reads the options a functionConfig sets: a `TrustInjection` document, or a ConfigMap
/// whose `data` holds the options as flat keys (kpt's `-- key=value`).
///
/// # Errors
/// Every problem, with its field path under `functionConfig`.
pub fn settings_from_function_config(fc: Option<&Node>) -> Result<Settings, ConfigErrors> {
    let Some(fc) = fc.filter(|n| !n.is_null()) else {
        return Ok(Settings::default());
    };
    let kind = fc.get("kind").and_then(Node::as_str).unwrap_or("");
    match kind {
        wk::CONFIG_KIND => settings_from_document(fc).map_err(|e| prefix(e, "functionConfig")),
        "ConfigMap" => {
            let mut pairs = Vec::new();
            if let Some(entries) = fc.get("data").and_then(Node::entries) {
                for (k, v) in entries {
                    if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                        pairs.push((k.to_owned(), v.to_owned()));
                    }
                }
            }
            Settings::from_flat(
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                "functionConfig.data",
            )
        }
        other => {
            let mut errs = ConfigErrors::default();
            errs.push(
                "functionConfig.kind",
                format!(
                    "kind {other:?} is not supported; use {} ({}) or a ConfigMap",
                    wk::CONFIG_KIND,
                    wk::CONFIG_API_VERSION
                ),
            );
            Err(errs)
        }
    }
}

fn prefix(e: ConfigErrors, p: &str) -> ConfigErrors {
    ConfigErrors(
        e.0.into_iter()
            .map(|(path, m)| (format!("{p}.{path}"), m))
            .collect(),
    )
}

/// Runs the function on the ResourceList `input`. `outer` holds what the command line and
/// environment set; they win over the functionConfig, as flags win over a config file.
///
/// # Examples
/// ```
/// let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n    configmap: corp-ca\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n  spec:\n    containers:\n    - name: app\n      image: app\n";
/// let out = trust_inject::run_krm(list, &trust_inject::Settings::default());
/// assert!(!out.failed && !out.invalid_config);
/// assert!(out.text.contains("name: corp-ca"));
/// ```
#[must_use]
pub fn run(input: &str, outer: &Settings) -> KrmOutput {
    let mut results: Vec<Finding> = Vec::new();
    let err = |message: String| Finding::new(Severity::Error, message);
    let Some(root) = parse_root(input) else {
        results.push(err("the input is not a single ResourceList document".into()));
        return finish(input, None, results);
    };
    let opts = match load_options(&root, outer, &mut results) {
        Some(opts) => opts,
        None => return invalid_config(finish(input, Some(&root), results)),
    };
    let processed = match crate::process(input, &opts) {
        Ok(p) => p,
        Err(Error::Strict { warnings }) => {
            // Under --strict every warning is an error result of its own, on its object.
            results.extend(warnings.iter().map(|w| Finding {
                severity: Severity::Error,
                ..finding_result(w)
            }));
            return finish(input, Some(&root), results);
        }
        Err(e) => {
            results.push(error_result(&e));
            return finish(input, Some(&root), results);
        }
    };
    results.extend(processed.findings.iter().map(finding_result));
    let items = root
        .get("items")
        .and_then(Node::items)
        .map_or(0, <[_]>::len);
    if let Some(message) = crate::report::no_workload_warning(&processed, items) {
        let severity = if opts.strict {
            Severity::Error
        } else {
            Severity::Warning
        };
        results.push(Finding::new(severity, message));
    }
    let Some(new_root) = parse_root(&processed.output) else {
        results.push(err(
            "internal error: the edited ResourceList does not parse; please report it".into(),
        ));
        return finish(input, Some(&root), results);
    };
    let mut out = processed.output.clone();
    if let (true, Some(loaded)) = (opts.generated, opts.loaded.as_deref()) {
        match add_generated(
            &out,
            &new_root,
            &opts,
            loaded,
            &processed.summary.namespaces,
        ) {
            Ok(text) => out = text,
            Err(message) => {
                results.push(err(message));
                return finish(input, Some(&root), results);
            }
        }
    }
    let Some(final_root) = parse_root(&out) else {
        results.push(err(
            "internal error: the edited ResourceList does not parse; please report it".into(),
        ));
        return finish(input, Some(&root), results);
    };
    // Partial trust is said in the results too: kpt and kustomize show them.
    if let Some(notice) = crate::reach::partial_notice(&processed, &opts) {
        results.push(Finding {
            notice: true,
            ..Finding::new(Severity::Info, notice)
        });
    }
    finish(&out, Some(&final_root), results)
}

/// The options of the run: the `functionConfig` over `outer`, with the CA files read.
/// Their problems go into `results`, the certificate warnings too; `None` when the
/// configuration is invalid.
fn load_options(root: &Node, outer: &Settings, results: &mut Vec<Finding>) -> Option<Options> {
    let err = |message: String| Finding::new(Severity::Error, message);
    let invalid = |e: ConfigErrors| {
        e.0.into_iter()
            .map(move |(p, m)| err(format!("invalid configuration: {p}: {m}")))
    };
    let settings = match settings_from_function_config(root.get("functionConfig")) {
        Ok(s) => s.overlay(outer.clone()),
        Err(e) => {
            results.extend(invalid(e));
            return None;
        }
    };
    let mut opts = match Options::from_settings(&settings) {
        Ok(o) => o,
        Err(e) => {
            results.extend(invalid(e));
            return None;
        }
    };
    opts.append_generated = false;
    match opts.load_bundle() {
        Ok(read) => {
            let severity = if opts.strict {
                Severity::Error
            } else {
                Severity::Warning
            };
            results.extend(
                read.warnings
                    .iter()
                    .map(|w| Finding::new(severity, w.to_string())),
            );
            Some(opts)
        }
        Err(e) => {
            results.push(err(e.to_string()));
            None
        }
    }
}

fn error_result(e: &Error) -> Finding {
    let mut r = Finding::new(Severity::Error, e.to_string());
    if let Error::Inject(f) = e {
        r.object.clone_from(&f.object);
        r.path = f
            .path
            .as_deref()
            .map(strip_item)
            .filter(|p| !p.starts_with('('));
    }
    r
}

/// The result of a finding of the run: its field is named inside its item.
fn finding_result(f: &Finding) -> Finding {
    Finding {
        path: f.path.as_deref().map(strip_item),
        ..f.clone()
    }
}

/// Field paths inside a ResourceList start with `items[N].`; results name the field inside
/// the object.
fn strip_item(path: &str) -> String {
    match path.strip_prefix("items[").and_then(|r| r.split_once("].")) {
        Some((_, rest)) => rest.to_owned(),
        None => path.to_owned(),
    }
}

/// Adds (or refreshes) one generated bundle item per namespace.
fn add_generated(
    text: &str,
    root: &Node,
    opts: &Options,
    loaded: &crate::config::Loaded,
    namespaces: &std::collections::BTreeSet<String>,
) -> Result<String, String> {
    let items = root.get("items").and_then(Node::items).unwrap_or(&[]);
    let crlf = text.contains("\r\n");
    let mut replace: Vec<(usize, usize, String)> = Vec::new();
    let mut editor = TextEditor::new(text, root, crlf);
    let kind = match opts.source.kind {
        crate::config::SourceKind::ConfigMap => "ConfigMap",
        crate::config::SourceKind::Secret => "Secret",
        crate::config::SourceKind::ClusterTrustBundle { .. } => "ClusterTrustBundle",
    };
    drop_stale(&mut editor, items, opts, kind, namespaces)?;
    for ns in namespaces {
        let file = if ns.is_empty() {
            format!("{}.yaml", opts.source.name)
        } else {
            format!("{}_{ns}.yaml", opts.source.name)
        };
        let annotations = vec![
            ("config.kubernetes.io/path".to_owned(), file.clone()),
            ("internal.config.kubernetes.io/path".to_owned(), file),
        ];
        let existing = items.iter().find(|i| {
            let o = ObjectRef::of(i);
            crate::object::is_generated(i)
                && o.is_some_and(|o| {
                    o.name == opts.source.name && o.namespace.clone().unwrap_or_default() == *ns
                })
        });
        match existing {
            Some(item) => replace.extend(refreshed(text, item, opts, loaded, ns)),
            None => {
                let body = crate::generate::render(opts, loaded, ns, &annotations, "\n");
                editor
                    .apply(&Intent {
                        path: Path::default().key("items"),
                        op: Op::AppendBlock(body),
                    })
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    let mut splices = editor.finish();
    splices.extend(replace.into_iter().map(|(s, e, t)| (s, e, t.into())));
    splices.sort_by_key(|s| s.0);
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (s, e, t) in splices {
        out.push_str(&text[pos..s]);
        out.push_str(&t);
        pos = e;
    }
    out.push_str(&text[pos..]);
    Ok(out)
}

/// Removes the bundle items generated by an earlier run for namespaces that no longer
/// have an injected workload; refuses a package's own bundle object that a generated one
/// would overwrite.
fn drop_stale(
    editor: &mut TextEditor<'_>,
    items: &[Node],
    opts: &Options,
    kind: &str,
    namespaces: &std::collections::BTreeSet<String>,
) -> Result<(), String> {
    for (index, item) in items.iter().enumerate() {
        let Some(o) = ObjectRef::of(item) else {
            continue;
        };
        let ns = o.namespace.clone().unwrap_or_default();
        if o.api_version != "v1"
            || !matches!(o.kind.as_str(), "ConfigMap" | "Secret")
            || o.name != opts.source.name
        {
            continue;
        }
        let generated = crate::object::is_generated(item);
        if generated && !namespaces.contains(&ns) {
            // Generated by an earlier run for workloads that are no longer injected.
            editor
                .apply(&Intent {
                    path: Path::default().key("items"),
                    op: Op::RemoveItem(index),
                })
                .map_err(|e| e.to_string())?;
        } else if !generated && o.kind == kind && namespaces.contains(&ns) {
            return Err(format!(
                "items[{index}] ({o}): the package already has this {kind} {name:?}, and the function would generate another {kind} {name:?} for the workloads in its namespace, which would overwrite it on apply; name the generated one differently with spec.source.bundleName, or inject the package's own with spec.source.{field}.name",
                name = opts.source.name,
                field = if kind == "Secret" {
                    "secret"
                } else {
                    "configMap"
                },
            ));
        }
    }
    Ok(())
}

/// The replacement of the generated bundle `item` of namespace `ns` when its text is not
/// what this run generates: `(start, end, text)` over its lines, indented as it is.
fn refreshed(
    text: &str,
    item: &Node,
    opts: &Options,
    loaded: &crate::config::Loaded,
    ns: &str,
) -> Option<(usize, usize, String)> {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    // Keep the annotations kpt and kustomize put on it (path, index, id).
    let keep: Vec<(String, String)> = crate::object::annotations(item)
        .and_then(Node::entries)
        .map(|es| {
            es.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                .filter(|(k, _)| {
                    k.starts_with("config.kubernetes.io/")
                        || k.starts_with("internal.config.kubernetes.io/")
                        || k.starts_with("kustomize.config.k8s.io/")
                })
                .collect()
        })
        .unwrap_or_default();
    let body = crate::generate::render(opts, loaded, ns, &keep, nl);
    let start = item.start;
    let col = start - text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indented: String = body
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}{nl}")
            } else {
                format!("{}{l}{nl}", " ".repeat(col))
            }
        })
        .collect();
    let end = match text[item.end..].find('\n') {
        Some(i)
            if !text[text[..item.end].rfind('\n').map_or(0, |p| p + 1)..item.end]
                .trim()
                .is_empty() =>
        {
            item.end + i + 1
        }
        _ => text[..item.end].rfind('\n').map_or(0, |p| p + 1),
    };
    (text[start..end] != indented).then_some((start, end, indented))
}

fn result_val(r: &Finding) -> Val {
    let mut m = vec![
        ("message".to_owned(), Val::str(&r.message)),
        ("severity".to_owned(), Val::str(r.severity.to_string())),
    ];
    if let Some(o) = &r.object {
        let mut rr = vec![
            ("apiVersion".to_owned(), Val::str(&o.api_version)),
            ("kind".to_owned(), Val::str(&o.kind)),
            ("name".to_owned(), Val::str(&o.name)),
        ];
        if let Some(ns) = &o.namespace {
            rr.push(("namespace".to_owned(), Val::str(ns)));
        }
        m.push(("resourceRef".to_owned(), Val::Map(rr)));
    }
    if let Some(p) = &r.path {
        m.push(("field".to_owned(), Val::map([("path", Val::str(p))])));
    }
    Val::Map(m)
}

/// Writes `results` into the ResourceList `text` (whose tree is `root`).
/// `out`, marked as failed on the configuration.
fn invalid_config(out: KrmOutput) -> KrmOutput {
    KrmOutput {
        invalid_config: true,
        ..out
    }
}

fn finish(text: &str, root: Option<&Node>, results: Vec<Finding>) -> KrmOutput {
    let failed = results.iter().any(|r| r.severity == Severity::Error);
    let shown: Vec<&Finding> = results
        .iter()
        .filter(|r| r.severity >= Severity::Warning || r.notice || failed)
        .collect();
    let written = root.filter(|_| !shown.is_empty()).and_then(|root| {
        // A result already listed (this function ran on its own output) is not repeated,
        // so a second run changes nothing; results of other functions are kept as they are.
        let listed = listed_results(root);
        let shown: Vec<&Finding> = shown
            .into_iter()
            .filter(|r| {
                !listed.contains(&(
                    r.message.clone(),
                    r.severity.to_string(),
                    r.path.clone().unwrap_or_default(),
                ))
            })
            .collect();
        with_results(text, root, &shown)
    });
    KrmOutput {
        text: written.unwrap_or_else(|| text.to_owned()),
        failed,
        invalid_config: false,
        results,
    }
}

/// The results the ResourceList already lists: message, severity and field path of each.
fn listed_results(root: &Node) -> Vec<(String, String, String)> {
    root.get("results")
        .and_then(Node::items)
        .unwrap_or(&[])
        .iter()
        .map(|r| {
            let get = |k: &str| r.get(k).and_then(Node::as_str).unwrap_or("").to_owned();
            let path = r
                .get("field")
                .and_then(|f| f.get("path"))
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_owned();
            (get("message"), get("severity"), path)
        })
        .collect()
}

/// The ResourceList `text` (whose tree is `root`) with `shown` added to its `results`;
/// `None` when there is nothing to add, or the results cannot be added in place (a
/// ResourceList in flow style).
fn with_results(text: &str, root: &Node, shown: &[&Finding]) -> Option<String> {
    if shown.is_empty() {
        return None;
    }
    let vals: Vec<Val> = shown.iter().map(|r| result_val(r)).collect();
    let intents: Vec<Intent> = match root.get("results") {
        Some(existing) if existing.items().is_some() => vals
            .into_iter()
            .map(|v| Intent {
                path: Path::default().key("results"),
                op: Op::Append(v),
            })
            .collect(),
        Some(_) => vec![Intent {
            path: Path::default().key("results"),
            op: Op::Replace(Val::Seq(vals)),
        }],
        None => vec![Intent {
            path: Path::default(),
            op: Op::AddKey("results".into(), Val::Seq(vals)),
        }],
    };
    let mut editor = TextEditor::new(text, root, text.contains("\r\n"));
    for i in &intents {
        editor.apply(i).ok()?;
    }
    let mut out = String::with_capacity(text.len() + 256);
    let mut pos = 0;
    for (s, e, t) in editor.finish() {
        out.push_str(&text[pos..s]);
        out.push_str(&t);
        pos = e;
    }
    out.push_str(&text[pos..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_resource_lists_only() {
        assert!(is_resource_list(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
        ));
        assert!(!is_resource_list(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
        ));
        assert!(!is_resource_list(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n---\nkind: Pod\n"
        ));
        assert!(!is_resource_list("apiVersion: v1\nkind: List\nitems: []\n"));
    }

    #[test]
    fn strips_item_prefixes() {
        assert_eq!(strip_item("items[3].spec.template"), "spec.template");
        assert_eq!(strip_item("spec"), "spec");
    }
}
