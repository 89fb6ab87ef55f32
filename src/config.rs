//! The options: one table ([`FIELDS`]) names every option once — its typed name ([`Opt`]),
//! its flag, its field in the `TrustInjection` document, its environment variable, its
//! default, its help heading and its help — and everything else (the CLI, the config file,
//! the KRM functionConfig, Argo CD parameters, the docs) is derived from it.
//!
//! Options are read in layers, each over the one before: defaults, the config document,
//! the environment, the command line. [`Settings`] holds what one layer set, by [`Opt`];
//! [`Options::from_settings`] resolves and validates into typed fields, reporting every
//! problem at once.
//!
//! # Adding an option
//!
//! 1. Add a variant to [`Opt`] and one `field!` entry to [`FIELDS`] (flag, document path,
//!    type, default, value name, heading, help; `.values(..)`, `.hint(..)` or
//!    `.list_default(..)` where they apply). The flag, the environment variable, the config
//!    field, the functionConfig key, the Argo CD parameter, `--help` and the option table of
//!    docs/usage.md follow from that entry.
//! 2. Add a typed field to [`Options`] and fill it in [`Options::from_settings`] with
//!    `r.str(Opt::X)`, `r.bool(..)`, `r.int(..)` or `r.list(..)` (the default comes from
//!    the table), validating it there.
//! 3. Run `UPDATE_DOCS=1 cargo test --test docs` to rewrite that option table.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::bundle::PublicRoots;
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

/// Every option, by name: [`Settings`] are keyed by it, so a misspelt option does not
/// compile.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Opt {
    ConfigMap,
    Secret,
    Key,
    CompleteBundle,
    CaFile,
    PublicRoots,
    BundleName,
    Generate,
    JavaTruststore,
    HashedCerts,
    ClusterTrustBundle,
    SignerName,
    ClusterTrustBundleSelector,
    MergeAtStart,
    MergeImage,
    MergeImagePullSecret,
    MergeCpu,
    MergeMemory,
    Proxy,
    HttpProxy,
    HttpsProxy,
    NoProxy,
    AppendNoProxy,
    ProxySecret,
    ClusterDomain,
    VolumeName,
    MountPath,
    AdditiveFile,
    SystemBundlePath,
    AdditiveEnv,
    ReplacingEnv,
    OverrideEnv,
    ExcludeContainer,
    SkipInitContainers,
    ExcludeKind,
    ExcludeNamespace,
    ExcludeName,
    ExcludeSelector,
    GenericWorkloads,
    WorkloadKind,
    Strict,
    MaxDepth,
    MaxAliasNodes,
    FailOnEmpty,
    ErrorLog,
    MaxWorkloadBytes,
    MaxInputBytes,
}

impl Opt {
    /// This option's entry in [`FIELDS`].
    #[must_use]
    pub fn field(self) -> &'static Field {
        // Every variant has an entry (a unit test checks it); the first entry only stands
        // in so that this cannot panic.
        FIELDS.iter().find(|f| f.id == self).unwrap_or(&FIELDS[0])
    }

    /// The long flag, without dashes.
    #[must_use]
    pub fn flag(self) -> &'static str {
        self.field().flag
    }

    /// The default of an integer option (0 for the others).
    #[must_use]
    pub fn default_int(self) -> u64 {
        // Every integer default parses (a unit test checks it).
        self.field().default.parse().unwrap_or(0)
    }
}

/// The `--help` section an option is listed under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heading {
    /// Where the bundle comes from.
    Source,
    /// What is added to each workload.
    Injected,
    /// Which workloads are edited.
    Workloads,
    /// Resource limits.
    Limits,
    /// Everything else.
    Behaviour,
}

impl Heading {
    /// The heading's text.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Heading::Source => "Bundle source",
            Heading::Injected => "What is injected",
            Heading::Workloads => "Which workloads",
            Heading::Limits => "Limits",
            Heading::Behaviour => "Behaviour",
        }
    }
}

/// What an option's value names, for shell completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    /// Nothing local (names, paths inside the container): completes nothing.
    Other,
    /// A local file.
    File,
    /// A local file or directory.
    AnyPath,
}

/// One option.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Its typed name.
    pub id: Opt,
    /// Long flag, without dashes; also the key in a ConfigMap functionConfig.
    pub flag: &'static str,
    /// Dotted path in the `TrustInjection` document.
    pub path: &'static str,
    /// Value type.
    pub kind: FieldKind,
    /// Default, as text (empty: none, or the `list_default` field).
    pub default: &'static str,
    /// Default of a list option (shown in its help rather than as `default`).
    pub list_default: &'static [&'static str],
    /// The only values accepted, when the set is fixed.
    pub values: &'static [&'static str],
    /// Placeholder shown in help.
    pub value_name: &'static str,
    /// What the value names, for completion.
    pub hint: Hint,
    /// Section of `--help`.
    pub heading: Heading,
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

    const fn values(mut self, values: &'static [&'static str]) -> Self {
        self.values = values;
        self
    }

    const fn hint(mut self, hint: Hint) -> Self {
        self.hint = hint;
        self
    }

    const fn list_default(mut self, default: &'static [&'static str]) -> Self {
        self.list_default = default;
        self
    }
}

macro_rules! field {
    ($id:ident, $heading:ident, $flag:literal, $path:literal, $kind:ident, $default:expr, $vn:literal, $help:literal) => {
        Field {
            id: Opt::$id,
            flag: $flag,
            path: $path,
            kind: FieldKind::$kind,
            default: $default,
            list_default: &[],
            values: &[],
            value_name: $vn,
            hint: Hint::Other,
            heading: Heading::$heading,
            help: $help,
        }
    };
}

