//! Reading CA files: PEM bundles as found in the wild, and DER files.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use x509_parser::der_parser::ber::BerObjectContent;
use x509_parser::der_parser::parse_der;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::cert::Certificate;
use super::error::{BundleError, Location, Origin};

/// Certificates read from one or more files, deduplicated.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReadCerts {
    /// Distinct certificates in order of first appearance.
    pub(crate) certificates: Vec<Certificate>,
    /// Copies of an earlier certificate that were dropped, with where they
    /// were found.
    pub(crate) duplicates: Vec<Location>,
}

/// Expands the given paths: a file stands for itself, a directory for every
/// `*.pem` and `*.crt` file in it (not recursive), sorted by name.
pub(crate) fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, BundleError> {
    let mut files = Vec::new();
    for path in paths {
        let io = |source| BundleError::Io {
            path: path.clone(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut found = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io)? {
            let entry = entry.map_err(io)?;
            let file = entry.path();
            let wanted = file
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| {
                    ext.eq_ignore_ascii_case("pem") || ext.eq_ignore_ascii_case("crt")
                });
            // metadata() follows symlinks, as mounted Secrets and ConfigMaps use them.
            if wanted && std::fs::metadata(&file).is_ok_and(|m| m.is_file()) {
                found.push(file);
            }
        }
        if found.is_empty() {
            return Err(BundleError::EmptyDirectory { path: path.clone() });
        }
        found.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        files.extend(found);
    }
    Ok(files)
}

/// Reads every file, refusing anything that is not a certificate, and
/// deduplicates by SHA-256 fingerprint keeping the first appearance.
pub(crate) fn read_files(files: &[PathBuf]) -> Result<ReadCerts, BundleError> {
    let mut bundle = ReadCerts::default();
    let mut seen = HashSet::new();
    for file in files {
        let bytes = std::fs::read(file).map_err(|source| BundleError::Io {
            path: file.clone(),
            source,
        })?;
        for cert in parse_file(file, &bytes)? {
            if seen.insert(*cert.fingerprint()) {
                bundle.certificates.push(cert);
            } else {
                bundle.duplicates.push(cert.location().clone());
            }
        }
    }
    Ok(bundle)
}

/// One PEM block as located in the text.
struct Block {
    label: String,
    number: usize,
    line: usize,
    body: Vec<String>,
}

/// Parses the content of one file: a single DER certificate, or PEM text
/// with one or more CERTIFICATE blocks and anything between them.
pub(crate) fn parse_file(path: &Path, bytes: &[u8]) -> Result<Vec<Certificate>, BundleError> {
    let origin = Origin::File(path.to_path_buf());
    let der_location = Location {
        origin: origin.clone(),
        block: 1,
        line: None,
    };
    if let Ok((rest, _)) = X509Certificate::from_der(bytes)
        && rest.is_empty()
    {
        return Ok(vec![Certificate::from_der(bytes, der_location)?]);
    }
    let blocks = find_blocks(&origin, bytes)?;
    if blocks.is_empty() {
        if let Some(kind) = der_private_key_kind(bytes) {
            return Err(BundleError::PrivateKey {
                location: der_location,
                kind: kind.to_string(),
            });
        }
        if bytes.first() == Some(&0x30) {
            let reason = match X509Certificate::from_der(bytes) {
                Ok((rest, _)) => format!("{} unexpected byte(s) after the certificate", rest.len()),
                Err(e) => format!("not PEM, and not a DER certificate: {e}"),
            };
            return Err(BundleError::BadCertificate {
                location: der_location,
                reason,
            });
        }
        return Err(BundleError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    // A private key is the worst thing to publish: report it before any
    // other problem of the file.
    if let Some(key) = blocks.iter().find(|b| is_private_key(&b.label)) {
        return Err(BundleError::PrivateKey {
            location: Location {
                origin,
                block: key.number,
                line: Some(key.line),
            },
            kind: key.label.clone(),
        });
    }
    blocks
        .into_iter()
        .map(|block| decode_block(&origin, block))
        .collect()
}

/// Finds the PEM blocks of a text, with their 1-based numbers and lines.
fn find_blocks(origin: &Origin, bytes: &[u8]) -> Result<Vec<Block>, BundleError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let text = String::from_utf8_lossy(raw.trim_ascii());
        match open.as_mut() {
            None => open = begin_block(origin, &text, blocks.len() + 1, index + 1)?,
            Some(block) => {
                if block_line(origin, block, text, index + 1)?
                    && let Some(done) = open.take()
                {
                    blocks.push(done);
                }
            }
        }
    }
    if let Some(block) = open {
        return Err(malformed(
            origin,
            &block,
            format!("no -----END {}----- line", block.label),
        ));
    }
    Ok(blocks)
}

/// The block that line `line` (its `text` trimmed) opens, outside a block: number
/// `number`, or none when the line is no `-----BEGIN ...-----` marker.
fn begin_block(
    origin: &Origin,
    text: &str,
    number: usize,
    line: usize,
) -> Result<Option<Block>, BundleError> {
    let Some(pos) = text.find("-----BEGIN ") else {
        return Ok(None);
    };
    let label = text
        .get(pos + "-----BEGIN ".len()..)
        .and_then(|rest| rest.strip_suffix("-----"))
        .filter(|label| pos == 0 && !label.contains("-----"));
    let Some(label) = label else {
        return Err(BundleError::MalformedPem {
            location: Location {
                origin: origin.clone(),
                block: number,
                line: Some(line),
            },
            reason: "the -----BEGIN ...----- marker must stand alone on its line".to_string(),
        });
    };
    Ok(Some(Block {
        label: label.to_string(),
        number,
        line,
        body: Vec::new(),
    }))
}

