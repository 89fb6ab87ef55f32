//! Plans the injection into ONE PodSpec: the intents to apply and the findings to report.
//!
//! Pure and idempotent: a PodSpec that already carries everything yields no intent. What an
//! earlier run injected under other options (recognised by our volume, see `plan`) is taken
//! out and replaced, changing only the difference. Never touches YAML text;
//! [`crate::pipeline`] applies the plan.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::config::{LabelReq, Options, SourceKind, glob_match};
use crate::error::{Finding, Severity};
use crate::marker::{ContainerRecord, Fields, Marker, Record};

/// The record of this run's injection, borrowing its items from the options and the
/// document where it can, and each container's injection rendered (borrowed from
/// [`Wanted`] when the container gets all that is wanted, as most do).
type NewRecord<'a> = Record<Cow<'a, str>, Fields<'a>>;
use crate::well_known as wk;
use crate::workload::Found;
use crate::yaml::{Intent, Key, Node, Op, Path, Val, Value};

/// Why a workload was left alone, with the detail; its note is rendered once, by
/// [`Skip::note`].
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use trust_inject::{Reports, Skip};
/// let argv = ["trust-inject", "--configmap", "corp-ca", "--exclude-kind", "Pod"];
/// let argv = argv.map(Into::into);
/// let env = trust_inject::Env::default();
/// let inv = trust_inject::resolve(&argv, &env, &mut |_| unreachable!()).expect("valid");
/// let opts = trust_inject::Options::from_settings(&inv.settings)?;
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::plan_edits_reporting(pod, &opts, Reports::PerWorkload)?;
/// assert_eq!(run.workloads[0].skipped, Some(Skip::Excluded("kind Pod is excluded".into())));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// A Windows pod: what pins it to Windows (`spec.os.name is windows`).
    Windows(String),
    /// The skip annotation.
    Annotation,
    /// Excluded by the configuration: which rule (`kind Job is excluded`).
    Excluded(String),
    /// A PodSpec without containers.
    NoContainers,
}

/// The reason of a [`Skip`] without its detail, for counts. Declared in the order of
/// their names, so that counts sorted by reason list them alphabetically.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use trust_inject::SkipReason;
/// let argv = ["trust-inject", "--configmap", "corp-ca", "--exclude-namespace", "web"];
/// let argv = argv.map(Into::into);
/// let env = trust_inject::Env::default();
/// let inv = trust_inject::resolve(&argv, &env, &mut |_| unreachable!()).expect("valid");
/// let opts = trust_inject::Options::from_settings(&inv.settings)?;
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::process(pod, &opts)?;
/// assert_eq!(run.summary.skipped.get(&SkipReason::Excluded), Some(&1));
/// assert_eq!(SkipReason::NoContainers.to_string(), "no containers");
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// [`Skip::Annotation`].
    Annotation,
    /// [`Skip::Excluded`].
    Excluded,
    /// [`Skip::NoContainers`].
    NoContainers,
    /// [`Skip::Windows`].
    Windows,
}

impl SkipReason {
    /// The short name summaries and reports print (`windows`, `annotation`, ...).
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SkipReason::Windows => "windows",
            SkipReason::Annotation => "annotation",
            SkipReason::Excluded => "excluded",
            SkipReason::NoContainers => "no containers",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Skip {
    /// The reason, without the detail.
    #[must_use]
    pub(crate) fn reason(&self) -> SkipReason {
        match self {
            Skip::Windows(_) => SkipReason::Windows,
            Skip::Annotation => SkipReason::Annotation,
            Skip::Excluded(_) => SkipReason::Excluded,
            Skip::NoContainers => SkipReason::NoContainers,
        }
    }

    /// The info note that tells the user, with the detail; `None` for a PodSpec without
    /// containers (the plan warns about a spec without any, and says nothing of a null
    /// spec).
    ///
    /// # Examples
    /// ```
    /// use trust_inject::Skip;
    /// let skip = Skip::Excluded("kind Job is excluded".to_owned());
    /// assert_eq!(skip.note().as_deref(), Some("left alone: kind Job is excluded"));
    /// assert_eq!(Skip::NoContainers.note(), None);
    /// ```
    #[must_use]
    pub fn note(&self) -> Option<String> {
        match self {
            Skip::Windows(why) => Some(format!(
                "left alone: a Windows pod ({why}); its containers read trust from the Windows certificate store, not from files"
            )),
            Skip::Annotation => Some(format!(
                "left alone: annotated {}: \"true\"",
                wk::SKIP_ANNOTATION
            )),
            Skip::Excluded(why) => Some(format!("left alone: {why}")),
            Skip::NoContainers => None,
        }
    }
}

/// A finding of the plan about the field `path`, before it is tied to a document.
fn note(severity: Severity, path: Option<Path>, message: String) -> Finding {
    Finding {
        path: path.map(|p| p.to_string()),
        ..Finding::new(severity, message)
    }
}

/// What one container gets, for reports.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::plan_edits(pod, &opts)?;
/// let c: &trust_inject::ContainerPlan = &run.workloads[0].containers[0];
/// assert_eq!((c.name.as_str(), c.path.as_str()), ("app", "spec.containers[0]"));
/// assert!(c.env.contains(&"NODE_EXTRA_CA_CERTS".to_owned()));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerPlan {
    /// Container name (empty unless per-workload reports are kept).
    pub name: String,
    /// Field path of the container (empty unless per-workload reports are kept).
    pub path: String,
    /// Mount paths added (empty unless per-workload reports are kept).
    pub mounts: Vec<String>,
    /// Variables added, or whose value changes (empty unless per-workload reports are
    /// kept).
    pub env: Vec<String>,
    /// Mount paths left alone, with the reason.
    pub kept_mounts: Vec<(String, String)>,
    /// Variables left alone, with the reason.
    pub kept_env: Vec<(String, String)>,
    /// What an earlier injection under other options left, taken out: mount paths and
    /// variable names (empty unless per-workload reports are kept).
    pub removed: Vec<String>,
}

/// The plan for one PodSpec.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Changes to make (empty when everything is already there).
    pub intents: Vec<Intent>,
    /// What to tell the user.
    pub notes: Vec<Finding>,
    /// Per container, what it gets.
    pub containers: Vec<ContainerPlan>,
    /// Set when the workload was left alone.
    pub skipped: Option<Skip>,
    /// Whether the bundle volume is added (it was missing).
    pub volume_added: bool,
    /// Whether the bundle hash annotation is added or changed.
    pub annotation_changed: bool,
    /// What of the start-up merge (init container, source volume, pull secret) is added,
    /// changed or taken out.
    pub merge_changes: Vec<String>,
}

/// A problem that stops the run: an error about the field `path`, and what to do.
fn conflict(path: Path, message: String) -> Box<Finding> {
    Box::new(Finding::new(Severity::Error, message).at(path))
}

fn node_at<'n>(root: &'n Node, path: &Path) -> Option<&'n Node> {
    node_at_segs(root, &path.0)
}

fn node_at_segs<'n>(root: &'n Node, path: &[crate::yaml::PathSeg]) -> Option<&'n Node> {
    let mut n = root;
    for seg in path {
        n = match seg {
            crate::yaml::PathSeg::Key(k) => n.get(k)?,
            crate::yaml::PathSeg::Index(i) => n.items()?.get(*i)?,
        };
    }
    Some(n)
}

#[inline]
fn str_at<'n>(n: Option<&'n Node>, keys: &[&str]) -> Option<&'n str> {
    let mut n = n?;
    for k in keys {
        n = n.get(k)?;
    }
    n.as_str()
}

/// The fields of a PodSpec that planning reads, looked up in one pass over its keys: the
/// last occurrence of each, as [`Node::get`] (and Kubernetes) reads it.
#[derive(Clone, Copy, Default)]
struct SpecFields<'n> {
    containers: Option<&'n Node>,
    init_containers: Option<&'n Node>,
    ephemeral_containers: Option<&'n Node>,
    volumes: Option<&'n Node>,
    image_pull_secrets: Option<&'n Node>,
    os: Option<&'n Node>,
    node_selector: Option<&'n Node>,
    affinity: Option<&'n Node>,
    security_context: Option<&'n Node>,
}

impl<'n> SpecFields<'n> {
    /// The fields of the PodSpec `spec`.
    fn of(spec: &'n Node) -> Self {
        let mut f = SpecFields::default();
        for (k, v) in spec.entries().unwrap_or_default() {
            // A key matches as in `Node::get`: a scalar of that text (none of these names
            // reads as null).
            let Value::Scalar { text, .. } = &k.value else {
                continue;
            };
            let slot = match text.as_str() {
                "containers" => &mut f.containers,
                "initContainers" => &mut f.init_containers,
                "ephemeralContainers" => &mut f.ephemeral_containers,
                "volumes" => &mut f.volumes,
                "imagePullSecrets" => &mut f.image_pull_secrets,
                "os" => &mut f.os,
                "nodeSelector" => &mut f.node_selector,
                "affinity" => &mut f.affinity,
                "securityContext" => &mut f.security_context,
                _ => continue,
            };
            *slot = Some(v);
        }
        f
    }

    /// The list of containers `key` (`containers`, `initContainers` or
    /// `ephemeralContainers`).
    fn list(&self, key: &str) -> Option<&'n Node> {
        match key {
            "containers" => self.containers,
            "initContainers" => self.init_containers,
            "ephemeralContainers" => self.ephemeral_containers,
            _ => None,
        }
    }

    /// The items of every list of containers, in the order `containers`,
    /// `initContainers`, `ephemeralContainers`.
    fn all_containers(self) -> impl Iterator<Item = &'n Node> {
        [
            self.containers,
            self.init_containers,
            self.ephemeral_containers,
        ]
        .into_iter()
        .filter_map(|l| l.and_then(Node::items))
        .flatten()
    }
}

/// A container of the pod (an item of one of its lists, a mapping or not), with the fields
/// planning reads, looked up in one pass over its keys: the last occurrence of each, as
/// [`Node::get`] reads it (none of these names reads as null).
#[derive(Clone, Copy)]
struct PodContainer<'n> {
    /// Its list (`containers`, `initContainers` or `ephemeralContainers`), and its index
    /// there.
    list: &'static str,
    index: usize,
    node: &'n Node,
    name: Option<&'n Node>,
    mounts: Option<&'n Node>,
    env: Option<&'n Node>,
    security_context: Option<&'n Node>,
}

impl<'n> PodContainer<'n> {
    /// Its name (empty when it has none).
    fn name(&self) -> &'n str {
        self.name.and_then(Node::as_str).unwrap_or("")
    }
}

/// The containers of a pod, kept inline: a pod has a few.
type PodContainers<'n> = SmallVec<[PodContainer<'n>; 4]>;

/// Reads into `out` the containers of the PodSpec of the fields `spec`, in the order
/// `containers`, `initContainers`, `ephemeralContainers` (written in place: the list is
/// large to move).
fn pod_containers<'n>(spec: &SpecFields<'n>, out: &mut PodContainers<'n>) {
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let items = spec.list(list).and_then(Node::items).unwrap_or_default();
        for (index, node) in items.iter().enumerate() {
            let mut c = PodContainer {
                list,
                index,
                node,
                name: None,
                mounts: None,
                env: None,
                security_context: None,
            };
            for (k, v) in node.entries().unwrap_or_default() {
                if let Value::Scalar { text, .. } = &k.value {
                    match text.as_str() {
                        "name" => c.name = Some(v),
                        "volumeMounts" => c.mounts = Some(v),
                        "env" => c.env = Some(v),
                        "securityContext" => c.security_context = Some(v),
                        _ => {}
                    }
                }
            }
            out.push(c);
        }
    }
}

fn labels_match(labels: Option<&Node>, reqs: &[LabelReq]) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::as_str);
    reqs.iter().all(|r| match r {
        LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
        LabelReq::Ne(k, v) => get(k) != Some(v.as_str()),
        LabelReq::Exists(k) => get(k).is_some(),
        LabelReq::Missing(k) => get(k).is_none(),
    })
}

/// Whether the configuration excludes the workload, and why.
fn excluded(obj: &Node, found: &Found, opts: &Options) -> Option<String> {
    let ex = &opts.exclude;
    let o = &found.object;
    if ex.kinds.iter().any(|g| glob_match(g, o.kind)) {
        return Some(format!("kind {} is excluded", o.kind));
    }
    let ns = o.namespace.unwrap_or("");
    if ex.namespaces.iter().any(|g| glob_match(g, ns)) {
        return Some(format!("namespace {ns:?} is excluded"));
    }
    if ex.names.iter().any(|g| glob_match(g, o.name)) {
        return Some(format!("name {} is excluded", o.name));
    }
    if !ex.labels.is_empty()
        && labels_match(
            obj.get("metadata").and_then(|m| m.get("labels")),
            &ex.labels,
        )
    {
        return Some("its labels match --exclude-selector".to_owned());
    }
    None
}

/// Why the PodSpec `spec` runs only on Windows nodes, if it does: `spec.os.name`, an OS
/// node selector, a required node affinity whose every term asks for Windows, or
/// `windowsOptions` in the pod's security context (or in every container's).
fn windows(spec: &SpecFields<'_>, containers: &[PodContainer<'_>]) -> Option<String> {
    if str_at(spec.os, &["name"]) == Some("windows") {
        return Some("spec.os.name is windows".into());
    }
    for label in wk::OS_LABELS {
        if str_at(spec.node_selector, &[label]) == Some("windows") {
            return Some(format!("nodeSelector {label}: windows"));
        }
    }
    let terms = spec
        .affinity
        .and_then(|a| a.get("nodeAffinity"))
        .and_then(|a| a.get("requiredDuringSchedulingIgnoredDuringExecution"))
        .and_then(|r| r.get("nodeSelectorTerms"))
        .and_then(Node::items)
        .unwrap_or(&[]);
    // Terms are ORed, the expressions of a term ANDed: the pod is pinned to Windows when
    // each term has an expression that admits only `windows` as the OS.
    let term_windows = |t: &Node| {
        t.get("matchExpressions")
            .and_then(Node::items)
            .unwrap_or(&[])
            .iter()
            .any(|e| {
                let key = str_at(Some(e), &["key"]);
                let values = e.get("values").and_then(Node::items).unwrap_or(&[]);
                key.is_some_and(|k| wk::OS_LABELS.contains(&k))
                    && str_at(Some(e), &["operator"]) == Some("In")
                    && !values.is_empty()
                    && values.iter().all(|v| v.as_str() == Some("windows"))
            })
    };
    if !terms.is_empty() && terms.iter().all(term_windows) {
        return Some("its required node affinity selects only Windows nodes".into());
    }
    if spec
        .security_context
        .and_then(|s| s.get("windowsOptions"))
        .is_some_and(|w| !w.is_null())
    {
        return Some("spec.securityContext.windowsOptions is set".into());
    }
    let mut containers = containers
        .iter()
        .filter(|c| c.list != "ephemeralContainers")
        .peekable();
    if containers.peek().is_some()
        && containers.all(|c| {
            c.security_context
                .and_then(|s| s.get("windowsOptions"))
                .is_some_and(|w| !w.is_null())
        })
    {
        return Some("every container sets securityContext.windowsOptions".into());
    }
    None
}

fn is_true(n: Option<&Node>) -> bool {
    n.and_then(Node::as_str).is_some_and(|s| s == "true")
}

/// One mount the tool wants in every container.
#[derive(Clone)]
struct WantMount {
    path: String,
    sub_path: Option<String>,
    /// The mount as inserted, built once per run and shared by every container's intents.
    val: Arc<Val>,
}

