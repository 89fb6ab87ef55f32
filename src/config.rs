//! The options: one table ([`FIELDS`]) names every option once — its flag, its field in the
//! `TrustInjection` document, its environment variable, its default and its help — and
//! everything else (the CLI, the config file, the KRM functionConfig, the docs) is derived
//! from it.
//!
//! Options are read in layers, each over the one before: defaults, the config document,
//! the environment, the command line. [`Settings`] holds what one layer set;
//! [`Options::from_settings`] resolves and validates, reporting every problem at once.

use std::collections::BTreeMap;

use crate::well_known as wk;
use crate::workload::{ExtraKind, Rules};
use crate::yaml::{Limits, Node, Value, parse_chunk};

/// The type of an option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// A string.
    Str,
    /// `true` or `false`.
    Bool,
    /// A list of strings (repeat the flag, or separate with commas).
    List,
    /// A non-negative integer.
    Int,
}

/// One option.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Long flag, without dashes; also the key in a ConfigMap functionConfig.
    pub flag: &'static str,
    /// Dotted path in the `TrustInjection` document.
    pub path: &'static str,
    /// Value type.
    pub kind: FieldKind,
    /// Default, as text (empty: none).
    pub default: &'static str,
    /// Placeholder shown in help.
    pub value_name: &'static str,
    /// One-line help.
    pub help: &'static str,
}

impl Field {
    /// The environment variable that sets this option.
    #[must_use]
    pub fn env(&self) -> String {
        format!(
            "TRUST_INJECT_{}",
            self.flag.to_ascii_uppercase().replace('-', "_")
        )
    }
}

macro_rules! field {
    ($flag:literal, $path:literal, $kind:ident, $default:expr, $vn:literal, $help:literal) => {
        Field {
            flag: $flag,
            path: $path,
            kind: FieldKind::$kind,
            default: $default,
            value_name: $vn,
            help: $help,
        }
    };
}

/// Every option, in the order the docs list them.
pub const FIELDS: &[Field] = &[
    field!(
        "configmap",
        "spec.source.configMap.name",
        Str,
        "",
        "NAME",
        "Use the bundle in this existing ConfigMap (in each workload's namespace)"
    ),
    field!(
        "secret",
        "spec.source.secret.name",
        Str,
        "",
        "NAME",
        "Use the bundle in this existing Secret (in each workload's namespace)"
    ),
    field!(
        "key",
        "spec.source.key",
        Str,
        wk::DEFAULT_KEY,
        "KEY",
        "Key of the bundle inside the ConfigMap or Secret"
    ),
    field!(
        "complete-bundle",
        "spec.source.complete",
        Bool,
        "false",
        "BOOL",
        "The source already holds the public roots: also replace system bundles and set SSL_CERT_FILE and friends"
    ),
    field!(
        "ca-file",
        "spec.source.files",
        List,
        "",
        "PATH",
        "Read the bundle from PEM/DER files or directories of *.pem/*.crt; generates the bundle object unless --configmap/--secret names an existing one"
    ),
    field!(
        "public-roots",
        "spec.source.publicRoots",
        Str,
        "mozilla",
        "none|mozilla|FILE",
        "Public roots added to a generated bundle: none, the built-in Mozilla store, or a PEM file such as a distro's ca-certificates.crt"
    ),
    field!(
        "bundle-name",
        "spec.source.bundleName",
        Str,
        wk::DEFAULT_VOLUME_NAME,
        "NAME",
        "Name of the generated ConfigMap or Secret"
    ),
    field!(
        "generate",
        "spec.source.generate",
        Str,
        "configmap",
        "configmap|secret",
        "Kind of object generated from --ca-file"
    ),
    field!(
        "java-truststore",
        "spec.runtimes.javaTruststore",
        Bool,
        "true",
        "BOOL",
        "With a generated complete bundle, point Java at its PKCS#12 truststore through JAVA_TOOL_OPTIONS"
    ),
    field!(
        "hashed-certs",
        "spec.runtimes.hashedCerts",
        Bool,
        "true",
        "BOOL",
        "With a generated bundle, mount each CA as <subject-hash>.0 into /etc/ssl/certs for OpenSSL directory lookups"
    ),
    // ClusterTrustBundle source (Kubernetes 1.33+, beta: ClusterTrustBundleProjection gate).
    field!(
        "cluster-trust-bundle",
        "spec.source.clusterTrustBundle.name",
        Str,
        "",
        "NAME",
        "Use this ClusterTrustBundle (a projected volume; Kubernetes 1.33+ with the ClusterTrustBundleProjection feature gate)"
    ),
    field!(
        "signer-name",
        "spec.source.clusterTrustBundle.signerName",
        Str,
        "",
        "SIGNER",
        "Use the ClusterTrustBundles of this signer (with --cluster-trust-bundle-selector; default: all of them)"
    ),
    field!(
        "cluster-trust-bundle-selector",
        "spec.source.clusterTrustBundle.labelSelector",
        Str,
        "",
        "k=v,...",
        "Labels the signer's ClusterTrustBundles must have"
    ),
    // Start-up merge: an init container merges the source with the public roots.
    field!(
        "merge-at-start",
        "spec.mergeAtStart.enabled",
        Bool,
        "false",
        "BOOL",
        "Add an init container that merges the ConfigMap or Secret with the public roots at pod start into an emptyDir, so every runtime trusts a bundle of private CAs alone"
    ),
    field!(
        "merge-image",
        "spec.mergeAtStart.image",
        Str,
        wk::DEFAULT_MERGE_IMAGE,
        "IMAGE",
        "Image of the merge init container (runs `trust-inject merge`)"
    ),
    field!(
        "merge-image-pull-secret",
        "spec.mergeAtStart.imagePullSecret",
        Str,
        "",
        "NAME",
        "Add this Secret to the pod's imagePullSecrets for the merge image"
    ),
    field!(
        "merge-cpu",
        "spec.mergeAtStart.cpu",
        Str,
        "50m",
        "QUANTITY",
        "CPU request and limit of the merge init container"
    ),
    field!(
        "merge-memory",
        "spec.mergeAtStart.memory",
        Str,
        "64Mi",
        "QUANTITY",
        "Memory request and limit of the merge init container"
    ),
    field!(
        "volume-name",
        "spec.volumeName",
        Str,
        wk::DEFAULT_VOLUME_NAME,
        "NAME",
        "Name of the volume added to each pod"
    ),
    field!(
        "mount-path",
        "spec.mountPath",
        Str,
        wk::DEFAULT_MOUNT_PATH,
        "DIR",
        "Directory where the whole bundle volume is mounted"
    ),
    field!(
        "additive-file",
        "spec.paths.additiveFile",
        Str,
        wk::DEFAULT_ADDITIVE_FILE,
        "PATH",
        "Extra file mounted into the system certificate directory (empty: none)"
    ),
    field!(
        "system-bundle-path",
        "spec.paths.systemBundles",
        List,
        "",
        "PATH",
        "System bundle paths a complete bundle is mounted over (default: every distribution's)"
    ),
    field!(
        "additive-env",
        "spec.env.additive",
        List,
        "",
        "VAR",
        "Variables that add the bundle to a runtime's roots (default: NODE_EXTRA_CA_CERTS)"
    ),
    field!(
        "replacing-env",
        "spec.env.replacing",
        List,
        "",
        "VAR",
        "Variables that replace a runtime's roots, set only for complete bundles (default: SSL_CERT_FILE, REQUESTS_CA_BUNDLE, ...)"
    ),
    field!(
        "override-env",
        "spec.env.override",
        Bool,
        "false",
        "BOOL",
        "Overwrite variables the container already sets (default: keep them and warn)"
    ),
    field!(
        "exclude-container",
        "spec.containers.exclude",
        List,
        "",
        "GLOB",
        "Leave containers whose name matches (`*` and `?` wildcards)"
    ),
    field!(
        "skip-init-containers",
        "spec.containers.skipInit",
        Bool,
        "false",
        "BOOL",
        "Leave initContainers alone"
    ),
    field!(
        "exclude-kind",
        "spec.exclude.kinds",
        List,
        "",
        "GLOB",
        "Leave workloads of these kinds"
    ),
    field!(
        "exclude-namespace",
        "spec.exclude.namespaces",
        List,
        "",
        "GLOB",
        "Leave workloads in these namespaces"
    ),
    field!(
        "exclude-name",
        "spec.exclude.names",
        List,
        "",
        "GLOB",
        "Leave workloads with these names"
    ),
    field!(
        "exclude-selector",
        "spec.exclude.labelSelector",
        Str,
        "",
        "SELECTOR",
        "Leave workloads whose labels match (`a=b,c!=d,e,!f`)"
    ),
    field!(
        "generic-workloads",
        "spec.workloads.generic",
        Bool,
        "true",
        "BOOL",
        "Treat any other object with spec.template.spec.containers as a workload"
    ),
    field!(
        "workload-kind",
        "spec.workloads.extra",
        List,
        "",
        "GROUP/KIND=PATH",
        "Another workload kind and the dotted path to its PodSpec"
    ),
    field!(
        "strict",
        "spec.strict",
        Bool,
        "false",
        "BOOL",
        "Print every warning, then fail (exit 1) if there was any, including an input with no workload"
    ),
    field!(
        "max-depth",
        "spec.limits.maxDepth",
        Int,
        "1000",
        "N",
        "Deepest nesting accepted in a document"
    ),
    field!(
        "max-alias-nodes",
        "spec.limits.maxAliasNodes",
        Int,
        "100000",
        "N",
        "Nodes alias expansion may create in one document"
    ),
    field!(
        "fail-on-empty",
        "spec.failOnEmpty",
        Bool,
        "false",
        "BOOL",
        "Fail (exit 3) when the input holds no object, instead of a warning (on by default under Argo CD, where an empty render would prune the application)"
    ),
    field!(
        "error-log",
        "spec.errorLog",
        Str,
        "",
        "FILE",
        "Also append errors to FILE (default under Helm, which hides a post-renderer's stderr: ~/.cache/trust-inject/helm-post-renderer.log)"
    ),
    field!(
        "max-workload-bytes",
        "spec.limits.maxWorkloadBytes",
        Int,
        "2097152",
        "N",
        "Largest document that may hold a workload (Kubernetes stores no object over 1.5 MiB; editing one costs memory many times its size)"
    ),
    field!(
        "max-input-bytes",
        "spec.limits.maxInputBytes",
        Int,
        "268435456",
        "N",
        "Largest input accepted"
    ),
];

