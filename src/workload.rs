//! Locates the PodSpecs inside each supported workload kind.
//!
//! Only *finds* PodSpecs; every change is planned in [`crate::inject`]. Kinds are a data
//! table: (API group, kind, path from the object root to the PodSpec). The version is
//! ignored on purpose, so `extensions/v1beta1` Deployments are found like `apps/v1` ones.

use crate::yaml::{Node, Path, PathSeg, Value};

/// Built-in (group, kind, path to the PodSpec). A kind may have several rows.
pub const BUILTIN_KINDS: &[(&str, &str, &str)] = &[
    ("", "Pod", "spec"),
    ("", "PodTemplate", "template.spec"),
    ("", "ReplicationController", "spec.template.spec"),
    ("apps", "Deployment", "spec.template.spec"),
    ("extensions", "Deployment", "spec.template.spec"),
    ("apps", "ReplicaSet", "spec.template.spec"),
    ("extensions", "ReplicaSet", "spec.template.spec"),
    ("apps", "StatefulSet", "spec.template.spec"),
    ("apps", "DaemonSet", "spec.template.spec"),
    ("extensions", "DaemonSet", "spec.template.spec"),
    ("batch", "Job", "spec.template.spec"),
    ("batch", "CronJob", "spec.jobTemplate.spec.template.spec"),
    // Argo Rollouts (skipped when it points at a Deployment through workloadRef).
    ("argoproj.io", "Rollout", "spec.template.spec"),
    // Knative Serving.
    ("serving.knative.dev", "Service", "spec.template.spec"),
    ("serving.knative.dev", "Configuration", "spec.template.spec"),
    // OpenKruise.
    ("apps.kruise.io", "CloneSet", "spec.template.spec"),
    ("apps.kruise.io", "StatefulSet", "spec.template.spec"),
    ("apps.kruise.io", "DaemonSet", "spec.template.spec"),
    ("apps.kruise.io", "BroadcastJob", "spec.template.spec"),
    (
        "apps.kruise.io",
        "AdvancedCronJob",
        "spec.template.jobTemplate.spec.template.spec",
    ),
    (
        "apps.kruise.io",
        "AdvancedCronJob",
        "spec.template.broadcastJobTemplate.spec.template.spec",
    ),
    // KEDA.
    ("keda.sh", "ScaledJob", "spec.jobTargetRef.template.spec"),
];

/// Kinds that are never workloads, so the generic `spec.template.spec.containers` rule
/// does not look inside them.
pub const NEVER_WORKLOADS: &[(&str, &str)] = &[
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("", "Namespace"),
    ("", "Endpoints"),
    ("", "PersistentVolumeClaim"),
    ("", "PersistentVolume"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("apiregistration.k8s.io", "APIService"),
];

/// A user-supplied row, from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraKind {
    /// API group (`""` for the core group).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Dotted path from the object root to the PodSpec.
    pub path: String,
}

/// How workloads are recognised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Treat any other object whose `spec.template.spec.containers` is a list as a workload.
    pub generic: bool,
    /// More kinds.
    pub extra: Vec<ExtraKind>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            generic: true,
            extra: Vec::new(),
        }
    }
}

/// A Kubernetes object's identity, for messages and selection.
///
/// # Examples
/// ```
/// let obj = trust_inject::ObjectRef {
///     api_version: "apps/v1".into(),
///     kind: "Deployment".into(),
///     name: "api".into(),
///     namespace: Some("web".into()),
/// };
/// assert_eq!(obj.to_string(), "Deployment web/api");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectRef {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, if set.
    pub namespace: Option<String>,
}

impl ObjectRef {
    /// Reads the identity of `obj`; `None` unless it has string `apiVersion` and `kind`.
    #[must_use]
    pub(crate) fn of(obj: &Node) -> Option<ObjectRef> {
        ObjectView::of(obj).map(ObjectView::to_ref)
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_label(f, &self.kind, &self.name, self.namespace.as_deref())
    }
}

/// An object's identity as its tree spells it, borrowed: what the workloads found carry, so
/// that a workload costs no copies of its names unless a message or report needs them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ObjectView<'n> {
    /// `apiVersion`.
    pub api_version: &'n str,
    /// `kind`.
    pub kind: &'n str,
    /// `metadata.name` (empty when missing).
    pub name: &'n str,
    /// `metadata.namespace`, if set.
    pub namespace: Option<&'n str>,
}

