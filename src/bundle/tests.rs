//! Tests of the bundle module, several checked against the `openssl` and
//! `keytool` command-line tools. Test certificates are generated here, with
//! rcgen or the openssl CLI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::string::{BmpString, Ia5String, PrintableString, TeletexString, UniversalString};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use super::*;

// ---------------------------------------------------------------- test utilities

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "trust-inject-bundle-test-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            nanos
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, content).expect("write test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn install_hint(tool: &str) -> &'static str {
    match tool {
        "openssl" => {
            "install it with `apt-get install openssl` (Debian/Ubuntu) or your system's package manager"
        }
        "keytool" => {
            "install a Java 17 runtime, e.g. `apt-get install openjdk-17-jre-headless` (Debian/Ubuntu), and make sure `keytool` is on PATH"
        }
        _ => "install it and make sure it is on PATH",
    }
}

/// Runs an external tool; a missing tool fails the test with install advice.
fn run_tool(tool: &str, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "this test needs `{tool}`, which could not be run ({e}): {}",
                install_hint(tool)
            )
        })
}

/// Runs a tool and requires success; returns stdout.
fn run_ok(tool: &str, args: &[&str]) -> String {
    let output = run_tool(tool, args);
    assert!(
        output.status.success(),
        "`{tool} {}` failed: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn s(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// A self-signed CA made with rcgen.
struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
    der: Vec<u8>,
}

fn dn_cn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

fn make_cert(dn: DistinguishedName, ca: bool) -> TestCa {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = dn;
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
    }
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("self-signed");
    TestCa {
        pem: cert.pem(),
        der: cert.der().to_vec(),
        params,
        key,
    }
}

fn make_ca(cn: &str) -> TestCa {
    make_cert(dn_cn(cn), true)
}

/// A leaf for `leaf.example.test` issued by `ca`.
fn make_leaf(ca: &TestCa) -> String {
    let mut params =
        CertificateParams::new(vec!["leaf.example.test".to_string()]).expect("leaf params");
    params.distinguished_name = dn_cn("leaf.example.test");
    let key = KeyPair::generate().expect("leaf key");
    let issuer = Issuer::from_params(&ca.params, &ca.key);
    params.signed_by(&key, &issuer).expect("sign leaf").pem()
}

/// A self-signed certificate made by `openssl req -x509`.
fn openssl_cert(dir: &TempDir, name: &str, subject: &str, extra: &[&str]) -> PathBuf {
    let cert = dir.path(&format!("{name}.pem"));
    let key = dir.path(&format!("{name}.key"));
    let mut args = vec![
        "req", "-x509", "-noenc", "-days", "30", "-subj", subject, "-keyout",
    ];
    args.push(s(&key));
    args.extend(["-out", s(&cert)]);
    if !extra.contains(&"-newkey") {
        args.extend(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]);
    }
    args.extend(extra);
    run_ok("openssl", &args);
    cert
}

fn openssl_subject_hash(cert: &Path) -> String {
    run_ok(
        "openssl",
        &["x509", "-subject_hash", "-noout", "-in", s(cert)],
    )
    .trim()
    .to_string()
}

fn openssl_fingerprint(cert: &Path) -> String {
    let out = run_ok(
        "openssl",
        &["x509", "-fingerprint", "-sha256", "-noout", "-in", s(cert)],
    );
    out.trim()
        .split_once('=')
        .map(|(_, fp)| fp.to_string())
        .expect("fingerprint line")
}

fn read_one(path: &Path) -> Certificate {
    let read = read_ca_files(&[path.to_path_buf()]).expect("read CA file");
    assert_eq!(read.certificates.len(), 1);
    read.certificates
        .into_iter()
        .next()
        .expect("one certificate")
}

fn read_err(path: &Path) -> BundleError {
    read_ca_files(&[path.to_path_buf()]).expect_err("the file must be refused")
}

/// Splits a PEM text into its blocks, each ending with a newline.
fn pem_blocks(text: &str) -> Vec<String> {
    text.split_inclusive("-----END CERTIFICATE-----\n")
        .filter(|b| b.contains("BEGIN"))
        .map(str::to_string)
        .collect()
}

fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------- reading PEM