impl WantMount {
    fn new(path: String, sub_path: Option<String>, opts: &Options) -> WantMount {
        let mut m = vec![
            ("name".to_owned(), Val::str(&opts.volume_name)),
            ("mountPath".to_owned(), Val::str(&path)),
        ];
        if let Some(sp) = &sub_path {
            m.push(("subPath".to_owned(), Val::str(sp)));
        }
        m.push(("readOnly".to_owned(), Val::Bool(true)));
        WantMount {
            path,
            sub_path,
            val: Arc::new(Val::Map(m)),
        }
    }
}

fn wanted_mounts(opts: &Options) -> Vec<WantMount> {
    let key = &opts.source.key;
    let mut out = vec![WantMount::new(opts.mount_path.clone(), None, opts)];
    let merged = opts.merge.is_some();
    let key = if merged {
        wk::GENERATED_PRIVATE_KEY
    } else {
        key
    };
    if let Some(f) = &opts.additive_file {
        out.push(WantMount::new(f.clone(), Some(key.to_owned()), opts));
    }
    let generated = opts.generated.then_some(opts.loaded.as_deref()).flatten();
    // The start-up merge writes the hashed files too, but their names are known here only
    // when the CAs were also given with --ca-file.
    let hashed = generated.or(opts.loaded.as_deref().filter(|_| merged));
    if let (Some(loaded), true) = (hashed, opts.hashed_certs) {
        for (name, _) in &loaded.data.hashed {
            out.push(WantMount::new(
                format!("{}/{name}", wk::OPENSSL_CERT_DIR),
                Some(name.clone()),
                opts,
            ));
        }
    }
    if complete(opts) {
        let complete_key = if generated.is_some() || merged {
            wk::GENERATED_COMPLETE_KEY
        } else {
            key
        };
        for p in &opts.system_bundle_paths {
            out.push(WantMount::new(
                p.clone(),
                Some(complete_key.to_owned()),
                opts,
            ));
        }
    }
    out
}

/// How a variable is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EnvMode {
    /// Set it unless the container does.
    Set,
    /// Append to what the container sets (JAVA_TOOL_OPTIONS).
    Append,
    /// Set it, or add the missing comma-separated entries to what the container sets
    /// (NO_PROXY with `--append-no-proxy`).
    List,
}

/// Our JAVA_TOOL_OPTIONS part for a bundle volume mounted at `dir`.
fn java_options_at(dir: &str) -> String {
    format!(
        "-Djavax.net.ssl.trustStore={dir}/{} -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword={}",
        wk::GENERATED_TRUSTSTORE_KEY,
        crate::bundle::TRUSTSTORE_PASSWORD
    )
}

/// One variable the tool wants in every container.
struct WantEnv {
    name: String,
    value: String,
    mode: EnvMode,
    /// The file the value points at, which a mount of the bundle must provide (empty:
    /// none).
    file: String,
    /// The Secret key the value comes from instead (`valueFrom.secretKeyRef`).
    secret: Option<crate::proxy::SecretRef>,
    /// The variable as inserted (set by [`share_env_vals`] once the list is complete),
    /// shared by every container's intents.
    val: Arc<Val>,
}

/// What [`WantEnv::val`] holds until [`share_env_vals`] sets it.
fn unshared_val() -> Arc<Val> {
    Arc::new(Val::Map(Vec::new()))
}

/// Builds once the variables as inserted: the name with the value, or with the reference
/// to the Secret key the first wanted variable of that name comes from.
fn share_env_vals(env: &mut [WantEnv]) {
    let vals: Vec<Arc<Val>> = env
        .iter()
        .map(|w| {
            let secret = env
                .iter()
                .find(|o| o.name == w.name)
                .and_then(|o| o.secret.as_ref());
            Arc::new(match secret {
                Some(r) => Val::map([("name", Val::str(&w.name)), ("valueFrom", secret_val(r))]),
                None => Val::map([("name", Val::str(&w.name)), ("value", Val::str(&w.value))]),
            })
        })
        .collect();
    for (w, v) in env.iter_mut().zip(vals) {
        w.val = v;
    }
}

fn wanted_env(opts: &Options) -> Vec<WantEnv> {
    if !opts.inject_ca {
        let mut out = Vec::new();
        if let Some(p) = &opts.proxy {
            proxy_env(p, &mut out);
        }
        return out;
    }
    let merged = opts.merge.is_some();
    let file = if merged {
        format!("{}/{}", opts.mount_path, wk::GENERATED_PRIVATE_KEY)
    } else {
        opts.bundle_file()
    };
    // The start-up merge writes the generated layout (complete bundle, truststore).
    let generated = (opts.generated && opts.loaded.is_some()) || merged;
    let set = |name: &str, file: &str| WantEnv {
        name: name.to_owned(),
        value: file.to_owned(),
        mode: EnvMode::Set,
        file: file.to_owned(),
        secret: None,
        val: unshared_val(),
    };
    let mut out: Vec<WantEnv> = opts.additive_env.iter().map(|v| set(v, &file)).collect();
    if complete(opts) {
        let complete = if generated {
            format!("{}/{}", opts.mount_path, wk::GENERATED_COMPLETE_KEY)
        } else {
            file.clone()
        };
        out.extend(opts.replacing_env.iter().map(|v| set(v, &complete)));
        if generated && opts.java_truststore {
            out.push(WantEnv {
                name: wk::JAVA_TOOL_OPTIONS.to_owned(),
                value: java_options_at(&opts.mount_path),
                mode: EnvMode::Append,
                file: format!("{}/{}", opts.mount_path, wk::GENERATED_TRUSTSTORE_KEY),
                secret: None,
                val: unshared_val(),
            });
        }
    }
    if let Some(p) = &opts.proxy {
        proxy_env(p, &mut out);
    }
    out
}

/// The proxy's variables after the CA's; its Java options join ours in one
/// JAVA_TOOL_OPTIONS part.
fn proxy_env(p: &crate::proxy::Proxy, out: &mut Vec<WantEnv>) {
    use crate::proxy::Mode;
    for v in p.vars() {
        let mode = match v.mode {
            Mode::List if p.append_no_proxy => EnvMode::List,
            _ => EnvMode::Set,
        };
        out.push(WantEnv {
            name: v.name,
            value: v.value,
            mode,
            file: String::new(),
            secret: v.secret,
            val: unshared_val(),
        });
    }
    let java = p.java_options();
    if java.is_empty() {
        return;
    }
    // Kubernetes expands `$(VAR)` only from variables defined earlier in the list: the
    // variables Java's part refers to go before JAVA_TOOL_OPTIONS.
    if let Some(at) = out.iter().position(|w| w.name == wk::JAVA_TOOL_OPTIONS) {
        let (refs, rest): (Vec<WantEnv>, Vec<WantEnv>) = out
            .drain(at..)
            .partition(|w| crate::proxy::is_java_secret_var(&w.name));
        out.extend(refs);
        out.extend(rest);
    }
    match out.iter_mut().find(|w| w.name == wk::JAVA_TOOL_OPTIONS) {
        Some(w) => w.value = format!("{} {java}", w.value),
        None => out.push(WantEnv {
            name: wk::JAVA_TOOL_OPTIONS.to_owned(),
            value: java,
            mode: EnvMode::Append,
            file: String::new(),
            secret: None,
            val: unshared_val(),
        }),
    }
}

/// Warns, once per workload, of the `NO_PROXY` entries Java's proxy properties cannot
/// express.
fn proxy_notes(opts: &Options, spec_path: &Path, plan: &mut Plan) {
    let dropped = opts
        .proxy
        .as_ref()
        .map(crate::proxy::Proxy::java_dropped)
        .unwrap_or_default();
    if !dropped.is_empty() {
        plan.notes.push(note(Severity::Warning, Some(spec_path.clone()), format!(
                "Java has no form for the NO_PROXY entries {}: -Dhttp.nonProxyHosts leaves them out, so Java sends those addresses through the proxy; name the hosts instead if Java must reach them directly",
                dropped.join(", ")
            )));
    }
}

/// Our JAVA_TOOL_OPTIONS part `value` for a variable the container sets after `before`:
/// without the proxy's part from `--proxy-secret` unless `before` defines every variable it
/// refers to (Kubernetes expands `$(VAR)` only from variables defined earlier, and ours are
/// added after), which `warn` is told.
fn java_without_unexpandable(
    value: &str,
    opts: &Options,
    before: &[Node],
    warn: impl FnOnce(String),
) -> String {
    let part = opts
        .proxy
        .as_ref()
        .map(crate::proxy::Proxy::java_secret_options)
        .unwrap_or_default();
    let defined = |var: &str| {
        before
            .iter()
            .any(|e| str_at(Some(e), &["name"]) == Some(var))
    };
    if part.is_empty()
        || crate::proxy::SECRET_JAVA_KEYS
            .iter()
            .all(|(_, var, _)| defined(var))
    {
        return value.to_owned();
    }
    warn(format!(
        "its own {} comes before the variables Java's proxy options refer to, and Kubernetes expands $(VAR) only from variables defined earlier: Java gets no proxy options from --proxy-secret; define JAVA_TOOL_OPTIONS after them, or set -Dhttps.proxyHost and -Dhttps.proxyPort in it yourself",
        wk::JAVA_TOOL_OPTIONS
    ));
    value
        .strip_suffix(part.as_str())
        .unwrap_or(value)
        .trim_end()
        .to_owned()
}

/// The proxy's JAVA_TOOL_OPTIONS part, if any.
fn proxy_java(opts: &Options) -> String {
    opts.proxy
        .as_ref()
        .map(crate::proxy::Proxy::java_options)
        .unwrap_or_default()
}

/// Our whole JAVA_TOOL_OPTIONS value for a bundle volume mounted at `dir`: the truststore
/// part, then the proxy's.
fn java_value_at(dir: &str, opts: &Options) -> String {
    let proxy = proxy_java(opts);
    if proxy.is_empty() {
        java_options_at(dir)
    } else {
        format!("{} {proxy}", java_options_at(dir))
    }
}

/// The `projected` volume source of a ClusterTrustBundle source: the bundle by name, or the
/// signer's bundles whose labels match (an empty selector matches every one; without a
/// selector Kubernetes would match none).
fn projected_val(opts: &Options) -> Val {
    let mut ctb = Vec::new();
    if let SourceKind::ClusterTrustBundle { signer, labels } = &opts.source.kind {
        if *signer {
            ctb.push(("signerName".to_owned(), Val::str(&opts.source.name)));
            let labels = labels
                .iter()
                .map(|(k, v)| (k.clone(), Val::str(v)))
                .collect();
            let selector = if opts.source.kind
                == (SourceKind::ClusterTrustBundle {
                    signer: true,
                    labels: Vec::new(),
                }) {
                Val::Map(Vec::new())
            } else {
                Val::map([("matchLabels", Val::Map(labels))])
            };
            ctb.push(("labelSelector".to_owned(), selector));
        } else {
            ctb.push(("name".to_owned(), Val::str(&opts.source.name)));
        }
    }
    ctb.push(("path".to_owned(), Val::str(&opts.source.key)));
    Val::map([(
        "sources",
        Val::Seq(vec![Val::map([("clusterTrustBundle", Val::Map(ctb))])]),
    )])
}

/// Whether the bundle the containers read holds the public roots: a complete source, or the
/// start-up merge with the public roots.
fn complete(opts: &Options) -> bool {
    opts.source.complete
        || (opts.merge.is_some() && opts.public_roots != crate::bundle::PublicRoots::None)
}

fn volume_val(opts: &Options) -> Val {
    if opts.merge.is_some() {
        return Val::map([
            ("name", Val::str(&opts.volume_name)),
            (
                "emptyDir",
                Val::map([
                    ("medium", Val::str("Memory")),
                    ("sizeLimit", Val::str(wk::MERGE_SIZE_LIMIT)),
                ]),
            ),
        ]);
    }
    source_volume_val(opts, &opts.volume_name)
}

/// The volume `name` reading the configured ConfigMap or Secret.
fn source_volume_val(opts: &Options, name: &str) -> Val {
    let source = match opts.source.kind {
        SourceKind::ConfigMap => (
            "configMap",
            Val::map([("name", Val::str(&opts.source.name))]),
        ),
        SourceKind::Secret => (
            "secret",
            Val::map([("secretName", Val::str(&opts.source.name))]),
        ),
        SourceKind::ClusterTrustBundle { .. } => ("projected", projected_val(opts)),
    };
    Val::map([("name", Val::str(name)), source])
}

/// Whether `path` is `dir` or lies below it.
fn is_within(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir
        || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
        || dir.is_empty()
}

/// Adds `items` to the list at `key` of `parent` (creating the key when missing). `all` is
/// the list of these very items prepared once for the run, when they are all of a wanted
/// list: a missing key then takes it shared (every workload adds the same list). When
/// `parent` is the container being planned (`in_container`), the intent that adds the key is
/// left at the root path (no copy of the container's path), and the container's planning
/// gives it that path at its end ([`give_container_path`]).
fn add_items(
    intents: &mut Vec<Intent>,
    parent: &Path,
    in_container: bool,
    key: &'static str,
    existing: Option<&Node>,
    items: impl Iterator<Item = Val>,
    all: Option<&Arc<Val>>,
) {
    let parent_path = || {
        if in_container {
            Path::default()
        } else {
            parent.clone()
        }
    };
    // Whether there is any, told by the count when it is known: the list prepared for the
    // run may then stand for them all without any of them made.
    let mut items = items.peekable();
    let none = match items.size_hint() {
        (_, Some(0)) => true,
        (0, _) => items.peek().is_none(),
        _ => false,
    };
    if none {
        return;
    }
    match (existing, all) {
        (Some(n), _) if n.items().is_some() => {
            let path = parent.key(key);
            intents.extend(items.map(|item| Intent {
                path: path.clone(),
                op: Op::Append(item),
            }));
        }
        (Some(_), _) => intents.push(Intent {
            path: parent.key(key),
            op: Op::Replace(Val::Seq(items.collect())),
        }),
        (None, Some(all)) => {
            debug_assert!(
                matches!(&**all, Val::Seq(v) if v.iter().eq(items.by_ref().collect::<Vec<_>>().iter()))
            );
            intents.push(Intent {
                path: parent_path(),
                op: Op::AddKey(Key::new_static(key), Val::Shared(Arc::clone(all))),
            });
        }
        (None, None) => intents.push(Intent {
            path: parent_path(),
            op: Op::AddKey(Key::new_static(key), Val::Seq(items.collect())),
        }),
    }
}

/// Gives the container's intents left at the root path by [`add_items`] (a container's
/// intents are never at the root otherwise) the container's path `cpath`: the last takes it,
/// the others a copy.
fn give_container_path(intents: &mut [Intent], cpath: Path) {
    let mut at = intents
        .iter_mut()
        .filter(|i| i.path.0.is_empty())
        .peekable();
    while let Some(i) = at.next() {
        if at.peek().is_none() {
            i.path = cpath;
            return;
        }
        i.path = cpath.clone();
    }
}

/// The list of `items` as inserted, shared.
fn shared_list<'v>(items: impl IntoIterator<Item = &'v Arc<Val>>) -> Arc<Val> {
    Arc::new(Val::Seq(
        items
            .into_iter()
            .map(|v| Val::Shared(Arc::clone(v)))
            .collect(),
    ))
}

