//! Which runtimes trust the bundle a run gives, and the notice when trust is partial.
//!
//! A bundle of private CAs alone, not declared complete, only *adds* trust: the tool never
//! points a variable that replaces a runtime's roots at it, so only the runtimes that add a
//! file to their own roots (Node.js through `NODE_EXTRA_CA_CERTS`, Go through every file in
//! `/etc/ssl/certs`) gain the CAs. The rest keep failing TLS to the corporate servers while
//! the run reports success; this module says so, per run and per container. The table in
//! the README, measured by `tests/trust.rs`, is what these rules follow.

use crate::config::{Options, SourceKind};
use crate::error::{DocRef, Error};
use crate::inject::ContainerPlan;
use std::collections::BTreeMap;

use crate::pipeline::Processed;
use crate::well_known as wk;
use crate::workload::ObjectRef;
use crate::yaml::Node;

/// A runtime, as the README names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// OpenSSL and C programs using its default paths.
    OpenSsl,
    /// curl.
    Curl,
    /// Python's `ssl` module (urllib).
    PythonSsl,
    /// Python `requests` (certifi).
    PythonRequests,
    /// Node.js.
    NodeJs,
    /// Java.
    Java,
    /// Go's `crypto/x509`.
    Go,
    /// .NET on Linux.
    DotNet,
    /// Rust's `rustls-native-certs`.
    Rustls,
}

impl Runtime {
    /// Every runtime, in the README's order.
    pub const ALL: [Runtime; 9] = [
        Runtime::OpenSsl,
        Runtime::Curl,
        Runtime::PythonSsl,
        Runtime::PythonRequests,
        Runtime::NodeJs,
        Runtime::Java,
        Runtime::Go,
        Runtime::DotNet,
        Runtime::Rustls,
    ];

    /// Its name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Runtime::OpenSsl => "OpenSSL",
            Runtime::Curl => "curl",
            Runtime::PythonSsl => "Python ssl",
            Runtime::PythonRequests => "Python requests",
            Runtime::NodeJs => "Node.js",
            Runtime::Java => "Java",
            Runtime::Go => "Go",
            Runtime::DotNet => ".NET",
            Runtime::Rustls => "rustls-native-certs",
        }
    }
}

/// Whether the containers read a bundle with the public roots: a complete source, a bundle
/// generated with public roots, or the start-up merge with them.
fn complete(opts: &Options) -> bool {
    opts.source.complete
        || (opts.merge.is_some() && opts.public_roots != crate::bundle::PublicRoots::None)
}

/// Whether the `<subject-hash>.N` files are mounted (their names are known).
fn hashed(opts: &Options) -> bool {
    opts.hashed_certs && opts.loaded.is_some() && (opts.generated || opts.merge.is_some())
}

/// Whether Java gets the truststore.
fn truststore(opts: &Options) -> bool {
    opts.java_truststore && complete(opts) && (opts.generated || opts.merge.is_some())
}

/// Whether `runtime` gains the CAs with these options, in a container that keeps none of
/// the tool's variables or mounts for itself.
#[must_use]
pub fn gains(opts: &Options, runtime: Runtime) -> bool {
    if !opts.inject_ca {
        return false;
    }
    let additive = |v: &str| opts.additive_env.iter().any(|e| e == v);
    let replacing = |v: &str| complete(opts) && opts.replacing_env.iter().any(|e| e == v);
    let system = complete(opts) && !opts.system_bundle_paths.is_empty();
    match runtime {
        Runtime::OpenSsl | Runtime::PythonSsl => {
            hashed(opts) || replacing("SSL_CERT_FILE") || system
        }
        Runtime::Curl => hashed(opts) || replacing("CURL_CA_BUNDLE") || system,
        Runtime::PythonRequests => replacing("REQUESTS_CA_BUNDLE") || replacing("CURL_CA_BUNDLE"),
        Runtime::NodeJs => additive("NODE_EXTRA_CA_CERTS"),
        Runtime::Java => truststore(opts),
        Runtime::Go => opts.additive_file.is_some() || system,
        Runtime::DotNet | Runtime::Rustls => replacing("SSL_CERT_FILE") || system,
    }
}

/// The runtimes that gain the CAs, and those that do not, with these options.
#[must_use]
pub fn reach(opts: &Options) -> (Vec<Runtime>, Vec<Runtime>) {
    Runtime::ALL.iter().partition(|r| gains(opts, **r))
}