#[test]
fn reads_several_certificates_with_crlf_text_and_duplicates() {
    let dir = TempDir::new();
    let (a, b, c) = (
        make_ca("Alpha Root"),
        make_ca("Beta Root"),
        make_ca("Gamma Root"),
    );
    let text = format!(
        "# Corporate CA bundle\r\nsubject=CN = Alpha Root\r\n{}\r\nsome note between blocks\r\n\r\n{}{}\n{}",
        a.pem.replace('\n', "\r\n"),
        b.pem,
        c.pem,
        a.pem
    );
    let file = dir.write("bundle.pem", text);
    let read = read_ca_files(std::slice::from_ref(&file)).expect("read");
    let subjects: Vec<&str> = read.certificates.iter().map(|c| c.subject()).collect();
    assert_eq!(subjects, ["CN=Alpha Root", "CN=Beta Root", "CN=Gamma Root"]);
    assert_eq!(read.duplicates.len(), 1);
    assert_eq!(read.duplicates[0].block, 4);
    assert_eq!(read.duplicates[0].origin, Origin::File(file.clone()));
    let first = &read.certificates[0];
    assert_eq!(first.location().block, 1);
    assert_eq!(first.location().line, Some(3));
    assert_eq!(first.der(), a.der.as_slice());
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);

    // A duplicate in a second file is dropped too, the first file's copy kept.
    let again = dir.write("again.crt", &b.pem);
    let read = read_ca_files(&[file, again.clone()]).expect("read");
    assert_eq!(read.certificates.len(), 3);
    assert_eq!(
        read.duplicates.last().map(|l| &l.origin),
        Some(&Origin::File(again))
    );
}

#[test]
fn describes_certificates_like_openssl() {
    let dir = TempDir::new();
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "DE");
    dn.push(DnType::OrganizationName, "Example AG");
    dn.push(DnType::CommonName, "Example Root CA");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(2024, 1, 2);
    params.not_after = rcgen::date_time_ymd(2044, 3, 4);
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("cert");
    let file = dir.write("ca.pem", cert.pem());

    let ca = read_one(&file);
    assert_eq!(ca.subject(), "C=DE, O=Example AG, CN=Example Root CA");
    assert_eq!(ca.common_name(), Some("Example Root CA"));
    assert_eq!(ca.not_before(), "2024-01-02T00:00:00Z");
    assert_eq!(ca.not_after(), "2044-03-04T00:00:00Z");
    assert!(ca.is_ca());
    assert_eq!(ca.fingerprint_sha256(), openssl_fingerprint(&file));
    assert_eq!(ca.subject_hash(), openssl_subject_hash(&file));
}

#[test]
fn reads_der_file() {
    let dir = TempDir::new();
    let ca = make_ca("DER Root");
    let file = dir.write("root.der", &ca.der);
    let cert = read_one(&file);
    assert_eq!(cert.der(), ca.der.as_slice());
    assert_eq!(cert.location().block, 1);
    assert_eq!(cert.location().line, None);
}

#[test]
fn reads_directory_pem_and_crt_only_sorted() {
    let dir = TempDir::new();
    let (a, b, c) = (make_ca("A Root"), make_ca("B Root"), make_ca("C Root"));
    dir.write("certs/20-b.pem", &b.pem);
    dir.write("certs/10-a.crt", &a.pem);
    dir.write("certs/30-c.txt", &c.pem);
    dir.write("certs/40-key.key", a.key.serialize_pem());
    dir.write("certs/50-sub.pem/inner.pem", &c.pem);
    dir.write("certs/README", "not a certificate");
    let read = read_ca_files(&[dir.path("certs")]).expect("read dir");
    let subjects: Vec<&str> = read.certificates.iter().map(|c| c.subject()).collect();
    assert_eq!(subjects, ["CN=A Root", "CN=B Root"]);

    std::fs::create_dir_all(dir.path("empty")).expect("mkdir");
    dir.write("empty/notes.txt", "nothing here");
    match read_ca_files(&[dir.path("empty")]) {
        Err(BundleError::EmptyDirectory { path }) => assert_eq!(path, dir.path("empty")),
        other => panic!("expected EmptyDirectory, got {other:?}"),
    }
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = TempDir::new();
    let missing = dir.path("nope.pem");
    match read_ca_files(std::slice::from_ref(&missing)) {
        Err(err @ BundleError::Io { .. }) => assert!(err.to_string().contains("nope.pem")),
        other => panic!("expected Io, got {other:?}"),
    }
}

// ---------------------------------------------------------------- refusals

/// A file with a CA certificate (block 1, lines 1-n) then a block with
/// `label` starting after one line of text.
fn cert_then_block(ca: &TestCa, label: &str, body: &str) -> (String, usize) {
    let cert_lines = ca.pem.lines().count();
    let text = format!(
        "{}comment line\n-----BEGIN {label}-----\n{body}\n-----END {label}-----\n",
        ca.pem
    );
    (text, cert_lines + 2)
}

