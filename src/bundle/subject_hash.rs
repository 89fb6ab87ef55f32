//! OpenSSL's subject-name hash (`openssl x509 -subject_hash`), computed natively.
//!
//! OpenSSL hashes a *canonical* form of the name rather than its encoding as
//! found in the certificate, so that names differing only in string type, case
//! or spacing land on the same `<hash>.0` file in a hashed certificate
//! directory. The canonical form is built like this:
//!
//! * each attribute value whose type is one of UTF8String, BMPString,
//!   UniversalString, PrintableString, T61String, IA5String or VisibleString is
//!   converted to UTF-8 (the single-byte types as Latin-1), leading and
//!   trailing whitespace is removed, inner runs of whitespace become one space,
//!   ASCII letters are lower-cased, and the result is encoded as UTF8String;
//!   values of any other type are kept as they are;
//! * each RDN is DER-encoded as a SET OF its canonical attributes (sorted by
//!   their encodings, as DER requires);
//! * the RDN encodings are concatenated, *without* the outer SEQUENCE header.
//!
//! The hash is the first four bytes of SHA-1 over that, read as a
//! little-endian `u32`, printed as 8 lowercase hex digits.

use der::{Any, Encode, Header, Length, Tag};
use sha1::{Digest, Sha1};
use x509_parser::der_parser::asn1_rs::{Class, Tag as ParsedTag};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// Computes OpenSSL's subject hash of `name` as 8 lowercase hex digits.
///
/// Fails where OpenSSL itself fails to canonicalise the name (for example a
/// UTF8String that is not valid UTF-8), with a description of the problem.
pub(crate) fn openssl_name_hash(name: &X509Name<'_>) -> Result<String, String> {
    let canonical = canonical_encoding(name)?;
    let digest = Sha1::digest(&canonical);
    let mut first = [0u8; 4];
    first.copy_from_slice(&digest[..4]);
    Ok(format!("{:08x}", u32::from_le_bytes(first)))
}

/// The canonical encoding OpenSSL hashes (see the module documentation).
pub(crate) fn canonical_encoding(name: &X509Name<'_>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for rdn in name.iter_rdn() {
        let mut avas = rdn
            .iter()
            .map(canonical_ava)
            .collect::<Result<Vec<_>, _>>()?;
        // DER orders the members of a SET OF by their encodings, as OpenSSL
        // does: byte-wise on the common prefix, then the shorter one first.
        avas.sort_by(|a, b| {
            let common = a.len().min(b.len());
            a[..common].cmp(&b[..common]).then(a.len().cmp(&b.len()))
        });
        let content: Vec<u8> = avas.concat();
        let header = Header::new(Tag::Set, content.len()).map_err(|e| e.to_string())?;
        header.encode_to_vec(&mut out).map_err(|e| e.to_string())?;
        out.extend_from_slice(&content);
    }
    Ok(out)
}

/// DER encoding of one canonical AttributeTypeAndValue.
fn canonical_ava(ava: &AttributeTypeAndValue<'_>) -> Result<Vec<u8>, String> {
    let oid = Any::new(Tag::ObjectIdentifier, ava.attr_type().as_bytes())
        .and_then(|any| any.to_der())
        .map_err(|e| format!("attribute type: {e}"))?;
    let value = ava.attr_value();
    let value_der = match canonical_text(value.header.class(), value.tag(), value.data)? {
        Some(text) => Any::new(Tag::Utf8String, text)
            .and_then(|any| any.to_der())
            .map_err(|e| format!("attribute value: {e}"))?,
        None => {
            // Not a string type OpenSSL canonicalises: keep the value as encoded.
            let raw_tag = value
                .header
                .raw_tag()
                .ok_or_else(|| "attribute value without a tag".to_string())?;
            let mut der = raw_tag.to_vec();
            Length::try_from(value.data.len())
                .and_then(|len| len.encode_to_vec(&mut der))
                .map_err(|e| format!("attribute value: {e}"))?;
            der.extend_from_slice(value.data);
            der
        }
    };
    let mut content = oid;
    content.extend_from_slice(&value_der);
    let mut out = Vec::with_capacity(content.len() + 4);
    Header::new(Tag::Sequence, content.len())
        .and_then(|header| header.encode_to_vec(&mut out))
        .map_err(|e| e.to_string())?;
    out.extend_from_slice(&content);
    Ok(out)
}

/// For the string types OpenSSL canonicalises, the canonical UTF-8 text;
/// `None` for every other type.
fn canonical_text(class: Class, tag: ParsedTag, data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    if class != Class::Universal {
        return Ok(None);
    }
    let utf8: Vec<u8> = match tag {
        ParsedTag::Utf8String => {
            std::str::from_utf8(data).map_err(|e| format!("UTF8String is not valid UTF-8: {e}"))?;
            data.to_vec()
        }
        // Single-byte string types: every byte is one character (Latin-1).
        ParsedTag::PrintableString
        | ParsedTag::T61String
        | ParsedTag::Ia5String
        | ParsedTag::VisibleString => data
            .iter()
            .map(|&b| char::from(b))
            .collect::<String>()
            .into_bytes(),
        ParsedTag::BmpString => {
            if !data.len().is_multiple_of(2) {
                return Err("BMPString with an odd number of bytes".to_string());
            }
            let mut text = String::with_capacity(data.len());
            for pair in data.chunks_exact(2) {
                let unit = u32::from(u16::from_be_bytes([pair[0], pair[1]]));
                let c = char::from_u32(unit)
                    .ok_or_else(|| format!("BMPString holds an invalid character U+{unit:04X}"))?;
                text.push(c);
            }
            text.into_bytes()
        }
        ParsedTag::UniversalString => {
            if !data.len().is_multiple_of(4) {
                return Err("UniversalString length is not a multiple of 4".to_string());
            }
            let mut text = String::with_capacity(data.len());
            for quad in data.chunks_exact(4) {
                let code = u32::from_be_bytes([quad[0], quad[1], quad[2], quad[3]]);
                let c = char::from_u32(code).ok_or_else(|| {
                    format!("UniversalString holds an invalid character U+{code:04X}")
                })?;
                text.push(c);
            }
            text.into_bytes()
        }
        _ => return Ok(None),
    };
    Ok(Some(fold(&utf8)))
}

/// OpenSSL's whitespace set (`isspace` in the C locale).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Trims whitespace, collapses inner runs of it to one space and lower-cases
/// ASCII letters; bytes outside ASCII are copied unchanged.
fn fold(utf8: &[u8]) -> Vec<u8> {
    let start = utf8
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(utf8.len());
    let end = utf8
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |last| last + 1);
    let trimmed = utf8.get(start..end).unwrap_or_default();
    let mut out = Vec::with_capacity(trimmed.len());
    let mut in_space = false;
    for &b in trimmed {
        if is_space(b) {
            if !in_space {
                out.push(b' ');
            }
            in_space = true;
        } else {
            out.push(b.to_ascii_lowercase());
            in_space = false;
        }
    }
    out
}

#[cfg(test)]
mod unit {
    use super::fold;

    #[test]
    fn folds_space_and_case() {
        assert_eq!(fold(b"  My \t\r\n CORP  Root "), b"my corp root".to_vec());
        assert_eq!(fold(b"   "), Vec::<u8>::new());
        assert_eq!(fold(b""), Vec::<u8>::new());
        assert_eq!(fold("Ünï  CÖDÉ".as_bytes()), "Ünï cÖdÉ".as_bytes().to_vec());
    }
}
