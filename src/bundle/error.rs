//! Error type of the bundle module.

use std::fmt;
use std::path::PathBuf;

/// Where a certificate (or a refused block) came from.
///
/// # Examples
/// ```
/// let origin = trust_inject::Origin::File("ca.pem".into());
/// assert_eq!(origin.to_string(), "ca.pem");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A file given on the command line, or found in a directory given there.
    File(PathBuf),
    /// The Mozilla root store compiled into the binary.
    MozillaRoots,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::MozillaRoots => write!(
                f,
                "built-in Mozilla root store (webpki-root-certs {})",
                super::MOZILLA_ROOTS_VERSION
            ),
        }
    }
}

/// Position of a block inside its origin: the 1-based block number and,
/// for PEM input, the 1-based line of its `-----BEGIN` marker.
///
/// # Examples
/// ```
/// use trust_inject::{Location, Origin};
/// let at = Location { origin: Origin::File("ca.pem".into()), block: 2, line: Some(31) };
/// assert_eq!(at.to_string(), "ca.pem: block 2 (line 31)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// File (or built-in store) the block was read from.
    pub origin: Origin,
    /// 1-based number of the block within the origin (every PEM block counts,
    /// whatever its type).
    pub block: usize,
    /// 1-based line of the `-----BEGIN` marker; `None` for DER input and
    /// for the built-in store.
    pub line: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}: block {} (line {})", self.origin, self.block, line),
            None => write!(f, "{}: block {}", self.origin, self.block),
        }
    }
}

/// Everything that makes reading CA files or building the bundle fail.
///
/// # Examples
/// ```
/// let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// opts.bundle_files = vec!["testdata/pki/test-only-key.pem".into()];
/// let err = opts.load_bundle().expect_err("a private key is refused");
/// assert!(matches!(err, trust_inject::BundleError::PrivateKey { .. }));
/// assert!(err.to_string().contains("test-only-key.pem"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A directory was given but holds no `*.pem` or `*.crt` file.
    #[error("{}: the directory holds no *.pem or *.crt file", path.display())]
    EmptyDirectory {
        /// The directory.
        path: PathBuf,
    },

    /// A file holds no certificate at all.
    #[error(
        "{}: no certificate found (the file is empty, or holds neither a PEM CERTIFICATE block nor a DER certificate)",
        path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },

    /// A private key was found where CA certificates were expected.
    #[error(
        "{location}: this block is a private key ({kind}), not a certificate. A private key must never end up \
         in a ConfigMap: the wrong file was passed; give the CA certificate (BEGIN CERTIFICATE) \
         instead, and keep the key where it was"
    )]
    PrivateKey {
        /// Where the key was found.
        location: Location,
        /// The PEM label (e.g. `RSA PRIVATE KEY`), or a description for DER input.
        kind: String,
    },

    /// A PEM block of another type (certificate request, public key, ...).
    #[error("{location}: a {label} block is not a certificate{hint}")]
    NotACertificate {
        /// Where the block was found.
        location: Location,
        /// The PEM label.
        label: String,
        /// Extra advice, empty or starting with "; ".
        hint: String,
    },

    /// The PEM framing is broken (missing or mismatched END line, marker not
    /// on its own line).
    #[error("{location}: malformed PEM block: {reason}")]
    MalformedPem {
        /// Where the block starts.
        location: Location,
        /// What is wrong.
        reason: String,
    },

    /// The body of a PEM block is not valid base64.
    #[error("{location}: the block cannot be decoded (invalid base64): {reason}")]
    BadBase64 {
        /// Where the block starts.
        location: Location,
        /// The decoder's message.
        reason: String,
    },

    /// The block decodes but is not a valid X.509 certificate.
    #[error("{location}: not a valid X.509 certificate: {reason}")]
    BadCertificate {
        /// Where the block starts.
        location: Location,
        /// The parser's message.
        reason: String,
    },

    /// `build_bundle_data` was called without any private CA.
    #[error("no private CA certificate was given")]
    NoPrivateCertificates,

    /// The PKCS#12 truststore could not be encoded.
    #[error("cannot encode the PKCS#12 truststore: {reason}")]
    Truststore {
        /// The encoder's message.
        reason: String,
    },

    /// The generated object would exceed Kubernetes' object size limit.
    #[error(
        "the generated bundle holds {size} bytes, over Kubernetes' limit of {limit} bytes for one \
         object; use --public-roots none or a smaller --public-roots FILE, or fewer CA files"
    )]
    TooLarge {
        /// Bytes the data would take.
        size: usize,
        /// The limit.
        limit: usize,
    },
}