#[test]
fn refuses_private_keys_of_every_kind() {
    let dir = TempDir::new();
    let ca = make_ca("Key Test Root");
    let pkcs8_body = pem_body(&ca.key.serialize_pem());
    let labels = [
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "DSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
    ];
    for (i, label) in labels.iter().enumerate() {
        let (text, line) = cert_then_block(&ca, label, &pkcs8_body);
        let file = dir.write(&format!("mixed-{i}.pem"), text);
        match read_err(&file) {
            BundleError::PrivateKey { location, kind } => {
                assert_eq!(location.origin, Origin::File(file.clone()));
                assert_eq!(location.block, 2, "{label}");
                assert_eq!(location.line, Some(line), "{label}");
                assert_eq!(kind, *label);
            }
            other => panic!("{label}: expected PrivateKey, got {other:?}"),
        }
        let message = read_err(&file).to_string();
        assert!(message.contains(&format!("mixed-{i}.pem")), "{message}");
        assert!(message.contains("block 2"), "{message}");
        assert!(message.contains(&format!("line {line}")), "{message}");
        assert!(
            message.contains("must never end up in a ConfigMap"),
            "{message}"
        );
        assert!(message.contains("wrong file"), "{message}");
    }

    // Real keys as openssl writes them, alone in a file (block 1, line 1).
    let rsa = dir.path("rsa.key");
    run_ok(
        "openssl",
        &["genrsa", "-traditional", "-out", s(&rsa), "1024"],
    );
    let ec = dir.path("ec.key");
    run_ok(
        "openssl",
        &["ecparam", "-name", "prime256v1", "-genkey", "-out", s(&ec)],
    );
    let ec_key_line = std::fs::read_to_string(&ec)
        .expect("ec")
        .lines()
        .position(|l| l.contains("BEGIN EC PRIVATE KEY"))
        .map(|i| i + 1);
    for (file, label, block, line) in [
        (&rsa, "RSA PRIVATE KEY", 1, Some(1)),
        (&ec, "EC PRIVATE KEY", 2, ec_key_line),
    ] {
        match read_err(file) {
            BundleError::PrivateKey { location, kind } => {
                assert_eq!((location.block, location.line), (block, line));
                assert_eq!(kind, label);
            }
            other => panic!("expected PrivateKey, got {other:?}"),
        }
    }
    // `openssl ecparam -genkey` puts an EC PARAMETERS block first: the key
    // is still what gets reported.
    assert!(
        std::fs::read_to_string(&ec)
            .expect("ec")
            .contains("EC PARAMETERS")
    );

    // A DER-encoded PKCS#8 key.
    let der = dir.write("key.der", ca.key.serialize_der());
    assert!(matches!(read_err(&der), BundleError::PrivateKey { .. }));
}

#[test]
fn refuses_blocks_that_are_not_certificates() {
    let dir = TempDir::new();
    let ca = make_ca("CSR Test Root");
    let csr = ca
        .params
        .serialize_request(&ca.key)
        .expect("csr")
        .pem()
        .expect("csr pem");
    let file = dir.write("request.pem", format!("{}{}", ca.pem, csr));
    match read_err(&file) {
        BundleError::NotACertificate {
            location, label, ..
        } => {
            assert_eq!(label, "CERTIFICATE REQUEST");
            assert_eq!(location.block, 2);
            assert_eq!(location.line, Some(ca.pem.lines().count() + 1));
        }
        other => panic!("expected NotACertificate, got {other:?}"),
    }
    let message = read_err(&file).to_string();
    assert!(message.contains("request.pem: block 2"), "{message}");

    let file = dir.write("pub.pem", ca.key.public_key_pem());
    match read_err(&file) {
        BundleError::NotACertificate {
            location, label, ..
        } => {
            assert_eq!(label, "PUBLIC KEY");
            assert_eq!((location.block, location.line), (1, Some(1)));
        }
        other => panic!("expected NotACertificate, got {other:?}"),
    }
}

#[test]
fn refuses_bad_base64() {
    let dir = TempDir::new();
    let ca = make_ca("Base64 Root");
    let (text, line) = cert_then_block(&ca, "CERTIFICATE", "MIIB!!not*base64??");
    let file = dir.write("broken.pem", text);
    match read_err(&file) {
        BundleError::BadBase64 { location, .. } => {
            assert_eq!(location.block, 2);
            assert_eq!(location.line, Some(line));
        }
        other => panic!("expected BadBase64, got {other:?}"),
    }
    assert!(read_err(&file).to_string().contains("broken.pem: block 2"));
}