/// The mounts and variables the tool wants in every container, which depend on the
/// options alone: built once per run and shared by the plans of every workload.
pub struct Wanted {
    /// Mounts of containers and init containers.
    mounts: Vec<WantMount>,
    /// Mounts of ephemeral containers (Kubernetes forbids subPath mounts there).
    dir_mounts: Vec<WantMount>,
    env: Vec<WantEnv>,
    /// The bundle volume as inserted, shared by the intents of every workload.
    volume: Arc<Val>,
    /// The lists of all the mounts, all the directory mounts, all the variables and the
    /// bundle volume alone, as inserted where a workload lacks the list.
    mounts_list: Arc<Val>,
    dir_mounts_list: Arc<Val>,
    env_list: Arc<Val>,
    volumes_list: Arc<Val>,
    /// The start-up merge's init container and source volume as inserted, when asked for.
    merge_container: Option<Arc<Val>>,
    merge_source: Option<Arc<Val>>,
    /// The record of a container that gets all the mounts and all the variables, of an
    /// ephemeral container that gets all the directory mounts and all the variables, and of
    /// one that gets nothing: rendered once for the run.
    fields: Fields<'static>,
    dir_fields: Fields<'static>,
    no_fields: Fields<'static>,
    /// Whether plans fill in each container's field path and what it gets and loses
    /// ([`ContainerPlan`]'s `path`, `mounts`, `env` and `removed`), which only per-workload
    /// reports read.
    reports: bool,
}

impl Wanted {
    /// What `opts` asks for; `reports` as [`Wanted::reports`].
    #[must_use]
    pub fn new(opts: &Options, reports: bool) -> Wanted {
        let mounts = if opts.inject_ca {
            wanted_mounts(opts)
        } else {
            Vec::new()
        };
        let dir_mounts = mounts
            .iter()
            .filter(|m| m.sub_path.is_none())
            .cloned()
            .collect();
        let mut env = wanted_env(opts);
        share_env_vals(&mut env);
        let volume = Arc::new(volume_val(opts));
        let dir_mounts: Vec<WantMount> = dir_mounts;
        let fields_of = |mounts: &[WantMount]| {
            Fields::new(
                mounts.iter().map(|m| m.path.as_str()),
                env.iter().map(|w| w.name.as_str()),
                None,
            )
        };
        Wanted {
            fields: fields_of(&mounts),
            dir_fields: fields_of(&dir_mounts),
            no_fields: Fields::default(),
            mounts_list: shared_list(mounts.iter().map(|m| &m.val)),
            dir_mounts_list: shared_list(dir_mounts.iter().map(|m| &m.val)),
            env_list: shared_list(env.iter().map(|w| &w.val)),
            volumes_list: shared_list([&volume]),
            mounts,
            dir_mounts,
            env,
            volume,
            merge_container: opts
                .merge
                .as_ref()
                .map(|m| Arc::new(merge_container_val(opts, m))),
            merge_source: opts
                .merge
                .as_ref()
                .map(|_| Arc::new(source_volume_val(opts, &merge_source_volume(opts)))),
            reports,
        }
    }
}

/// Plans the injection into the PodSpec `found` of the (resolved) document `root`;
/// `wanted` is `Wanted::new(opts, …)`, prepared once for the run.
///
/// # Errors
/// An error [`Finding`] when the PodSpec cannot be injected as it is: a different volume with
/// our name, or a field of the wrong type.
pub fn plan(
    root: &Node,
    found: &Found,
    opts: &Options,
    wanted: &Wanted,
) -> Result<Plan, Box<Finding>> {
    let mut plan = Plan::default();
    let spec_path = &found.spec_path;
    let (spec, meta) = (found.spec, found.meta);
    if spec.entries().is_none() {
        if spec.is_null() {
            plan.skipped = Some(Skip::NoContainers);
            return Ok(plan);
        }
        return Err(conflict(
            spec_path.clone(),
            format!("expected a mapping, found {}", spec.kind_name()),
        ));
    }
    let fields = SpecFields::of(spec);
    let mut containers = PodContainers::new();
    pod_containers(&fields, &mut containers);
    let skip = skip_of(found, opts, &fields, &containers);
    if let Some(s) = &skip
        && let Some(message) = s.note()
    {
        plan.notes.push(note(
            Severity::Info,
            matches!(s, Skip::Windows(_)).then(|| spec_path.clone()),
            message,
        ));
    }
    if matches!(skip, Some(Skip::Annotation | Skip::Windows(_))) {
        plan.skipped = skip;
        return Ok(plan);
    }
    // The record of an injection names containers: two of one name (which Kubernetes
    // refuses in a pod) would make a re-run read it wrong.
    if let Some(path) = repeated_container_name(&containers, spec_path) {
        let unnamed = node_at(root, &path)
            .and_then(Node::as_str)
            .is_none_or(str::is_empty);
        let what = if unnamed {
            "a container without a name comes earlier in the pod; Kubernetes requires a unique name for each container in a pod: name them"
        } else {
            "a container of this name comes earlier in the pod; Kubernetes requires unique container names in a pod: rename one"
        };
        return Err(conflict(path, what.to_owned()));
    }
    // An excluded workload is not injected, and what an earlier run injected into it
    // (under other options) is removed.
    let inject = skip.is_none();
    plan.skipped = skip;
    let marker = read_marker(meta, found)?;
    // A workload's intents: two lists per container, the volume and the record, mostly.
    plan.intents.reserve(8);
    let cx = PodCx::new(
        found,
        opts,
        wanted,
        fields,
        &containers,
        inject,
        marker.as_ref(),
    );
    let scan = cx.scan_volumes()?;
    let mut record = Record::default();
    if !cx.plan_containers(&scan, &mut record, &mut plan)? && inject {
        plan.skipped = Some(Skip::NoContainers);
        plan.notes.push(note(
            Severity::Warning,
            Some(spec_path.clone()),
            "left alone: the PodSpec has no containers".into(),
        ));
        plan.intents.clear();
        return Ok(plan);
    }
    let want_volume = inject && !plan.containers.is_empty() && opts.inject_ca;
    if inject && !plan.containers.is_empty() {
        proxy_notes(opts, spec_path, &mut plan);
    }
    cx.plan_volumes(want_volume, scan, &mut record, &mut plan)?;
    cx.annotate(want_volume, record, &mut plan);
    Ok(plan)
}

/// Why the workload is left alone, if it is: the skip annotation, an exclusion, or a
/// Windows pod.
fn skip_of(
    found: &Found,
    opts: &Options,
    spec: &SpecFields<'_>,
    containers: &[PodContainer<'_>],
) -> Option<Skip> {
    let obj = found.obj;
    if is_true(crate::object::annotation(obj, wk::SKIP_ANNOTATION)) {
        Some(Skip::Annotation)
    } else if let Some(why) = excluded(obj, found, opts) {
        Some(Skip::Excluded(why))
    } else {
        windows(spec, containers).map(Skip::Windows)
    }
}

/// One PodSpec under planning, with what an earlier run recorded in it: what the steps of
/// [`plan`] share.
struct PodCx<'a, 'n> {
    found: &'a Found<'n>,
    opts: &'a Options,
    wanted: &'a Wanted,
    /// The fields of the PodSpec (a mapping) that planning reads.
    fields: SpecFields<'n>,
    /// Its containers, with the fields of each that planning reads.
    containers: &'a [PodContainer<'n>],
    /// The pod template's metadata, if it has one.
    meta: Option<&'n Node>,
    /// Whether the workload is injected (it is not excluded).
    inject: bool,
    /// What earlier runs recorded in the pod template.
    marker: Option<&'a Marker>,
    /// What the earlier CA injection recorded (its init containers are the tool's).
    main_record: Option<&'a Record>,
    /// What an earlier run of this kind (a CA injection, or the proxy alone) recorded: then
    /// exactly that is taken out, and the shape-based recognition is only for the output of
    /// versions that wrote none.
    owned: Option<&'a Record>,
    /// `owned`, by container.
    owned_containers: HashMap<&'a str, ContainerRecord>,
    /// What the other kind of pass recorded, by container: its part of a JAVA_TOOL_OPTIONS
    /// this pass created stays where it is.
    other_containers: HashMap<&'a str, ContainerRecord>,
}

/// What the pod's volumes hold of ours, read before the containers are planned.
struct VolumeScan {
    /// The volume with our name: its index, and whether it has our source. Ours when it has
    /// our name and our source, or when it has the shape the tool writes (a name and a
    /// ConfigMap name or Secret name, nothing else) and every mount of it is read-only:
    /// then an earlier run under other options wrote it.
    our: Option<(usize, bool)>,
    /// Whether the volume named like ours is one an earlier run added (not the chart's),
    /// to record as ours.
    earlier: bool,
    /// Volumes an earlier run recorded under another name (another --volume-name): removed,
    /// unless a mount it did not record uses them.
    stale: Vec<usize>,
    /// Whether the pod mounts the volume named like ours where the tool did not: then the
    /// volume is the chart's too, and stays as long as it reads our source.
    chart_mounts: bool,
    /// Whether the pod has mounts the tool writes of a volume named like ours that it lacks
    /// (lost or renamed): an earlier run's, as a re-run reads them once the volume is
    /// added back.
    dangling: bool,
}

/// What the containers of one list of the PodSpec should get.
struct ContainerList<'w> {
    /// The mounts its containers should get.
    mounts: &'w [WantMount],
    /// Them as one list, as inserted.
    mounts_list: &'w Arc<Val>,
    /// The record of a container that gets them all and all the variables, rendered.
    fields: &'w Fields<'static>,
    /// Whether its containers are injected (the workload is, and the list is not skipped).
    injected: bool,
}