impl<'n> ObjectView<'n> {
    /// Reads the identity of `obj`; `None` unless it has string `apiVersion` and `kind`.
    #[must_use]
    pub(crate) fn of(obj: &'n Node) -> Option<ObjectView<'n>> {
        let api_version = obj.get("apiVersion")?.as_str()?;
        let kind = obj.get("kind")?.as_str()?;
        let meta = obj.get("metadata");
        let field = |key: &str| meta.and_then(|m| m.get(key)).and_then(Node::as_str);
        Some(ObjectView {
            api_version,
            kind,
            name: field("name").unwrap_or(""),
            namespace: field("namespace"),
        })
    }

    /// The API group of `apiVersion` (`""` for the core group).
    #[must_use]
    pub(crate) fn group(&self) -> &'n str {
        group_of(self.api_version)
    }

    /// The identity as an owned [`ObjectRef`], for messages and reports.
    #[must_use]
    pub(crate) fn to_ref(self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.to_owned(),
            kind: self.kind.to_owned(),
            name: self.name.to_owned(),
            namespace: self.namespace.map(str::to_owned),
        }
    }
}

impl std::fmt::Display for ObjectView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_label(f, self.kind, self.name, self.namespace)
    }
}

/// `Kind namespace/name` as messages name an object: `Kind name` without a namespace,
/// `(unnamed)` for a missing name, the kind alone when it has neither.
fn write_label(
    f: &mut std::fmt::Formatter<'_>,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
) -> std::fmt::Result {
    f.write_str(kind)?;
    if !name.is_empty() || namespace.is_some() {
        f.write_str(" ")?;
        if let Some(ns) = namespace {
            f.write_str(ns)?;
            f.write_str("/")?;
        }
        f.write_str(if name.is_empty() { "(unnamed)" } else { name })?;
    }
    Ok(())
}

/// The group part of an `apiVersion`.
#[must_use]
pub fn group_of(api_version: &str) -> &str {
    // A short text: a plain look back from its end beats a string searcher.
    let slash = api_version.bytes().rposition(|b| b == b'/');
    slash.and_then(|i| api_version.get(..i)).unwrap_or("")
}

/// A PodSpec found in an object: where it is, and the nodes planning reads, as found (the
/// planning of its injection walks to none of them again).
#[derive(Clone, Debug)]
pub struct Found<'n> {
    /// The object that holds it (a List item has its own), as its tree spells it.
    pub object: ObjectView<'n>,
    /// Path from the document root to the object (empty, or `items[3]` in a List).
    pub object_path: Path,
    /// Path from the document root to the PodSpec.
    pub spec_path: Path,
    /// Path from the document root to the pod template's metadata (the object's own
    /// metadata for a bare Pod).
    pub meta_path: Path,
    /// The object, at `object_path`.
    pub obj: &'n Node,
    /// The PodSpec, at `spec_path`.
    pub spec: &'n Node,
    /// The pod template's metadata, at `meta_path`, if it has one.
    pub meta: Option<&'n Node>,
}

/// Why an object that looks like a workload is not one after all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotFound {
    /// A Rollout that points at a Deployment.
    WorkloadRef(ObjectRef),
}

/// `base` followed by the keys of `dotted`, built in one list.
fn join(base: &Path, dotted: &str) -> Path {
    let keys = dotted.split('.').filter(|s| !s.is_empty());
    Path(
        base.0
            .iter()
            .cloned()
            .chain(keys.map(|k| PathSeg::Key(k.into())))
            .collect(),
    )
}

fn at<'n>(root: &'n Node, dotted: &str) -> Option<&'n Node> {
    let mut n = root;
    for seg in dotted.split('.').filter(|s| !s.is_empty()) {
        n = n.get(seg)?;
    }
    Some(n)
}

/// The path of the `metadata` next to the PodSpec at `spec_path`.
fn meta_next_to(spec_path: &Path) -> Path {
    let parent = spec_path.0.split_last().map_or(&[][..], |(_, rest)| rest);
    Path(parent.iter().cloned().chain([META]).collect())
}

/// A key of a built-in path, made at compile time (no key here is longer than what
/// [`smol_str::SmolStr`] stores inline).
const fn key(k: &str) -> PathSeg {
    PathSeg::Key(smol_str::SmolStr::new_inline(k))
}

const META: PathSeg = key("metadata");
const SPEC: PathSeg = key("spec");
const TEMPLATE: PathSeg = key("template");

/// A path of [`BUILTIN_KINDS`] as keys: to the PodSpec, and to the pod template's
/// metadata next to it.
type Row = (&'static [PathSeg], &'static [PathSeg]);