#[test]
fn refuses_blocks_that_do_not_parse_as_certificates() {
    let dir = TempDir::new();
    let file = dir.write(
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    );
    match read_err(&file) {
        BundleError::BadCertificate { location, .. } => {
            assert_eq!((location.block, location.line), (1, Some(1)));
        }
        other => panic!("expected BadCertificate, got {other:?}"),
    }
    // A certificate with trailing bytes in the block.
    let ca = make_ca("Trailing Root");
    let mut der = ca.der.clone();
    der.extend_from_slice(&[0, 0]);
    let file = dir.write(
        "trailing.pem",
        pem::encode(&pem::Pem::new("CERTIFICATE", der)),
    );
    assert!(matches!(
        read_err(&file),
        BundleError::BadCertificate { .. }
    ));
}

#[test]
fn refuses_files_without_certificates() {
    let dir = TempDir::new();
    for (name, content) in [
        ("empty.pem", ""),
        ("blank.pem", "\n\n  \r\n"),
        (
            "comments.pem",
            "# no certificate here\nsubject=CN = nothing\n",
        ),
    ] {
        let file = dir.write(name, content);
        match read_err(&file) {
            BundleError::NoCertificate { path } => assert_eq!(path, file),
            other => panic!("{name}: expected NoCertificate, got {other:?}"),
        }
        assert!(read_err(&file).to_string().contains(name));
    }
}

#[test]
fn refuses_malformed_framing() {
    let dir = TempDir::new();
    let ca = make_ca("Framing Root");
    let unterminated = ca.pem.replace("-----END CERTIFICATE-----\n", "");
    let file = dir.write("unterminated.pem", unterminated);
    match read_err(&file) {
        BundleError::MalformedPem { location, .. } => {
            assert_eq!((location.block, location.line), (1, Some(1)));
        }
        other => panic!("expected MalformedPem, got {other:?}"),
    }
    let mismatched = ca.pem.replace("END CERTIFICATE", "END PUBLIC KEY");
    let file = dir.write("mismatched.pem", mismatched);
    assert!(matches!(read_err(&file), BundleError::MalformedPem { .. }));
}

// ---------------------------------------------------------------- warnings

fn kinds(read: &ReadBundle) -> Vec<WarningKind> {
    read.warnings.iter().map(|w| w.kind).collect()
}

#[test]
fn warns_about_non_ca_and_validity() {
    let dir = TempDir::new();
    let leaf = make_cert(dn_cn("Just A Leaf"), false);
    let file = dir.write("leaf.pem", &leaf.pem);
    let read = read_ca_files(std::slice::from_ref(&file)).expect("read");
    assert_eq!(kinds(&read), [WarningKind::NotCa]);
    let warning = &read.warnings[0];
    assert_eq!(warning.origin, Origin::File(file));
    assert_eq!(warning.block, 1);
    assert_eq!(warning.subject, "CN=Just A Leaf");
    assert!(warning.to_string().contains("leaf.pem: block 1"));

    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = dn_cn("Old Root");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(2010, 1, 1);
    params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    let key = KeyPair::generate().expect("key");
    let old = params.self_signed(&key).expect("cert");
    let file = dir.write("old.pem", old.pem());

    let read = read_ca_files(std::slice::from_ref(&file)).expect("read");
    assert_eq!(kinds(&read), [WarningKind::Expired]);
    assert!(read.warnings[0].message.contains("2020-01-01T00:00:00Z"));

    let in_2015 = UNIX_EPOCH + Duration::from_secs(1_420_070_400);
    let read = read_ca_files_at(std::slice::from_ref(&file), in_2015).expect("read");
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);

    let in_2001 = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let read = read_ca_files_at(&[file], in_2001).expect("read");
    assert_eq!(kinds(&read), [WarningKind::NotYetValid]);
}

#[test]
fn warns_about_sha1_signature_and_small_rsa_key() {
    let dir = TempDir::new();
    let sha1 = openssl_cert(
        &dir,
        "sha1",
        "/CN=SHA1 Root",
        &["-sha1", "-newkey", "rsa:2048"],
    );
    let read = read_ca_files(&[sha1]).expect("read");
    assert_eq!(kinds(&read), [WarningKind::WeakSignature]);
    assert!(read.warnings[0].message.contains("SHA-1"));

    let small = openssl_cert(&dir, "rsa1024", "/CN=Small Root", &["-newkey", "rsa:1024"]);
    let read = read_ca_files(&[small]).expect("read");
    assert_eq!(kinds(&read), [WarningKind::WeakKey]);
    assert!(read.warnings[0].message.contains("1024"));

    let fine = openssl_cert(&dir, "rsa2048", "/CN=Fine Root", &["-newkey", "rsa:2048"]);
    let read = read_ca_files(&[fine]).expect("read");
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
}

// ---------------------------------------------------------------- subject hash