impl<'a, 'n: 'a> PodCx<'a, 'n> {
    /// The context for the PodSpec `found` of the fields `fields` and the containers
    /// `containers`, with the earlier runs' `marker` read from its pod template's metadata.
    fn new(
        found: &'a Found<'n>,
        opts: &'a Options,
        wanted: &'a Wanted,
        fields: SpecFields<'n>,
        containers: &'a [PodContainer<'n>],
        inject: bool,
        marker: Option<&'a Marker>,
    ) -> Self {
        // A run of the proxy alone owns only what such a run recorded, and keeps the rest. A
        // part nothing was recorded in (a run of the proxy alone over the output of an older
        // version) is recognised by its shape.
        let main_record = marker.and_then(Marker::main_part);
        let owned = if opts.inject_ca {
            main_record
        } else {
            marker.and_then(Marker::proxy_only_part)
        };
        let other_containers = marker
            .map(|m| {
                if opts.inject_ca {
                    &m.proxy_only
                } else {
                    &m.main
                }
            })
            .map(Record::by_container)
            .unwrap_or_default();
        PodCx {
            found,
            opts,
            wanted,
            fields,
            containers,
            meta: found.meta,
            inject,
            marker,
            main_record,
            owned,
            owned_containers: owned.map(Record::by_container).unwrap_or_default(),
            other_containers,
        }
    }

    /// Reads which volume is ours, which are an earlier run's under another name, and
    /// whether the chart mounts our volume too.
    fn scan_volumes(&self) -> Result<VolumeScan, Box<Finding>> {
        let (spec, opts) = (self.fields, self.opts);
        let volumes = spec.volumes;
        // Without a record, the mounts of the volume named like ours are sorted in one pass:
        // whether the chart has one, and whether the tool wrote one.
        let (chart_mounts, tool_mounts) = match self.owned {
            Some(rec) => (
                unrecorded_mount_of(spec, rec, &self.owned_containers, &opts.volume_name),
                None,
            ),
            None => {
                let (mut chart, mut tool) = (false, false);
                for (c, m) in mounts_of_volume(self.containers, opts) {
                    if tool_mount(m, c, opts) {
                        tool = true;
                    } else {
                        chart = true;
                    }
                    if chart && tool {
                        break;
                    }
                }
                (chart, Some(tool))
            }
        };
        let mut scan = VolumeScan {
            our: None,
            earlier: false,
            stale: Vec::new(),
            chart_mounts,
            dangling: false,
        };
        if let Some(v) = volumes {
            match v.items() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.scan_volume(i, item, &mut scan)?;
                    }
                }
                None if v.is_null() => {}
                None => {
                    return Err(conflict(
                        self.found.spec_path.key("volumes"),
                        format!("expected a list, found {}", v.kind_name()),
                    ));
                }
            }
        }
        let named_volume = volumes
            .and_then(Node::items)
            .unwrap_or(&[])
            .iter()
            .any(|v| str_at(Some(v), &["name"]) == Some(opts.volume_name.as_str()));
        scan.dangling = !named_volume
            && !chart_mounts
            && tool_mounts.unwrap_or_else(|| {
                mounts_of_volume(self.containers, opts).any(|(c, m)| tool_mount(m, c, opts))
            });
        Ok(scan)
    }

    /// Reads the volume `item` (at index `i`) into `scan`.
    fn scan_volume(
        &self,
        i: usize,
        item: &Node,
        scan: &mut VolumeScan,
    ) -> Result<(), Box<Finding>> {
        let (spec, opts, owned) = (self.fields, self.opts, self.owned);
        let name = str_at(Some(item), &["name"]).unwrap_or("");
        if let Some(rec) = owned.filter(|_| opts.inject_ca)
            && name != opts.volume_name
            && !is_volume_name_with(name, wk::MERGE_SOURCE_SUFFIX, opts)
            && rec.volumes.iter().any(|v| v == name)
            && !unrecorded_mount_of(spec, rec, &self.owned_containers, name)
        {
            scan.stale.push(i);
            return Ok(());
        }
        if name != opts.volume_name {
            return Ok(());
        }
        let same = same_source(item, opts);
        let earlier = match owned {
            Some(rec) => rec.volumes.contains(&opts.volume_name) && !scan.chart_mounts,
            None => {
                tool_shaped_volume(item)
                    && !scan.chart_mounts
                    && (hash_annotated(self.found)
                        || extra_file_mounted(self.containers, opts)
                        || variable_inside_mount(spec, opts))
                // A volume mounted nowhere is no sign of an earlier run: a
                // chart writes one too, and whether another volume sits at
                // our directory depends on this run's --mount-path, so
                // taking it for ours would make what a re-run removes
                // depend on the options of the run before.
            }
        };
        scan.earlier = earlier;
        if !(same || earlier) {
            if !self.inject || !opts.inject_ca {
                // The chart's own volume, in a workload left alone: no conflict.
                return Ok(());
            }
            return Err(conflict(
                self.found.spec_path.key("volumes").index(i),
                format!(
                    "the pod already has a different volume named {:?}; give ours another name with --volume-name (spec.volumeName)",
                    opts.volume_name
                ),
            ));
        }
        scan.our = Some((i, same));
        Ok(())
    }

    /// Plans every container (ephemeral ones in a bare Pod), recording what each holds of
    /// this run's injection in `record`. Returns whether the pod has a container or init
    /// container of the chart.
    fn plan_containers(
        &self,
        scan: &VolumeScan,
        record: &mut NewRecord<'a>,
        plan: &mut Plan,
    ) -> Result<bool, Box<Finding>> {
        let (opts, found) = (self.opts, self.found);
        let all_lists = ["containers", "initContainers", "ephemeralContainers"];
        let bare_pod = found.object.kind == "Pod" && found.object.group().is_empty();
        let lists = &all_lists[..if bare_pod { 3 } else { 2 }];
        // The proxy alone leaves what a CA injection wrote to that run's options. Without a
        // record, mounts of our volume are an earlier injection only when one of the tool's
        // variables, its extra file or its hash shows it.
        // When the chart mounts the volume named like ours itself, at a path the tool never
        // writes, its mount at the default extra file is the chart's too, no sign of an
        // earlier run (whatever this run's --mount-path, which must not decide what is ours).
        let chart_mounts_elsewhere = || {
            mounts_of_volume(self.containers, opts)
                .any(|(c, m)| m.get("mountPath").is_some() && !tool_mount(m, c, opts))
        };
        let ours = (scan.our.is_some() || scan.dangling)
            && opts.inject_ca
            && (hash_annotated(found)
                || variable_inside_mount(self.fields, opts)
                || (extra_file_mounted(self.containers, opts) && !chart_mounts_elsewhere()));
        let mut any_container = false;
        for &key in lists {
            let w = self.wanted;
            let (mounts, mounts_list, fields) = if key == "ephemeralContainers" {
                (&w.dir_mounts, &w.dir_mounts_list, &w.dir_fields)
            } else {
                (&w.mounts, &w.mounts_list, &w.fields)
            };
            let list = ContainerList {
                mounts,
                mounts_list,
                fields,
                injected: self.inject && !(key == "initContainers" && opts.skip_init_containers),
            };
            let Some(cs) = self.fields.list(key) else {
                continue;
            };
            if cs.items().is_none() {
                if cs.is_null() || !list.injected {
                    continue;
                }
                return Err(conflict(
                    found.spec_path.key(key),
                    format!("expected a list, found {}", cs.kind_name()),
                ));
            }
            for c in self.containers.iter().filter(|c| c.list == key) {
                if key == "initContainers"
                    && is_tool_init_named(c.name, c.node, self.main_record, opts)
                {
                    continue;
                }
                let cpath = found.spec_path.key_index(key, c.index);
                if c.node.entries().is_none() {
                    if !list.injected {
                        continue;
                    }
                    return Err(conflict(
                        cpath,
                        format!("expected a mapping, found {}", c.node.kind_name()),
                    ));
                }
                if key != "ephemeralContainers" {
                    any_container = true;
                }
                self.plan_one_container(&list, c, cpath, ours, record, plan)?;
            }
        }
        Ok(any_container)
    }

    /// Plans the container `c` at `cpath` of `list`, unless --exclude-container leaves it
    /// alone (then it is only cleaned of an earlier injection).
    fn plan_one_container(
        &self,
        list: &ContainerList<'a>,
        pc: &PodContainer<'n>,
        cpath: Path,
        ours: bool,
        record: &mut NewRecord<'a>,
        plan: &mut Plan,
    ) -> Result<(), Box<Finding>> {
        let opts = self.opts;
        let (c, mounts, env, name) = (pc.node, pc.mounts, pc.env, pc.name());
        let mut cp = ContainerPlan {
            name: if self.wanted.reports {
                name.to_owned()
            } else {
                String::new()
            },
            path: if self.wanted.reports {
                cpath.to_string()
            } else {
                String::new()
            },
            ..ContainerPlan::default()
        };
        let mut container_injected = list.injected;
        if list.injected
            && let Some(g) = opts.exclude_containers.iter().find(|g| glob_match(g, name))
        {
            plan.notes.push(note(
                Severity::Info,
                Some(cpath.clone()),
                format!("container {name:?} left alone: matches --exclude-container {g:?}"),
            ));
            container_injected = false;
        }
        let cx = ContainerCx {
            c,
            mounts,
            env,
            name,
            cpath: &cpath,
            want: Want {
                mounts: if container_injected { list.mounts } else { &[] },
                env: if container_injected {
                    &self.wanted.env
                } else {
                    &[]
                },
                mounts_list: list.mounts_list,
                env_list: &self.wanted.env_list,
                fields: if container_injected {
                    list.fields
                } else {
                    &self.wanted.no_fields
                },
            },
            ours,
            rec: self
                .owned
                .map(|_| self.owned_containers.get(name).unwrap_or(&NO_RECORD)),
            other_java: self
                .other_containers
                .get(name)
                .and_then(|r| r.java.as_deref()),
            opts,
            reports: self.wanted.reports,
        };
        let start = plan.intents.len();
        let injected = plan_container(&cx, plan, &mut cp)?;
        give_container_path(plan.intents.get_mut(start..).unwrap_or_default(), cpath);
        record.push_container(Cow::Borrowed(name), injected);
        if container_injected {
            plan.containers.push(cp);
        }
        Ok(())
    }

    /// Plans the volumes: ours added, rewritten to the current source, kept or taken out,
    /// the start-up merge's, and the stale ones of earlier runs removed; records ours in
    /// `record`.
    fn plan_volumes(
        &self,
        want_volume: bool,
        mut scan: VolumeScan,
        record: &mut NewRecord<'a>,
        plan: &mut Plan,
    ) -> Result<(), Box<Finding>> {
        let (opts, spec_path) = (self.opts, &self.found.spec_path);
        let volumes = self.fields.volumes;
        let volume_items = volumes.and_then(Node::items).map_or(0, <[Node]>::len);
        let mut removed_volumes = std::mem::take(&mut scan.stale);
        let replaced = self.settle_our_volume(want_volume, &scan, &mut removed_volumes, plan);
        // Ours afterwards: added, rewritten to the current source, or an earlier run's.
        // A volume the record lists stays ours while the chart's mounts use it too (they may
        // have named it before any run added it): recorded again, so a re-run reads the same.
        let recorded_before = self
            .owned
            .is_some_and(|r| r.volumes.contains(&opts.volume_name));
        if want_volume
            && (scan.our.is_none()
                || scan.earlier
                || replaced
                || (recorded_before && scan.our.is_some()))
        {
            record.volumes.push(Cow::Borrowed(&opts.volume_name));
        }
        let new_volumes = if opts.inject_ca {
            self.plan_merge(want_volume, record, &mut removed_volumes, plan)?
        } else {
            Vec::new()
        };
        let add_volume = want_volume && !matches!(scan.our, Some((_, true)));
        plan.volume_added |= add_volume;
        // Ours first; alone, it is the list prepared for the run.
        let ours = (add_volume && !replaced).then(|| Val::Shared(Arc::clone(&self.wanted.volume)));
        let all = (ours.is_some() && new_volumes.is_empty()).then_some(&self.wanted.volumes_list);
        removed_volumes.sort_unstable();
        removed_volumes.dedup();
        remove_items(
            &mut plan.intents,
            spec_path,
            "volumes",
            volumes,
            &removed_volumes,
            removed_volumes.len() == volume_items && ours.is_none() && new_volumes.is_empty(),
        );
        add_items(
            &mut plan.intents,
            spec_path,
            false,
            "volumes",
            volumes,
            ours.into_iter().chain(new_volumes),
            all,
        );
        Ok(())
    }

    /// What becomes of the volume named like ours: kept, its source rewritten in place
    /// (returns true), or taken out (its index pushed to `removed`).
    fn settle_our_volume(
        &self,
        want_volume: bool,
        scan: &VolumeScan,
        removed: &mut Vec<usize>,
        plan: &mut Plan,
    ) -> bool {
        let opts = self.opts;
        let volumes = self.fields.volumes;
        match scan.our.filter(|_| opts.inject_ca) {
            Some((_, true)) if want_volume || scan.chart_mounts => false,
            // An earlier run's volume under another source: its source is replaced where it
            // stands (the item's comments and place stay).
            Some((i, false))
                if want_volume
                    && let Some(item) = volumes.and_then(Node::items).and_then(|v| v.get(i))
                    && let (Some(entries), Val::Map(new)) = (item.entries(), volume_val(opts)) =>
            {
                let ipath = self.found.spec_path.key("volumes").index(i);
                replace_source(&ipath, entries, new, plan);
                true
            }
            Some((i, _)) => {
                removed.push(i);
                false
            }
            None => false,
        }
    }

    /// Plans the annotations: the bundle hash (a run of the proxy alone leaves it), and the
    /// record of this run's injection, beside what the other kind of run recorded.
    fn annotate(&self, want_volume: bool, record: NewRecord<'a>, plan: &mut Plan) {
        let opts = self.opts;
        let hash = match (&opts.bundle_hash, want_volume) {
            (Some(hash), true) => Some(Some(hash.as_str())),
            _ if !opts.inject_ca => None,
            _ => Some(None),
        };
        // This run's record beside what the other kind of run recorded, rendered without
        // copying the earlier marker. An earlier record of this run's part that comes out
        // empty stays as `none` while the pod keeps items of the chart's that look like an
        // injection: dropped, it would let the next run read them by their shape and claim
        // them. (A run of the proxy alone claims nothing by its shape.)
        let (this_before, other, other_none) = match self.marker {
            Some(m) if opts.inject_ca => {
                (m.main_part().is_some(), &m.proxy_only, m.proxy_only_none)
            }
            Some(m) => (m.proxy_only_part().is_some(), &m.main, m.main_none),
            None => (false, &*NO_MARKER_PART, false),
        };
        let this_none = record.is_empty() && this_before && opts.inject_ca && self.chart_remnants();
        RECORD_TEXT.with_borrow_mut(|text| {
            let rendered = (!record.is_empty() || this_none || !other.is_empty() || other_none)
                .then(|| {
                    if opts.inject_ca {
                        crate::marker::render_into(text, &record, other, [this_none, other_none]);
                    } else {
                        crate::marker::render_into(text, other, &record, [other_none, this_none]);
                    }
                    text.as_str()
                });
            let injected = (wk::INJECTED_ANNOTATION, rendered);
            match hash {
                Some(h) => {
                    plan.annotation_changed =
                        annotation_at(self.meta, wk::BUNDLE_HASH_ANNOTATION) != h;
                    let hash = (wk::BUNDLE_HASH_ANNOTATION, h);
                    self.set_annotations(&[hash, injected], plan);
                }
                None => self.set_annotations(&[injected], plan),
            }
            // A long record does not keep its room for the rest of the run.
            if text.capacity() > RECORD_TEXT_MAX {
                *text = String::new();
            }
        });
    }
}

/// The most room the record's text keeps from one workload to the next.
const RECORD_TEXT_MAX: usize = 64 * 1024;

/// The other part of the record of a pod template without one.
static NO_MARKER_PART: std::sync::LazyLock<Record> = std::sync::LazyLock::new(Record::default);

thread_local! {
    /// The text of the record written last on this thread, emptied for the next: the record
    /// of every workload is written into it without new room.
    static RECORD_TEXT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl PodCx<'_, '_> {
    /// Whether the pod holds, beside what the earlier record lists (all of which a run that
    /// records nothing takes out), something that a run without a record reads by its shape
    /// as an earlier injection: a volume named like ours or like the merge's source, a mount
    /// of ours, the merge init container.
    fn chart_remnants(&self) -> bool {
        let (spec, opts) = (self.fields, self.opts);
        let Some(rec) = self.owned else {
            return false;
        };
        let volumes = spec.volumes.and_then(Node::items).unwrap_or(&[]);
        let volume = volumes.iter().any(|v| {
            str_at(Some(v), &["name"]).is_some_and(|n| {
                (n == opts.volume_name || is_volume_name_with(n, wk::MERGE_SOURCE_SUFFIX, opts))
                    && !rec.volumes.iter().any(|r| r == n)
            })
        });
        let inits = spec.init_containers.and_then(Node::items).unwrap_or(&[]);
        volume
            || unrecorded_mount_of(spec, rec, &self.owned_containers, &opts.volume_name)
            || inits.iter().any(|c| {
                is_merge_container(c, opts)
                    && !rec
                        .init_containers
                        .iter()
                        .any(|n| Some(n.as_str()) == str_at(Some(c), &["name"]))
            })
    }
}

/// Replaces the source of the volume at `ipath` (its keys `entries`) with the source in
/// `new` where it stands: the first old source key takes the new source (the old key of the
/// same name, if any), the others go.
fn replace_source(
    ipath: &Path,
    entries: &[(Node, Node)],
    new: Vec<(String, Val)>,
    plan: &mut Plan,
) {
    let mut old: Vec<&str> = Vec::new();
    for (k, _) in entries {
        if let Some(k) = k.as_str().filter(|k| *k != "name" && !old.contains(k)) {
            old.push(k);
        }
    }
    let mut new = new.into_iter().filter(|(k, _)| k != "name");
    let first = new.next();
    // The old key of the same name, if any, else the first.
    let at = first
        .as_ref()
        .and_then(|(nk, _)| old.iter().position(|k| k == nk))
        .unwrap_or(0);
    for (_, k) in old.iter().enumerate().filter(|(j, _)| *j != at) {
        plan.intents.push(Intent {
            path: ipath.clone(),
            op: Op::RemoveKey((*k).into()),
        });
    }
    let first = match (old.get(at), first) {
        (Some(k), Some((nk, v))) => {
            plan.intents.push(Intent {
                path: ipath.clone(),
                op: Op::ReplaceEntry((*k).into(), nk.into(), v),
            });
            None
        }
        (None, first) => first,
        (Some(k), None) => {
            plan.intents.push(Intent {
                path: ipath.clone(),
                op: Op::RemoveKey((*k).into()),
            });
            None
        }
    };
    for (k, v) in first.into_iter().chain(new) {
        plan.intents.push(Intent {
            path: ipath.clone(),
            op: Op::AddKey(k.into(), v),
        });
    }
}

/// The value of the annotation `key` of the pod template's metadata `meta`, if it is a
/// string.
fn annotation_at<'n>(meta: Option<&'n Node>, key: &str) -> Option<&'n str> {
    meta.and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(key))
        .and_then(Node::as_str)
}

/// The `name` of the first container whose name an earlier container of the same list has.
fn repeated_container_name(containers: &[PodContainer<'_>], spec_path: &Path) -> Option<Path> {
    // Kubernetes requires names unique across the lists too, and the record does not tell
    // the lists apart: every container of the pod, in order, with its list. A container
    // without a name reads as the empty name: two of them would share one section of the
    // record too. A pod's few containers are compared pairwise; a long list goes through a
    // set.
    let first = if containers.len() <= 16 {
        containers.iter().enumerate().position(|(n, c)| {
            let earlier = containers.get(..n).unwrap_or_default();
            earlier.iter().any(|e| e.name() == c.name())
        })
    } else {
        let mut seen = std::collections::HashSet::new();
        containers.iter().position(|c| !seen.insert(c.name()))
    }?;
    let c = containers.get(first)?;
    Some(spec_path.key(c.list).index(c.index).key("name"))
}

/// The record an earlier run left on the pod template, if any.
fn read_marker(meta: Option<&Node>, found: &Found) -> Result<Option<Marker>, Box<Finding>> {
    let key = wk::INJECTED_ANNOTATION;
    let Some(n) = meta
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(key))
    else {
        return Ok(None);
    };
    let path = found.meta_path.key("annotations").key(key);
    let text = n.as_str().ok_or_else(|| {
        conflict(
            path.clone(),
            format!(
                "expected the string this tool writes, found {}; remove the annotation (the tool then recognises its earlier injection by its shape)",
                n.kind_name()
            ),
        )
    })?;
    Marker::parse(text).map(Some).map_err(|why| {
        conflict(
            path,
            format!(
                "not a record this tool writes ({why}); remove the annotation (the tool then recognises its earlier injection by its shape)"
            ),
        )
    })
}

/// Whether a container mounts the volume `volume` at a path the record `rec` does not list
/// for it (the chart's own mount; the merge init container an earlier run recorded aside).
fn unrecorded_mount_of(
    spec: SpecFields<'_>,
    rec: &Record,
    by_container: &HashMap<&str, ContainerRecord>,
    volume: &str,
) -> bool {
    spec.all_containers()
        .filter(|c| {
            let name = str_at(Some(c), &["name"]).unwrap_or("");
            !rec.init_containers.iter().any(|n| n == name)
        })
        .any(|c| {
            let mine = by_container.get(str_at(Some(c), &["name"]).unwrap_or(""));
            c.get("volumeMounts")
                .and_then(Node::items)
                .unwrap_or(&[])
                .iter()
                .filter(|m| str_at(Some(m), &["name"]) == Some(volume))
                .any(|m| {
                    !str_at(Some(m), &["mountPath"])
                        .is_some_and(|p| mine.is_some_and(|r| r.mounts.iter().any(|x| x == p)))
                })
        })
}

/// Whether the init container `c` is the start-up merge's an earlier run added: recorded as
/// such, or (without a record) our name running `merge`.
fn is_tool_init(c: &Node, owned: Option<&Record>, opts: &Options) -> bool {
    is_tool_init_named(c.get("name"), c, owned, opts)
}