/// The same for one container, minus what it keeps for itself (its own `SSL_CERT_FILE`,
/// `JAVA_TOOL_OPTIONS` truststore, a mount over ours).
#[must_use]
pub fn container_reach(opts: &Options, c: &ContainerPlan) -> (Vec<Runtime>, Vec<Runtime>) {
    let kept = |v: &str| c.kept_env.iter().any(|(name, _)| name == v);
    let kept_mount = |p: &str| c.kept_mounts.iter().any(|(path, _)| path == p);
    let system = complete(opts)
        && opts
            .system_bundle_paths
            .iter()
            .any(|p| !kept_mount(p.as_str()));
    Runtime::ALL.iter().partition(|&&r| {
        gains(opts, r)
            && match r {
                Runtime::OpenSsl | Runtime::PythonSsl => !kept("SSL_CERT_FILE") || hashed(opts),
                Runtime::DotNet | Runtime::Rustls => !kept("SSL_CERT_FILE"),
                Runtime::Curl => !kept("CURL_CA_BUNDLE") || hashed(opts) || system,
                Runtime::PythonRequests => !kept("REQUESTS_CA_BUNDLE"),
                Runtime::NodeJs => !kept("NODE_EXTRA_CA_CERTS"),
                Runtime::Java => !kept(wk::JAVA_TOOL_OPTIONS),
                Runtime::Go => {
                    system
                        || opts
                            .additive_file
                            .as_deref()
                            .is_some_and(|f| !kept_mount(f))
                }
            }
    })
}

/// Names joined as prose: `a, b and c`.
#[must_use]
pub fn names(runtimes: &[Runtime]) -> String {
    let names: Vec<&str> = runtimes.iter().map(|r| r.name()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// The notice of a run whose trust is partial: which runtimes will not trust the CAs, and
/// the ways out. `None` when every runtime gains them, or no workload is injected.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::process(pod, &opts)?;
/// let notice = trust_inject::partial_notice(&run, &opts).expect("a ConfigMap of private CAs alone is partial trust");
/// assert!(notice.contains("Java"), "{notice}");
/// # Ok(()) }
/// ```
#[must_use]
pub fn partial_notice(p: &Processed, opts: &Options) -> Option<String> {
    let (gain, miss) = reach(opts);
    let injected = p.summary.workloads > 0;
    if miss.is_empty() || !injected || !opts.inject_ca {
        return None;
    }
    let what = if complete(opts) {
        format!(
            "{} holds the public roots, but Java reads only a truststore, which the tool builds from --ca-file or at pod start (--merge-at-start)",
            opts.source.name
        )
    } else if opts.generated || opts.merge.is_some() {
        "the bundle holds the private CAs alone (--public-roots none)".to_owned()
    } else {
        format!(
            "{} holds only private CAs (it is not declared --complete-bundle)",
            opts.source.name
        )
    };
    let ways = if complete(opts) {
        "Ways out: --merge-at-start, or --ca-file with the CA files as well"
    } else if opts.generated {
        "Way out: --public-roots mozilla (or a FILE of public roots)"
    } else if opts.merge.is_some() {
        "Way out: drop --public-roots none, so that the start-up merge adds the public roots"
    } else {
        "Ways out: --merge-at-start (an init container merges the public roots at pod start), --ca-file (the tool builds a complete bundle), or --complete-bundle when the source already holds the public roots"
    };
    Some(format!(
        "trust is partial: {what}, so {} trust them, but {} {} failing TLS to your servers. {ways}",
        if gain.is_empty() {
            "no runtime will".to_owned()
        } else {
            format!("only {} will", names(&gain))
        },
        names(&miss),
        if miss.len() == 1 { "keeps" } else { "keep" }
    ))
}

// ---------------------------------------------------------------------------------------
// The source object in the stream: the key the pods mount must be in it. kubelet creates an
// empty directory for a subPath that is not a key of the volume, and a container that mounts
// it over an existing file then fails to start (`runc create failed … not a directory`).

/// A ConfigMap or Secret of the stream that the workloads read the bundle from.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: corp-ca\n  namespace: web\ndata:\n  ca.crt: x\n";
/// let run = trust_inject::process(cm, &opts)?;
/// let src: &trust_inject::SourceObject = &run.sources[0];
/// assert_eq!((src.namespace.as_str(), src.keys.as_slice()), ("web", ["ca.crt".to_owned()].as_slice()));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceObject {
    /// Its namespace (`""`: none given).
    pub namespace: String,
    /// Where it is.
    pub doc: DocRef,
    /// Its keys (`data` and `binaryData`, or `data` and `stringData`).
    pub keys: Vec<String>,
}

fn kind_name(opts: &Options) -> &'static str {
    match opts.source.kind {
        SourceKind::ConfigMap => "ConfigMap",
        SourceKind::Secret => "Secret",
        SourceKind::ClusterTrustBundle { .. } => "ClusterTrustBundle",
    }
}

