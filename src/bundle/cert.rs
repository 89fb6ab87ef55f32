//! One parsed certificate and the checks made on it.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::time::ASN1Time;

use super::error::{BundleError, Location};
use super::subject_hash::openssl_name_hash;

/// A certificate read from a CA file or a root store, with what the tool
/// needs to know about it. Built only from DER that parsed as X.509.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// opts.bundle_files = vec!["testdata/pki/corp-root.pem".into()];
/// let read = opts.load_bundle()?;
/// let cert: &trust_inject::Certificate = &read.certificates[0];
/// assert!(!cert.subject().is_empty());
/// assert_eq!(cert.fingerprint_sha256().len(), 64 + 31); // colon-separated hex
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    subject: String,
    common_name: Option<String>,
    issuer: String,
    fingerprint: [u8; 32],
    subject_hash: String,
    not_before: i64,
    not_after: i64,
    is_ca: bool,
    weak_signature: Option<&'static str>,
    rsa_bits: Option<usize>,
    location: Location,
}

/// What a [`BundleWarning`] is about.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use trust_inject::WarningKind;
/// let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// opts.bundle_files = vec!["testdata/pki/not-a-ca.pem".into()];
/// let read = opts.load_bundle()?;
/// assert!(read.warnings.iter().any(|w| w.kind == WarningKind::NotCa));
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// No basicConstraints extension with CA:TRUE.
    NotCa,
    /// The certificate's notAfter is in the past.
    Expired,
    /// The certificate's notBefore is in the future.
    NotYetValid,
    /// Signed with SHA-1 or MD5 (or MD2).
    WeakSignature,
    /// RSA key shorter than 2048 bits.
    WeakKey,
}

/// A problem that does not stop the tool unless the caller asks for strict
/// mode.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// opts.bundle_files = vec!["testdata/pki/not-a-ca.pem".into()];
/// let read = opts.load_bundle()?;
/// let w: &trust_inject::BundleWarning = &read.warnings[0];
/// assert_eq!((w.block, w.line), (1, Some(1)));
/// assert!(w.to_string().contains("not-a-ca.pem"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleWarning {
    /// Where the certificate came from.
    pub origin: super::Origin,
    /// 1-based block number in that origin.
    pub block: usize,
    /// 1-based line of the block's BEGIN marker (PEM input only).
    pub line: Option<usize>,
    /// Subject of the certificate.
    pub subject: String,
    /// Which check failed.
    pub kind: WarningKind,
    /// A sentence for the user.
    pub message: String,
}

impl std::fmt::Display for BundleWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let location = Location {
            origin: self.origin.clone(),
            block: self.block,
            line: self.line,
        };
        write!(f, "{location}: {} ({})", self.message, self.subject)
    }
}

/// Signature algorithms considered weak, by OID.
const WEAK_SIGNATURES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.2", "MD2"),
    ("1.2.840.113549.1.1.4", "MD5"),
    ("1.2.840.113549.1.1.5", "SHA-1"),
    ("1.3.14.3.2.29", "SHA-1"),
    ("1.2.840.10045.4.1", "SHA-1"),
    ("1.2.840.10040.4.3", "SHA-1"),
];

/// Minimum RSA modulus size not warned about.
const MIN_RSA_BITS: usize = 2048;