/// [`is_tool_init`] for the init container `c` whose `name` is known.
fn is_tool_init_named(
    name: Option<&Node>,
    c: &Node,
    owned: Option<&Record>,
    opts: &Options,
) -> bool {
    match owned {
        Some(rec) => {
            let name = name.and_then(Node::as_str).unwrap_or("");
            rec.init_containers.iter().any(|n| n == name)
        }
        None => is_merge_named(name, c, opts),
    }
}

/// Whether the volume `item` reads the configured source.
fn same_source(item: &Node, opts: &Options) -> bool {
    if opts.merge.is_some() {
        return item.get("emptyDir").is_some_and(|e| {
            str_at(Some(e), &["medium"]) == Some("Memory")
                && str_at(Some(e), &["sizeLimit"]) == Some(wk::MERGE_SIZE_LIMIT)
        });
    }
    match opts.source.kind {
        SourceKind::ConfigMap => {
            str_at(Some(item), &["configMap", "name"]) == Some(opts.source.name.as_str())
        }
        SourceKind::Secret => {
            str_at(Some(item), &["secret", "secretName"]) == Some(opts.source.name.as_str())
        }
        SourceKind::ClusterTrustBundle { .. } => item
            .get("projected")
            .is_some_and(|p| node_is(p, &projected_val(opts))),
    }
}

/// Whether the volume `item` has exactly the shape the tool writes: `name` and either
/// `configMap: {name}` or `secret: {secretName}`.
fn tool_shaped_volume(item: &Node) -> bool {
    let Some(entries) = item.entries() else {
        return false;
    };
    let only = |n: &Node, key: &str| {
        n.entries().is_some_and(|es| {
            es.len() == 1
                && es
                    .iter()
                    .all(|(k, v)| k.as_str() == Some(key) && v.as_str().is_some())
        })
    };
    entries.len() == 2
        && entries.iter().all(|(k, v)| match k.as_str() {
            Some("name") => v.as_str().is_some(),
            Some("configMap") => only(v, "name"),
            Some("secret") => only(v, "secretName"),
            // A ClusterTrustBundle projection.
            Some("projected") => v.entries().is_some_and(|es| {
                es.len() == 1
                    && v.get("sources").and_then(Node::items).is_some_and(|s| {
                        s.len() == 1 && s.iter().all(|x| x.get("clusterTrustBundle").is_some())
                    })
            }),
            // The start-up merge's emptyDir.
            Some("emptyDir") => v.entries().is_some_and(|es| {
                es.iter()
                    .all(|(k, _)| matches!(k.as_str(), Some("medium" | "sizeLimit")))
            }),
            _ => false,
        })
}

/// Whether the pod template carries the bundle hash annotation.
fn hash_annotated(found: &Found) -> bool {
    found
        .meta
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(wk::BUNDLE_HASH_ANNOTATION))
        .is_some()
}

/// Whether the tool sets variables of this name by default: the well-known ones. A chart's
/// own variable of another name is never taken for the tool's, even when it points into
/// our directory. Without a record, only defaults are signs of an earlier run: a sign that
/// depended on this run's options would make what a re-run takes out depend on the options
/// of the run before (`run(B, run(A, x))` must read as `run(B, x)`).
fn tool_variable(name: &str, _opts: &Options) -> bool {
    wk::ADDITIVE_ENV.contains(&name) || wk::REPLACING_ENV.contains(&name)
}

/// Whether some container mounts the volume named like ours at the tool's default extra
/// file, which only the tool does (a configured one is no sign, see [`tool_variable`]).
fn extra_file_mounted(containers: &[PodContainer<'_>], opts: &Options) -> bool {
    mounts_of_volume(containers, opts).any(|(_, m)| {
        m.get("subPath").is_some()
            && str_at(Some(m), &["mountPath"]).is_some_and(|p| p == wk::DEFAULT_ADDITIVE_FILE)
    })
}

/// Whether some container points a variable at a file directly inside a whole-volume
/// mount of the volume named like ours, as the tool's variables do.
fn variable_inside_mount(spec: SpecFields<'_>, opts: &Options) -> bool {
    spec.all_containers().any(|c| {
        let dirs: Vec<&str> = c
            .get("volumeMounts")
            .and_then(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter(|m| {
                str_at(Some(m), &["name"]) == Some(opts.volume_name.as_str())
                    && m.get("subPath").is_none()
            })
            .filter_map(|m| str_at(Some(m), &["mountPath"]))
            .map(|d| d.trim_end_matches('/'))
            .collect();
        c.get("env")
            .and_then(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter(|e| e.get("valueFrom").is_none())
            .filter(|e| str_at(Some(e), &["name"]).is_some_and(|n| tool_variable(n, opts)))
            .filter_map(|e| str_at(Some(e), &["value"]))
            .any(|v| {
                dirs.iter().any(|d| {
                    v.strip_prefix(d)
                        .and_then(|r| r.strip_prefix('/'))
                        .is_some_and(|f| !f.is_empty() && !f.contains('/'))
                })
            })
    })
}

/// Each container of `spec` with each of its mounts of the volume named like ours.
fn mounts_of_volume<'n>(
    containers: &'n [PodContainer<'n>],
    opts: &'n Options,
) -> impl Iterator<Item = (&'n Node, &'n Node)> + 'n {
    containers
        .iter()
        .filter(|c| c.mounts.is_some())
        .flat_map(|c| {
            c.mounts
                .and_then(Node::items)
                .unwrap_or(&[])
                .iter()
                .map(move |m| (c, m))
        })
        .filter(|(c, _)| !is_merge_named(c.name, c.node, opts))
        .filter(|(_, m)| str_at(Some(m), &["name"]) == Some(opts.volume_name.as_str()))
        .map(|(c, m)| (c.node, m))
}

/// Whether the mount `m` (of the volume named like ours, in container `c`) is one the tool
/// writes: read-only, no other field, and at one of its paths — its directory (configured,
/// default, or one a variable of the tool points into), its extra file, a system bundle, or
/// a `<hash>.N` file named like its subPath in `/etc/ssl/certs`.
fn tool_mount(m: &Node, c: &Node, opts: &Options) -> bool {
    let Some(entries) = m.entries() else {
        return false;
    };
    let shaped = is_true(m.get("readOnly"))
        && entries.iter().all(|(k, _)| {
            matches!(
                k.as_str(),
                Some("name" | "mountPath" | "subPath" | "readOnly")
            )
        });
    let Some(path) = str_at(Some(m), &["mountPath"]).map(|p| p.trim_end_matches('/')) else {
        return false;
    };
    if !shaped {
        return false;
    }
    match str_at(Some(m), &["subPath"]) {
        // Only the default paths (see [`tool_variable`]).
        None => {
            path == wk::DEFAULT_MOUNT_PATH
                || c.get("env")
                    .and_then(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .filter(|e| e.get("valueFrom").is_none())
                    .any(|e| {
                        let name = str_at(Some(e), &["name"]).unwrap_or("");
                        let value = str_at(Some(e), &["value"]).unwrap_or("");
                        (tool_variable(name, opts) && directly_inside(value, path))
                            || (name == wk::JAVA_TOOL_OPTIONS
                                && value.contains(&java_options_at(path)))
                    })
        }
        // The tool's subPaths are keys of the source, which hold no `/`.
        Some(sub) if sub.contains('/') => false,
        Some(sub) => {
            path == wk::DEFAULT_ADDITIVE_FILE
                || wk::SYSTEM_BUNDLE_PATHS.contains(&path)
                || (path
                    .strip_prefix(wk::OPENSSL_CERT_DIR)
                    .and_then(|r| r.strip_prefix('/'))
                    == Some(sub)
                    && is_hash_name(sub))
        }
    }
}

/// Whether `file` names a file directly inside the directory `dir`.
fn directly_inside(file: &str, dir: &str) -> bool {
    file.strip_prefix(dir)
        .and_then(|r| r.strip_prefix('/'))
        .is_some_and(|f| !f.is_empty() && !f.contains('/'))
}

/// Whether `name` is an OpenSSL subject-hash file name (`5a665d01.0`).
fn is_hash_name(name: &str) -> bool {
    name.split_once('.').is_some_and(|(h, n)| {
        h.len() == 8
            && h.bytes().all(|b| b.is_ascii_hexdigit())
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
    })
}

/// What one container should get.
struct Want<'a> {
    mounts: &'a [WantMount],
    env: &'a [WantEnv],
    /// All of `mounts` and all of `env` as one list each, as inserted.
    mounts_list: &'a Arc<Val>,
    env_list: &'a Arc<Val>,
    /// The record of all of `mounts` and all of `env`, rendered.
    fields: &'a Fields<'static>,
}

/// A mount of the container, as found.
struct HaveMount<'n> {
    index: usize,
    path: &'n str,
    name: &'n str,
    node: &'n Node,
}

impl HaveMount<'_> {
    /// Whether this mount is exactly `want` as the tool writes it.
    fn is(&self, want: &WantMount, opts: &Options) -> bool {
        let Some(entries) = self.node.entries() else {
            return false;
        };
        let sub = str_at(Some(self.node), &["subPath"]);
        self.name == opts.volume_name
            && self.path == want.path
            && sub == want.sub_path.as_deref()
            && is_true(self.node.get("readOnly"))
            && entries.len() == 3 + usize::from(sub.is_some())
    }
}

/// Whether the chart's own mount `m` provides what the tool would mount for `want`: a
/// mount of the volume named like ours (which reads the bundle after the run) with the same
/// subPath (none for the directory), and no `subPathExpr`.
fn provides(m: &HaveMount<'_>, want: &WantMount, opts: &Options) -> bool {
    m.name == opts.volume_name
        && m.node.get("subPathExpr").is_none()
        && str_at(Some(m.node), &["subPath"]) == want.sub_path.as_deref()
}

/// The list `node` at `key` of the container at `cpath`, checked to be a list or null.
fn list_of<'n>(
    node: Option<&'n Node>,
    cpath: &Path,
    key: &str,
) -> Result<&'n [Node], Box<Finding>> {
    match node {
        Some(m) => match m.items() {
            Some(items) => Ok(items),
            None if m.is_null() => Ok(&[]),
            None => Err(conflict(
                cpath.key(key),
                format!("expected a list, found {}", m.kind_name()),
            )),
        },
        None => Ok(&[]),
    }
}

/// The record of a container the earlier run's record does not name: nothing injected.
static NO_RECORD: ContainerRecord = ContainerRecord {
    mounts: Vec::new(),
    env: Vec::new(),
    java: None,
};

/// One container under planning and what it should get: what the steps of
/// [`plan_container`] share. What it should get lives for the run (`'a`), so that the
/// record of it can borrow from it; the rest only while the container is planned (`'c`).
struct ContainerCx<'c, 'a, 'n> {
    /// The container.
    c: &'n Node,
    /// Its `volumeMounts` and `env`, if it has them (looked up once).
    mounts: Option<&'n Node>,
    env: Option<&'n Node>,
    /// Its name, for messages.
    name: &'c str,
    /// Its field path.
    cpath: &'c Path,
    /// What it should get (nothing when it is left alone).
    want: Want<'a>,
    /// Without a record (the output of older versions): whether the pod has our volume, so
    /// that what has the tool's shape is an earlier run's.
    ours: bool,
    /// What an earlier run recorded it injected into this container.
    rec: Option<&'c ContainerRecord>,
    /// The part of JAVA_TOOL_OPTIONS that the other kind of pass recorded in this container.
    other_java: Option<&'c str>,
    opts: &'c Options,
    /// Whether the container's plan lists what it gets and loses ([`Wanted::reports`]).
    reports: bool,
}

/// The container's mounts after planning them, for the planning of its variables.
struct Mounts<'a, 'n> {
    /// The mounts wanted, minus those another volume's mounts rule out (kept inline: a
    /// container gets a few).
    desired: SmallVec<[&'a WantMount; 4]>,
    /// The wanted mounts that the chart's own mounts of the volume named like ours already
    /// provide (after the run that volume reads the bundle), with the index of that mount.
    chart_provided: Vec<(&'a WantMount, usize)>,
    /// The mounts that are not an earlier run's.
    others: Vec<HaveMount<'n>>,
    /// Directories where the earlier run mounted the whole volume: its variables point there.
    old_dirs: Vec<&'n str>,
}

impl<'a> Mounts<'a, '_> {
    /// The directories of `desired` that mount the whole volume.
    fn dirs(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.desired
            .iter()
            .filter(|w| w.sub_path.is_none())
            .map(|w| w.path.as_str())
    }

    /// Whether a mount of the bundle provides `file`: it lies inside a directory mount of our
    /// volume (ours, or the chart's own at our directory), and no other mount shadows it.
    fn provides(&self, file: &str) -> bool {
        let chart_dirs = self
            .chart_provided
            .iter()
            .filter(|(w, _)| w.sub_path.is_none())
            .map(|(w, _)| w.path.as_str());
        self.dirs()
            .chain(chart_dirs)
            .any(|d| file != d.trim_end_matches('/') && is_within(file, d))
            && !self
                .others
                .iter()
                .filter(|m| !self.chart_provided.iter().any(|(_, i)| *i == m.index))
                .any(|m| !m.path.is_empty() && is_within(file, m.path))
    }

    /// Whether the value `v` names a file directly inside a directory where the earlier run
    /// mounted the volume; when the pod has our volume (`ours`), a directory this run mounts
    /// it at counts too: a re-run reads the variable through that mount (an earlier
    /// directory mount may have been mangled).
    fn in_old_dir(&self, v: &str, ours: bool) -> bool {
        let ours_now = self
            .dirs()
            .filter(|_| ours)
            .map(|d| d.trim_end_matches('/'));
        self.old_dirs.iter().copied().chain(ours_now).any(|d| {
            v.strip_prefix(d)
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|f| !f.is_empty() && !f.contains('/'))
        })
    }
}

/// The container's variables as found.
struct EnvFound<'n> {
    /// The `env` list.
    items: &'n [Node],
    /// The earlier run's variables (index, name, value), in list order.
    old: Vec<(usize, String, String)>,
    /// The other variables (index, node, value without our JAVA part), in list order.
    user: Vec<(usize, &'n Node, Option<String>)>,
}

/// What the planning of the wanted variables decided.
#[derive(Default)]
struct EnvDecided<'a> {
    /// The variables to add or keep as the tool's, in order (kept inline: a container gets
    /// a few).
    new: SmallVec<[&'a WantEnv; 4]>,
    /// Our part appended to the chart's own JAVA_TOOL_OPTIONS, if any.
    java: Option<String>,
    /// Wanted variables that no mount of the bundle provides the file of.
    missing: Vec<&'a WantEnv>,
    /// Indices of the container's own variables this run sets or deliberately leaves.
    touched_user: Vec<usize>,
}

/// A variable of the container that a wanted one names.
struct UserVar<'n, 'v> {
    index: usize,
    node: &'n Node,
    /// Its value without our JAVA part.
    current: Option<&'v str>,
    /// Its value as written.
    raw: Option<&'n str>,
    /// Its field path.
    path: Path,
}

