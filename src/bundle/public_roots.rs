//! Public root certificates appended after the private CAs.

use std::path::PathBuf;

use super::cert::Certificate;
use super::error::{BundleError, Location, Origin};
use super::reader::{expand_paths, read_files};

/// Version of the `webpki-root-certs` crate whose Mozilla root store is
/// compiled in. Kept in step with Cargo.lock by a test.
pub const MOZILLA_ROOTS_VERSION: &str = "1.0.11";

/// Which public roots to add to `ca-bundle.crt` and the truststore.
///
/// # Examples
/// ```
/// use trust_inject::PublicRoots;
/// let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// assert_eq!(opts.public_roots, PublicRoots::Mozilla);
/// opts.public_roots = PublicRoots::File("testdata/pki/public-root.pem".into());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum PublicRoots {
    /// Private CAs only.
    #[default]
    None,
    /// The Mozilla root store compiled into the binary.
    Mozilla,
    /// A PEM bundle (or directory of them) such as a distribution's
    /// `ca-certificates.crt`.
    File(PathBuf),
}

/// The public root certificates selected by `roots`, deduplicated.
///
/// No warnings are produced for public roots (their expiry and flags are the
/// store maintainer's business), but private keys and other non-certificate
/// blocks are still refused.
pub fn public_roots(roots: &PublicRoots) -> Result<Vec<Certificate>, BundleError> {
    match roots {
        PublicRoots::None => Ok(Vec::new()),
        PublicRoots::Mozilla => mozilla_roots(),
        PublicRoots::File(path) => {
            let files = expand_paths(std::slice::from_ref(path))?;
            Ok(read_files(&files)?.certificates)
        }
    }
}

/// The compiled-in Mozilla roots, in the crate's order.
fn mozilla_roots() -> Result<Vec<Certificate>, BundleError> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .enumerate()
        .map(|(index, der)| {
            Certificate::from_der(
                der.as_ref(),
                Location {
                    origin: Origin::MozillaRoots,
                    block: index + 1,
                    line: None,
                },
            )
        })
        .collect()
}