#[test]
fn subject_hash_matches_openssl_for_openssl_made_names() {
    let dir = TempDir::new();
    let cases: &[(&str, &[&str])] = &[
        ("/CN=Plain ASCII Root", &[]),
        (
            "/C=US/ST=California/O=Example Corp/OU=IT/CN=Example Root CA",
            &[],
        ),
        ("/CN=Ünïcödé Root/O=Grüße AG", &["-utf8"]),
        ("/CN=  My   CORP  Root /O=  Spaced   Out  ", &[]),
        (
            "/O=  Zeta   Corp +CN=Alpha+OU=  MID/C=DE",
            &["-multivalue-rdn"],
        ),
        ("/CN=UPPER lower MiXeD", &[]),
        ("/CN=a+OU=b/O=Multi Valued", &["-multivalue-rdn"]),
        ("/O=Zeta+CN=Alpha+OU=Mid/C=DE", &["-multivalue-rdn"]),
        ("/emailAddress=PKI@Example.COM/CN=Mail Root", &[]),
        ("/DC=com/DC=Example/CN=Domain Root", &[]),
        ("/serialNumber=0042/CN=Serial Root", &[]),
    ];
    for (i, (subject, extra)) in cases.iter().enumerate() {
        let file = openssl_cert(&dir, &format!("c{i}"), subject, extra);
        let cert = read_one(&file);
        assert_eq!(
            cert.subject_hash(),
            openssl_subject_hash(&file),
            "subject {subject}"
        );
    }
}

#[test]
fn subject_hash_matches_openssl_for_every_string_type() {
    let dir = TempDir::new();
    let printable =
        |t: &str| DnValue::PrintableString(PrintableString::try_from(t).expect("printable"));
    let values: Vec<(&str, DnValue)> = vec![
        ("printable", printable("Example Root")),
        ("printable-case-space", printable("  EXAMPLE    Root ")),
        ("utf8", DnValue::Utf8String("Example Root".to_string())),
        (
            "utf8-tabs",
            DnValue::Utf8String("\tExample\t\n Root\r".to_string()),
        ),
        (
            "utf8-accents",
            DnValue::Utf8String("Ünïcödé  ROOT".to_string()),
        ),
        (
            "bmp",
            DnValue::BmpString(BmpString::try_from("Grüße  Root").expect("bmp")),
        ),
        (
            "universal",
            DnValue::UniversalString(UniversalString::try_from("Root 𝔘 Ünï").expect("universal")),
        ),
        (
            "ia5",
            DnValue::Ia5String(Ia5String::try_from(" IA5  Root ").expect("ia5")),
        ),
        (
            "teletex",
            DnValue::TeletexString(TeletexString::try_from("Teletex Root").expect("t61")),
        ),
    ];
    let mut hashes = Vec::new();
    for (name, value) in values {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, printable("DE"));
        dn.push(DnType::CommonName, value);
        let ca = make_cert(dn, true);
        let file = dir.write(&format!("{name}.pem"), &ca.pem);
        let cert = read_one(&file);
        assert_eq!(cert.subject_hash(), openssl_subject_hash(&file), "{name}");
        hashes.push((name, cert.subject_hash().to_string()));
    }
    // PrintableString, UTF8String, spacing and case variants share a hash.
    let of = |n: &str| hashes.iter().find(|(k, _)| *k == n).map(|(_, h)| h.clone());
    assert_eq!(of("printable"), of("utf8"));
    assert_eq!(of("printable"), of("printable-case-space"));
    assert_eq!(of("printable"), of("utf8-tabs"));
}

#[test]
fn subject_hash_matches_openssl_for_an_empty_subject() {
    let dir = TempDir::new();
    let ca = make_cert(DistinguishedName::new(), true);
    let file = dir.write("empty-subject.pem", &ca.pem);
    let cert = read_one(&file);
    assert_eq!(cert.subject(), "");
    assert_eq!(cert.subject_hash(), openssl_subject_hash(&file));
}

#[test]
fn hashed_names_count_up_for_equivalent_subjects() {
    let dir = TempDir::new();
    // Same canonical subject in another string type, spacing and case.
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        DnValue::PrintableString(PrintableString::try_from("Shared  Name").expect("printable")),
    );
    let first = make_cert(dn, true);
    let second = make_cert(dn_cn("shared name"), true);
    let file = dir.write("cas.pem", format!("{}{}", first.pem, second.pem));
    let read = read_ca_files(&[file]).expect("read");
    let hash = read.certificates[0].subject_hash().to_string();
    assert_eq!(read.certificates[1].subject_hash(), hash);
    let data = build_bundle_data(&read.certificates, &[]).expect("bundle");
    let names: Vec<&str> = data.hashed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [format!("{hash}.0"), format!("{hash}.1")]);
}