impl Certificate {
    /// Parses one DER certificate. The whole input must be the certificate:
    /// trailing bytes are refused.
    pub(crate) fn from_der(der: &[u8], location: Location) -> Result<Self, BundleError> {
        let bad = |reason: String| BundleError::BadCertificate {
            location: location.clone(),
            reason,
        };
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
        if !rest.is_empty() {
            return Err(bad(format!(
                "{} unexpected byte(s) after the certificate",
                rest.len()
            )));
        }
        let subject_hash =
            openssl_name_hash(cert.subject()).map_err(|e| bad(format!("subject name: {e}")))?;
        let is_ca = cert
            .basic_constraints()
            .map_err(|e| bad(format!("basicConstraints: {e}")))?
            .is_some_and(|bc| bc.value.ca);
        let oid = cert.signature_algorithm.algorithm.to_id_string();
        let weak_signature = WEAK_SIGNATURES
            .iter()
            .find(|(weak, _)| *weak == oid)
            .map(|(_, name)| *name);
        let rsa_bits = match cert.public_key().parsed() {
            Ok(PublicKey::RSA(rsa)) => Some(bit_length(rsa.modulus)),
            _ => None,
        };
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string);
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(&Sha256::digest(der));
        Ok(Certificate {
            der: der.to_vec(),
            subject: cert.subject().to_string(),
            common_name,
            issuer: cert.issuer().to_string(),
            fingerprint,
            subject_hash,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            is_ca,
            weak_signature,
            rsa_bits,
            location,
        })
    }

    /// The DER encoding, as read.
    pub(crate) fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject as a one-line string (`CN=..., O=...`, in the order of the
    /// certificate).
    ///
    /// # Examples
    /// ```
    /// # let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// # opts.bundle_files = vec!["testdata/pki/corp-root.pem".into()];
    /// # let read = opts.load_bundle().expect("the test CA reads");
    /// let cert = &read.certificates[0];
    /// assert_eq!(cert.subject(), "CN=Test Corp Root CA, O=Test Corp");
    /// ```
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The first common name of the subject, when it is a plain string.
    pub(crate) fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// The issuer as a one-line string.
    ///
    /// # Examples
    /// ```
    /// # let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// # opts.bundle_files = vec!["testdata/pki/corp-root.pem".into()];
    /// # let read = opts.load_bundle().expect("the test CA reads");
    /// let cert = &read.certificates[0];
    /// // The test root signed itself.
    /// assert_eq!(cert.issuer(), cert.subject());
    /// ```
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// SHA-256 of the DER encoding.
    pub(crate) fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it:
    /// uppercase hex pairs separated by colons.
    ///
    /// # Examples
    /// ```
    /// # let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// # opts.bundle_files = vec!["testdata/pki/corp-root.pem".into()];
    /// # let read = opts.load_bundle().expect("the test CA reads");
    /// let cert = &read.certificates[0];
    /// let f = cert.fingerprint_sha256();
    /// assert_eq!(f.split(':').count(), 32);
    /// assert!(f.split(':').all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())));
    /// ```
    pub fn fingerprint_sha256(&self) -> String {
        self.fingerprint
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// OpenSSL's subject-name hash (`openssl x509 -subject_hash`): 8
    /// lowercase hex digits.
    pub(crate) fn subject_hash(&self) -> &str {
        &self.subject_hash
    }

    /// notBefore as RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`).
    pub(crate) fn not_before(&self) -> String {
        rfc3339(self.not_before)
    }

    /// notAfter as RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`).
    ///
    /// # Examples
    /// ```
    /// # let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// # opts.bundle_files = vec!["testdata/pki/corp-root.pem".into()];
    /// # let read = opts.load_bundle().expect("the test CA reads");
    /// let cert = &read.certificates[0];
    /// assert_eq!(cert.not_after(), "2046-11-22T22:12:34Z");
    /// ```
    pub fn not_after(&self) -> String {
        rfc3339(self.not_after)
    }

    /// notAfter as seconds since the Unix epoch.
    ///
    /// # Examples
    /// ```
    /// # let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// # opts.bundle_files = vec!["testdata/pki/corp-root.pem".into()];
    /// # let read = opts.load_bundle().expect("the test CA reads");
    /// let cert = &read.certificates[0];
    /// assert_eq!(cert.not_after_unix(), 2_426_537_554); // 2046-11-22T22:12:34Z
    /// ```
    pub fn not_after_unix(&self) -> i64 {
        self.not_after
    }

    /// Whether basicConstraints says CA:TRUE.
    ///
    /// # Examples
    /// ```
    /// # let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// # opts.bundle_files = vec!["testdata/pki/corp-root.pem".into()];
    /// # let read = opts.load_bundle().expect("the test CA reads");
    /// let cert = &read.certificates[0];
    /// assert!(cert.is_ca());
    /// ```
    pub fn is_ca(&self) -> bool {
        self.is_ca
    }

    /// Where the certificate was read.
    ///
    /// # Examples
    /// ```
    /// # let mut opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// # opts.bundle_files = vec!["testdata/pki/corp-root.pem".into()];
    /// # let read = opts.load_bundle().expect("the test CA reads");
    /// let cert = &read.certificates[0];
    /// assert_eq!(cert.location().to_string(), "testdata/pki/corp-root.pem: block 1 (line 1)");
    /// ```
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The certificate as normalised PEM: 64-column base64, LF line endings,
    /// ending with a newline.
    pub(crate) fn to_pem(&self) -> String {
        let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
        pem::encode_config(&pem::Pem::new("CERTIFICATE", self.der.as_slice()), config)
    }

    /// The warnings this certificate deserves as a private CA at time `now`.
    pub(crate) fn warnings_at(&self, now: SystemTime) -> Vec<BundleWarning> {
        let now = unix_seconds(now);
        let mut found = Vec::new();
        let mut warn = |kind: WarningKind, message: String| {
            found.push(BundleWarning {
                origin: self.location.origin.clone(),
                block: self.location.block,
                line: self.location.line,
                subject: self.subject.clone(),
                kind,
                message,
            });
        };
        if !self.is_ca {
            warn(
                WarningKind::NotCa,
                "not a CA certificate (no basicConstraints CA:TRUE); clients will not accept it as an issuer".to_string(),
            );
        }
        if now > self.not_after {
            warn(
                WarningKind::Expired,
                format!("expired on {}", self.not_after()),
            );
        }
        if now < self.not_before {
            warn(
                WarningKind::NotYetValid,
                format!("not valid before {}", self.not_before()),
            );
        }
        if let Some(algorithm) = self.weak_signature {
            warn(
                WarningKind::WeakSignature,
                format!(
                    "signed with {algorithm}, which current clients reject in certificate chains (a trust anchor's own signature is not checked, an intermediate's is)"
                ),
            );
        }
        if let Some(bits) = self.rsa_bits.filter(|bits| *bits < MIN_RSA_BITS) {
            warn(
                WarningKind::WeakKey,
                format!(
                    "RSA key of {bits} bits, under the {MIN_RSA_BITS} bits current clients require"
                ),
            );
        }
        found
    }
}

/// Number of significant bits of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    let significant = bytes
        .iter()
        .position(|&b| b != 0)
        .and_then(|first| bytes.get(first..))
        .unwrap_or_default();
    match significant.first() {
        Some(&top) => significant.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

/// Seconds since the Unix epoch, negative before it.
pub(crate) fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Formats Unix seconds as RFC 3339 in UTC.
fn rfc3339(seconds: i64) -> String {
    match ASN1Time::from_timestamp(seconds) {
        Ok(time) => {
            let dt = time.to_datetime();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                dt.year(),
                u8::from(dt.month()),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second()
            )
        }
        // Not reachable for times read from a certificate.
        Err(_) => format!("@{seconds}"),
    }
}

#[cfg(test)]
mod unit {
    use super::{bit_length, rfc3339};

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