/// Plans one container: removes what an earlier run injected and the current options do
/// not want, and adds what is missing. The earlier injection is what `cx.rec` records, or
/// without a record (the output of older versions) what has its shape (`cx.ours`). Returns
/// what the container holds of this run's injection afterwards, for the record.
fn plan_container<'a>(
    cx: &ContainerCx<'_, 'a, '_>,
    plan: &mut Plan,
    cp: &mut ContainerPlan,
) -> Result<Fields<'a>, Box<Finding>> {
    let mounts = cx.plan_mounts(plan, cp)?;
    let found = cx.read_env(&mounts)?;
    let mut decided = EnvDecided::default();
    for w in cx.want.env {
        cx.plan_variable(w, &mounts, &found, &mut decided, plan, cp);
    }
    cx.strip_unwanted_java(&found, &decided, plan, cp);
    cx.note_missing(&decided.missing, plan, cp);
    cx.replace_old_env(&found, &decided, plan, cp);
    // `desired` and `decided.new` keep the wanted mounts and variables in order: as many
    // are all of them, whose record is rendered already.
    if mounts.desired.len() == cx.want.mounts.len()
        && decided.new.len() == cx.want.env.len()
        && decided.java.is_none()
    {
        return Ok(cx.want.fields.borrow());
    }
    Ok(Fields::new(
        mounts.desired.iter().map(|w| w.path.as_str()),
        decided.new.iter().map(|w| w.name.as_str()),
        decided.java.as_deref(),
    ))
}

impl<'a, 'n> ContainerCx<'_, 'a, 'n> {
    /// The list at `key` of the container, checked to be a list or null; in a container
    /// left alone (only cleaned of an earlier injection), a field of the wrong type is not
    /// this run's business and reads as empty.
    fn list(&self, node: Option<&'n Node>, key: &str) -> Result<&'n [Node], Box<Finding>> {
        let injecting = !self.want.mounts.is_empty() || !self.want.env.is_empty();
        match list_of(node, self.cpath, key) {
            Err(_) if !injecting => Ok(&[][..]),
            r => r,
        }
    }

    /// Plans the mounts: keeps the earlier run's mounts that are already right, in order,
    /// and replaces the rest with what is wanted and not ruled out.
    fn plan_mounts(
        &self,
        plan: &mut Plan,
        cp: &mut ContainerPlan,
    ) -> Result<Mounts<'a, 'n>, Box<Finding>> {
        let (c, cpath, opts) = (self.c, self.cpath, self.opts);
        let existing_mounts = self.mounts;
        let (old, others): (Vec<HaveMount<'n>>, Vec<HaveMount<'n>>) = self
            .list(existing_mounts, "volumeMounts")?
            .iter()
            .enumerate()
            .map(|(index, node)| HaveMount {
                index,
                path: str_at(Some(node), &["mountPath"]).unwrap_or(""),
                name: str_at(Some(node), &["name"]).unwrap_or(""),
                node,
            })
            .partition(|m| match self.rec {
                Some(r) => r.mounts.iter().any(|p| p == m.path),
                None => self.ours && m.name == opts.volume_name && tool_mount(m.node, c, opts),
            });
        let old_dirs: Vec<&'n str> = old
            .iter()
            .filter(|m| m.node.get("subPath").is_none())
            .map(|m| m.path.trim_end_matches('/'))
            .collect();
        let (desired, chart_provided) = self.desired_mounts(&others, plan, cp);
        let kept = old
            .iter()
            .zip(&desired)
            .take_while(|(o, w)| o.is(w, opts))
            .count();
        let removed: Vec<usize> = old[kept..].iter().map(|m| m.index).collect();
        let added = desired.get(kept..).unwrap_or_default();
        // `desired` keeps the wanted mounts in order: as many are all of them.
        let all = (added.len() == self.want.mounts.len()).then_some(self.want.mounts_list);
        if self.reports {
            cp.removed
                .extend(old[kept..].iter().map(|m| m.path.to_owned()));
            cp.mounts
                .extend(desired[kept..].iter().map(|w| w.path.clone()));
        }
        remove_items(
            &mut plan.intents,
            cpath,
            "volumeMounts",
            existing_mounts,
            &removed,
            kept == 0 && added.is_empty() && others.is_empty(),
        );
        add_items(
            &mut plan.intents,
            cpath,
            true,
            "volumeMounts",
            existing_mounts,
            added.iter().map(|w| mount_val(w)),
            all,
        );
        Ok(Mounts {
            desired,
            chart_provided,
            others,
            old_dirs,
        })
    }

    /// The mounts wanted, minus those the mounts `others` of other volumes rule out (each
    /// left alone with a warning), and apart those the chart's own mounts of the volume
    /// named like ours already provide (each with the index of that mount, and a note).
    #[allow(clippy::type_complexity)]
    fn desired_mounts(
        &self,
        others: &[HaveMount<'_>],
        plan: &mut Plan,
        cp: &mut ContainerPlan,
    ) -> (SmallVec<[&'a WantMount; 4]>, Vec<(&'a WantMount, usize)>) {
        let opts = self.opts;
        let mut desired = SmallVec::new();
        let mut chart_provided: Vec<(&WantMount, usize)> = Vec::new();
        for w in self.want.mounts {
            if let Some(m) = others
                .iter()
                .find(|m| m.path.trim_end_matches('/') == w.path)
            {
                if provides(m, w, opts) {
                    plan.notes.push(note(
                        Severity::Info,
                        Some(self.cpath.key("volumeMounts")),
                        format!(
                            "container {:?}: mountPath {} already mounts the bundle (the chart's own mount of volume {:?}); left as the chart wrote it",
                            self.name, w.path, m.name
                        ),
                    ));
                    chart_provided.push((w, m.index));
                    continue;
                }
                let why = if m.name == opts.volume_name {
                    format!(
                        "mountPath {} is already used by the chart's own mount of volume {:?}, with another subPath",
                        w.path, m.name
                    )
                } else {
                    format!(
                        "mountPath {} is already used by volume {:?}",
                        w.path, m.name
                    )
                };
                keep_mount(plan, cp, self.name, self.cpath, &w.path, why);
                continue;
            }
            if let Some(m) = others
                .iter()
                .find(|m| !m.path.is_empty() && is_within(&w.path, m.path))
            {
                keep_mount(
                    plan,
                    cp,
                    self.name,
                    self.cpath,
                    &w.path,
                    format!(
                        "{} lies inside {}, which volume {:?} already mounts over",
                        w.path, m.path, m.name
                    ),
                );
                continue;
            }
            desired.push(w);
        }
        (desired, chart_provided)
    }

    /// Reads the container's variables: the earlier run's (what the record lists, or
    /// without one a plain value that names a file directly inside one of its directory
    /// mounts) and the others, with its part of JAVA_TOOL_OPTIONS taken out.
    fn read_env(&self, mounts: &Mounts<'_, '_>) -> Result<EnvFound<'n>, Box<Finding>> {
        let items = self.list(self.env, "env")?;
        let mut found = EnvFound {
            items,
            old: Vec::new(),
            user: Vec::new(),
        };
        for (i, e) in items.iter().enumerate() {
            match self.rec {
                Some(r) => Self::read_recorded_var(r, i, e, &mut found),
                None => self.read_unrecorded_var(mounts, i, e, &mut found),
            }
        }
        // An earlier run with --override-env set a variable of the chart in place, before the
        // variables it added: such leading variables that already hold the value wanted are
        // taken as the chart's when that spares moving them (a re-run changes nothing).
        let displaced = if self.rec.is_some() {
            0
        } else {
            leading_in_place(&found.old, self.want.env)
        };
        for (i, _, v) in found.old.drain(..displaced) {
            if let Some(e) = items.get(i) {
                found.user.push((i, e, Some(v)));
            }
        }
        found.user.sort_by_key(|(i, _, _)| *i);
        Ok(found)
    }

    /// Sorts the variable `e` (at index `i`) into `found`, by what the record `r` lists.
    fn read_recorded_var(r: &ContainerRecord, i: usize, e: &'n Node, found: &mut EnvFound<'n>) {
        let name = str_at(Some(e), &["name"]).unwrap_or("");
        let value = str_at(Some(e), &["value"]);
        let plain = e.get("valueFrom").is_none();
        if r.env.iter().any(|n| n == name) {
            found
                .old
                .push((i, name.to_owned(), value.unwrap_or_default().to_owned()));
            return;
        }
        if let (true, Some(v), Some(j), true) =
            (plain, value, &r.java, name == wk::JAVA_TOOL_OPTIONS)
            && let Some(rest) = strip_java(v, j)
        {
            found.user.push((i, e, Some(rest)));
            return;
        }
        found.user.push((i, e, value.map(str::to_owned)));
    }

    /// Sorts the variable `e` (at index `i`) into `found` by its shape, without a record:
    /// the tool's variable pointing into one of the earlier run's directories, or our
    /// JAVA_TOOL_OPTIONS part for one of them.
    fn read_unrecorded_var(
        &self,
        mounts: &Mounts<'_, '_>,
        i: usize,
        e: &'n Node,
        found: &mut EnvFound<'n>,
    ) {
        let opts = self.opts;
        let old_dirs = &mounts.old_dirs;
        let name = str_at(Some(e), &["name"]).unwrap_or("");
        let value = str_at(Some(e), &["value"]);
        let plain = e.get("valueFrom").is_none();
        if let (true, Some(v)) = (plain, value) {
            if tool_variable(name, opts) && mounts.in_old_dir(v, self.ours) {
                found.old.push((i, name.to_owned(), v.to_owned()));
                return;
            }
            if name == wk::JAVA_TOOL_OPTIONS
                && let Some(rest) = old_dirs.iter().find_map(|d| {
                    strip_java(v, &java_value_at(d, opts))
                        .or_else(|| strip_java(v, &java_options_at(d)))
                })
            {
                if old_dirs
                    .iter()
                    .any(|d| v == java_value_at(d, opts) || v == java_options_at(d))
                {
                    found.old.push((i, name.to_owned(), v.to_owned()));
                } else {
                    found.user.push((i, e, Some(rest)));
                }
                return;
            }
        }
        found.user.push((i, e, value.map(str::to_owned)));
    }

    /// Plans the wanted variable `w`: added when the container lacks it, else set, extended
    /// or left as the options and the container's own value say.
    fn plan_variable(
        &self,
        w: &'a WantEnv,
        mounts: &Mounts<'_, '_>,
        found: &EnvFound<'n>,
        decided: &mut EnvDecided<'a>,
        plan: &mut Plan,
        cp: &mut ContainerPlan,
    ) {
        let (var, value) = (&w.name, &w.value);
        if !w.file.is_empty() && !mounts.provides(&w.file) {
            decided.missing.push(w);
            return;
        }
        let user = found
            .user
            .iter()
            .rev()
            .find(|(_, e, _)| str_at(Some(e), &["name"]) == Some(var.as_str()));
        let Some((i, e, current)) = user else {
            decided.new.push(w);
            return;
        };
        let (i, e) = (*i, *e);
        let u = UserVar {
            index: i,
            node: e,
            current: current.as_deref(),
            raw: str_at(Some(e), &["value"]),
            path: self.cpath.key_index("env", i),
        };
        if let Some(r) = &w.secret
            && secret_ref(e) == Some((r.name.as_str(), r.key.as_str()))
        {
            return;
        }
        let plain = e.get("valueFrom").is_none();
        if w.secret.is_none() && u.current == Some(value.as_str()) && plain {
            if u.raw != Some(value.as_str()) {
                decided.touched_user.push(i);
                set_env_value(&mut plan.intents, &u.path, e, value);
            }
            return;
        }
        match w.mode {
            EnvMode::List if plain => extend_list(w, &u, decided, plan, self.reports.then_some(cp)),
            EnvMode::Append if plain => self.append_java(w, &u, found, decided, plan, cp),
            _ => self.set_over_container(w, u, decided, plan, cp),
        }
    }

    /// Appends our JAVA_TOOL_OPTIONS part to the container's own `u`, unless it holds it
    /// already or points Java at its own truststore or proxy (without --override-env).
    fn append_java(
        &self,
        w: &WantEnv,
        u: &UserVar<'_, '_>,
        found: &EnvFound<'_>,
        decided: &mut EnvDecided<'_>,
        plan: &mut Plan,
        cp: &mut ContainerPlan,
    ) {
        let (var, i, e, raw) = (&w.name, u.index, u.node, u.raw);
        let before = found.items.get(..i).unwrap_or_default();
        let value = &java_without_unexpandable(&w.value, self.opts, before, |why| {
            plan.notes.push(note(
                Severity::Warning,
                Some(u.path.clone()),
                format!("container {:?}: {why}", self.name),
            ));
        });
        if value.is_empty() {
            decided.touched_user.push(i);
            return;
        }
        // Our part is there as a whole already (say, after a proxy-only pass over a CA
        // injection): nothing to do.
        // With a record, only when that part is the one it lists (an earlier part
        // that holds ours and more, such as the proxy's options, is replaced).
        if raw.is_some_and(|r| r.contains(value.as_str()))
            && self
                .rec
                .is_none_or(|r| r.java.as_deref() == Some(value.as_str()))
        {
            decided.touched_user.push(i);
            decided.java = Some(value.clone());
            return;
        }
        let base = u.current.unwrap_or("");
        decided.touched_user.push(i);
        if base.contains(value.as_str()) {
            if raw != Some(base) {
                set_env_value(&mut plan.intents, &u.path, e, base);
            }
            return;
        }
        let own = [
            ("-Djavax.net.ssl.trustStore=", "its own truststore"),
            ("-Dhttp.proxyHost=", "its own proxy"),
            ("-Dhttps.proxyHost=", "its own proxy"),
        ]
        .into_iter()
        .find(|(p, _)| value.contains(p) && base.contains(p));
        if let Some((_, what)) = own
            && !self.opts.override_env
        {
            let why = format!("the container points Java at {what} in {var}");
            plan.notes.push(note(
                Severity::Warning,
                Some(u.path.clone()),
                format!(
                    "container {:?}: {why}; kept (pass --override-env to append ours anyway)",
                    self.name
                ),
            ));
            cp.kept_env.push((var.clone(), why));
            if raw != Some(base) {
                set_env_value(&mut plan.intents, &u.path, e, base);
            }
            return;
        }
        // Joined with one space, which is removed with our part again on a re-run
        // (a variable the tool created holds our part alone).
        let joined = format!("{base} {value}");
        if raw != Some(joined.as_str()) {
            set_env_value(&mut plan.intents, &u.path, e, &joined);
            if self.reports {
                cp.env.push(var.clone());
            }
        }
        decided.java = Some(value.clone());
    }

    /// The container sets the wanted variable `w` itself (`u`) to something else: replaced
    /// with --override-env (a note says what it was), else kept with a warning.
    fn set_over_container(
        &self,
        w: &WantEnv,
        u: UserVar<'_, '_>,
        decided: &mut EnvDecided<'_>,
        plan: &mut Plan,
        cp: &mut ContainerPlan,
    ) {
        let (var, e) = (&w.name, u.node);
        let shown = match (u.current, e.get("valueFrom")) {
            (_, Some(_)) => "a valueFrom reference".to_owned(),
            (Some(v), None) => format!("{v:?}"),
            (None, None) => "an empty value".to_owned(),
        };
        if !self.opts.override_env {
            let why = format!("the container sets {var} to {shown} itself");
            plan.notes.push(note(
                Severity::Warning,
                Some(self.cpath.key("env")),
                format!(
                    "container {:?}: {why}; kept (pass --override-env to replace it)",
                    self.name
                ),
            ));
            cp.kept_env.push((var.clone(), why));
            return;
        }
        decided.touched_user.push(u.index);
        match &w.secret {
            Some(r) => override_with_secret(&mut plan.intents, u.path, e, r),
            None => override_with_value(&mut plan.intents, u.path, e, &w.value),
        }
        if self.reports {
            cp.env.push(var.clone());
        }
        plan.notes.push(note(
            Severity::Info,
            Some(self.cpath.key("env")),
            format!(
                "container {:?}: {var} was {shown}; overridden (--override-env)",
                self.name
            ),
        ));
    }

    /// Takes our part out of the container's JAVA_TOOL_OPTIONS where it carries it but no
    /// longer should (no wanted variable touched it).
    fn strip_unwanted_java(
        &self,
        found: &EnvFound<'_>,
        decided: &EnvDecided<'_>,
        plan: &mut Plan,
        cp: &mut ContainerPlan,
    ) {
        for (i, e, current) in &found.user {
            if decided.touched_user.contains(i) {
                continue;
            }
            if let (Some(rest), Some(raw)) = (current, str_at(Some(e), &["value"]))
                && rest != raw
            {
                set_env_value(&mut plan.intents, &self.cpath.key_index("env", *i), e, rest);
                if self.reports {
                    cp.removed.push(format!(
                        "{} (its truststore options)",
                        wk::JAVA_TOOL_OPTIONS
                    ));
                }
            }
        }
    }

    /// Warns of the wanted variables `missing` left unset because no mount of the bundle
    /// provides their file.
    fn note_missing(&self, missing: &[&WantEnv], plan: &mut Plan, cp: &mut ContainerPlan) {
        if missing.is_empty() {
            return;
        }
        let names: Vec<&str> = missing.iter().map(|w| w.name.as_str()).collect();
        let mut files: Vec<&str> = missing.iter().map(|w| w.file.as_str()).collect();
        files.dedup();
        let why = format!(
            "no mount of the bundle provides {} (another mount sits there or over it)",
            files.join(", ")
        );
        plan.notes.push(note(
            Severity::Warning,
            Some(self.cpath.key("env")),
            format!(
                "container {:?}: {} not set: {why}",
                self.name,
                names.join(", ")
            ),
        ));
        for w in missing {
            cp.kept_env.push((w.name.clone(), why.clone()));
        }
    }

    /// Keeps the earlier run's variables that are still wanted, in order (updating their
    /// values), removes the rest and adds what is new.
    fn replace_old_env(
        &self,
        found: &EnvFound<'_>,
        decided: &EnvDecided<'_>,
        plan: &mut Plan,
        cp: &mut ContainerPlan,
    ) {
        let (old_env, new_env) = (&found.old, &decided.new);
        let kept = old_env
            .iter()
            .zip(new_env)
            .take_while(|((i, on, _), w)| *on == w.name && self.same_kind(found, *i, &w.name))
            .count();
        for (old, new) in old_env.iter().zip(new_env).take(kept) {
            self.update_kept_var(found, old, new, plan, cp);
        }
        let removed: Vec<usize> = old_env[kept..].iter().map(|(i, _, _)| *i).collect();
        let new_env = new_env.get(kept..).unwrap_or_default();
        // The variables decided keep the wanted ones in order: as many are all of them.
        let all = (new_env.len() == self.want.env.len()).then_some(self.want.env_list);
        let added = new_env.iter().map(|w| Val::Shared(Arc::clone(&w.val)));
        if self.reports {
            cp.removed
                .extend(old_env[kept..].iter().map(|(_, n, _)| n.clone()));
            cp.env.extend(new_env.iter().map(|w| w.name.clone()));
        }
        let existing_env = self.env;
        remove_items(
            &mut plan.intents,
            self.cpath,
            "env",
            existing_env,
            &removed,
            kept == 0 && new_env.is_empty() && found.user.is_empty(),
        );
        add_items(
            &mut plan.intents,
            self.cpath,
            true,
            "env",
            existing_env,
            added,
            all,
        );
    }

    /// The Secret key the wanted variable `name` comes from, if any.
    fn wanted_secret(&self, name: &str) -> Option<&'a crate::proxy::SecretRef> {
        self.want
            .env
            .iter()
            .find(|w| w.name == name)
            .and_then(|w| w.secret.as_ref())
    }

    /// Whether the earlier run's variable at index `i` keeps its kind as the wanted `name`
    /// (a plain value, or the same Secret reference), so that it stays where it stands.
    fn same_kind(&self, found: &EnvFound<'_>, i: usize, name: &str) -> bool {
        found
            .items
            .get(i)
            .is_some_and(|e| match self.wanted_secret(name) {
                Some(r) => secret_ref(e) == Some((r.name.as_str(), r.key.as_str())),
                None => e.get("valueFrom").is_none(),
            })
    }

    /// Updates the value of the earlier run's variable `old` (index, name, value), kept as
    /// the wanted `new` (name, value).
    fn update_kept_var(
        &self,
        found: &EnvFound<'_>,
        (i, on, ov): &(usize, String, String),
        WantEnv {
            name: nn,
            value: nv,
            ..
        }: &WantEnv,
        plan: &mut Plan,
        cp: &mut ContainerPlan,
    ) {
        let secret = self
            .want
            .env
            .iter()
            .any(|w| w.name == *nn && w.secret.is_some());
        // The other kind of pass appended its part to the JAVA_TOOL_OPTIONS this one
        // created: that part stays after ours.
        let kept_part = self
            .other_java
            .filter(|_| on == wk::JAVA_TOOL_OPTIONS)
            .filter(|j| ov.ends_with(&format!(" {j}")));
        let nv = &match kept_part {
            Some(j) => format!("{nv} {j}"),
            None => nv.clone(),
        };
        if ov != nv
            && !secret
            && let Some(e) = found.items.get(*i)
        {
            set_env_value(&mut plan.intents, &self.cpath.key_index("env", *i), e, nv);
            if self.reports {
                cp.env.push(on.clone());
            }
        }
    }
}