/// Every option, in the order the docs list them.
pub const FIELDS: &[Field] = &[
    field!(
        ConfigMap,
        Source,
        "configmap",
        "spec.source.configMap.name",
        Str,
        "",
        "NAME",
        "Use the bundle in this existing ConfigMap (in each workload's namespace)"
    ),
    field!(
        Secret,
        Source,
        "secret",
        "spec.source.secret.name",
        Str,
        "",
        "NAME",
        "Use the bundle in this existing Secret (in each workload's namespace)"
    ),
    field!(
        Key,
        Source,
        "key",
        "spec.source.key",
        Str,
        wk::DEFAULT_KEY,
        "KEY",
        "Key of the bundle inside the ConfigMap or Secret"
    ),
    field!(
        CompleteBundle,
        Source,
        "complete-bundle",
        "spec.source.complete",
        Bool,
        "false",
        "BOOL",
        "The source already holds the public roots: also replace system bundles and set SSL_CERT_FILE and friends"
    ),
    field!(
        CaFile,
        Source,
        "ca-file",
        "spec.source.files",
        List,
        "",
        "PATH",
        "Read the bundle from PEM/DER files or directories of *.pem/*.crt; generates the bundle object unless --configmap/--secret names an existing one"
    )
    .hint(Hint::AnyPath),
    field!(
        PublicRoots,
        Source,
        "public-roots",
        "spec.source.publicRoots",
        Str,
        "mozilla",
        "none|mozilla|FILE",
        "Public roots added to a generated bundle: none, the built-in Mozilla store, or a PEM file such as a distro's ca-certificates.crt"
    )
    .hint(Hint::File),
    field!(
        BundleName,
        Source,
        "bundle-name",
        "spec.source.bundleName",
        Str,
        wk::DEFAULT_VOLUME_NAME,
        "NAME",
        "Name of the generated ConfigMap or Secret"
    ),
    field!(
        Generate,
        Source,
        "generate",
        "spec.source.generate",
        Str,
        "configmap",
        "configmap|secret",
        "Kind of object generated from --ca-file"
    )
    .values(&["configmap", "secret"]),
    field!(
        JavaTruststore,
        Injected,
        "java-truststore",
        "spec.runtimes.javaTruststore",
        Bool,
        "true",
        "BOOL",
        "With a generated complete bundle, point Java at its PKCS#12 truststore through JAVA_TOOL_OPTIONS"
    ),
    field!(
        HashedCerts,
        Injected,
        "hashed-certs",
        "spec.runtimes.hashedCerts",
        Bool,
        "true",
        "BOOL",
        "With a generated bundle, mount each CA as <subject-hash>.0 into /etc/ssl/certs for OpenSSL directory lookups"
    ),
    // ClusterTrustBundle source (Kubernetes 1.33+, beta: ClusterTrustBundleProjection gate).
    field!(
        ClusterTrustBundle,
        Behaviour,
        "cluster-trust-bundle",
        "spec.source.clusterTrustBundle.name",
        Str,
        "",
        "NAME",
        "Use this ClusterTrustBundle (a projected volume; Kubernetes 1.33+ with the ClusterTrustBundleProjection feature gate)"
    ),
    field!(
        SignerName,
        Behaviour,
        "signer-name",
        "spec.source.clusterTrustBundle.signerName",
        Str,
        "",
        "SIGNER",
        "Use the ClusterTrustBundles of this signer (with --cluster-trust-bundle-selector; default: all of them)"
    ),
    field!(
        ClusterTrustBundleSelector,
        Behaviour,
        "cluster-trust-bundle-selector",
        "spec.source.clusterTrustBundle.labelSelector",
        Str,
        "",
        "k=v,...",
        "Labels the signer's ClusterTrustBundles must have"
    ),
    // Start-up merge: an init container merges the source with the public roots.
    field!(
        MergeAtStart,
        Behaviour,
        "merge-at-start",
        "spec.mergeAtStart.enabled",
        Bool,
        "false",
        "BOOL",
        "Add an init container that merges the ConfigMap or Secret with the public roots at pod start into an emptyDir, so every runtime trusts a bundle of private CAs alone"
    ),
    field!(
        MergeImage,
        Behaviour,
        "merge-image",
        "spec.mergeAtStart.image",
        Str,
        wk::DEFAULT_MERGE_IMAGE,
        "IMAGE",
        "Image of the merge init container (runs `trust-inject merge`)"
    ),
    field!(
        MergeImagePullSecret,
        Behaviour,
        "merge-image-pull-secret",
        "spec.mergeAtStart.imagePullSecret",
        Str,
        "",
        "NAME",
        "Add this Secret to the pod's imagePullSecrets for the merge image"
    ),
    field!(
        MergeCpu,
        Behaviour,
        "merge-cpu",
        "spec.mergeAtStart.cpu",
        Str,
        "50m",
        "QUANTITY",
        "CPU request and limit of the merge init container"
    ),
    field!(
        MergeMemory,
        Behaviour,
        "merge-memory",
        "spec.mergeAtStart.memory",
        Str,
        "64Mi",
        "QUANTITY",
        "Memory request and limit of the merge init container"
    ),
    // Egress proxy: variables beside the CA's (src/proxy.rs).
    field!(
        Proxy,
        Injected,
        "proxy",
        "spec.proxy.url",
        Str,
        "",
        "URL",
        "Egress proxy for HTTP and HTTPS, set in HTTP_PROXY, HTTPS_PROXY (both cases), Java's proxy properties and NODE_USE_ENV_PROXY"
    ),
    field!(
        HttpProxy,
        Injected,
        "http-proxy",
        "spec.proxy.http",
        Str,
        "",
        "URL",
        "Egress proxy for HTTP only (over --proxy)"
    ),
    field!(
        HttpsProxy,
        Injected,
        "https-proxy",
        "spec.proxy.https",
        Str,
        "",
        "URL",
        "Egress proxy for HTTPS only (over --proxy)"
    ),
    field!(
        NoProxy,
        Injected,
        "no-proxy",
        "spec.proxy.noProxy",
        Str,
        "",
        "LIST",
        "Comma-separated hosts, .domains, IPs and CIDRs reached directly, after localhost,127.0.0.1,::1,.svc,.svc.<cluster-domain>"
    ),
    field!(
        AppendNoProxy,
        Injected,
        "append-no-proxy",
        "spec.proxy.appendNoProxy",
        Bool,
        "false",
        "BOOL",
        "Add our exceptions to a NO_PROXY the container sets (default: keep it and warn)"
    ),
    field!(
        ProxySecret,
        Injected,
        "proxy-secret",
        "spec.proxy.secret",
        Str,
        "",
        "NAME",
        "Read the proxy URLs from keys HTTP_PROXY and HTTPS_PROXY of this Secret (for URLs with credentials), Java's from its optional keys HTTP_PROXY_HOST, HTTP_PROXY_PORT, HTTPS_PROXY_HOST and HTTPS_PROXY_PORT"
    ),
    field!(
        ClusterDomain,
        Injected,
        "cluster-domain",
        "spec.clusterDomain",
        Str,
        "cluster.local",
        "DOMAIN",
        "The cluster's DNS domain, for the default NO_PROXY"
    ),
    field!(
        VolumeName,
        Injected,
        "volume-name",
        "spec.volumeName",
        Str,
        wk::DEFAULT_VOLUME_NAME,
        "NAME",
        "Name of the volume added to each pod"
    ),
    field!(
        MountPath,
        Injected,
        "mount-path",
        "spec.mountPath",
        Str,
        wk::DEFAULT_MOUNT_PATH,
        "DIR",
        "Directory where the whole bundle volume is mounted"
    ),
    field!(
        AdditiveFile,
        Injected,
        "additive-file",
        "spec.paths.additiveFile",
        Str,
        wk::DEFAULT_ADDITIVE_FILE,
        "PATH",
        "Extra file mounted into the system certificate directory (empty: none)"
    ),
    field!(
        SystemBundlePath,
        Injected,
        "system-bundle-path",
        "spec.paths.systemBundles",
        List,
        "",
        "PATH",
        "System bundle paths a complete bundle is mounted over (default: every distribution's)"
    )
    .list_default(wk::SYSTEM_BUNDLE_PATHS),
    field!(
        AdditiveEnv,
        Injected,
        "additive-env",
        "spec.env.additive",
        List,
        "",
        "VAR",
        "Variables that add the bundle to a runtime's roots (default: NODE_EXTRA_CA_CERTS)"
    )
    .list_default(wk::ADDITIVE_ENV),
    field!(
        ReplacingEnv,
        Injected,
        "replacing-env",
        "spec.env.replacing",
        List,
        "",
        "VAR",
        "Variables that replace a runtime's roots, set only for complete bundles (default: SSL_CERT_FILE, REQUESTS_CA_BUNDLE, ...)"
    )
    .list_default(wk::REPLACING_ENV),
    field!(
        OverrideEnv,
        Injected,
        "override-env",
        "spec.env.override",
        Bool,
        "false",
        "BOOL",
        "Overwrite variables the container already sets (default: keep them and warn)"
    ),
    field!(
        ExcludeContainer,
        Workloads,
        "exclude-container",
        "spec.containers.exclude",
        List,
        "",
        "GLOB",
        "Leave containers whose name matches (`*` and `?` wildcards)"
    ),
    field!(
        SkipInitContainers,
        Workloads,
        "skip-init-containers",
        "spec.containers.skipInit",
        Bool,
        "false",
        "BOOL",
        "Leave initContainers alone"
    ),
    field!(
        ExcludeKind,
        Workloads,
        "exclude-kind",
        "spec.exclude.kinds",
        List,
        "",
        "GLOB",
        "Leave workloads of these kinds"
    ),
    field!(
        ExcludeNamespace,
        Workloads,
        "exclude-namespace",
        "spec.exclude.namespaces",
        List,
        "",
        "GLOB",
        "Leave workloads in these namespaces"
    ),
    field!(
        ExcludeName,
        Workloads,
        "exclude-name",
        "spec.exclude.names",
        List,
        "",
        "GLOB",
        "Leave workloads with these names"
    ),
    field!(
        ExcludeSelector,
        Workloads,
        "exclude-selector",
        "spec.exclude.labelSelector",
        Str,
        "",
        "SELECTOR",
        "Leave workloads whose labels match (`a=b,c!=d,e,!f`)"
    ),
    field!(
        GenericWorkloads,
        Workloads,
        "generic-workloads",
        "spec.workloads.generic",
        Bool,
        "true",
        "BOOL",
        "Treat any other object with spec.template.spec.containers as a workload"
    ),
    field!(
        WorkloadKind,
        Workloads,
        "workload-kind",
        "spec.workloads.extra",
        List,
        "",
        "GROUP/KIND=PATH",
        "Another workload kind and the dotted path to its PodSpec"
    ),
    field!(
        Strict,
        Behaviour,
        "strict",
        "spec.strict",
        Bool,
        "false",
        "BOOL",
        "Print every warning, then fail (exit 1) if there was any, including an input with no workload"
    ),
    field!(
        MaxDepth,
        Limits,
        "max-depth",
        "spec.limits.maxDepth",
        Int,
        "1000",
        "N",
        "Deepest nesting accepted in a document"
    ),
    field!(
        MaxAliasNodes,
        Limits,
        "max-alias-nodes",
        "spec.limits.maxAliasNodes",
        Int,
        "100000",
        "N",
        "Nodes alias expansion may create in one document"
    ),
    field!(
        FailOnEmpty,
        Behaviour,
        "fail-on-empty",
        "spec.failOnEmpty",
        Bool,
        "false",
        "BOOL",
        "Fail (exit 3) when the input holds no object, instead of a warning (on by default under Argo CD, where an empty render would prune the application)"
    ),
    field!(
        ErrorLog,
        Behaviour,
        "error-log",
        "spec.errorLog",
        Str,
        "",
        "FILE",
        "Also append errors to FILE (default under Helm, which hides a post-renderer's stderr: ~/.cache/trust-inject/helm-post-renderer.log)"
    )
    .hint(Hint::File),
    field!(
        MaxWorkloadBytes,
        Limits,
        "max-workload-bytes",
        "spec.limits.maxWorkloadBytes",
        Int,
        "2097152",
        "N",
        "Largest document that may hold a workload (Kubernetes stores no object over 1.5 MiB; editing one costs memory many times its size)"
    ),
    field!(
        MaxInputBytes,
        Limits,
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
    /// A string.
    Str(String),
    /// A whole number.
    Int(u64),
    /// A boolean.
    Bool(bool),
    /// A list.
    List(Vec<String>),
}

/// What one layer set, by option.
///
/// # Examples
/// ```
/// use trust_inject::{Options, Settings};
/// let file = Settings::from_flat([("configmap", "corp-ca"), ("volume-name", "corp")], "config")?;
/// let flags = Settings::from_flat([("secret", "other-ca")], "flags")?;
/// let opts = Options::from_settings(&file.overlay(flags))?;
/// // The bundle source counts as one option: the Secret replaces the ConfigMap.
/// assert_eq!((opts.source_name(), opts.volume_name.as_str()), ("other-ca", "corp"));
/// # Ok::<(), trust_inject::ConfigErrors>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings(pub(crate) BTreeMap<Opt, Setting>);

/// The options that name the bundle source. They count as one: a layer that names a source
/// replaces the source of the layers below, whatever its type (`--secret` on the command line
/// replaces a ConfigMap from the environment or the config file). Within one layer they
/// combine as documented (`--configmap` with `--ca-file`).
pub const SOURCE_OPTS: &[Opt] = &[
    Opt::ConfigMap,
    Opt::Secret,
    Opt::CaFile,
    Opt::ClusterTrustBundle,
    Opt::SignerName,
];

impl Settings {
    /// Lays `over` on top of `self`: each option `over` sets wins, and the bundle source
    /// (`configmap`, `secret`, `ca-file`, `cluster-trust-bundle`, `signer-name`) is
    /// replaced as a whole when `over` names one. An empty source
    /// value (`TRUST_INJECT_SECRET=`, an Argo CD parameter declared without a value) names
    /// nothing and is left out.
    ///
    /// # Examples
    /// ```
    /// use trust_inject::{Options, Settings};
    /// let file = Settings::from_flat([("secret", "corp-ca"), ("volume-name", "corp")], "file")?;
    /// let env = Settings::from_flat([("secret", ""), ("mount-path", "/certs")], "env")?;
    /// let opts = Options::from_settings(&file.overlay(env))?;
    /// // The empty secret names nothing: the file's source stays.
    /// assert_eq!(opts.source_name(), "corp-ca");
    /// assert_eq!((opts.volume_name.as_str(), opts.mount_path.as_str()), ("corp", "/certs"));
    /// # Ok::<(), trust_inject::ConfigErrors>(())
    /// ```
    #[must_use]
    pub fn overlay(mut self, mut over: Settings) -> Settings {
        over.0.retain(|k, v| {
            !SOURCE_OPTS.contains(k)
                || match v {
                    Setting::Str(s) => !s.is_empty(),
                    Setting::List(l) => l.iter().any(|s| !s.is_empty()),
                    Setting::Bool(_) | Setting::Int(_) => true,
                }
        });
        if SOURCE_OPTS.iter().any(|f| over.0.contains_key(f)) {
            self.0.retain(|k, _| !SOURCE_OPTS.contains(k));
        }
        self.0.extend(over.0);
        self
    }

    /// Reads flat `key: value` strings (a ConfigMap's `data`, environment variables): booleans
    /// as `true`/`false`, lists separated by commas.
    ///
    /// # Errors
    /// Every unknown key or bad value, with its name.
    ///
    /// # Examples
    /// ```
    /// use trust_inject::{Options, Settings};
    /// let pairs = [("configmap", "corp-ca"), ("override-env", "true"), ("exclude-container", "istio-*,linkerd-*")];
    /// let opts = Options::from_settings(&Settings::from_flat(pairs, "functionConfig.data")?)?;
    /// assert!(opts.override_env);
    /// assert_eq!(opts.exclude_containers, ["istio-*", "linkerd-*"]);
    /// # Ok::<(), trust_inject::ConfigErrors>(())
    /// ```
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
                    s.0.insert(f.id, val);
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
        FieldKind::Int => Setting::Int(
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("expected a whole number, found {v:?}"))?,
        ),
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
///
/// # Examples
/// ```
/// let errs = trust_inject::Settings::from_flat([("colour", "red"), ("max-depth", "deep")], "flags")
///     .expect_err("both are wrong");
/// assert_eq!(errs.0.len(), 2);
/// assert_eq!(errs.0[0].0, "flags.colour");
/// assert!(errs.to_string().starts_with("flags.colour: unknown option; known: configmap, "));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<(String, String)>);

impl ConfigErrors {
    /// Records a problem.
    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push((path.into(), message.into()));
    }

    /// `Ok` when nothing was recorded.
    ///
    /// # Errors
    /// `self` when something was.
    pub(crate) fn into_result(self) -> Result<(), ConfigErrors> {
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
        if let Some(val) = field_value(f, node, &mut errs) {
            s.0.insert(f.id, val);
        }
    }
    errs.into_result().map(|()| s)
}