/// One layer's value for an option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    /// A string or number, as text.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// A list.
    List(Vec<String>),
}

/// What one layer set, by flag name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings(pub BTreeMap<&'static str, Setting>);

/// The options that name the bundle source. They count as one: a layer that names a source
/// replaces the source of the layers below, whatever its type (`--secret` on the command line
/// replaces a ConfigMap from the environment or the config file). Within one layer they
/// combine as documented (`--configmap` with `--ca-file`).
pub const SOURCE_FLAGS: &[&str] = &[
    "configmap",
    "secret",
    "ca-file",
    "cluster-trust-bundle",
    "signer-name",
];

impl Settings {
    /// Lays `over` on top of `self`: each option `over` sets wins, and the bundle source
    /// ([`SOURCE_FLAGS`]) is replaced as a whole when `over` names one. An empty source
    /// value (`TRUST_INJECT_SECRET=`, an Argo CD parameter declared without a value) names
    /// nothing and is left out.
    #[must_use]
    pub fn overlay(mut self, mut over: Settings) -> Settings {
        over.0.retain(|k, v| {
            !SOURCE_FLAGS.contains(k)
                || match v {
                    Setting::Str(s) => !s.is_empty(),
                    Setting::List(l) => l.iter().any(|s| !s.is_empty()),
                    Setting::Bool(_) => true,
                }
        });
        if SOURCE_FLAGS.iter().any(|f| over.0.contains_key(f)) {
            self.0.retain(|k, _| !SOURCE_FLAGS.contains(k));
        }
        self.0.extend(over.0);
        self
    }

    /// Reads flat `key: value` strings (a ConfigMap's `data`, environment variables): booleans
    /// as `true`/`false`, lists separated by commas.
    ///
    /// # Errors
    /// Every unknown key or bad value, with its name.
    pub fn from_flat<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        origin: &str,
    ) -> Result<Settings, ConfigErrors> {
        let mut s = Settings::default();
        let mut errs = ConfigErrors::default();
        for (k, v) in pairs {
            let Some(f) = FIELDS.iter().find(|f| f.flag == k) else {
                errs.push(
                    format!("{origin}.{k}"),
                    format!("unknown option; known: {}", known_flags()),
                );
                continue;
            };
            match parse_flat(f, v) {
                Ok(val) => {
                    s.0.insert(f.flag, val);
                }
                Err(e) => errs.push(format!("{origin}.{k}"), e),
            }
        }
        errs.into_result().map(|()| s)
    }
}

fn known_flags() -> String {
    FIELDS.iter().map(|f| f.flag).collect::<Vec<_>>().join(", ")
}