/// Adds the missing comma-separated entries of the wanted `w` to the container's own `u`
/// (NO_PROXY with --append-no-proxy), listed in `cp` when reports read it.
fn extend_list(
    w: &WantEnv,
    u: &UserVar<'_, '_>,
    decided: &mut EnvDecided<'_>,
    plan: &mut Plan,
    cp: Option<&mut ContainerPlan>,
) {
    let base = u.current.unwrap_or("");
    let have: Vec<&str> = base.split(',').map(str::trim).collect();
    let missing: Vec<&str> = w.value.split(',').filter(|x| !have.contains(x)).collect();
    if !missing.is_empty() {
        let joined = if base.trim().is_empty() {
            missing.join(",")
        } else {
            format!("{base},{}", missing.join(","))
        };
        decided.touched_user.push(u.index);
        set_env_value(&mut plan.intents, &u.path, u.node, &joined);
        if let Some(cp) = cp {
            cp.env.push(w.name.clone());
        }
    }
}

/// Replaces the value (or the old reference) of the variable `e` at `epath` with a
/// reference to the Secret key `r`, where it stands.
fn override_with_secret(
    intents: &mut Vec<Intent>,
    epath: Path,
    e: &Node,
    r: &crate::proxy::SecretRef,
) {
    let from = secret_val(r);
    let old = if e.get("valueFrom").is_some() {
        "valueFrom"
    } else {
        "value"
    };
    if old == "valueFrom" && e.get("value").is_some() {
        intents.push(Intent {
            path: epath.clone(),
            op: Op::RemoveKey("value".into()),
        });
    }
    intents.push(if e.get(old).is_some() {
        Intent {
            path: epath,
            op: Op::ReplaceEntry(old.into(), "valueFrom".into(), from),
        }
    } else {
        Intent {
            path: epath,
            op: Op::AddKey("valueFrom".into(), from),
        }
    });
}

/// Sets the variable `e` at `epath` to the plain `value`: a reference is replaced by the
/// value where it stands.
fn override_with_value(intents: &mut Vec<Intent>, epath: Path, e: &Node, value: &str) {
    if e.get("valueFrom").is_some() && e.get("value").is_none() {
        intents.push(Intent {
            path: epath,
            op: Op::ReplaceEntry("valueFrom".into(), "value".into(), Val::str(value)),
        });
    } else {
        set_env_value(intents, &epath, e, value);
        if e.get("valueFrom").is_some() {
            intents.push(Intent {
                path: epath,
                op: Op::RemoveKey("valueFrom".into()),
            });
        }
    }
}

/// The Secret and key a variable's `valueFrom.secretKeyRef` names.
fn secret_ref(e: &Node) -> Option<(&str, &str)> {
    let r = e.get("valueFrom")?.get("secretKeyRef")?;
    Some((str_at(Some(r), &["name"])?, str_at(Some(r), &["key"])?))
}

/// `valueFrom` reading a key of a Secret.
fn secret_val(r: &crate::proxy::SecretRef) -> Val {
    let mut keys = vec![
        ("name".to_owned(), Val::str(&r.name)),
        ("key".to_owned(), Val::str(&r.key)),
    ];
    if r.optional {
        keys.push(("optional".to_owned(), Val::Bool(true)));
    }
    Val::map([("secretKeyRef", Val::Map(keys))])
}

/// How many of the earlier run's variables `old` (in list order), from the first, are best
/// read as the chart's own, overridden in place: each holds the value `want` gives its
/// name, and taking them out of `old` leaves the fewest variables to remove and add again.
fn leading_in_place(old: &[(usize, String, String)], want: &[WantEnv]) -> usize {
    let wanted = |name: &str, value: &str| {
        want.iter()
            .any(|w| w.name == name && w.value == value && w.mode == EnvMode::Set)
    };
    let candidates = old.iter().take_while(|(_, n, v)| wanted(n, v)).count();
    let moved = |k: usize| {
        let (front, rest) = old.split_at(k.min(old.len()));
        let order = want
            .iter()
            .filter(|w| !front.iter().any(|(_, n, _)| *n == w.name))
            .map(|w| w.name.as_str());
        let kept = rest
            .iter()
            .zip(order)
            .take_while(|((_, n, _), w)| n == w)
            .count();
        rest.len() - kept
    };
    (0..=candidates).min_by_key(|k| moved(*k)).unwrap_or(0)
}

/// `value` without the JAVA_TOOL_OPTIONS part `ours` and the space before it, if it
/// holds that part.
fn strip_java(value: &str, ours: &str) -> Option<String> {
    let at = value.find(ours)?;
    let before = value[..at].strip_suffix(' ').unwrap_or(&value[..at]);
    let after = &value[at + ours.len()..];
    let after = if before.is_empty() {
        after.strip_prefix(' ').unwrap_or(after)
    } else {
        after
    };
    Some(format!("{before}{after}"))
}

/// Sets the value of the variable `e` at `epath`.
fn set_env_value(intents: &mut Vec<Intent>, epath: &Path, e: &Node, value: &str) {
    if e.get("value").is_some() {
        intents.push(Intent {
            path: epath.key("value"),
            op: Op::Replace(Val::str(value)),
        });
    } else {
        intents.push(Intent {
            path: epath.clone(),
            op: Op::AddKey("value".into(), Val::str(value)),
        });
    }
}

/// Removes the items `removed` from the list at `key` of `parent`: the whole key when
/// `all_gone` (the list would be empty; Kubernetes reads an empty list as no list).
fn remove_items(
    intents: &mut Vec<Intent>,
    parent: &Path,
    key: &str,
    existing: Option<&Node>,
    removed: &[usize],
    all_gone: bool,
) {
    if removed.is_empty() {
        return;
    }
    if all_gone && existing.is_some() {
        intents.push(Intent {
            path: parent.clone(),
            op: Op::RemoveKey(key.into()),
        });
        return;
    }
    for i in removed {
        intents.push(Intent {
            path: parent.key(key),
            op: Op::RemoveItem(*i),
        });
    }
}

fn mount_val(want: &WantMount) -> Val {
    Val::Shared(Arc::clone(&want.val))
}

/// Records a mount left alone, and why, with a warning.
fn keep_mount(
    plan: &mut Plan,
    cp: &mut ContainerPlan,
    name: &str,
    cpath: &Path,
    path: &str,
    why: String,
) {
    plan.notes.push(note(
        Severity::Warning,
        Some(cpath.key("volumeMounts")),
        format!("container {name:?}: {why}; left alone"),
    ));
    cp.kept_mounts.push((path.to_owned(), why));
}