/// The [`Row`] of the pod template at the keys given: its `spec` and its `metadata`.
macro_rules! row {
    ($($k:expr),*) => {
        (&[$($k,)* SPEC], &[$($k,)* META])
    };
}

/// The paths of [`BUILTIN_KINDS`] as keys.
const P_SPEC: Row = row!();
const P_TEMPLATE_SPEC: Row = row!(TEMPLATE);
const P_SPEC_TEMPLATE_SPEC: Row = row!(SPEC, TEMPLATE);
const P_CRONJOB: Row = row!(SPEC, key("jobTemplate"), SPEC, TEMPLATE);
const P_ADVANCED_CRONJOB: Row = row!(SPEC, TEMPLATE, key("jobTemplate"), SPEC, TEMPLATE);
const P_ADVANCED_CRONJOB_BROADCAST: Row =
    row!(SPEC, TEMPLATE, key("broadcastJobTemplate"), SPEC, TEMPLATE);
const P_SCALED_JOB: Row = row!(SPEC, key("jobTargetRef"), TEMPLATE);

/// The rows of [`BUILTIN_KINDS`] for `group` and `kind`, as paths of keys, in the table's
/// order: one match on the kind, then its groups (a test holds the two to the same rows).
fn builtin_paths(group: &str, kind: &str) -> &'static [Row] {
    let ok = |groups: &[&str]| groups.contains(&group);
    let rows: (&[&str], &'static [Row]) = match kind {
        "Pod" => (&[""], &[P_SPEC]),
        "PodTemplate" => (&[""], &[P_TEMPLATE_SPEC]),
        "ReplicationController" => (&[""], &[P_SPEC_TEMPLATE_SPEC]),
        "Deployment" | "ReplicaSet" => (&["apps", "extensions"], &[P_SPEC_TEMPLATE_SPEC]),
        "StatefulSet" => (&["apps", "apps.kruise.io"], &[P_SPEC_TEMPLATE_SPEC]),
        "DaemonSet" => (
            &["apps", "extensions", "apps.kruise.io"],
            &[P_SPEC_TEMPLATE_SPEC],
        ),
        "Job" => (&["batch"], &[P_SPEC_TEMPLATE_SPEC]),
        "CronJob" => (&["batch"], &[P_CRONJOB]),
        "Rollout" => (&["argoproj.io"], &[P_SPEC_TEMPLATE_SPEC]),
        "Service" | "Configuration" => (&["serving.knative.dev"], &[P_SPEC_TEMPLATE_SPEC]),
        "CloneSet" | "BroadcastJob" => (&["apps.kruise.io"], &[P_SPEC_TEMPLATE_SPEC]),
        "AdvancedCronJob" => (
            &["apps.kruise.io"],
            &[P_ADVANCED_CRONJOB, P_ADVANCED_CRONJOB_BROADCAST],
        ),
        "ScaledJob" => (&["keda.sh"], &[P_SCALED_JOB]),
        _ => return &[],
    };
    if ok(rows.0) { rows.1 } else { &[] }
}

/// The node at the keys of `path` below `root`.
fn at_keys<'n>(root: &'n Node, path: &[PathSeg]) -> Option<&'n Node> {
    let mut n = root;
    for seg in path {
        n = match seg {
            PathSeg::Key(k) => n.get(k)?,
            PathSeg::Index(i) => n.items()?.get(*i)?,
        };
    }
    Some(n)
}

/// The fields of an object that finding its PodSpecs reads, looked up in one pass over
/// its keys: the last occurrence of each, as [`Node::get`] (and Kubernetes) reads it (none
/// of these names reads as null).
#[derive(Clone, Copy, Default)]
struct ObjectFields<'n> {
    api_version: Option<&'n Node>,
    kind: Option<&'n Node>,
    metadata: Option<&'n Node>,
    spec: Option<&'n Node>,
    template: Option<&'n Node>,
    items: Option<&'n Node>,
}

impl<'n> ObjectFields<'n> {
    /// The fields of the object `obj`.
    fn of(obj: &'n Node) -> Self {
        let mut f = ObjectFields::default();
        for (k, v) in obj.entries().unwrap_or_default() {
            let Value::Scalar { text, .. } = &k.value else {
                continue;
            };
            let slot = match text.as_str() {
                "apiVersion" => &mut f.api_version,
                "kind" => &mut f.kind,
                "metadata" => &mut f.metadata,
                "spec" => &mut f.spec,
                "template" => &mut f.template,
                "items" => &mut f.items,
                _ => continue,
            };
            *slot = Some(v);
        }
        f
    }