#[test]
fn hashed_names_work_as_openssl_capath_with_a_real_collision() {
    let dir = TempDir::new();
    // Two different subjects whose OpenSSL hashes collide (found by search:
    // both hash to 10f59ef6).
    let first = make_ca("collide 34796");
    let second = make_ca("collide 65868");
    let other = make_ca("Other Root");
    let file = dir.write(
        "cas.pem",
        format!("{}{}{}", first.pem, second.pem, other.pem),
    );
    let first_file = dir.write("first.pem", &first.pem);
    let second_file = dir.write("second.pem", &second.pem);
    assert_eq!(openssl_subject_hash(&first_file), "10f59ef6");
    assert_eq!(openssl_subject_hash(&second_file), "10f59ef6");

    let read = read_ca_files(&[file]).expect("read");
    let data = build_bundle_data(&read.certificates, &[]).expect("bundle");
    let names: Vec<&str> = data.hashed.iter().map(|(n, _)| n.as_str()).collect();
    let other_hash = read.certificates[2].subject_hash();
    assert_eq!(
        names,
        ["10f59ef6.0", "10f59ef6.1", &format!("{other_hash}.0")]
    );
    assert_eq!(
        other_hash,
        openssl_subject_hash(&dir.write("other.pem", &other.pem))
    );

    // OpenSSL finds each issuer through the hashed directory, looking past
    // the colliding entry.
    let capath = dir.path("capath");
    std::fs::create_dir_all(&capath).expect("mkdir");
    for (name, pem) in &data.hashed {
        std::fs::write(capath.join(name), pem).expect("write hashed");
    }
    for (i, ca) in [&first, &second, &other].into_iter().enumerate() {
        let leaf = dir.write(&format!("leaf{i}.pem"), make_leaf(ca));
        let out = run_ok("openssl", &["verify", "-CApath", s(&capath), s(&leaf)]);
        assert!(out.contains(": OK"), "{out}");
    }
}

// ---------------------------------------------------------------- bundle data

#[test]
fn bundle_pem_is_normalised_and_openssl_verifies_with_it() {
    let dir = TempDir::new();
    let ca = make_ca("Verify Root");
    let extra = make_ca("Second Root");
    let crlf = format!("{}{}", ca.pem, extra.pem).replace('\n', "\r\n");
    let file = dir.write("cas.pem", crlf);
    let read = read_ca_files(&[file]).expect("read");
    let data = build_bundle_data(&read.certificates, &[]).expect("bundle");

    assert!(!data.ca_crt.contains('\r'));
    assert!(data.ca_crt.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(data.ca_crt.ends_with("-----END CERTIFICATE-----\n"));
    assert!(data.ca_crt.lines().all(|l| l.len() <= 64));
    assert_eq!(pem_blocks(&data.ca_crt).len(), 2);
    assert_eq!(data.ca_bundle_crt, data.ca_crt);

    let bundle = dir.write("ca-bundle.crt", &data.ca_bundle_crt);
    let leaf = dir.write("leaf.pem", make_leaf(&ca));
    let out = run_ok("openssl", &["verify", "-CAfile", s(&bundle), s(&leaf)]);
    assert!(out.contains(": OK"), "{out}");

    // A leaf of an unrelated CA does not verify.
    let stranger = make_ca("Stranger Root");
    let foreign = dir.write("foreign.pem", make_leaf(&stranger));
    let output = run_tool("openssl", &["verify", "-CAfile", s(&bundle), s(&foreign)]);
    assert!(!output.status.success());
}

#[test]
fn bundle_appends_public_roots_without_duplicates() {
    let dir = TempDir::new();
    let private = make_ca("Private Root");
    let public_a = make_ca("Public Root A");
    let public_b = make_leaf(&public_a); // not a CA: no warning for public roots
    let public_file = dir.write(
        "public.crt",
        format!("{}{}{}", public_a.pem, private.pem, public_b),
    );
    let private_file = dir.write("private.pem", &private.pem);
    let read = read_ca_files(&[private_file]).expect("read");
    let public = public_roots(&PublicRoots::File(public_file)).expect("public roots");
    assert_eq!(public.len(), 3);
    let data = build_bundle_data(&read.certificates, &public).expect("bundle");
    let blocks = pem_blocks(&data.ca_bundle_crt);
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[0], data.ca_crt);
    assert_eq!(blocks[1], public[0].to_pem());
    assert_eq!(blocks[2], public[2].to_pem());
    assert_eq!(data.hashed.len(), 1);

    // Public files still refuse private keys.
    let with_key = dir.write(
        "public-with-key.crt",
        format!("{}{}", public_a.pem, public_a.key.serialize_pem()),
    );
    assert!(matches!(
        public_roots(&PublicRoots::File(with_key)),
        Err(BundleError::PrivateKey { .. })
    ));
    assert!(public_roots(&PublicRoots::None).expect("none").is_empty());
}