/// Parses one flat string value for field `f`.
///
/// # Errors
/// A message when the value does not fit the field's type.
pub fn parse_flat(f: &Field, v: &str) -> Result<Setting, String> {
    Ok(match f.kind {
        FieldKind::Str => Setting::Str(v.to_owned()),
        FieldKind::Int => {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("expected a whole number, found {v:?}"))?;
            Setting::Str(v.trim().to_owned())
        }
        FieldKind::Bool => Setting::Bool(
            parse_bool(v).ok_or_else(|| format!("expected true or false, found {v:?}"))?,
        ),
        FieldKind::List => Setting::List(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    })
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim() {
        "true" | "True" | "TRUE" | "yes" | "1" | "on" => Some(true),
        "false" | "False" | "FALSE" | "no" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// Problems in the configuration, each with its field path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<(String, String)>);

impl ConfigErrors {
    /// Records a problem.
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push((path.into(), message.into()));
    }

    /// `Ok` when nothing was recorded.
    ///
    /// # Errors
    /// `self` when something was.
    pub fn into_result(self) -> Result<(), ConfigErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (path, msg)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{path}: {msg}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Reads the options a `TrustInjection` document sets.
///
/// # Errors
/// Every problem at once: wrong apiVersion or kind, unknown fields, values of the wrong type.
pub fn settings_from_document(root: &Node) -> Result<Settings, ConfigErrors> {
    let mut errs = ConfigErrors::default();
    let api = root.get("apiVersion").and_then(Node::as_str);
    let kind = root.get("kind").and_then(Node::as_str);
    if kind != Some(wk::CONFIG_KIND) {
        errs.push(
            "kind",
            format!(
                "expected {}, found {}",
                wk::CONFIG_KIND,
                kind.unwrap_or("nothing")
            ),
        );
    }
    if api != Some(wk::CONFIG_API_VERSION) {
        errs.push(
            "apiVersion",
            format!(
                "expected {}, found {}",
                wk::CONFIG_API_VERSION,
                api.unwrap_or("nothing")
            ),
        );
    }
    let mut s = Settings::default();
    if let Some(spec) = root.get("spec") {
        check_unknown(spec, "spec", &mut errs);
    }
    for f in FIELDS {
        let mut node = Some(root);
        for seg in f.path.split('.') {
            node = node.and_then(|n| n.get(seg));
        }
        let Some(node) = node else { continue };
        if node.is_null() {
            continue;
        }
        let val = match (f.kind, &node.value) {
            (FieldKind::Bool, Value::Scalar { .. }) => match node.as_str().and_then(parse_bool) {
                Some(b) => Setting::Bool(b),
                None => {
                    errs.push(f.path, "expected true or false");
                    continue;
                }
            },
            (FieldKind::Int, Value::Scalar { .. }) => match node.as_str().map(|t| t.parse::<u64>())
            {
                Some(Ok(_)) => Setting::Str(node.as_str().unwrap_or_default().to_owned()),
                _ => {
                    errs.push(f.path, "expected a whole number");
                    continue;
                }
            },
            (FieldKind::Str, Value::Scalar { .. }) => {
                Setting::Str(node.as_str().unwrap_or_default().to_owned())
            }
            (FieldKind::List, Value::Seq(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(t) => out.push(t.to_owned()),
                        None => errs.push(format!("{}[{i}]", f.path), "expected a string"),
                    }
                }
                Setting::List(out)
            }
            (FieldKind::List, _) => {
                errs.push(
                    f.path,
                    format!("expected a list, found {}", node.kind_name()),
                );
                continue;
            }
            _ => {
                errs.push(
                    f.path,
                    format!("expected a scalar, found {}", node.kind_name()),
                );
                continue;
            }
        };
        s.0.insert(f.flag, val);
    }
    errs.into_result().map(|()| s)
}

/// Flags unknown keys under `spec` (a typo must not silently do nothing).
fn check_unknown(node: &Node, path: &str, errs: &mut ConfigErrors) {
    let Some(entries) = node.entries() else {
        errs.push(
            path,
            format!("expected a mapping, found {}", node.kind_name()),
        );
        return;
    };
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        let full = format!("{path}.{key}");
        let is_leaf = FIELDS.iter().any(|f| f.path == full);
        let is_prefix = FIELDS
            .iter()
            .any(|f| f.path.starts_with(&format!("{full}.")));
        if is_leaf {
            continue;
        }
        if is_prefix {
            check_unknown(v, &full, errs);
        } else {
            errs.push(full, "unknown field");
        }
    }
}

/// Parses a config file's text.
///
/// # Errors
/// YAML errors and every problem of [`settings_from_document`].
pub fn settings_from_text(text: &str) -> Result<Settings, ConfigErrors> {
    let docs = parse_chunk(text, 0, 1, &Limits::default(), true).map_err(|e| {
        let mut errs = ConfigErrors::default();
        errs.push("(file)", format!("invalid YAML: {e}"));
        errs
    })?;
    let mut roots = docs
        .into_iter()
        .filter_map(|d| d.root)
        .filter(|r| !r.is_null());
    let (Some(root), None) = (roots.next(), roots.next()) else {
        let mut errs = ConfigErrors::default();
        errs.push("(file)", "expected exactly one TrustInjection document");
        return Err(errs);
    };
    settings_from_document(&root)
}

/// Where the bundle comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// An existing ConfigMap.
    ConfigMap,
    /// An existing Secret.
    Secret,
    /// ClusterTrustBundles, through a projected volume: the one named like the source, or,
    /// with `signer`, those of the signer named like the source whose labels match.
    ClusterTrustBundle {
        /// Whether the name is a signer name.
        signer: bool,
        /// The labels to match (signer only; empty: every bundle of the signer).
        labels: Vec<(String, String)>,
    },
}

/// The bundle source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// ConfigMap or Secret.
    pub kind: SourceKind,
    /// Its name.
    pub name: String,
    /// The key that holds the bundle.
    pub key: String,
    /// Whether the bundle already holds the public roots.
    pub complete: bool,
}

/// Workloads to leave alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exclude {
    /// Kind globs.
    pub kinds: Vec<String>,
    /// Namespace globs.
    pub namespaces: Vec<String>,
    /// Name globs.
    pub names: Vec<String>,
    /// Label requirements; a workload matching all of them is left alone.
    pub labels: Vec<LabelReq>,
}

/// One requirement of an equality-based label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelReq {
    /// `key=value` (or `key==value`).
    Eq(String, String),
    /// `key!=value`.
    Ne(String, String),
    /// `key`.
    Exists(String),
    /// `!key`.
    Missing(String),
}