/// The document `root` as the configured source object, if it is one.
#[must_use]
pub fn source_object(root: &Node, opts: &Options, doc: &DocRef) -> Option<SourceObject> {
    let o = ObjectRef::of(root)?;
    if !opts.inject_ca
        || o.api_version != "v1"
        || o.kind != kind_name(opts)
        || o.name != opts.source.name
    {
        return None;
    }
    let lists: &[&str] = match opts.source.kind {
        SourceKind::ConfigMap => &["data", "binaryData"],
        SourceKind::Secret => &["data", "stringData"],
        SourceKind::ClusterTrustBundle { .. } => return None,
    };
    let keys = lists
        .iter()
        .filter_map(|l| root.get(l).and_then(Node::entries))
        .flatten()
        .filter_map(|(k, _)| k.as_str().map(str::to_owned))
        .collect();
    Some(SourceObject {
        namespace: o.namespace.clone().unwrap_or_default(),
        doc: DocRef {
            object: Some(o.to_string()),
            ..doc.clone()
        },
        keys,
    })
}

/// The error for a source object of the stream that lacks the key an injected workload of
/// its namespace mounts.
#[must_use]
pub fn missing_key(
    opts: &Options,
    sources: &[SourceObject],
    first_in_ns: &BTreeMap<String, (DocRef, ObjectRef)>,
) -> Option<Error> {
    let key = &opts.source.key;
    let src = sources
        .iter()
        .find(|s| !s.keys.contains(key) && first_in_ns.contains_key(&s.namespace))?;
    let first = first_in_ns
        .get(&src.namespace)
        .map(|(_, object)| format!(" (first: {object})"))
        .unwrap_or_default();
    let present = if src.keys.is_empty() {
        "it has no key at all".to_owned()
    } else {
        format!("its keys are {}", src.keys.join(", "))
    };
    let kind = kind_name(opts);
    let failure = if opts.merge.is_some() {
        "the merge init container would find no CA there and the pod would not start"
    } else {
        "kubelet would create an empty directory for the missing subPath, and every container mounting it over a file would fail to start (\"not a directory\") and crash-loop"
    };
    Some(Error::inject(
        src.doc.clone(),
        None,
        "data",
        format!(
            "this {kind} has no key {key:?}, which the injected workloads of its namespace{first} mount ({present}); {failure}. Give the key that holds the CA with --key, or add {key:?} to the {kind}"
        ),
    ))
}

/// What the pods depend on when the source object is not in the stream, for `check` and
/// `--report`: `None` when it is there for every namespace with an injected workload.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::process(pod, &opts)?;
/// let dep = trust_inject::source_dependency(&run, &opts).expect("the ConfigMap is not in the stream");
/// assert!(dep.contains("corp-ca"), "{dep}");
/// # Ok(()) }
/// ```
#[must_use]
pub fn source_dependency(p: &Processed, opts: &Options) -> Option<String> {
    if opts.generated || !opts.inject_ca {
        return None;
    }
    let mut missing: Vec<&str> = p
        .summary
        .namespaces
        .iter()
        .map(String::as_str)
        .filter(|ns| !p.sources.iter().any(|s| s.namespace == *ns))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return None;
    }
    let spaces: Vec<String> = missing
        .iter()
        .map(|ns| {
            if ns.is_empty() {
                "the release namespace".to_owned()
            } else {
                format!("{ns:?}")
            }
        })
        .collect();
    Some(format!(
        "the pods depend on key {:?} of {} {:?}, which is not in the stream: it must exist in {} before they start (a missing key makes kubelet mount an empty directory, and the containers fail to start)",
        opts.source.key,
        kind_name(opts),
        opts.source.name,
        spaces.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::{Runtime, reach};
    use crate::config::{Options, Setting, Settings};

    fn opts(pairs: &[(&'static str, Setting)]) -> Options {
        let mut s = Settings::default();
        for (k, v) in pairs {
            let f = crate::config::FIELDS.iter().find(|f| f.flag == *k);
            s.0.insert(f.expect("a known option").id, v.clone());
        }
        Options::from_settings(&s).expect("valid options")
    }

    fn cm() -> (&'static str, Setting) {
        ("configmap", Setting::Str("corp-ca".into()))
    }

    #[test]
    fn a_bare_source_reaches_node_and_go_only() {
        let (gain, _) = reach(&opts(&[cm()]));
        assert_eq!(gain, [Runtime::NodeJs, Runtime::Go]);
    }

    #[test]
    fn the_merge_reaches_every_runtime_unless_it_adds_no_public_roots() {
        let merge = ("merge-at-start", Setting::Bool(true));
        let (_, miss) = reach(&opts(&[cm(), merge.clone()]));
        assert!(miss.is_empty(), "{miss:?}");
        let none = ("public-roots", Setting::Str("none".into()));
        let (gain, _) = reach(&opts(&[cm(), merge, none]));
        assert_eq!(gain, [Runtime::NodeJs, Runtime::Go]);
    }

    #[test]
    fn a_complete_source_misses_java_alone() {
        let (_, miss) = reach(&opts(&[cm(), ("complete-bundle", Setting::Bool(true))]));
        assert_eq!(miss, [Runtime::Java]);
    }
}