#[test]
fn bundle_needs_a_private_ca() {
    let public = make_ca("Only Public");
    let cert = Certificate::from_der(
        &public.der,
        Location {
            origin: Origin::MozillaRoots,
            block: 1,
            line: None,
        },
    )
    .expect("parse");
    assert!(matches!(
        build_bundle_data(&[], &[cert]),
        Err(BundleError::NoPrivateCertificates)
    ));
}

#[test]
fn bundle_is_deterministic_and_sized() {
    let dir = TempDir::new();
    let file = dir.write(
        "cas.pem",
        format!("{}{}", make_ca("Det Root 1").pem, make_ca("Det Root 2").pem),
    );
    let first = read_ca_files(std::slice::from_ref(&file)).expect("read");
    let second = read_ca_files(&[file]).expect("read");
    let public = public_roots(&PublicRoots::Mozilla).expect("mozilla");
    let a = build_bundle_data(&first.certificates, &public).expect("bundle");
    let b = build_bundle_data(&second.certificates, &public).expect("bundle");
    assert_eq!(a, b);
    assert_eq!(a.truststore_p12, b.truststore_p12);
    assert_eq!(a.sha256.len(), 64);
    assert!(
        a.sha256
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );

    let expected = a.ca_crt.len()
        + a.ca_bundle_crt.len()
        + a.hashed.iter().map(|(_, p)| p.len()).sum::<usize>()
        + a.truststore_p12.len().div_ceil(3) * 4;
    assert_eq!(a.total_size(), expected);
    assert!(a.total_size() <= super::data::CONFIGMAP_MAX_BYTES);

    // A different private CA changes the hash.
    let other = make_ca("Det Root 3");
    let other = Certificate::from_der(
        &other.der,
        Location {
            origin: Origin::File(PathBuf::from("x.pem")),
            block: 1,
            line: None,
        },
    )
    .expect("parse");
    let c = build_bundle_data(&[other], &public).expect("bundle");
    assert_ne!(a.sha256, c.sha256);
}

// ---------------------------------------------------------------- truststore

/// (alias, entry type, SHA-256 fingerprint) of each keytool entry.
fn keytool_entries(p12: &Path) -> Vec<(String, String, String)> {
    let out = run_ok(
        "keytool",
        &[
            "-J-Duser.language=en",
            "-J-Dsun.stdout.encoding=UTF-8",
            "-list",
            "-v",
            "-keystore",
            s(p12),
            "-storetype",
            "PKCS12",
            "-storepass",
            TRUSTSTORE_PASSWORD,
        ],
    );
    out.split("Alias name: ")
        .skip(1)
        .map(|entry| {
            let alias = entry.lines().next().unwrap_or_default().trim().to_string();
            let field = |prefix: &str| {
                entry
                    .lines()
                    .map(str::trim)
                    .find_map(|l| l.strip_prefix(prefix))
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            };
            (alias, field("Entry type:"), field("SHA256:"))
        })
        .collect()
}

#[test]
fn keytool_lists_every_certificate_as_trusted() {
    let dir = TempDir::new();
    let private = dir.write(
        "private.pem",
        format!(
            "{}{}",
            make_ca("Keytool Root One").pem,
            make_ca("Keytool Root One").pem // same name, different key
        ),
    );
    let rsa = openssl_cert(
        &dir,
        "rsa",
        "/CN=Ünïcödé Root/O=Grüße AG",
        &["-utf8", "-newkey", "rsa:2048"],
    );
    let public = dir.write(
        "public.crt",
        format!("{}{}", make_ca("Public One").pem, make_ca("").pem),
    );
    let read = read_ca_files(&[private, rsa]).expect("read");
    let roots = public_roots(&PublicRoots::File(public)).expect("public");
    let data = build_bundle_data(&read.certificates, &roots).expect("bundle");
    let p12 = dir.write("truststore.p12", &data.truststore_p12);
    let bundle = dir.write("ca-bundle.crt", &data.ca_bundle_crt);

    let entries = keytool_entries(&p12);
    let blocks = pem_blocks(&data.ca_bundle_crt);
    assert_eq!(entries.len(), blocks.len());
    assert_eq!(entries.len(), 5);
    for (i, block) in blocks.iter().enumerate() {
        let file = dir.write(&format!("block{i}.pem"), block);
        let fingerprint = openssl_fingerprint(&file);
        let entry = entries
            .iter()
            .find(|(_, _, fp)| *fp == fingerprint)
            .unwrap_or_else(|| panic!("no keytool entry for {fingerprint}: {entries:?}"));
        assert_eq!(entry.1, "trustedCertEntry", "{entry:?}");
    }
    let mut aliases: Vec<&str> = entries.iter().map(|(a, _, _)| a.as_str()).collect();
    aliases.sort_unstable();
    aliases.dedup();
    assert_eq!(aliases.len(), 5, "aliases must be unique: {entries:?}");
    assert!(
        aliases.iter().any(|a| a.starts_with("ünïcödé-root-")),
        "{aliases:?}"
    );
    assert!(aliases.iter().any(|a| a.starts_with("ca-")), "{aliases:?}");

    // OpenSSL reads it too, checking the MAC with the password.
    let out = run_ok(
        "openssl",
        &[
            "pkcs12",
            "-in",
            s(&p12),
            "-passin",
            "pass:changeit",
            "-nokeys",
        ],
    );
    assert_eq!(out.matches("-----BEGIN CERTIFICATE-----").count(), 5);
    let wrong = run_tool(
        "openssl",
        &["pkcs12", "-in", s(&p12), "-passin", "pass:wrong", "-nokeys"],
    );
    assert!(
        !wrong.status.success(),
        "a wrong password must fail the MAC check"
    );
    assert!(bundle.exists());
}