/// Parses `a=b,c!=d,e,!f`.
///
/// # Errors
/// A message naming the bad requirement.
pub fn parse_selector(s: &str) -> Result<Vec<LabelReq>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let req = if let Some((k, v)) = part.split_once("!=") {
            LabelReq::Ne(k.trim().to_owned(), v.trim().to_owned())
        } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            LabelReq::Eq(k.trim().to_owned(), v.trim().to_owned())
        } else if let Some(k) = part.strip_prefix('!') {
            LabelReq::Missing(k.trim().to_owned())
        } else {
            LabelReq::Exists(part.to_owned())
        };
        let key = match &req {
            LabelReq::Eq(k, _)
            | LabelReq::Ne(k, _)
            | LabelReq::Exists(k)
            | LabelReq::Missing(k) => k,
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("bad requirement {part:?}"));
        }
        out.push(req);
    }
    Ok(out)
}

/// Everything the engine needs, resolved and validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The bundle source.
    pub source: Source,
    /// Volume name.
    pub volume_name: String,
    /// Directory mount path.
    pub mount_path: String,
    /// Extra file in the system certificate directory, if any.
    pub additive_file: Option<String>,
    /// System bundle paths for complete bundles.
    pub system_bundle_paths: Vec<String>,
    /// Additive variables.
    pub additive_env: Vec<String>,
    /// Replacing variables (complete bundles only).
    pub replacing_env: Vec<String>,
    /// Overwrite variables the container sets.
    pub override_env: bool,
    /// Container name globs to leave alone.
    pub exclude_containers: Vec<String>,
    /// Leave initContainers alone.
    pub skip_init_containers: bool,
    /// Workloads to leave alone.
    pub exclude: Exclude,
    /// How workloads are recognised.
    pub rules: Rules,
    /// Warnings become errors.
    pub strict: bool,
    /// Parser limits.
    pub limits: Limits,
    /// Largest input accepted, in bytes.
    pub max_input_bytes: u64,
    /// Largest document that may hold a workload, in bytes.
    pub max_workload_bytes: u64,
    /// SHA-256 of the bundle content when known; written as a pod-template annotation.
    pub bundle_hash: Option<String>,
    /// CA files to read (`--ca-file`).
    pub bundle_files: Vec<String>,
    /// Public roots for a generated bundle: `none`, `mozilla` or a file path.
    pub public_roots: String,
    /// Whether the bundle object is generated from `bundle_files` (no existing source named).
    pub generated: bool,
    /// Point Java at the generated truststore.
    pub java_truststore: bool,
    /// Mount `<hash>.0` files for OpenSSL.
    pub hashed_certs: bool,
    /// The bundle read from `bundle_files`, once [`Options::load_bundle`] ran.
    pub loaded: Option<std::sync::Arc<Loaded>>,
    /// Append generated bundle objects to the output stream (off in KRM mode, where they
    /// become items instead).
    pub append_generated: bool,
    /// The start-up merge (`--merge-at-start`), when on.
    pub merge: Option<MergeAtStart>,
}

/// The init container that merges the source with the public roots at pod start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeAtStart {
    /// Its image.
    pub image: String,
    /// A Secret added to the pod's `imagePullSecrets`.
    pub pull_secret: Option<String>,
    /// CPU request and limit.
    pub cpu: String,
    /// Memory request and limit.
    pub memory: String,
}

/// A bundle read from files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// What the generated object holds.
    pub data: crate::bundle::BundleData,
    /// The private certificates read, in order.
    pub certificates: Vec<crate::bundle::Certificate>,
    /// The Mozilla root store version, when its roots were added.
    pub mozilla_version: Option<&'static str>,
}

impl Options {
    /// Options with an existing ConfigMap as the source and every default.
    ///
    /// # Examples
    /// ```
    /// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// assert_eq!(opts.volume_name, "trust-bundle");
    /// ```
    #[must_use]
    pub fn from_configmap(name: &str, key: &str) -> Options {
        let mut s = Settings::default();
        s.0.insert("configmap", Setting::Str(name.to_owned()));
        s.0.insert("key", Setting::Str(key.to_owned()));
        match Options::from_settings(&s) {
            Ok(o) => o,
            // Only reachable with an empty name or key; keep the defaults visible.
            Err(_) => Options::fallback(name, key),
        }
    }

    fn fallback(name: &str, key: &str) -> Options {
        Options {
            source: Source {
                kind: SourceKind::ConfigMap,
                name: name.to_owned(),
                key: key.to_owned(),
                complete: false,
            },
            volume_name: wk::DEFAULT_VOLUME_NAME.to_owned(),
            mount_path: wk::DEFAULT_MOUNT_PATH.to_owned(),
            additive_file: Some(wk::DEFAULT_ADDITIVE_FILE.to_owned()),
            system_bundle_paths: wk::SYSTEM_BUNDLE_PATHS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            additive_env: wk::ADDITIVE_ENV.iter().map(|s| (*s).to_owned()).collect(),
            replacing_env: wk::REPLACING_ENV.iter().map(|s| (*s).to_owned()).collect(),
            override_env: false,
            exclude_containers: Vec::new(),
            skip_init_containers: false,
            exclude: Exclude::default(),
            rules: Rules::default(),
            strict: false,
            limits: Limits::default(),
            max_input_bytes: 1 << 28,
            max_workload_bytes: 2 << 20,
            bundle_hash: None,
            bundle_files: Vec::new(),
            public_roots: "mozilla".to_owned(),
            generated: false,
            java_truststore: true,
            hashed_certs: true,
            loaded: None,
            append_generated: true,
            merge: None,
        }
    }