    /// The value of the key `seg` (a key read in [`ObjectFields::of`] from there).
    fn get(&self, obj: &'n Node, seg: &PathSeg) -> Option<&'n Node> {
        match seg {
            PathSeg::Key(k) => match k.as_str() {
                "spec" => self.spec,
                "template" => self.template,
                k => obj.get(k),
            },
            PathSeg::Index(i) => obj.items()?.get(*i),
        }
    }
}

/// The values of the keys `a` and `b` in the mapping `node`, in one pass over its keys
/// (the last occurrence of each, as [`Node::get`] reads it; neither reads as null).
fn two_keys<'n>(node: &'n Node, a: &str, b: &str) -> (Option<&'n Node>, Option<&'n Node>) {
    let (mut va, mut vb) = (None, None);
    for (k, v) in node.entries().unwrap_or_default() {
        if let Value::Scalar { text, .. } = &k.value {
            let text = text.as_str();
            if text == a {
                va = Some(v);
            } else if text == b {
                vb = Some(v);
            }
        }
    }
    (va, vb)
}

/// The PodSpec at the (non-empty) `keys` of a built-in row below the object `obj` of the
/// fields `fields`, and the `metadata` next to it (no key of a row reads as null, so a
/// key's text alone tells it, as in [`two_keys`]).
fn template_at<'n>(
    obj: &'n Node,
    fields: &ObjectFields<'n>,
    keys: &[PathSeg],
) -> Option<(&'n Node, Option<&'n Node>)> {
    let (last, up) = keys.split_last()?;
    let template = match up.split_first() {
        Some((first, rest)) => at_keys(fields.get(obj, first)?, rest)?,
        None => obj,
    };
    match (last, up.is_empty()) {
        // At the object itself, its fields are read already.
        (_, true) => Some((fields.get(obj, last)?, fields.metadata)),
        (PathSeg::Key(k), false) if k != "metadata" => {
            let (spec, meta) = two_keys(template, k, "metadata");
            Some((spec?, meta))
        }
        _ => {
            let spec = at_keys(template, std::slice::from_ref(last))?;
            Some((spec, template.get("metadata")))
        }
    }
}

/// `base` followed by the keys of `row`: the paths of the PodSpec and of the `metadata`
/// next to it (the row's own, for an object at the root).
fn spec_and_meta(base: &Path, row: Row) -> (Path, Path) {
    if base.0.is_empty() {
        return (Path(row.0.into()), Path(row.1.into()));
    }
    let under = |keys: &[PathSeg]| Path(base.0.iter().chain(keys).cloned().collect());
    (under(row.0), under(row.1))
}