/// Takes line `line` (its `text` trimmed) inside the open `block`: whether it is the
/// block's `-----END ...-----` marker; any other line is added to the body.
fn block_line(
    origin: &Origin,
    block: &mut Block,
    text: std::borrow::Cow<'_, str>,
    line: usize,
) -> Result<bool, BundleError> {
    if let Some(pos) = text.find("-----END ") {
        let label = text
            .get(pos + "-----END ".len()..)
            .and_then(|rest| rest.strip_suffix("-----"));
        if pos != 0 || label != Some(block.label.as_str()) {
            return Err(malformed(
                origin,
                block,
                format!(
                    "line {line} does not close the block: expected -----END {}-----",
                    block.label
                ),
            ));
        }
        return Ok(true);
    }
    if text.contains("-----BEGIN ") {
        return Err(malformed(
            origin,
            block,
            format!(
                "no -----END {}----- line before the next block at line {line}",
                block.label,
            ),
        ));
    }
    block.body.push(text.into_owned());
    Ok(false)
}

/// The error for a malformed `block`, cited at its `-----BEGIN` line.
fn malformed(origin: &Origin, block: &Block, reason: String) -> BundleError {
    BundleError::MalformedPem {
        location: Location {
            origin: origin.clone(),
            block: block.number,
            line: Some(block.line),
        },
        reason,
    }
}

/// Whether a PEM label names a private key (`PRIVATE KEY`, `RSA PRIVATE KEY`,
/// `ENCRYPTED PRIVATE KEY`, `OPENSSH PRIVATE KEY`, ...).
fn is_private_key(label: &str) -> bool {
    label.ends_with("PRIVATE KEY")
}

/// Turns one PEM block into a certificate, or refuses it.
fn decode_block(origin: &Origin, block: Block) -> Result<Certificate, BundleError> {
    let location = Location {
        origin: origin.clone(),
        block: block.number,
        line: Some(block.line),
    };
    let label = block.label.as_str();
    if is_private_key(label) {
        return Err(BundleError::PrivateKey {
            location,
            kind: label.to_string(),
        });
    }
    match label {
        "CERTIFICATE" | "X509 CERTIFICATE" => {}
        "TRUSTED CERTIFICATE" => {
            return Err(BundleError::NotACertificate {
                location,
                label: label.to_string(),
                hint: "; it is OpenSSL's certificate-with-trust-settings format, convert it with \
                       `openssl x509 -in FILE -out ca.crt` (this drops the trust settings)"
                    .to_string(),
            });
        }
        "PKCS7" | "PKCS #7 SIGNED DATA" => {
            return Err(BundleError::NotACertificate {
                location,
                label: label.to_string(),
                hint: "; extract the certificates with `openssl pkcs7 -in FILE -print_certs -out ca.crt`"
                    .to_string(),
            });
        }
        _ => {
            return Err(BundleError::NotACertificate {
                location,
                label: label.to_string(),
                hint: String::new(),
            });
        }
    }
    let text = format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        block.body.join("\n")
    );
    let decoded = pem::parse(text).map_err(|e| BundleError::BadBase64 {
        location: location.clone(),
        reason: e.to_string(),
    })?;
    if decoded.contents().is_empty() {
        return Err(BundleError::BadCertificate {
            location,
            reason: "the block is empty".to_string(),
        });
    }
    Certificate::from_der(decoded.contents(), location)
}

/// Recognises the DER private key structures (PKCS#8, encrypted PKCS#8,
/// PKCS#1 RSA, SEC1 EC, DSA) by their shape.
fn der_private_key_kind(bytes: &[u8]) -> Option<&'static str> {
    let (rest, object) = parse_der(bytes).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let BerObjectContent::Sequence(items) = &object.content else {
        return None;
    };
    let first = items.first()?;
    let second = items.get(1)?;
    match (&first.content, &second.content) {
        // EncryptedPrivateKeyInfo: { AlgorithmIdentifier, OCTET STRING }
        (BerObjectContent::Sequence(_), BerObjectContent::OctetString(_)) if items.len() == 2 => {
            Some("DER-encoded encrypted private key")
        }
        // PrivateKeyInfo { version, AlgorithmIdentifier, OCTET STRING, ... }
        (BerObjectContent::Integer(_), BerObjectContent::Sequence(_)) => {
            Some("DER-encoded PKCS#8 private key")
        }
        // ECPrivateKey { version 1, OCTET STRING, ... }
        (BerObjectContent::Integer(_), BerObjectContent::OctetString(_)) => {
            Some("DER-encoded EC private key")
        }
        // RSAPrivateKey / DSA: { version 0, INTEGER, INTEGER, ... }
        (BerObjectContent::Integer(_), BerObjectContent::Integer(_)) if items.len() >= 6 => {
            Some("DER-encoded RSA or DSA private key")
        }
        _ => None,
    }
}
