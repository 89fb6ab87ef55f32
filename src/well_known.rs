//! Every well-known string: annotation keys, default names and paths, the environment
//! variables each runtime reads, and the system bundle paths of each distribution.
//! The defaults here can all be changed through the configuration.

/// Set to `"true"` on an object to leave it untouched.
pub const SKIP_ANNOTATION: &str = "trust-inject.dev/skip";

/// Written on each injected pod template when the bundle content is known: a new CA
/// changes the template, and Kubernetes rolls the workload.
pub const BUNDLE_HASH_ANNOTATION: &str = "trust-inject.dev/bundle-sha256";

/// Written on each injected pod template: what the run added (volumes, init container,
/// pull secret, and per container mounts, variables and Java options), as one line of
/// JSON, so that a following run takes out exactly that and nothing of the chart.
pub const INJECTED_ANNOTATION: &str = "trust-inject.dev/injected";

/// The `apiVersion` of the configuration document.
pub const CONFIG_API_VERSION: &str = "trust-inject.dev/v1alpha1";

/// The `kind` of the configuration document.
pub const CONFIG_KIND: &str = "TrustInjection";

/// Default name of the volume the tool adds.
pub const DEFAULT_VOLUME_NAME: &str = "trust-bundle";

/// Default key of the bundle inside the ConfigMap or Secret.
pub const DEFAULT_KEY: &str = "ca.crt";

/// Default directory where the whole volume is mounted (no subPath, so updates of the
/// ConfigMap reach running pods).
pub const DEFAULT_MOUNT_PATH: &str = "/etc/trust-inject";

/// Default extra file in the system certificate directory. Go reads every file in
/// `/etc/ssl/certs`, so Go programs trust the CA and keep the image's public roots.
pub const DEFAULT_ADDITIVE_FILE: &str = "/etc/ssl/certs/trust-inject-ca.crt";

/// Variables that *add* a bundle to a runtime's own roots: safe with any bundle.
pub const ADDITIVE_ENV: &[&str] = &["NODE_EXTRA_CA_CERTS"];

/// Variables that *replace* a runtime's roots: set only when the bundle is complete
/// (holds the public roots too), or every call to a public endpoint would fail.
pub const REPLACING_ENV: &[&str] = &[
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "AWS_CA_BUNDLE",
    "PIP_CERT",
    "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
];

/// Each distribution's system bundle; a complete bundle is mounted over each of them.
pub const SYSTEM_BUNDLE_PATHS: &[&str] = &[
    // Debian, Ubuntu, Alpine, distroless
    "/etc/ssl/certs/ca-certificates.crt",
    // Fedora, RHEL, CentOS (legacy path)
    "/etc/pki/tls/certs/ca-bundle.crt",
    // Fedora, RHEL, UBI
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    // openSUSE, SLES
    "/etc/ssl/ca-bundle.pem",
    // Alpine's and BSD-style OpenSSL default file
    "/etc/ssl/cert.pem",
];

/// Node selector label that marks Windows pods.
pub const OS_LABEL: &str = "kubernetes.io/os";

/// Node labels that name the OS: the current one and the deprecated beta label, which
/// older charts still select on.
pub const OS_LABELS: &[&str] = &[OS_LABEL, "beta.kubernetes.io/os"];

/// Annotation Helm 4 stamps on each document it sends to a post-renderer.
pub const HELM_FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// Key of the private CAs alone in a generated bundle.
pub const GENERATED_PRIVATE_KEY: &str = "ca.crt";

/// Key of the private CAs plus the public roots in a generated bundle.
pub const GENERATED_COMPLETE_KEY: &str = "ca-bundle.crt";

/// Key of the PKCS#12 truststore in a generated bundle (in `binaryData`).
pub const GENERATED_TRUSTSTORE_KEY: &str = "truststore.p12";

/// The system certificate directory OpenSSL searches by subject hash.
pub const OPENSSL_CERT_DIR: &str = "/etc/ssl/certs";

/// Marks objects this tool generated, so a second run recognises and updates them.
pub const GENERATED_ANNOTATION: &str = "trust-inject.dev/generated";

/// The Mozilla root store version inside a generated bundle.
pub const MOZILLA_VERSION_ANNOTATION: &str = "trust-inject.dev/mozilla-roots-version";

/// The variable Java reads extra options from.
pub const JAVA_TOOL_OPTIONS: &str = "JAVA_TOOL_OPTIONS";

/// Default image of the start-up merge init container: the released image of this version.
pub const DEFAULT_MERGE_IMAGE: &str = concat!(
    "ghcr.io/trust-inject/trust-inject:",
    env!("CARGO_PKG_VERSION")
);

/// Suffix of the start-up merge init container's name (after the volume name).
pub const MERGE_CONTAINER_SUFFIX: &str = "-merge";

/// Suffix of the volume that holds the source for the start-up merge.
pub const MERGE_SOURCE_SUFFIX: &str = "-source";

/// Where the merge init container sees the source.
pub const MERGE_SOURCE_DIR: &str = "/trust-inject/source";

/// Where the merge init container writes the bundle (the emptyDir).
pub const MERGE_OUTPUT_DIR: &str = "/trust-inject/bundle";

/// The non-root uid and gid the merge init container runs as (nobody, as in the image).
pub const MERGE_UID: i64 = 65534;

/// Size limit of the emptyDir the merge writes into (the Mozilla roots and truststore
/// take under 1 MiB).
pub const MERGE_SIZE_LIMIT: &str = "8Mi";