/// The value of the field `f` read from `node`, or `None` after its problem is pushed on
/// `errs`.
fn field_value(f: &Field, node: &Node, errs: &mut ConfigErrors) -> Option<Setting> {
    let val = match (f.kind, &node.value) {
        (FieldKind::Bool, Value::Scalar { .. }) => match node.as_str().and_then(parse_bool) {
            Some(b) => Setting::Bool(b),
            None => {
                errs.push(f.path, "expected true or false");
                return None;
            }
        },
        (FieldKind::Int, Value::Scalar { .. }) => match node.as_str().map(|t| t.parse::<u64>()) {
            Some(Ok(n)) => Setting::Int(n),
            _ => {
                errs.push(f.path, "expected a whole number");
                return None;
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
            return None;
        }
        _ => {
            errs.push(
                f.path,
                format!("expected a scalar, found {}", node.kind_name()),
            );
            return None;
        }
    };
    Some(val)
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
///
/// # Examples
/// ```
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// assert_eq!(opts.source_name(), "corp-ca");
/// assert_eq!(opts.bundle_file(), "/etc/trust-inject/ca.crt");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The bundle source.
    pub(crate) source: Source,
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
    pub(crate) exclude: Exclude,
    /// How workloads are recognised.
    pub(crate) rules: Rules,
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
    pub bundle_files: Vec<PathBuf>,
    /// Public roots for a generated bundle.
    pub public_roots: PublicRoots,
    /// Whether the bundle object is generated from `bundle_files` (no existing source named).
    pub generated: bool,
    /// Point Java at the generated truststore.
    pub java_truststore: bool,
    /// Mount `<hash>.0` files for OpenSSL.
    pub hashed_certs: bool,
    /// The bundle read from `bundle_files`, once [`Options::load_bundle`] ran.
    pub(crate) loaded: Option<std::sync::Arc<Loaded>>,
    /// Append generated bundle objects to the output stream (off in KRM mode, where they
    /// become items instead).
    pub append_generated: bool,
    /// Fail when the input holds no object (`None`: not set; the caller decides, e.g. on
    /// under Argo CD).
    pub fail_on_empty: Option<bool>,
    /// Also append errors to this file (`None`: not set; the caller may pick a default).
    pub error_log: Option<PathBuf>,
    /// The start-up merge (`--merge-at-start`), when on.
    pub(crate) merge: Option<MergeAtStart>,
    /// The egress proxy settings, when given.
    pub(crate) proxy: Option<crate::proxy::Proxy>,
    /// Whether the CA is injected: false for the proxy alone (no bundle source given).
    pub inject_ca: bool,
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
        s.0.insert(Opt::ConfigMap, Setting::Str(name.to_owned()));
        s.0.insert(Opt::Key, Setting::Str(key.to_owned()));
        // An empty name or key is refused by `from_settings`; the options are still built
        // (with every default), so that the error surfaces when they are used.
        let (mut opts, _) = Options::build(&s);
        opts.source = Source {
            kind: SourceKind::ConfigMap,
            name: name.to_owned(),
            key: key.to_owned(),
            complete: false,
        };
        opts
    }

    /// The name of the object the bundle is read from (a ConfigMap, a Secret, or the
    /// generated ConfigMap).
    ///
    /// # Examples
    /// ```
    /// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// assert_eq!(opts.source_name(), "corp-ca");
    /// ```
    #[must_use]
    pub fn source_name(&self) -> &str {
        &self.source.name
    }

    /// The same options with the source declared a complete bundle or not (what
    /// `--complete-bundle` sets): a complete one already holds the public roots, so the
    /// system bundle paths are mounted over too.
    ///
    /// # Examples
    /// ```
    /// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// let complete = opts.clone().with_complete_bundle(true);
    /// assert_ne!(opts, complete);
    /// ```
    #[must_use]
    pub fn with_complete_bundle(mut self, complete: bool) -> Options {
        self.source.complete = complete;
        self
    }

    /// Resolves settings (already layered) into options, applying defaults.
    ///
    /// # Examples
    /// ```
    /// use trust_inject::{Options, Settings};
    /// let s = Settings::from_flat([("secret", "corp-ca"), ("max-depth", "50")], "example")?;
    /// let opts = Options::from_settings(&s)?;
    /// assert_eq!((opts.source_name(), opts.limits.max_depth), ("corp-ca", 50));
    /// let bad = Settings::from_flat([("secret", "Corp_CA"), ("mount-path", "rel")], "example")?;
    /// assert_eq!(Options::from_settings(&bad).expect_err("invalid").0.len(), 2);
    /// # Ok::<(), trust_inject::ConfigErrors>(())
    /// ```
    ///
    /// # Errors
    /// Every problem at once, each named by its flag.
    pub fn from_settings(s: &Settings) -> Result<Options, ConfigErrors> {
        let (opts, errs) = Options::build(s);
        errs.into_result().map(|()| opts)
    }

    /// Options from `s` and the problems found; where a value is bad, the options hold a
    /// stand-in and the problem is recorded.
    fn build(s: &Settings) -> (Options, ConfigErrors) {
        let mut errs = ConfigErrors::default();
        let r = Reader(s);
        let (source, generated) = resolve_source(&r, &mut errs);
        let volume_name = r.str(Opt::VolumeName);
        if !is_dns_label(&volume_name) {
            errs.push("--volume-name", format!("{volume_name:?} is not a valid volume name (lowercase letters, digits and '-', at most 63)"));
        }
        let (mount_path, additive_file, system_bundle_paths) =
            mount_paths(&r, &source, generated, &mut errs);
        let additive_env = r.list(Opt::AdditiveEnv);
        let replacing_env = r.list(Opt::ReplacingEnv);
        check_env_names(&additive_env, &replacing_env, &mut errs);
        let rules = resolve_rules(&r, &mut errs);
        let labels = parse_selector(&r.str(Opt::ExcludeSelector)).unwrap_or_else(|m| {
            errs.push("--exclude-selector", m);
            Vec::new()
        });
        let limits = Limits {
            max_depth: usize::try_from(r.int(Opt::MaxDepth)).unwrap_or(usize::MAX),
            max_alias_nodes: usize::try_from(r.int(Opt::MaxAliasNodes)).unwrap_or(usize::MAX),
        };
        let merge = merge_options(&r, generated, &volume_name, &mut errs);
        let inject_ca = !(proxy_alone(&r) && no_source_given(&r));
        let proxy = proxy_options(&r, inject_ca, &mut errs);
        let public_roots = match r.str(Opt::PublicRoots).as_str() {
            "none" => PublicRoots::None,
            "mozilla" => PublicRoots::Mozilla,
            file => PublicRoots::File(file.into()),
        };
        let opts = Options {
            source,
            volume_name,
            mount_path: mount_path.trim_end_matches('/').to_owned(),
            additive_file,
            system_bundle_paths,
            additive_env,
            replacing_env,
            override_env: r.bool(Opt::OverrideEnv),
            exclude_containers: r.list(Opt::ExcludeContainer),
            skip_init_containers: r.bool(Opt::SkipInitContainers),
            exclude: Exclude {
                kinds: r.list(Opt::ExcludeKind),
                namespaces: r.list(Opt::ExcludeNamespace),
                names: r.list(Opt::ExcludeName),
                labels,
            },
            rules,
            strict: r.bool(Opt::Strict),
            limits,
            max_input_bytes: r.int(Opt::MaxInputBytes),
            max_workload_bytes: r.int(Opt::MaxWorkloadBytes),
            bundle_hash: None,
            bundle_files: r.list(Opt::CaFile).into_iter().map(PathBuf::from).collect(),
            public_roots,
            generated,
            java_truststore: r.bool(Opt::JavaTruststore),
            hashed_certs: r.bool(Opt::HashedCerts),
            loaded: None,
            append_generated: true,
            fail_on_empty: r.given_bool(Opt::FailOnEmpty),
            error_log: Some(r.str(Opt::ErrorLog))
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            merge,
            proxy,
            inject_ca,
        };
        (opts, errs)
    }

    /// Reads and checks the CA files, builds the bundle data, and records its hash for the
    /// pod-template annotation. Does nothing without `--ca-file`.
    ///
    /// # Errors
    /// [`crate::bundle::BundleError`] for unreadable files, private keys, blocks that are
    /// not certificates, or a bundle over Kubernetes' 1 MiB object limit.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> Result<(), trust_inject::BundleError> {
    /// let s = trust_inject::Settings::from_flat([("ca-file", "testdata/pki/corp-root.pem")], "flags")
    ///     .expect("valid");
    /// let mut opts = trust_inject::Options::from_settings(&s).expect("valid");
    /// assert_eq!(opts.bundle_hash, None);
    /// let read = opts.load_bundle()?;
    /// assert_eq!(read.certificates.len(), 1);
    /// // The hash goes into the pod-template annotation, so pods roll when the CAs change.
    /// assert_eq!(opts.bundle_hash.as_ref().map(String::len), Some(64));
    /// # Ok(()) }
    /// ```
    pub fn load_bundle(&mut self) -> Result<crate::bundle::ReadBundle, crate::bundle::BundleError> {
        use crate::bundle::{build_bundle_data, public_roots, read_ca_files};
        if self.bundle_files.is_empty() {
            return Ok(crate::bundle::ReadBundle::default());
        }
        let read = read_ca_files(&self.bundle_files)?;
        let mozilla_version = matches!(self.public_roots, PublicRoots::Mozilla)
            .then_some(crate::bundle::MOZILLA_ROOTS_VERSION);
        let public = public_roots(&self.public_roots)?;
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
    ///
    /// # Examples
    /// ```
    /// let mut opts = trust_inject::Options::from_configmap("corp-ca", "bundle.pem");
    /// assert_eq!(opts.bundle_file(), "/etc/trust-inject/bundle.pem");
    /// opts.mount_path = "/certs".into();
    /// assert_eq!(opts.bundle_file(), "/certs/bundle.pem");
    /// ```
    #[must_use]
    pub fn bundle_file(&self) -> String {
        format!("{}/{}", self.mount_path, self.source.key)
    }
}

/// The paths the tool mounts (`--mount-path`, `--additive-file`, `--system-bundle-path`),
/// each checked, and checked against the others.
fn mount_paths(
    r: &Reader<'_>,
    source: &Source,
    generated: bool,
    errs: &mut ConfigErrors,
) -> (String, Option<String>, Vec<String>) {
    let mount_path = r.str(Opt::MountPath);
    if let Some(why) = mount_path_problem(&mount_path, false) {
        errs.push("--mount-path", format!("{mount_path:?} {why}"));
    }
    let additive_file = Some(r.str(Opt::AdditiveFile)).filter(|v| !v.is_empty());
    if let Some(f) = &additive_file
        && let Some(why) = mount_path_problem(f, true)
    {
        errs.push("--additive-file", format!("{f:?} {why}"));
    }
    let system_bundle_paths = r.list(Opt::SystemBundlePath);
    for p in &system_bundle_paths {
        if let Some(why) = mount_path_problem(p, true) {
            errs.push("--system-bundle-path", format!("{p:?} {why}"));
        }
    }
    {
        let mut mounts: Vec<(&str, &str)> = vec![("--mount-path", mount_path.as_str())];
        if let Some(f) = &additive_file {
            mounts.push(("--additive-file", f));
        }
        if source.complete {
            mounts.extend(
                system_bundle_paths
                    .iter()
                    .map(|p| ("--system-bundle-path", p.as_str())),
            );
        }
        let hashed = generated && r.bool(Opt::HashedCerts);
        check_mount_collisions(&mounts, hashed, errs);
    }
    (mount_path, additive_file, system_bundle_paths)
}

/// Typed reads of one set of [`Settings`], falling back to each option's default in
/// [`FIELDS`] (the only place defaults are defined).
struct Reader<'a>(&'a Settings);