/// Every PodSpec in the object `obj` (found at `base` in its document), recursing into
/// the items of Lists.
pub fn find_pod_specs<'n>(
    obj: &'n Node,
    base: &Path,
    rules: &Rules,
    found: &mut Vec<Found<'n>>,
    skipped: &mut Vec<NotFound>,
) {
    let fields = ObjectFields::of(obj);
    let (Some(api_version), Some(kind)) = (
        fields.api_version.and_then(Node::as_str),
        fields.kind.and_then(Node::as_str),
    ) else {
        return;
    };
    if (kind == "List" || kind.ends_with("List"))
        && let Some(items) = fields.items.and_then(Node::items)
    {
        for (i, item) in items.iter().enumerate() {
            find_pod_specs(item, &base.key("items").index(i), rules, found, skipped);
        }
        return;
    }
    let group = group_of(api_version);
    if kind == "Rollout"
        && group == "argoproj.io"
        && fields.spec.and_then(|s| s.get("workloadRef")).is_some()
    {
        if let Some(object) = ObjectRef::of(obj) {
            skipped.push(NotFound::WorkloadRef(object));
        }
        return;
    }
    // The identity is read once, when the first PodSpec is found.
    let mut object = None;
    let mut view = || {
        *object.get_or_insert_with(|| {
            let (name, namespace) = fields
                .metadata
                .map_or((None, None), |m| two_keys(m, "name", "namespace"));
            ObjectView {
                api_version,
                kind,
                name: name.and_then(Node::as_str).unwrap_or(""),
                namespace: namespace.and_then(Node::as_str),
            }
        })
    };
    let mut make = |spec_path, meta_path, spec, meta| Found {
        object: view(),
        object_path: base.clone(),
        spec_path,
        meta_path,
        obj,
        spec,
        meta,
    };
    let builtin = builtin_paths(group, kind);
    for &row in builtin {
        if let Some((spec, meta)) = template_at(obj, &fields, row.0) {
            let (spec_path, meta_path) = spec_and_meta(base, row);
            found.push(make(spec_path, meta_path, spec, meta));
        }
    }
    let mut known = !builtin.is_empty();
    let mut push = |p: &str| {
        let Some(spec) = at(obj, p) else {
            return;
        };
        let spec_path = join(base, p);
        let meta_path = meta_next_to(&spec_path);
        // The metadata next to the PodSpec: below the object unless the path is empty
        // (then the object's parent holds it, a list when the object is a List item).
        let keys: Vec<&str> = p.split('.').filter(|s| !s.is_empty()).collect();
        let meta = match keys.split_last() {
            Some((_, up)) => up
                .iter()
                .try_fold(obj, |n, k| n.get(k))
                .and_then(|t| t.get("metadata")),
            None if base.0.is_empty() => obj.get("metadata"),
            None => None,
        };
        found.push(make(spec_path, meta_path, spec, meta));
    };
    for e in &rules.extra {
        if e.group == group && e.kind == kind {
            known = true;
            push(&e.path);
        }
    }
    if !known {
        let never = NEVER_WORKLOADS
            .iter()
            .any(|(g, k)| *g == group && *k == kind);
        if rules.generic
            && !never
            && let Some((spec, meta)) = template_at(obj, &fields, P_SPEC_TEMPLATE_SPEC.0)
            && spec.get("containers").and_then(Node::items).is_some()
        {
            let (spec_path, meta_path) = spec_and_meta(base, P_SPEC_TEMPLATE_SPEC);
            found.push(make(spec_path, meta_path, spec, meta));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_chunk};

    fn find(s: &str) -> Vec<String> {
        let docs = parse_chunk(s, 0, 1, &Limits::default(), true).expect("valid");
        let root = docs[0].root.as_ref().expect("root");
        let mut found = Vec::new();
        let mut skipped = Vec::new();
        find_pod_specs(
            root,
            &Path::default(),
            &Rules::default(),
            &mut found,
            &mut skipped,
        );
        found
            .iter()
            .map(|f| format!("{} {}", f.object.kind, f.spec_path))
            .collect()
    }

    #[test]
    fn finds_by_table_and_generic_rule() {
        assert_eq!(
            find(
                "apiVersion: batch/v1beta1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec: {}\n"
            ),
            vec!["CronJob spec.jobTemplate.spec.template.spec"]
        );
        assert_eq!(
            find(
                "apiVersion: x.io/v1\nkind: Thing\nspec:\n  template:\n    spec:\n      containers: []\n"
            ),
            vec!["Thing spec.template.spec"]
        );
        assert!(find("apiVersion: v1\nkind: Service\nspec:\n  template:\n    spec:\n      containers: []\n").is_empty());
        assert_eq!(
            find("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec: {}\n"),
            vec!["Pod items[0].spec"]
        );
    }

    /// The kind dispatch finds exactly the rows of the table, in its order, and nothing
    /// for a kind or group the table does not have.
    #[test]
    fn builtin_paths_are_the_tables_rows() {
        let dotted = |keys: &[PathSeg]| Path(keys.iter().cloned().collect()).to_string();
        let mut pairs: Vec<(&str, &str)> = BUILTIN_KINDS.iter().map(|(g, k, _)| (*g, *k)).collect();
        pairs.extend(NEVER_WORKLOADS.iter().copied());
        pairs.extend([
            ("", "Deployment"),
            ("apps", "Pod"),
            ("batch", "List"),
            ("x.io", "Job"),
        ]);
        for (g, k) in pairs {
            let want: Vec<&str> = BUILTIN_KINDS
                .iter()
                .filter(|(tg, tk, _)| *tg == g && *tk == k)
                .map(|(_, _, p)| *p)
                .collect();
            let got: Vec<String> = builtin_paths(g, k).iter().map(|p| dotted(p.0)).collect();
            assert_eq!(got, want, "{g}/{k}");
        }
    }

    #[test]
    fn group_of_core_and_named_groups() {
        assert_eq!(group_of("v1"), "");
        assert_eq!(group_of("apps/v1"), "apps");
        assert_eq!(group_of("a/b/v1"), "a/b");
        assert_eq!(group_of("/v1"), "");
        assert_eq!(group_of("apps/"), "apps");
        assert_eq!(group_of("gr\u{fc}n.io/v1"), "gr\u{fc}n.io");
    }
}