    /// Resolves settings (already layered) into options, applying defaults.
    ///
    /// # Errors
    /// Every problem at once, each named by its flag.
    pub fn from_settings(s: &Settings) -> Result<Options, ConfigErrors> {
        let mut errs = ConfigErrors::default();
        let str_of = |flag: &str| -> Option<String> {
            match s.0.get(flag) {
                Some(Setting::Str(v)) => Some(v.clone()),
                _ => FIELDS
                    .iter()
                    .find(|f| f.flag == flag)
                    .filter(|f| !f.default.is_empty())
                    .map(|f| f.default.to_owned()),
            }
        };
        let bool_of = |flag: &str| -> bool {
            match s.0.get(flag) {
                Some(Setting::Bool(b)) => *b,
                _ => FIELDS
                    .iter()
                    .find(|f| f.flag == flag)
                    .is_some_and(|f| f.default == "true"),
            }
        };
        let list_of = |flag: &str, default: &[&str]| -> Vec<String> {
            match s.0.get(flag) {
                Some(Setting::List(v)) => v.clone(),
                _ => default.iter().map(|d| (*d).to_owned()).collect(),
            }
        };
        let int_of = |flag: &str, errs: &mut ConfigErrors| -> u64 {
            let v = str_of(flag).unwrap_or_default();
            v.parse::<u64>().unwrap_or_else(|_| {
                errs.push(
                    format!("--{flag}"),
                    format!("expected a whole number, found {v:?}"),
                );
                0
            })
        };
        let configmap = str_of("configmap").filter(|v| !v.is_empty());
        let secret = str_of("secret").filter(|v| !v.is_empty());
        let key = str_of("key").unwrap_or_default();
        let complete = bool_of("complete-bundle");
        let files = list_of("ca-file", &[]);
        let public_roots = str_of("public-roots").unwrap_or_default();
        let generate = match str_of("generate").as_deref() {
            Some("configmap") | None => SourceKind::ConfigMap,
            Some("secret") => SourceKind::Secret,
            Some(other) => {
                errs.push(
                    "--generate",
                    format!("{other:?}: expected configmap or secret"),
                );
                SourceKind::ConfigMap
            }
        };
        let ctb = cluster_trust_bundle_source(&str_of, &key, complete, &mut errs);
        if ctb.is_some() && (configmap.is_some() || secret.is_some()) {
            errs.push(
                "--cluster-trust-bundle/--signer-name",
                "give exactly one bundle source, not a ClusterTrustBundle and a ConfigMap or Secret",
            );
        }
        let generated =
            !files.is_empty() && configmap.is_none() && secret.is_none() && ctb.is_none();
        let source = match (configmap, secret) {
            _ if ctb.is_some() => ctb,
            (Some(name), None) => Some(Source {
                kind: SourceKind::ConfigMap,
                name,
                key: key.clone(),
                complete,
            }),
            (None, Some(name)) => Some(Source {
                kind: SourceKind::Secret,
                name,
                key: key.clone(),
                complete,
            }),
            (Some(_), Some(_)) => {
                errs.push(
                    "--configmap/--secret",
                    "give exactly one bundle source, not both",
                );
                None
            }
            (None, None) if generated => Some(Source {
                kind: generate.clone(),
                name: str_of("bundle-name").unwrap_or_default(),
                key: wk::GENERATED_PRIVATE_KEY.to_owned(),
                complete: public_roots != "none",
            }),
            (None, None) => {
                errs.push("source", "no bundle source: give --configmap NAME, --secret NAME, --ca-file PATH, or a --config file with spec.source");
                None
            }
        };
        for flag in ["configmap", "secret"] {
            if let Some(name) = str_of(flag).filter(|v| !v.is_empty())
                && !is_dns_subdomain(&name)
            {
                errs.push(
                    format!("--{flag}"),
                    format!("{name:?} {NOT_AN_OBJECT_NAME}"),
                );
            }
        }
        if generated {
            let name = str_of("bundle-name").unwrap_or_default();
            if !is_dns_subdomain(&name) {
                errs.push("--bundle-name", format!("{name:?} {NOT_AN_OBJECT_NAME}"));
            }
        }
        if let Some(why) = configmap_key_problem(&key) {
            errs.push(
                "--key",
                format!("{key:?} is not a valid ConfigMap key: {why}"),
            );
        }
        let volume_name = str_of("volume-name").unwrap_or_default();
        if !is_dns_label(&volume_name) {
            errs.push("--volume-name", format!("{volume_name:?} is not a valid volume name (lowercase letters, digits and '-', at most 63)"));
        }
        let mount_path = str_of("mount-path").unwrap_or_default();
        if let Some(why) = mount_path_problem(&mount_path, false) {
            errs.push("--mount-path", format!("{mount_path:?} {why}"));
        }
        let additive_file = str_of("additive-file").filter(|v| !v.is_empty());
        if let Some(f) = &additive_file
            && let Some(why) = mount_path_problem(f, true)
        {
            errs.push("--additive-file", format!("{f:?} {why}"));
        }
        let system_bundle_paths = list_of("system-bundle-path", wk::SYSTEM_BUNDLE_PATHS);
        for p in &system_bundle_paths {
            if let Some(why) = mount_path_problem(p, true) {
                errs.push("--system-bundle-path", format!("{p:?} {why}"));
            }
        }
        let complete_source = source.as_ref().is_some_and(|s| s.complete);
        {
            let mut mounts: Vec<(&str, &str)> = vec![("--mount-path", mount_path.as_str())];
            if let Some(f) = &additive_file {
                mounts.push(("--additive-file", f));
            }
            if complete_source {
                mounts.extend(
                    system_bundle_paths
                        .iter()
                        .map(|p| ("--system-bundle-path", p.as_str())),
                );
            }
            let hashed = generated && bool_of("hashed-certs");
            check_mount_collisions(&mounts, hashed, &mut errs);
        }
        let additive_env = list_of("additive-env", wk::ADDITIVE_ENV);
        let replacing_env = list_of("replacing-env", wk::REPLACING_ENV);
        check_env_names(&additive_env, &replacing_env, &mut errs);
        let mut rules = Rules {
            generic: bool_of("generic-workloads"),
            extra: Vec::new(),
        };
        for spec in list_of("workload-kind", &[]) {
            match parse_extra_kind(&spec) {
                Ok(e) => {
                    if let Some(why) = extra_kind_problem(&e, &rules.extra) {
                        errs.push("--workload-kind", format!("{spec:?}: {why}"));
                    } else {
                        rules.extra.push(e);
                    }
                }
                Err(m) => errs.push("--workload-kind", m),
            }
        }
        let labels = match parse_selector(&str_of("exclude-selector").unwrap_or_default()) {
            Ok(l) => l,
            Err(m) => {
                errs.push("--exclude-selector", m);
                Vec::new()
            }
        };
        let limits = Limits {
            max_depth: usize::try_from(int_of("max-depth", &mut errs)).unwrap_or(usize::MAX),
            max_alias_nodes: usize::try_from(int_of("max-alias-nodes", &mut errs))
                .unwrap_or(usize::MAX),
        };
        let max_input_bytes = int_of("max-input-bytes", &mut errs);
        let max_workload_bytes = int_of("max-workload-bytes", &mut errs);
        let merge = merge_options(
            &str_of,
            bool_of("merge-at-start"),
            generated,
            &public_roots,
            &volume_name,
            &mut errs,
        );
        errs.into_result()?;
        let Some(source) = source else {
            return Err(ConfigErrors(vec![("source".into(), "missing".into())]));
        };
        Ok(Options {
            source,
            volume_name,
            mount_path: mount_path.trim_end_matches('/').to_owned(),
            additive_file,
            system_bundle_paths,
            additive_env,
            replacing_env,
            override_env: bool_of("override-env"),
            exclude_containers: list_of("exclude-container", &[]),
            skip_init_containers: bool_of("skip-init-containers"),
            exclude: Exclude {
                kinds: list_of("exclude-kind", &[]),
                namespaces: list_of("exclude-namespace", &[]),
                names: list_of("exclude-name", &[]),
                labels,
            },
            rules,
            strict: bool_of("strict"),
            limits,
            max_input_bytes,
            max_workload_bytes,
            bundle_hash: None,
            bundle_files: files,
            public_roots,
            generated,
            java_truststore: bool_of("java-truststore"),
            hashed_certs: bool_of("hashed-certs"),
            loaded: None,
            append_generated: true,
            merge,
        })
    }