impl PodCx<'_, '_> {
    /// Sets (`Some`) or removes (`None`) annotations of the pod template, in place: creates
    /// `metadata.annotations` when absent (or null), and removes `annotations` (and the
    /// template's `metadata`) when nothing would be left in them.
    fn set_annotations(&self, changes: &[(&'static str, Option<&str>)], plan: &mut Plan) {
        set_annotations(self.found, self.meta, changes, plan);
    }
}

/// [`PodCx::set_annotations`] for the metadata `meta` of the PodSpec `found`.
fn set_annotations(
    found: &Found,
    meta: Option<&Node>,
    changes: &[(&'static str, Option<&str>)],
    plan: &mut Plan,
) {
    let meta_path = &found.meta_path;
    let template_path = || meta_path.prefix(meta_path.0.len().saturating_sub(1));
    let ann = meta.and_then(|m| m.get("annotations"));
    let any_set = changes.iter().any(|(_, v)| v.is_some());
    match (meta, ann) {
        (None, _) if any_set => plan.intents.push(Intent {
            path: template_path(),
            op: Op::AddKey("metadata".into(), shared_sets(changes, true)),
        }),
        (Some(m), _) if m.entries().is_none() && any_set => plan.intents.push(Intent {
            path: meta_path.clone(),
            op: Op::Replace(shared_sets(changes, true)),
        }),
        (Some(m), None) if m.entries().is_some() && any_set => {
            plan.intents.push(Intent {
                path: meta_path.clone(),
                op: Op::AddKey("annotations".into(), shared_sets(changes, false)),
            });
        }
        (Some(_), Some(a)) if a.entries().is_none() && any_set => {
            plan.intents.push(Intent {
                path: meta_path.key("annotations"),
                op: Op::Replace(shared_sets(changes, false)),
            });
        }
        (Some(m), Some(a)) if a.entries().is_some() => {
            if !any_set && emptied_by(a, changes) {
                plan.intents
                    .push(remove_annotations(found, m, template_path()));
            } else {
                edit_annotations(meta_path, a, changes, plan);
            }
        }
        _ => {}
    }
}

/// The most mappings of annotations [`shared_sets`] keeps per thread, and the longest text
/// of the values of one kept.
const SETS_KEPT: usize = 16;
const SETS_TEXT_MAX: usize = 4096;

/// A mapping of the annotations set on a pod template, as inserted, and `annotations:` with
/// it (made when first asked for).
struct SharedSets {
    sets: Arc<Val>,
    wrapped: Option<Arc<Val>>,
}

thread_local! {
    /// The mappings of annotations set last on this thread, the most recent last: the
    /// workloads of a stream mostly get the same few records, which then share one value
    /// each instead of each building and dropping its own.
    static SETS: std::cell::RefCell<Vec<SharedSets>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The annotations `changes` sets (`Some`), in order, as a mapping shared with every other
/// pod template that gets the same; with `wrapped`, as the mapping `annotations:` with them.
fn shared_sets(changes: &[(&'static str, Option<&str>)], wrapped: bool) -> Val {
    let sets = || changes.iter().filter_map(|(k, v)| Some((*k, (*v)?)));
    // A long record is not kept: what is kept per thread stays small.
    if sets().map(|(_, v)| v.len()).sum::<usize>() > SETS_TEXT_MAX {
        let sets = Val::Map(sets().map(|(k, v)| (k.to_owned(), Val::str(v))).collect());
        return match wrapped {
            true => Val::map([("annotations", sets)]),
            false => sets,
        };
    }
    // The values first: the keys are mostly the same.
    let is = |kept: &SharedSets| match &*kept.sets {
        Val::Map(entries) => {
            entries.len() == sets().count()
                && entries
                    .iter()
                    .zip(sets())
                    .all(|((k, v), (ck, cv))| matches!(v, Val::Str(s) if s == cv && k == ck))
        }
        _ => false,
    };
    SETS.with_borrow_mut(|kept| {
        let at = match kept.iter().rposition(is) {
            Some(at) => at,
            None => {
                if kept.len() >= SETS_KEPT {
                    kept.remove(0);
                }
                kept.push(SharedSets {
                    sets: Arc::new(Val::Map(
                        sets().map(|(k, v)| (k.to_owned(), Val::str(v))).collect(),
                    )),
                    wrapped: None,
                });
                kept.len() - 1
            }
        };
        let Some(kept) = kept.get_mut(at) else {
            return Val::Map(Vec::new());
        };
        let shared = if wrapped {
            let sets = &kept.sets;
            kept.wrapped.get_or_insert_with(|| {
                Arc::new(Val::map([("annotations", Val::Shared(Arc::clone(sets)))]))
            })
        } else {
            &kept.sets
        };
        Val::Shared(Arc::clone(shared))
    })
}

/// Whether `changes` remove every annotation of the (non-empty) mapping `a`.
fn emptied_by(a: &Node, changes: &[(&str, Option<&str>)]) -> bool {
    let removed = |k: &str| changes.iter().any(|(c, v)| *c == k && v.is_none());
    a.entries()
        .is_some_and(|es| !es.is_empty() && es.iter().all(|(k, _)| k.as_str().is_some_and(removed)))
}

/// Removes the pod template's `annotations` of the metadata `m`, or its whole `metadata`
/// (at `template_path`) when nothing else is in it and it is not the object's own.
fn remove_annotations(found: &Found, m: &Node, template_path: Path) -> Intent {
    let alone = m
        .entries()
        .is_some_and(|es| es.iter().all(|(ek, _)| ek.as_str() == Some("annotations")));
    if alone && found.meta_path != found.object_path.key("metadata") {
        Intent {
            path: template_path,
            op: Op::RemoveKey("metadata".into()),
        }
    } else {
        Intent {
            path: found.meta_path.clone(),
            op: Op::RemoveKey("annotations".into()),
        }
    }
}

/// Applies `changes` to the annotations mapping `a` of the metadata at `meta_path`, key by
/// key: replaced, added or removed where they differ.
fn edit_annotations(meta_path: &Path, a: &Node, changes: &[(&str, Option<&str>)], plan: &mut Plan) {
    let path = meta_path.key("annotations");
    for &(key, value) in changes {
        match (a.get(key), value) {
            (Some(n), Some(v)) if n.as_str() == Some(v) => {}
            (Some(_), Some(v)) => plan.intents.push(Intent {
                path: path.key(key),
                op: Op::Replace(Val::str(v)),
            }),
            (None, Some(v)) => plan.intents.push(Intent {
                path: path.clone(),
                op: Op::AddKey(key.into(), Val::str(v)),
            }),
            (Some(_), None) => plan.intents.push(Intent {
                path: path.clone(),
                op: Op::RemoveKey((*key).into()),
            }),
            (None, None) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// The start-up merge (`--merge-at-start`): an init container, first of all, that merges the
// source (mounted read-only from a second volume) with the public roots into our volume, an
// emptyDir; the containers then mount that as a generated complete bundle.

/// The name of the merge init container.
fn merge_container_name(opts: &Options) -> String {
    format!("{}{}", opts.volume_name, wk::MERGE_CONTAINER_SUFFIX)
}

/// The name of the volume that holds the source for the merge.
fn merge_source_volume(opts: &Options) -> String {
    format!("{}{}", opts.volume_name, wk::MERGE_SOURCE_SUFFIX)
}

/// Whether `name` is our volume's name followed by `suffix` (the merge's names), compared
/// without building the name: this runs for every workload.
fn is_volume_name_with(name: &str, suffix: &str, opts: &Options) -> bool {
    name.strip_prefix(opts.volume_name.as_str()) == Some(suffix)
}

/// Whether `c` is the merge init container an earlier run wrote: our name, running `merge`.
fn is_merge_container(c: &Node, opts: &Options) -> bool {
    is_merge_named(c.get("name"), c, opts)
}

/// [`is_merge_container`] for the container `c` whose `name` is known.
fn is_merge_named(name: Option<&Node>, c: &Node, opts: &Options) -> bool {
    name.and_then(Node::as_str)
        .is_some_and(|n| is_volume_name_with(n, wk::MERGE_CONTAINER_SUFFIX, opts))
        && c.get("args")
            .and_then(Node::items)
            .and_then(<[Node]>::first)
            .and_then(Node::as_str)
            == Some("merge")
}

/// The merge init container the options ask for.
fn merge_container_val(opts: &Options, m: &crate::config::MergeAtStart) -> Val {
    let roots = if opts.source.complete || opts.public_roots == crate::bundle::PublicRoots::None {
        "none"
    } else {
        "mozilla"
    };
    let quantities = || Val::map([("cpu", Val::str(&m.cpu)), ("memory", Val::str(&m.memory))]);
    Val::map([
        ("name", Val::str(merge_container_name(opts))),
        ("image", Val::str(&m.image)),
        ("imagePullPolicy", Val::str("IfNotPresent")),
        (
            "args",
            Val::Seq(
                [
                    "merge",
                    "--source",
                    &format!("{}/{}", wk::MERGE_SOURCE_DIR, opts.source.key),
                    "--output-dir",
                    wk::MERGE_OUTPUT_DIR,
                    "--public-roots",
                    roots,
                ]
                .into_iter()
                .map(Val::str)
                .collect(),
            ),
        ),
        (
            "resources",
            Val::map([("requests", quantities()), ("limits", quantities())]),
        ),
        (
            "securityContext",
            Val::map([
                ("allowPrivilegeEscalation", Val::Bool(false)),
                (
                    "capabilities",
                    Val::map([("drop", Val::Seq(vec![Val::str("ALL")]))]),
                ),
                ("readOnlyRootFilesystem", Val::Bool(true)),
                ("runAsNonRoot", Val::Bool(true)),
                ("runAsUser", Val::Int(wk::MERGE_UID)),
                ("runAsGroup", Val::Int(wk::MERGE_UID)),
                (
                    "seccompProfile",
                    Val::map([("type", Val::str("RuntimeDefault"))]),
                ),
            ]),
        ),
        (
            "volumeMounts",
            Val::Seq(vec![
                Val::map([
                    ("name", Val::str(merge_source_volume(opts))),
                    ("mountPath", Val::str(wk::MERGE_SOURCE_DIR)),
                    ("readOnly", Val::Bool(true)),
                ]),
                Val::map([
                    ("name", Val::str(&opts.volume_name)),
                    ("mountPath", Val::str(wk::MERGE_OUTPUT_DIR)),
                ]),
            ]),
        ),
    ])
}

/// Whether the node `n` reads as the value `v` (scalars compared as text).
fn node_is(n: &Node, v: &Val) -> bool {
    match v {
        Val::Shared(v) => node_is(n, v),
        Val::Str(s) => n.as_str() == Some(s.as_str()),
        Val::Bool(b) => n.as_str() == Some(if *b { "true" } else { "false" }),
        Val::Int(i) => n.as_str() == Some(i.to_string().as_str()),
        Val::Map(entries) => n.entries().is_some_and(|es| {
            es.len() == entries.len()
                && entries
                    .iter()
                    .all(|(k, v)| n.get(k).is_some_and(|x| node_is(x, v)))
        }),
        Val::Seq(items) => n.items().is_some_and(|xs| {
            xs.len() == items.len() && xs.iter().zip(items).all(|(x, v)| node_is(x, v))
        }),
    }
}

impl<'a> PodCx<'a, '_> {
    /// Plans the merge init container, its source volume and the image pull secret (or
    /// takes out what an earlier run with the merge wrote, when the current one has none):
    /// what an earlier run recorded in `owned`, or without a record what has the merge's
    /// shape. Records what the tool owns afterwards in `record`, and the indices of volumes
    /// to remove in `removed_volumes`. Returns the volumes to add.
    fn plan_merge(
        &self,
        want_volume: bool,
        record: &mut NewRecord<'a>,
        removed_volumes: &mut Vec<usize>,
        plan: &mut Plan,
    ) -> Result<Vec<Val>, Box<Finding>> {
        let merge = self.opts.merge.as_ref().filter(|_| want_volume);
        self.plan_merge_container(merge, record, plan)?;
        let add = self
            .plan_merge_source(merge, record, removed_volumes, plan)?
            .into_iter()
            .collect();
        self.plan_pull_secret(merge, record, plan);
        Ok(add)
    }

    /// Plans the merge init container: first of all when `merge` asks for it, else an
    /// earlier run's taken out.
    fn plan_merge_container(
        &self,
        merge: Option<&'a crate::config::MergeAtStart>,
        record: &mut NewRecord<'a>,
        plan: &mut Plan,
    ) -> Result<(), Box<Finding>> {
        let (spec_path, opts, owned) = (&self.found.spec_path, self.opts, self.owned);
        let inits = self.fields.init_containers;
        let items = inits.and_then(Node::items).unwrap_or(&[]);
        let ours: Vec<usize> = self
            .containers
            .iter()
            .filter(|c| {
                c.list == "initContainers" && is_tool_init_named(c.name, c.node, owned, opts)
            })
            .map(|c| c.index)
            .collect();
        if merge.is_none() && ours.is_empty() {
            // Nothing wanted and nothing of an earlier run's: the common case.
            return Ok(());
        }
        let name = merge_container_name(opts);
        if merge.is_some()
            && let Some(i) = items.iter().enumerate().position(|(i, c)| {
                str_at(Some(c), &["name"]) == Some(name.as_str()) && !ours.contains(&i)
            })
        {
            return Err(conflict(
                spec_path.key("initContainers").index(i),
                format!(
                    "the pod already has an init container named {name:?}; give our volume (and so the merge init container) another name with --volume-name (spec.volumeName)"
                ),
            ));
        }
        let want = merge
            .and(self.wanted.merge_container.as_ref())
            .map(|w| Val::Shared(Arc::clone(w)));
        if want.is_some() {
            record.init_containers.push(Cow::Owned(name.clone()));
        }
        let in_place = match (&want, ours.as_slice()) {
            (Some(w), [0]) => items.first().is_some_and(|c| node_is(c, w)),
            (None, []) => true,
            _ => false,
        };
        if in_place {
            return Ok(());
        }
        plan.merge_changes.push(match (&want, ours.is_empty()) {
            (Some(_), true) => format!("the init container {name:?} is missing"),
            (Some(_), false) => format!("the init container {name:?} is stale or not first"),
            (None, _) => format!("the init container {name:?} of an earlier run is left"),
        });
        let remaining = items.len() - ours.len();
        remove_items(
            &mut plan.intents,
            spec_path,
            "initContainers",
            inits,
            &ours,
            remaining == 0 && want.is_none(),
        );
        if let Some(w) = want {
            match inits {
                Some(n) if n.items().is_some_and(|xs| !xs.is_empty()) => {
                    plan.intents.push(Intent {
                        path: spec_path.key("initContainers"),
                        op: Op::Prepend(w),
                    });
                }
                _ => add_items(
                    &mut plan.intents,
                    spec_path,
                    false,
                    "initContainers",
                    inits,
                    std::iter::once(w),
                    None,
                ),
            }
        }
        Ok(())
    }

    /// Plans the merge's source volume: an earlier run's that is stale or no longer wanted
    /// is taken out (its index pushed to `removed_volumes`). Returns it when it is to be
    /// added.
    fn plan_merge_source(
        &self,
        merge: Option<&'a crate::config::MergeAtStart>,
        record: &mut NewRecord<'a>,
        removed_volumes: &mut Vec<usize>,
        plan: &mut Plan,
    ) -> Result<Option<Val>, Box<Finding>> {
        let (opts, owned) = (self.opts, self.owned);
        let volumes = self.fields.volumes.and_then(Node::items).unwrap_or(&[]);
        let is_source = |v: &Node| {
            str_at(Some(v), &["name"])
                .is_some_and(|n| is_volume_name_with(n, wk::MERGE_SOURCE_SUFFIX, opts))
        };
        if merge.is_none() && !volumes.iter().any(is_source) {
            // Nothing wanted and nothing of an earlier run's: the common case.
            return Ok(None);
        }
        let source_name = merge_source_volume(opts);
        let want_source = merge
            .and(self.wanted.merge_source.as_ref())
            .map(|w| Val::Shared(Arc::clone(w)));
        let mut found_same = false;
        for (i, v) in volumes.iter().enumerate() {
            if !is_source(v) {
                continue;
            }
            let recorded = owned.map(|r| r.volumes.contains(&source_name));
            if let Some(w) = &want_source
                && node_is(v, w)
                && recorded != Some(false)
            {
                found_same = true;
                continue;
            }
            // Ours when an earlier run recorded it; without a record, when it has the tool's
            // shape and no container but our merge init container mounts it.
            if recorded.unwrap_or_else(|| tool_shaped_volume(v))
                && !self.mounted_elsewhere(&source_name)
            {
                plan.merge_changes
                    .push(format!("the volume {source_name:?} is stale or left"));
                removed_volumes.push(i);
            } else if merge.is_some() {
                return Err(conflict(
                    self.found.spec_path.key("volumes").index(i),
                    format!(
                        "the pod already has a volume named {source_name:?}, which the start-up merge needs for its source; give our volume another name with --volume-name (spec.volumeName)"
                    ),
                ));
            }
        }
        if want_source.is_some() {
            record.volumes.push(Cow::Owned(source_name.clone()));
        }
        match (want_source, found_same) {
            (Some(w), false) => {
                plan.merge_changes
                    .push(format!("the volume {source_name:?} is missing"));
                Ok(Some(w))
            }
            _ => Ok(None),
        }
    }

    /// Whether a container other than the tool's init containers mounts the volume `name`.
    fn mounted_elsewhere(&self, name: &str) -> bool {
        self.fields
            .all_containers()
            .filter(|c| !is_tool_init(c, self.owned, self.opts))
            .filter_map(|c| c.get("volumeMounts").and_then(Node::items))
            .flatten()
            .any(|m| str_at(Some(m), &["name"]) == Some(name))
    }

    /// Plans the image pull secret of the merge, once; an earlier run's that is no longer
    /// wanted goes.
    fn plan_pull_secret(
        &self,
        merge: Option<&'a crate::config::MergeAtStart>,
        record: &mut NewRecord<'a>,
        plan: &mut Plan,
    ) {
        let (spec_path, owned) = (&self.found.spec_path, self.owned);
        let wanted_secret = merge.and_then(|m| m.pull_secret.as_deref());
        let existing = self.fields.image_pull_secrets;
        let secrets = existing.and_then(Node::items).unwrap_or(&[]);
        if wanted_secret.is_none() && secrets.is_empty() {
            // Nothing wanted and nothing to take out: the common case.
            return;
        }
        let recorded = |s: &str| owned.is_some_and(|r| r.pull_secrets.iter().any(|p| p == s));
        let stale: Vec<usize> = secrets
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                str_at(Some(s), &["name"]).is_some_and(|n| recorded(n) && Some(n) != wanted_secret)
            })
            .map(|(i, _)| i)
            .collect();
        if !stale.is_empty() {
            plan.merge_changes
                .push("imagePullSecrets holds an earlier run's secret".to_owned());
        }
        let mut added = Vec::new();
        if let Some(secret) = wanted_secret {
            let has = secrets
                .iter()
                .any(|s| str_at(Some(s), &["name"]) == Some(secret));
            if !has {
                plan.merge_changes
                    .push(format!("imagePullSecrets lacks {secret:?}"));
                added.push(Val::map([("name", Val::str(secret))]));
            }
            if !has || recorded(secret) {
                record.pull_secrets.push(Cow::Borrowed(secret));
            }
        }
        remove_items(
            &mut plan.intents,
            spec_path,
            "imagePullSecrets",
            existing,
            &stale,
            stale.len() == secrets.len() && added.is_empty(),
        );
        add_items(
            &mut plan.intents,
            spec_path,
            false,
            "imagePullSecrets",
            existing,
            added.into_iter(),
            None,
        );
    }
}
