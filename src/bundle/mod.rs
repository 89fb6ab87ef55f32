//! The CA bundle: reading CA certificate files, checking them, and building
//! the data the injected ConfigMap carries (`ca.crt`, `ca-bundle.crt`,
//! OpenSSL hashed names, a PKCS#12 truststore and a content hash).
//!
//! Reading is strict about what must never be published (private keys) and
//! about input that is not a certificate, and lenient about how PEM bundles
//! look in practice (CRLF, comments, duplicates, DER files).

mod cert;
mod data;
mod error;
mod public_roots;
mod reader;
mod subject_hash;
mod truststore;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::SystemTime;

pub use cert::{BundleWarning, Certificate, WarningKind};
pub use data::{BundleData, CONFIGMAP_MAX_BYTES, build_bundle_data};
pub use error::{BundleError, Location, Origin};
pub use public_roots::{MOZILLA_ROOTS_VERSION, PublicRoots, public_roots};
pub use truststore::TRUSTSTORE_PASSWORD;

/// The private CA certificates read from the command line, with the
/// warnings they raised.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// opts.bundle_files = vec!["testdata/pki/corp-root.pem".into(), "testdata/pki/corp-root.pem".into()];
/// let read: trust_inject::ReadBundle = opts.load_bundle()?;
/// assert_eq!((read.certificates.len(), read.duplicates.len()), (1, 1));
/// assert!(opts.bundle_hash.is_some()); // the pod-template annotation's value
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct ReadBundle {
    /// Distinct certificates, in order of first appearance.
    pub certificates: Vec<Certificate>,
    /// Copies of an earlier certificate that were dropped.
    pub duplicates: Vec<Location>,
    /// Non-fatal findings; the caller turns them into errors under `--strict`.
    pub warnings: Vec<BundleWarning>,
}

/// Reads the private CA files (see `read_ca_files_at`), checking validity
/// against the current time.
pub fn read_ca_files(paths: &[PathBuf]) -> Result<ReadBundle, BundleError> {
    read_ca_files_at(paths, SystemTime::now())
}

/// Reads the private CA files and checks them at time `now`.
///
/// Each path is a file or a directory; a directory stands for every `*.pem`
/// and `*.crt` file in it, sorted by name. A file is either PEM (any number
/// of blocks, CRLF or LF, text between blocks) or one DER certificate.
/// Certificates are deduplicated by SHA-256 fingerprint, keeping the first.
///
/// Refused with an error naming the file, block and line: private keys,
/// blocks that are not certificates, undecodable base64, certificates that
/// do not parse, files without any certificate.
pub fn read_ca_files_at(paths: &[PathBuf], now: SystemTime) -> Result<ReadBundle, BundleError> {
    let files = reader::expand_paths(paths)?;
    let reader::ReadCerts {
        certificates,
        duplicates,
    } = reader::read_files(&files)?;
    let warnings = certificates
        .iter()
        .flat_map(|cert| cert.warnings_at(now))
        .collect();
    Ok(ReadBundle {
        certificates,
        duplicates,
        warnings,
    })
}