    /// Reads and checks the CA files, builds the bundle data, and records its hash for the
    /// pod-template annotation. Does nothing without `--ca-file`.
    ///
    /// # Errors
    /// [`crate::bundle::BundleError`] for unreadable files, private keys, blocks that are
    /// not certificates, or a bundle over Kubernetes' 1 MiB object limit.
    pub fn load_bundle(&mut self) -> Result<crate::bundle::ReadBundle, crate::bundle::BundleError> {
        use crate::bundle::{PublicRoots, build_bundle_data, public_roots, read_ca_files};
        if self.bundle_files.is_empty() {
            return Ok(crate::bundle::ReadBundle::default());
        }
        let paths: Vec<std::path::PathBuf> = self
            .bundle_files
            .iter()
            .map(std::path::PathBuf::from)
            .collect();
        let read = read_ca_files(&paths)?;
        let roots = match self.public_roots.as_str() {
            "none" => PublicRoots::None,
            "mozilla" => PublicRoots::Mozilla,
            file => PublicRoots::File(file.into()),
        };
        let mozilla_version =
            matches!(roots, PublicRoots::Mozilla).then_some(crate::bundle::MOZILLA_ROOTS_VERSION);
        let public = public_roots(&roots)?;
        let data = build_bundle_data(&read.certificates, &public)?;
        if self.generated && data.total_size() > crate::bundle::CONFIGMAP_MAX_BYTES {
            return Err(crate::bundle::BundleError::TooLarge {
                size: data.total_size(),
                limit: crate::bundle::CONFIGMAP_MAX_BYTES,
            });
        }
        self.bundle_hash = Some(data.sha256.clone());
        self.loaded = Some(std::sync::Arc::new(Loaded {
            data,
            certificates: read.certificates.clone(),
            mozilla_version,
        }));
        Ok(read)
    }

    /// The file inside the mount directory that holds the bundle.
    #[must_use]
    pub fn bundle_file(&self) -> String {
        format!("{}/{}", self.mount_path, self.source.key)
    }
}

/// The ClusterTrustBundle source, when one is named.
fn cluster_trust_bundle_source(
    str_of: &dyn Fn(&str) -> Option<String>,
    key: &str,
    complete: bool,
    errs: &mut ConfigErrors,
) -> Option<Source> {
    let name = str_of("cluster-trust-bundle").filter(|v| !v.is_empty());
    let signer = str_of("signer-name").filter(|v| !v.is_empty());
    let selector = str_of("cluster-trust-bundle-selector").unwrap_or_default();
    let mut labels = Vec::new();
    for req in parse_selector(&selector).unwrap_or_else(|m| {
        errs.push("--cluster-trust-bundle-selector", m);
        Vec::new()
    }) {
        match req {
            LabelReq::Eq(k, v) => labels.push((k, v)),
            _ => errs.push(
                "--cluster-trust-bundle-selector",
                "only key=value labels are supported (a projected volume's matchLabels)",
            ),
        }
    }
    if !selector.is_empty() && signer.is_none() {
        errs.push(
            "--cluster-trust-bundle-selector",
            "selects among a signer's bundles: give --signer-name too",
        );
    }
    let bad = |v: &str| v.is_empty() || v.len() > 253 || v.contains(char::is_whitespace);
    let (name, is_signer) = match (name, signer) {
        (Some(_), Some(_)) => {
            errs.push(
                "--cluster-trust-bundle/--signer-name",
                "give a ClusterTrustBundle name or a signer name, not both",
            );
            return None;
        }
        (Some(n), None) => (n, false),
        (None, Some(s)) => {
            if !s.contains('/') {
                errs.push(
                    "--signer-name",
                    format!("{s:?} is not a signer name (DOMAIN/PATH, e.g. example.com/corp-ca)"),
                );
            }
            (s, true)
        }
        (None, None) => return None,
    };
    if bad(&name) || name.contains('/') && !is_signer {
        errs.push(
            if is_signer {
                "--signer-name"
            } else {
                "--cluster-trust-bundle"
            },
            format!("{name:?} is not a valid name"),
        );
    }
    Some(Source {
        kind: SourceKind::ClusterTrustBundle {
            signer: is_signer,
            labels,
        },
        name,
        key: key.to_owned(),
        complete,
    })
}

/// The start-up merge options, checked.
fn merge_options(
    str_of: &dyn Fn(&str) -> Option<String>,
    on: bool,
    generated: bool,
    public_roots: &str,
    volume_name: &str,
    errs: &mut ConfigErrors,
) -> Option<MergeAtStart> {
    if !on {
        return None;
    }
    if generated {
        errs.push("--merge-at-start", "a bundle generated from --ca-file is already complete; the start-up merge reads an existing --configmap or --secret: drop one of them");
    }
    if !matches!(public_roots, "mozilla" | "none") {
        errs.push("--public-roots", format!("{public_roots:?}: with --merge-at-start the roots are merged in the pod, from the binary: give mozilla or none"));
    }
    if volume_name.len() + "-source".len() > 63 {
        errs.push("--volume-name", format!("{volume_name:?} is too long for --merge-at-start, which also adds a volume named {volume_name}-source (at most 63 characters): give a shorter name"));
    }
    let image = str_of("merge-image").unwrap_or_default();
    if image.is_empty() || image.contains(char::is_whitespace) {
        errs.push(
            "--merge-image",
            format!("{image:?} is not an image reference"),
        );
    }
    let pull_secret = str_of("merge-image-pull-secret").filter(|v| !v.is_empty());
    if let Some(n) = &pull_secret
        && !is_dns_subdomain(n)
    {
        errs.push(
            "--merge-image-pull-secret",
            format!("{n:?} {NOT_AN_OBJECT_NAME}"),
        );
    }
    let quantity = |flag: &str, errs: &mut ConfigErrors| {
        let v = str_of(flag).unwrap_or_default();
        let digits = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &v[digits.len()..];
        let ok = !digits.is_empty()
            && digits.parse::<f64>().is_ok_and(|n| n > 0.0)
            && ["", "m", "k", "M", "G", "Ki", "Mi", "Gi"].contains(&unit);
        if !ok {
            errs.push(
                format!("--{flag}"),
                format!("{v:?} is not a Kubernetes quantity such as 50m or 64Mi"),
            );
        }
        v
    };
    let cpu = quantity("merge-cpu", errs);
    let memory = quantity("merge-memory", errs);
    Some(MergeAtStart {
        image,
        pull_secret,
        cpu,
        memory,
    })
}