impl Reader<'_> {
    fn str(&self, o: Opt) -> String {
        match self.0.0.get(&o) {
            Some(Setting::Str(v)) => v.clone(),
            _ => o.field().default.to_owned(),
        }
    }

    fn given_str(&self, o: Opt) -> Option<&str> {
        match self.0.0.get(&o) {
            Some(Setting::Str(v)) => Some(v),
            _ => None,
        }
    }

    fn given_bool(&self, o: Opt) -> Option<bool> {
        match self.0.0.get(&o) {
            Some(Setting::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    fn bool(&self, o: Opt) -> bool {
        self.given_bool(o)
            .unwrap_or_else(|| o.field().default == "true")
    }

    fn int(&self, o: Opt) -> u64 {
        match self.0.0.get(&o) {
            Some(Setting::Int(n)) => *n,
            _ => o.default_int(),
        }
    }

    fn list(&self, o: Opt) -> Vec<String> {
        match self.0.0.get(&o) {
            Some(Setting::List(v)) => v.clone(),
            _ => o
                .field()
                .list_default
                .iter()
                .map(|d| (*d).to_owned())
                .collect(),
        }
    }
}

/// The bundle source, and whether its object is generated from `--ca-file`.
fn resolve_source(r: &Reader<'_>, errs: &mut ConfigErrors) -> (Source, bool) {
    let configmap = Some(r.str(Opt::ConfigMap)).filter(|v| !v.is_empty());
    let secret = Some(r.str(Opt::Secret)).filter(|v| !v.is_empty());
    let key = r.str(Opt::Key);
    let complete = r.bool(Opt::CompleteBundle);
    let generate = match r.str(Opt::Generate).as_str() {
        "configmap" => SourceKind::ConfigMap,
        "secret" => SourceKind::Secret,
        other => {
            errs.push(
                "--generate",
                format!("{other:?}: expected configmap or secret"),
            );
            SourceKind::ConfigMap
        }
    };
    let ctb = cluster_trust_bundle_source(r, &key, complete, errs);
    if ctb.is_some() && (configmap.is_some() || secret.is_some()) {
        errs.push(
            "--cluster-trust-bundle/--signer-name",
            "give exactly one bundle source, not a ClusterTrustBundle and a ConfigMap or Secret",
        );
    }
    let generated =
        !r.list(Opt::CaFile).is_empty() && configmap.is_none() && secret.is_none() && ctb.is_none();
    let names = [
        ("--configmap", configmap.clone()),
        ("--secret", secret.clone()),
    ];
    let existing = |kind, name| Source {
        kind,
        name,
        key: key.clone(),
        complete,
    };
    let source = match (configmap, secret) {
        _ if ctb.is_some() => ctb.unwrap_or_else(|| existing(SourceKind::ConfigMap, String::new())),
        (Some(name), None) => existing(SourceKind::ConfigMap, name),
        (None, Some(name)) => existing(SourceKind::Secret, name),
        (Some(name), Some(_)) => {
            errs.push(
                "--configmap/--secret",
                "give exactly one bundle source, not both",
            );
            existing(SourceKind::ConfigMap, name)
        }
        (None, None) if generated => Source {
            kind: generate,
            name: r.str(Opt::BundleName),
            key: wk::GENERATED_PRIVATE_KEY.to_owned(),
            complete: r.str(Opt::PublicRoots) != "none",
        },
        (None, None) if proxy_alone(r) && no_source_given(r) => crate::proxy::no_source(),
        (None, None) => {
            errs.push("source", "no bundle source: give --configmap NAME, --secret NAME, --ca-file PATH, or a --config file with spec.source");
            existing(SourceKind::ConfigMap, String::new())
        }
    };
    for (flag, name) in names {
        if let Some(name) = name
            && !is_dns_subdomain(&name)
        {
            errs.push(flag, format!("{name:?} {NOT_AN_OBJECT_NAME}"));
        }
    }
    if generated && !is_dns_subdomain(&source.name) {
        errs.push(
            "--bundle-name",
            format!("{:?} {NOT_AN_OBJECT_NAME}", source.name),
        );
    }
    if let Some(why) = configmap_key_problem(&key) {
        errs.push(
            "--key",
            format!("{key:?} is not a valid ConfigMap key: {why}"),
        );
    }
    (source, generated)
}

/// Whether a proxy is given (with no bundle source, the run injects the proxy alone).
fn proxy_alone(r: &Reader<'_>) -> bool {
    [
        Opt::Proxy,
        Opt::HttpProxy,
        Opt::HttpsProxy,
        Opt::ProxySecret,
    ]
    .iter()
    .any(|o| !r.str(*o).trim().is_empty())
}

/// Whether no bundle source of any type is given.
fn no_source_given(r: &Reader<'_>) -> bool {
    [
        Opt::ConfigMap,
        Opt::Secret,
        Opt::ClusterTrustBundle,
        Opt::SignerName,
    ]
    .iter()
    .all(|o| r.str(*o).trim().is_empty())
        && r.list(Opt::CaFile).is_empty()
}

/// The egress proxy settings, checked (`src/proxy.rs`).
fn proxy_options(
    r: &Reader<'_>,
    inject_ca: bool,
    errs: &mut ConfigErrors,
) -> Option<crate::proxy::Proxy> {
    let (proxy, http, https) = (
        r.str(Opt::Proxy),
        r.str(Opt::HttpProxy),
        r.str(Opt::HttpsProxy),
    );
    let (no_proxy, secret) = (r.str(Opt::NoProxy), r.str(Opt::ProxySecret));
    let resolved = crate::proxy::resolve(
        &crate::proxy::Raw {
            proxy: Some(&proxy),
            http: Some(&http),
            https: Some(&https),
            no_proxy: Some(&no_proxy),
            append_no_proxy: r.bool(Opt::AppendNoProxy),
            secret: Some(&secret),
            cluster_domain: &r.str(Opt::ClusterDomain),
        },
        errs,
    );
    if !inject_ca && resolved.is_some() && r.bool(Opt::MergeAtStart) {
        errs.push(
            "--merge-at-start",
            "merges a bundle source with the public roots: give --configmap NAME or --secret NAME as well",
        );
    }
    resolved
}

/// How workloads are recognised: `--generic-workloads` and each `--workload-kind`.
fn resolve_rules(r: &Reader<'_>, errs: &mut ConfigErrors) -> Rules {
    let mut rules = Rules {
        generic: r.bool(Opt::GenericWorkloads),
        extra: Vec::new(),
    };
    for spec in r.list(Opt::WorkloadKind) {
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
    rules
}

/// The ClusterTrustBundle source, when one is named.
fn cluster_trust_bundle_source(
    r: &Reader<'_>,
    key: &str,
    complete: bool,
    errs: &mut ConfigErrors,
) -> Option<Source> {
    let name = Some(r.str(Opt::ClusterTrustBundle)).filter(|v| !v.is_empty());
    let signer = Some(r.str(Opt::SignerName)).filter(|v| !v.is_empty());
    let selector = r.str(Opt::ClusterTrustBundleSelector);
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
    r: &Reader<'_>,
    generated: bool,
    volume_name: &str,
    errs: &mut ConfigErrors,
) -> Option<MergeAtStart> {
    if !r.bool(Opt::MergeAtStart) {
        // Set without the merge they would do nothing; unless the merge is turned off on
        // purpose (`--merge-at-start=false`, `enabled: false`), that is a mistake.
        if r.given_bool(Opt::MergeAtStart).is_none() {
            for o in [
                Opt::MergeImage,
                Opt::MergeImagePullSecret,
                Opt::MergeCpu,
                Opt::MergeMemory,
            ] {
                if r.given_str(o).is_some_and(|v| !v.is_empty()) {
                    errs.push(
                        format!("--{}", o.flag()),
                        "given without the start-up merge, it would do nothing: add --merge-at-start, or drop it",
                    );
                }
            }
        }
        return None;
    }
    let public_roots = r.str(Opt::PublicRoots);
    if generated {
        errs.push("--merge-at-start", "a bundle generated from --ca-file is already complete; the start-up merge reads an existing --configmap or --secret: drop one of them");
    }
    if !matches!(public_roots.as_str(), "mozilla" | "none") {
        errs.push("--public-roots", format!("{public_roots:?}: with --merge-at-start the roots are merged in the pod, from the binary: give mozilla or none"));
    }
    if volume_name.len() + "-source".len() > 63 {
        errs.push("--volume-name", format!("{volume_name:?} is too long for --merge-at-start, which also adds a volume named {volume_name}-source (at most 63 characters): give a shorter name"));
    }
    let image = r.str(Opt::MergeImage);
    if image.is_empty() || image.contains(char::is_whitespace) {
        errs.push(
            "--merge-image",
            format!("{image:?} is not an image reference"),
        );
    }
    let pull_secret = Some(r.str(Opt::MergeImagePullSecret)).filter(|v| !v.is_empty());
    if let Some(n) = &pull_secret
        && !is_dns_subdomain(n)
    {
        errs.push(
            "--merge-image-pull-secret",
            format!("{n:?} {NOT_AN_OBJECT_NAME}"),
        );
    }
    let quantity = |o: Opt, errs: &mut ConfigErrors| {
        let v = r.str(o);
        let digits = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &v[digits.len()..];
        let ok = !digits.is_empty()
            && digits.parse::<f64>().is_ok_and(|n| n > 0.0)
            && ["", "m", "k", "M", "G", "Ki", "Mi", "Gi"].contains(&unit);
        if !ok {
            errs.push(
                format!("--{}", o.flag()),
                format!("{v:?} is not a Kubernetes quantity such as 50m or 64Mi"),
            );
        }
        v
    };
    let cpu = quantity(Opt::MergeCpu, errs);
    let memory = quantity(Opt::MergeMemory, errs);
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
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
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
/// default, meaning), generated from [`FIELDS`]; docs/usage.md embeds it and a test keeps
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
    fn the_table_names_every_option_once_and_its_defaults_parse() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(f.id.field().flag, f.flag, "{:?}", f.id);
            assert!(
                FIELDS
                    .iter()
                    .skip(i + 1)
                    .all(|g| g.id != f.id && g.flag != f.flag),
                "{} twice",
                f.flag
            );
            match f.kind {
                FieldKind::Int => assert!(f.default.parse::<u64>().is_ok(), "{}", f.flag),
                FieldKind::Bool => assert!(matches!(f.default, "true" | "false"), "{}", f.flag),
                FieldKind::Str | FieldKind::List => {}
            }
            assert!(
                f.values.is_empty() || f.values.contains(&f.default),
                "{}",
                f.flag
            );
        }
        // Every variant of `Opt` has an entry: the last variant is found.
        assert_eq!(Opt::MaxInputBytes.flag(), "max-input-bytes");
    }

    #[test]
    fn defaults_come_from_the_table() {
        let o = Options::from_configmap("corp-ca", "ca.crt");
        assert_eq!(o.max_input_bytes, 268_435_456);
        assert_eq!(o.max_workload_bytes, 2_097_152);
        assert_eq!(o.limits, Limits::default());
        assert_eq!(o.public_roots, PublicRoots::Mozilla);
        assert_eq!(o.system_bundle_paths.len(), wk::SYSTEM_BUNDLE_PATHS.len());
        assert_eq!(o.additive_file.as_deref(), Some(wk::DEFAULT_ADDITIVE_FILE));
        assert!(o.java_truststore && o.hashed_certs && o.rules.generic);
        assert_eq!((o.fail_on_empty, o.error_log), (None, None));
    }

    #[test]
    fn merge_settings_without_the_merge_are_refused_unless_it_is_turned_off() {
        let flat = |pairs: &[(&str, &str)]| {
            let s = Settings::from_flat(pairs.iter().copied(), "flags").expect("valid");
            Options::from_settings(&s).map_err(|e| e.to_string())
        };
        let err = flat(&[
            ("configmap", "corp"),
            ("merge-image", "reg/ti:1"),
            ("merge-memory", "32Mi"),
        ])
        .expect_err("the merge image and memory would do nothing");
        assert!(
            err.contains("--merge-image: given without the start-up merge")
                && err.contains("--merge-memory: given without the start-up merge")
                && err.contains("add --merge-at-start"),
            "{err}"
        );
        for pairs in [
            &[("configmap", "corp"), ("merge-cpu", "1")][..],
            &[("configmap", "corp"), ("merge-image-pull-secret", "pull")],
        ] {
            assert!(flat(pairs).is_err(), "{pairs:?}");
        }
        // Turned off on purpose, with its settings kept; turned on; empty values (an Argo CD
        // parameter declared without one): accepted.
        for pairs in [
            &[
                ("configmap", "corp"),
                ("merge-at-start", "false"),
                ("merge-image", "reg/ti:1"),
            ][..],
            &[
                ("configmap", "corp"),
                ("merge-at-start", "true"),
                ("merge-cpu", "100m"),
            ],
            &[
                ("configmap", "corp"),
                ("merge-image", ""),
                ("merge-cpu", ""),
            ],
        ] {
            assert!(flat(pairs).is_ok(), "{pairs:?}: {:?}", flat(pairs).err());
        }
        let doc = settings_from_text("apiVersion: trust-inject.dev/v1alpha1\nkind: TrustInjection\nspec:\n  source:\n    configMap:\n      name: corp\n  mergeAtStart:\n    image: reg/ti:1\n")
            .expect("valid");
        let err = Options::from_settings(&doc)
            .expect_err("no enabled: true")
            .to_string();
        assert!(err.contains("--merge-image: given without"), "{err}");
    }

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
        assert_eq!(s.0.get(&Opt::ConfigMap), Some(&Setting::Str("corp".into())));
        assert_eq!(s.0.get(&Opt::CompleteBundle), Some(&Setting::Bool(true)));
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
        s.0.insert(Opt::VolumeName, Setting::Str("Bad_Name".into()));
        s.0.insert(Opt::MountPath, Setting::Str("rel".into()));
        let err = Options::from_settings(&s).expect_err("invalid");
        assert_eq!(err.0.len(), 3, "{err}");
    }

    #[test]
    fn a_layer_naming_a_source_replaces_the_whole_source_below() {
        let layer = |pairs: &[(Opt, Setting)]| Settings(pairs.iter().cloned().collect());
        let str_ = |v: &str| Setting::Str(v.to_owned());
        let files = Setting::List(vec!["ca.pem".into()]);
        let below = layer(&[
            (Opt::ConfigMap, str_("a")),
            (Opt::CaFile, files.clone()),
            (Opt::Key, str_("k")),
        ]);
        let over = below.clone().overlay(layer(&[(Opt::Secret, str_("b"))]));
        assert_eq!(
            over,
            layer(&[(Opt::Secret, str_("b")), (Opt::Key, str_("k"))])
        );
        // An empty value names nothing; other options layer one by one.
        let over = below.clone().overlay(layer(&[
            (Opt::Secret, str_("")),
            (Opt::CaFile, Setting::List(vec![])),
            (Opt::Key, str_("j")),
        ]));
        assert_eq!(
            over,
            layer(&[
                (Opt::ConfigMap, str_("a")),
                (Opt::CaFile, files),
                (Opt::Key, str_("j"))
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
