//! PKCS#12 truststore that Java's keytool lists as `trustedCertEntry`s.
//!
//! Layout (RFC 7292), as Java and OpenSSL read it:
//!
//! ```text
//! PFX { version 3,
//!       authSafe = data(AuthenticatedSafe [ data(SafeContents [ certBag... ]) ]),
//!       macData  = HMAC-SHA-256 with the PKCS#12 key derivation }
//! ```
//!
//! Each certBag carries a `friendlyName` (the alias) and Oracle's
//! trusted-key-usage attribute (OID 2.16.840.1.113894.746875.1.1 with value
//! anyExtendedKeyUsage); without the latter Java does not treat the bag as a
//! trusted certificate. The certificates are stored unencrypted: they are
//! public, and the password (`changeit`) is a well-known convention, not a
//! secret. The MAC salt is derived from the content (SHA-256 of a fixed
//! prefix and the AuthenticatedSafe) instead of being random, so the same
//! certificates always give the same bytes and re-running the tool changes
//! nothing.

use std::collections::HashSet;

use cms::content_info::ContentInfo;
use der::asn1::{BmpString, ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Encode};
use hmac::{Hmac, Mac};
use pkcs12::cert_type::CertBag;
use pkcs12::digest_info::DigestInfo;
use pkcs12::kdf::{Pkcs12KeyType, derive_key_utf8};
use pkcs12::mac_data::MacData;
use pkcs12::pfx::{Pfx, Version};
use pkcs12::safe_bag::SafeBag;
use sha2::{Digest, Sha256};
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::cert::Certificate;
use super::error::BundleError;

/// Password of the truststore, the Java convention.
pub const TRUSTSTORE_PASSWORD: &str = "changeit";

/// Iterations of the PKCS#12 MAC key derivation (Java's and OpenSSL's default).
const MAC_ITERATIONS: i32 = 10_000;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const FRIENDLY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.20");
const ORACLE_TRUSTED_KEY_USAGE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.113894.746875.1.1");
const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

/// Fixed prefix of the MAC salt derivation.
const SALT_CONTEXT: &[u8] = b"trust-inject truststore MAC salt v1\0";

fn err(e: impl std::fmt::Display) -> BundleError {
    BundleError::Truststore {
        reason: e.to_string(),
    }
}

/// Builds the truststore holding `certs` as trusted entries, in order.
pub(crate) fn build_truststore(certs: &[&Certificate]) -> Result<Vec<u8>, BundleError> {
    let aliases = aliases(certs);
    let bags = certs
        .iter()
        .zip(&aliases)
        .map(|(cert, alias)| cert_bag(cert, alias))
        .collect::<Result<Vec<SafeBag>, _>>()?;
    let safe_contents = bags.to_der().map_err(err)?;
    let authenticated_safe = vec![data_content_info(safe_contents)?];
    let auth_safe_der = authenticated_safe.to_der().map_err(err)?;

    let mut salt_hash = Sha256::new();
    salt_hash.update(SALT_CONTEXT);
    salt_hash.update(&auth_safe_der);
    let salt = salt_hash.finalize()[..16].to_vec();
    let key = derive_key_utf8::<Sha256>(
        TRUSTSTORE_PASSWORD,
        &salt,
        Pkcs12KeyType::Mac,
        MAC_ITERATIONS,
        32,
    )
    .map_err(err)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(err)?;
    mac.update(&auth_safe_der);
    let digest = mac.finalize().into_bytes().to_vec();

    let pfx = Pfx {
        version: Version::V3,
        auth_safe: data_content_info(auth_safe_der)?,
        mac_data: Some(MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierOwned {
                    oid: ID_SHA256,
                    parameters: Some(Any::null()),
                },
                digest: OctetString::new(digest).map_err(err)?,
            },
            mac_salt: OctetString::new(salt).map_err(err)?,
            iterations: MAC_ITERATIONS,
        }),
    };
    pfx.to_der().map_err(err)
}

/// A `data` ContentInfo wrapping `content` in an OCTET STRING.
fn data_content_info(content: Vec<u8>) -> Result<ContentInfo, BundleError> {
    let octets = OctetString::new(content).map_err(err)?;
    Ok(ContentInfo {
        content_type: ID_DATA,
        content: Any::encode_from(&octets).map_err(err)?,
    })
}

/// One certBag with its alias and the trusted-key-usage attribute.
fn cert_bag(cert: &Certificate, alias: &str) -> Result<SafeBag, BundleError> {
    let bag = CertBag {
        cert_id: pkcs12::PKCS_12_X509_CERT_OID,
        cert_value: OctetString::new(cert.der()).map_err(err)?,
    };
    let friendly_name = Attribute {
        oid: FRIENDLY_NAME,
        values: SetOfVec::try_from(vec![
            Any::encode_from(&BmpString::from_utf8(alias).map_err(err)?).map_err(err)?,
        ])
        .map_err(err)?,
    };
    let trusted = Attribute {
        oid: ORACLE_TRUSTED_KEY_USAGE,
        values: SetOfVec::try_from(vec![
            Any::encode_from(&ANY_EXTENDED_KEY_USAGE).map_err(err)?,
        ])
        .map_err(err)?,
    };
    Ok(SafeBag {
        bag_id: pkcs12::PKCS_12_CERT_BAG_OID,
        bag_value: bag.to_der().map_err(err)?,
        bag_attributes: Some(SetOfVec::try_from(vec![friendly_name, trusted]).map_err(err)?),
    })
}

/// Unique lower-case aliases: the subject's common name made safe, plus the
/// first 8 hex digits of the SHA-256 fingerprint. Java lower-cases PKCS#12
/// aliases, so uniqueness is checked on the lower-case form.
pub(crate) fn aliases(certs: &[&Certificate]) -> Vec<String> {
    let mut used = HashSet::new();
    certs
        .iter()
        .map(|cert| {
            let short: String = cert.fingerprint()[..4]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let base = format!("{}-{short}", alias_stem(cert.common_name()));
            let mut alias = base.clone();
            let mut n = 2;
            while !used.insert(alias.clone()) {
                alias = format!("{base}-{n}");
                n += 1;
            }
            alias
        })
        .collect()
}

/// The common name reduced to lower-case letters and digits (any script,
/// within the Basic Multilingual Plane so it fits a BMPString) separated by
/// single dashes, at most 48 characters; `ca` when nothing is left.
fn alias_stem(common_name: Option<&str>) -> String {
    let mut stem = String::new();
    let mut dash = false;
    for c in common_name
        .unwrap_or_default()
        .chars()
        .flat_map(char::to_lowercase)
    {
        if c.is_alphanumeric() && u32::from(c) <= 0xFFFF {
            if dash && !stem.is_empty() {
                stem.push('-');
            }
            dash = false;
            stem.push(c);
            if stem.chars().count() >= 48 {
                break;
            }
        } else {
            dash = true;
        }
    }
    if stem.is_empty() {
        "ca".to_string()
    } else {
        stem
    }
}

#[cfg(test)]
mod unit {
    use super::alias_stem;

    #[test]
    fn alias_stems() {
        assert_eq!(alias_stem(Some("My Corp Root CA")), "my-corp-root-ca");
        assert_eq!(alias_stem(Some("  --Ünïcödé  Root!! ")), "ünïcödé-root");
        assert_eq!(alias_stem(Some("🔒")), "ca");
        assert_eq!(alias_stem(None), "ca");
        assert_eq!(alias_stem(Some(&"x".repeat(100))).len(), 48);
    }
}