fn parse_extra_kind(spec: &str) -> Result<ExtraKind, String> {
    let (gk, path) = spec.split_once('=').ok_or_else(|| {
        format!("{spec:?}: expected GROUP/KIND=PATH, e.g. example.com/Widget=spec.template.spec")
    })?;
    let (group, kind) = gk.rsplit_once('/').unwrap_or(("", gk));
    if kind.is_empty() || path.is_empty() {
        return Err(format!("{spec:?}: expected GROUP/KIND=PATH"));
    }
    if spec.contains(char::is_whitespace) {
        return Err(format!(
            "{spec:?}: has a blank; write GROUP/KIND=PATH without spaces"
        ));
    }
    if path.split('.').any(str::is_empty) {
        return Err(format!(
            "{spec:?}: the path {path:?} has an empty segment; write it as dotted field names, e.g. spec.template.spec"
        ));
    }
    Ok(ExtraKind {
        group: group.to_owned(),
        kind: kind.to_owned(),
        path: path.to_owned(),
    })
}

/// Why `extra` cannot be added to the built-in kinds and the `earlier` extra ones: a kind
/// found twice would get the volume, mounts and variables written twice in one mapping.
fn extra_kind_problem(extra: &ExtraKind, earlier: &[ExtraKind]) -> Option<String> {
    let builtin: Vec<&str> = crate::workload::BUILTIN_KINDS
        .iter()
        .filter(|(g, k, _)| *g == extra.group && *k == extra.kind)
        .map(|(_, _, p)| *p)
        .collect();
    if !builtin.is_empty() {
        return Some(format!(
            "{} is a built-in kind (its PodSpec is found at {}); remove this entry",
            show_kind(extra),
            builtin.join(" and ")
        ));
    }
    earlier.iter().any(|e| e == extra).then(|| {
        format!(
            "{} at {} is given twice; give it once",
            show_kind(extra),
            extra.path
        )
    })
}

fn show_kind(e: &ExtraKind) -> String {
    if e.group.is_empty() {
        e.kind.clone()
    } else {
        format!("{}/{}", e.group, e.kind)
    }
}

const NOT_AN_OBJECT_NAME: &str = "is not a valid object name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)";

/// Kubernetes' rule for ConfigMap and Secret keys (`IsConfigMapKey`); the key is also the
/// subPath of the tool's file mounts.
fn configmap_key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        Some("it is empty")
    } else if key.len() > 253 {
        Some("it is longer than 253 characters")
    } else if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Some("use only letters, digits, '-', '_' and '.'")
    } else if key == "." || key == ".." {
        Some("it may not be '.' or '..'")
    } else if key.starts_with("..") {
        Some("it may not start with '..' (kubelet keeps its own files there)")
    } else {
        None
    }
}

/// What is wrong with a mount path the tool writes (`file`: a file mounted through subPath).
fn mount_path_problem(path: &str, file: bool) -> Option<&'static str> {
    if !path.starts_with('/') {
        Some("must be an absolute path")
    } else if path.split('/').all(|s| s.is_empty() || s == ".") {
        Some("must be a path below /")
    } else if path.contains(':') {
        Some("must not contain ':' (Kubernetes refuses it in a mountPath)")
    } else if path.split('/').any(|s| s == "..") {
        Some("must not contain '..'")
    } else if path.contains(['\0', '\n', '\r']) {
        Some("must not contain control characters")
    } else if file && path.ends_with('/') {
        Some("must name a file, not a directory (no trailing '/')")
    } else {
        None
    }
}

/// `path` with empty and `.` segments and trailing slashes removed, as the container sees it.
fn normal_path(path: &str) -> String {
    let segs: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    format!("/{}", segs.join("/"))
}

/// Refuses two of the tool's own mounts at one path (Kubernetes refuses a container whose
/// mountPaths repeat) and a mount inside the read-only bundle directory (the runtime cannot
/// create its mount point there, and the container does not start). `hashed`: the
/// generated bundle also mounts `<subject-hash>.<n>` files into the OpenSSL directory.
fn check_mount_collisions(mounts: &[(&str, &str)], hashed: bool, errs: &mut ConfigErrors) {
    let normal: Vec<String> = mounts.iter().map(|(_, p)| normal_path(p)).collect();
    for (i, (flag_a, a)) in mounts.iter().enumerate() {
        for (j, (flag_b, b)) in mounts.iter().enumerate().skip(i + 1) {
            let (na, nb) = (&normal[i], &normal[j]);
            if na == nb {
                let flags = if flag_a == flag_b {
                    format!("{flag_a} (given twice)")
                } else {
                    format!("{flag_a}/{flag_b}")
                };
                errs.push(
                    flags,
                    format!("{a:?} and {b:?} are one mount path; Kubernetes refuses a container that mounts two volumes at one path: give each its own path"),
                );
            }
        }
    }
    // A mount below another of the tool's mounts: below the read-only bundle directory
    // (--mount-path, the first entry) the runtime cannot create the mount point; below a
    // file there is nothing to mount on.
    for (i, ((outer_flag, outer), outer_n)) in mounts.iter().zip(&normal).enumerate() {
        for (j, ((flag, p), n)) in mounts.iter().zip(&normal).enumerate() {
            if i == j || n.len() <= outer_n.len() || !is_below(n, outer_n) {
                continue;
            }
            let why = if i == 0 {
                "where the bundle directory is mounted read-only"
            } else {
                "which is mounted as a file"
            };
            errs.push(
                format!("{outer_flag}/{flag}"),
                format!("{p:?} lies inside {outer:?}, {why}; the container could not start: choose a path outside it"),
            );
        }
    }
    let Some(((dir_flag, dir), dir_normal)) = mounts.first().zip(normal.first()) else {
        return;
    };
    let inside = |p: &str| p.len() > dir_normal.len() && is_below(p, dir_normal);
    if hashed {
        let probe = format!("{}/00000000.0", wk::OPENSSL_CERT_DIR);
        if inside(&probe) {
            errs.push(
                format!("{dir_flag}/--hashed-certs"),
                format!("{dir:?} holds {}, where the generated bundle mounts one <subject-hash>.0 file per CA; choose another --mount-path or pass --hashed-certs=false", wk::OPENSSL_CERT_DIR),
            );
        }
        for ((flag, p), n) in mounts.iter().zip(&normal) {
            let hash_like = n
                .strip_prefix(wk::OPENSSL_CERT_DIR)
                .and_then(|r| r.strip_prefix('/'))
                .and_then(|name| name.split_once('.'))
                .is_some_and(|(h, d)| {
                    h.len() == 8
                        && h.bytes().all(|b| b.is_ascii_hexdigit())
                        && !d.is_empty()
                        && d.bytes().all(|b| b.is_ascii_digit())
                });
            if hash_like {
                errs.push(
                    format!("{flag}/--hashed-certs"),
                    format!("{p:?} has the form of the <subject-hash>.<n> files the generated bundle mounts into {}; choose another name or pass --hashed-certs=false", wk::OPENSSL_CERT_DIR),
                );
            }
        }
    }
}

