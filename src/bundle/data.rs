//! The content of the generated ConfigMap.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::cert::Certificate;
use super::error::BundleError;
use super::truststore::build_truststore;

/// Kubernetes' limit on the data of one ConfigMap, in bytes.
pub const CONFIGMAP_MAX_BYTES: usize = 1_048_576;

/// Everything the ConfigMap holds, ready to be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleData {
    /// The private CAs alone, as normalised PEM (64-column base64, LF line
    /// endings), one after another.
    pub ca_crt: String,
    /// The private CAs followed by the public roots not already among them.
    pub ca_bundle_crt: String,
    /// For each private CA, `<subject hash>.<n>` and its PEM, as in an OpenSSL
    /// hashed certificate directory (`c_rehash`); `n` counts CAs whose
    /// subjects share a hash, from 0, in input order.
    pub hashed: Vec<(String, String)>,
    /// PKCS#12 truststore (password `changeit`) with every certificate of
    /// `ca_bundle_crt` as a trusted entry. Deterministic for the same input.
    pub truststore_p12: Vec<u8>,
    /// Lowercase hex SHA-256 over `ca_crt` followed by `ca_bundle_crt` (PEM
    /// ends each certificate with its END line, so the concatenation is
    /// unambiguous). Changes whenever any key of the ConfigMap changes, since
    /// the truststore and the hashed entries derive from these two.
    pub sha256: String,
}

impl BundleData {
    /// Size the ConfigMap data takes: the text values plus the truststore
    /// counted as base64 (how it is carried in `binaryData`). Key names are
    /// not counted. Compare with [`CONFIGMAP_MAX_BYTES`].
    pub fn total_size(&self) -> usize {
        let text = self.ca_crt.len()
            + self.ca_bundle_crt.len()
            + self.hashed.iter().map(|(_, pem)| pem.len()).sum::<usize>();
        text + self.truststore_p12.len().div_ceil(3) * 4
    }
}

/// Builds the ConfigMap content from the private CAs and the public roots.
///
/// Both lists are deduplicated by fingerprint (first appearance wins; a
/// public root that is also a private CA is listed once, as a private CA).
/// Fails when `private` is empty.
pub fn build_bundle_data(
    private: &[Certificate],
    public: &[Certificate],
) -> Result<BundleData, BundleError> {
    let mut seen = HashSet::new();
    let private: Vec<&Certificate> = private
        .iter()
        .filter(|c| seen.insert(*c.fingerprint()))
        .collect();
    if private.is_empty() {
        return Err(BundleError::NoPrivateCertificates);
    }
    let public: Vec<&Certificate> = public
        .iter()
        .filter(|c| seen.insert(*c.fingerprint()))
        .collect();

    let private_pems: Vec<String> = private.iter().map(|c| c.to_pem()).collect();
    let ca_crt = private_pems.concat();
    let mut ca_bundle_crt = ca_crt.clone();
    for cert in &public {
        ca_bundle_crt.push_str(&cert.to_pem());
    }

    let mut per_hash: HashMap<&str, usize> = HashMap::new();
    let hashed = private
        .iter()
        .zip(private_pems)
        .map(|(cert, pem)| {
            let n = per_hash.entry(cert.subject_hash()).or_insert(0);
            let name = format!("{}.{}", cert.subject_hash(), n);
            *n += 1;
            (name, pem)
        })
        .collect();

    let all: Vec<&Certificate> = private.iter().chain(&public).copied().collect();
    let truststore_p12 = build_truststore(&all)?;

    let mut hasher = Sha256::new();
    hasher.update(ca_crt.as_bytes());
    hasher.update(ca_bundle_crt.as_bytes());
    let sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    Ok(BundleData {
        ca_crt,
        ca_bundle_crt,
        hashed,
        truststore_p12,
        sha256,
    })
}