#[test]
fn keytool_reads_truststore_with_mozilla_roots() {
    let dir = TempDir::new();
    let private = dir.write("private.pem", make_ca("Private With Mozilla").pem);
    let read = read_ca_files(&[private]).expect("read");
    let roots = public_roots(&PublicRoots::Mozilla).expect("mozilla");
    let data = build_bundle_data(&read.certificates, &roots).expect("bundle");
    let p12 = dir.write("truststore.p12", &data.truststore_p12);
    let out = run_ok(
        "keytool",
        &[
            "-J-Duser.language=en",
            "-J-Dsun.stdout.encoding=UTF-8",
            "-list",
            "-keystore",
            s(&p12),
            "-storetype",
            "PKCS12",
            "-storepass",
            TRUSTSTORE_PASSWORD,
        ],
    );
    let expected = pem_blocks(&data.ca_bundle_crt).len();
    assert_eq!(expected, roots.len() + 1);
    assert!(
        out.contains(&format!("Your keystore contains {expected} entries")),
        "{out}"
    );
    assert_eq!(out.matches("trustedCertEntry").count(), expected);
}

// ---------------------------------------------------------------- Mozilla roots

#[test]
fn mozilla_roots_parse_and_are_cas() {
    let roots = public_roots(&PublicRoots::Mozilla).expect("mozilla roots");
    assert!(roots.len() > 100, "only {} roots", roots.len());
    for root in &roots {
        assert!(root.is_ca(), "{}", root.subject());
        assert_eq!(root.location().origin, Origin::MozillaRoots);
    }
}

#[test]
fn mozilla_roots_version_matches_cargo_lock() {
    let mut dir = Some(Path::new(env!("CARGO_MANIFEST_DIR")));
    let lock = loop {
        let Some(current) = dir else {
            panic!("no Cargo.lock found above {}", env!("CARGO_MANIFEST_DIR"));
        };
        let candidate = current.join("Cargo.lock");
        if candidate.is_file() {
            break std::fs::read_to_string(candidate).expect("read Cargo.lock");
        }
        dir = current.parent();
    };
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"webpki-root-certs\""))
        .and_then(|p| {
            p.lines()
                .find_map(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        })
        .expect("webpki-root-certs in Cargo.lock");
    assert_eq!(
        MOZILLA_ROOTS_VERSION, version,
        "update MOZILLA_ROOTS_VERSION to the webpki-root-certs version in Cargo.lock"
    );
}

// ---------------------------------------------------------------- robustness

#[test]
fn truncated_and_mutated_input_never_panics() {
    let ca = make_ca("Robust Root");
    let path = Path::new("robust.pem");
    for len in 0..ca.der.len() {
        let prefix = ca.der.get(..len).unwrap_or_default();
        assert!(
            super::reader::parse_file(path, prefix).is_err(),
            "prefix {len}"
        );
    }
    let mut state: u32 = 0x1234_5678;
    for _ in 0..2000 {
        let mut der = ca.der.clone();
        for _ in 0..4 {
            // xorshift: a fixed, reproducible sequence of positions and bytes
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let at = state as usize % der.len();
            der[at] = (state >> 24) as u8;
        }
        let _ = super::reader::parse_file(path, &der);
        let text = pem::encode(&pem::Pem::new("CERTIFICATE", der));
        let _ = super::reader::parse_file(path, text.as_bytes());
    }
    let pem = ca.pem.as_bytes();
    for len in 0..pem.len() {
        let _ = super::reader::parse_file(path, pem.get(..len).unwrap_or_default());
    }
}