/// Whether normalised `path` is `dir` or lies below it.
fn is_below(path: &str, dir: &str) -> bool {
    dir == "/"
        || path == dir
        || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

/// Kubernetes' rule for environment variable names that every API server accepts
/// (`IsEnvVarName`), no variable twice, and not the one the tool appends Java options to.
fn check_env_names(additive: &[String], replacing: &[String], errs: &mut ConfigErrors) {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (flag, names) in [("--additive-env", additive), ("--replacing-env", replacing)] {
        for name in names {
            let valid = name.bytes().next().is_some_and(|b| !b.is_ascii_digit())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid {
                errs.push(
                    flag,
                    format!("{name:?} is not a valid environment variable name (letters, digits, '_', '-' and '.', not starting with a digit)"),
                );
                continue;
            }
            if name == wk::JAVA_TOOL_OPTIONS {
                errs.push(
                    flag,
                    format!("{name} holds Java options, not a file path; the tool sets it itself for generated bundles (--java-truststore)"),
                );
                continue;
            }
            if let Some((first, _)) = seen.iter().find(|(_, n)| *n == name) {
                let flags = if *first == flag {
                    format!("{flag} (given twice)")
                } else {
                    format!("{first}/{flag}")
                };
                errs.push(
                    flags,
                    format!("{name} is listed twice; the container would get two entries for it: list it once"),
                );
                continue;
            }
            seen.push((flag, name));
        }
    }
}

/// Kubernetes' rule for object names (`IsDNS1123Subdomain`).
fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Matches `*` (any run) and `?` (one character) wildcards.
#[must_use]
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The configuration reference as a Markdown table (flag, field, environment variable,
/// default, meaning), generated from [`FIELDS`]; the README embeds it and a test keeps
/// the two equal.
#[must_use]
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "| flag | `TrustInjection` field | environment | default | meaning |\n|---|---|---|---|---|\n",
    );
    for f in FIELDS {
        let default = if f.default.is_empty() {
            "—".to_owned()
        } else {
            format!("`{}`", f.default)
        };
        let kind = match f.kind {
            FieldKind::List => " (repeatable; commas separate)",
            _ => "",
        };
        out.push_str(&format!(
            "| `--{}{}` | `{}` | `{}` | {} | {}{} |\n",
            f.flag,
            if f.kind == FieldKind::Bool {
                "[=BOOL]".to_owned()
            } else {
                format!(" {}", f.value_name)
            },
            f.path,
            f.env(),
            default,
            f.help.replace('|', "\\|"),
            kind
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("istio-*", "istio-proxy"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a*d", "abc"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn document_settings_and_unknown_fields() {
        let s = settings_from_text(
            "apiVersion: trust-inject.dev/v1alpha1\nkind: TrustInjection\nspec:\n  source:\n    configMap:\n      name: corp\n    complete: true\n  containers:\n    exclude: [istio-*]\n",
        )
        .expect("valid");
        assert_eq!(s.0.get("configmap"), Some(&Setting::Str("corp".into())));
        assert_eq!(s.0.get("complete-bundle"), Some(&Setting::Bool(true)));
        let err = settings_from_text("apiVersion: trust-inject.dev/v1alpha1\nkind: TrustInjection\nspec:\n  mountPth: /x\n  strict: maybe\n")
            .expect_err("invalid");
        let text = err.to_string();
        assert!(text.contains("spec.mountPth: unknown field"), "{text}");
        assert!(
            text.contains("spec.strict: expected true or false"),
            "{text}"
        );
    }

    #[test]
    fn every_problem_at_once() {
        let mut s = Settings::default();
        s.0.insert("volume-name", Setting::Str("Bad_Name".into()));
        s.0.insert("mount-path", Setting::Str("rel".into()));
        let err = Options::from_settings(&s).expect_err("invalid");
        assert_eq!(err.0.len(), 3, "{err}");
    }

    #[test]
    fn a_layer_naming_a_source_replaces_the_whole_source_below() {
        let layer = |pairs: &[(&'static str, Setting)]| Settings(pairs.iter().cloned().collect());
        let str_ = |v: &str| Setting::Str(v.to_owned());
        let files = Setting::List(vec!["ca.pem".into()]);
        let below = layer(&[
            ("configmap", str_("a")),
            ("ca-file", files.clone()),
            ("key", str_("k")),
        ]);
        let over = below.clone().overlay(layer(&[("secret", str_("b"))]));
        assert_eq!(over, layer(&[("secret", str_("b")), ("key", str_("k"))]));
        // An empty value names nothing; other options layer one by one.
        let over = below.clone().overlay(layer(&[
            ("secret", str_("")),
            ("ca-file", Setting::List(vec![])),
            ("key", str_("j")),
        ]));
        assert_eq!(
            over,
            layer(&[
                ("configmap", str_("a")),
                ("ca-file", files),
                ("key", str_("j"))
            ])
        );
    }

    #[test]
    fn kubernetes_name_rules() {
        for ok in [
            "ca.crt",
            "a",
            "-",
            "_x",
            ".hidden",
            "a..b",
            &"k".repeat(253),
        ] {
            assert_eq!(configmap_key_problem(ok), None, "{ok:?}");
        }
        for bad in ["", ".", "..", "..data", "a/b", "a b", "é", &"k".repeat(254)] {
            assert!(configmap_key_problem(bad).is_some(), "{bad:?}");
        }
        assert!(is_dns_subdomain("corp-ca.v1"));
        for bad in ["", "Corp", "a..b", ".a", "a.", "-a", "a-", "a_b"] {
            assert!(!is_dns_subdomain(bad), "{bad:?}");
        }
        assert_eq!(normal_path("/etc//ssl/./certs/"), "/etc/ssl/certs");
        assert!(is_below("/etc/ssl/certs/x", "/etc/ssl"));
        assert!(!is_below("/etc/ssl-x", "/etc/ssl"));
    }

    #[test]
    fn selectors() {
        assert_eq!(
            parse_selector("a=b, c!=d,e,!f").expect("valid"),
            vec![
                LabelReq::Eq("a".into(), "b".into()),
                LabelReq::Ne("c".into(), "d".into()),
                LabelReq::Exists("e".into()),
                LabelReq::Missing("f".into())
            ]
        );
    }
}
