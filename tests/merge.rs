//! The start-up merge as the init container runs it: `trust-inject merge` on good and bad
//! sources, the image that carries it, and what `check` and `--report` say about partial
//! trust and the key the pods depend on. (`tests/trust.rs` runs the merge in a simulated
//! pod and measures real clients; `testdata/stream/merge-*` are the injection's golden
//! cases.)

mod util;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use util::{oracle_read, read, repo_root, run_bin, strings};

/// A Pod, and the flags that inject it with the start-up merge.
const POD: &[u8] =
    b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: app:1\n";
const MERGE_AT_START: &[&str] = &["--configmap", "corp-ca", "--merge-at-start"];

/// A fresh directory under the cargo target directory.
fn scratch(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("merge-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("out")).expect("scratch directory");
    dir
}

fn pki(name: &str) -> PathBuf {
    repo_root().join("testdata/pki").join(name)
}

fn merge(source: &Path, out: &Path, roots: &str) -> (i32, String) {
    let args = strings(&[
        "merge",
        "--source",
        source.to_str().expect("UTF-8 path"),
        "--output-dir",
        out.to_str().expect("UTF-8 path"),
        "--public-roots",
        roots,
    ]);
    let o = run_bin(&args, b"");
    assert!(o.stdout.is_empty(), "merge writes nothing to stdout");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("output directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Certificates in a PEM text.
fn count_certs(pem: &[u8]) -> usize {
    String::from_utf8_lossy(pem)
        .matches("-----BEGIN CERTIFICATE-----")
        .count()
}

#[test]
fn merge_writes_the_generated_layout_with_the_mozilla_roots() {
    let dir = scratch("good");
    let out = dir.join("out");
    let (code, stderr) = merge(&pki("corp-root.pem"), &out, "mozilla");
    assert_eq!(code, 0, "{stderr}");
    let names = listing(&out);
    for want in ["ca.crt", "ca-bundle.crt", "truststore.p12"] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    let hashed: Vec<&String> = names
        .iter()
        .filter(|n| n.len() == 10 && n.ends_with(".0"))
        .collect();
    assert_eq!(hashed.len(), 1, "one <subject-hash>.0 file: {names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with('.')),
        "no temporary file is left: {names:?}"
    );
    // ca.crt is the private CA alone; the complete bundle adds the compiled-in Mozilla roots.
    let corp = read(&pki("corp-root.pem"));
    assert_eq!(count_certs(&read(&out.join("ca.crt"))), 1);
    assert_eq!(read(&out.join(hashed[0])), read(&out.join("ca.crt")));
    let complete = read(&out.join("ca-bundle.crt"));
    assert!(
        count_certs(&complete) > 100,
        "the Mozilla roots are merged in"
    );
    let corp_b64: String = String::from_utf8_lossy(&corp)
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let complete_b64: String = String::from_utf8_lossy(&complete)
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        complete_b64.starts_with(&corp_b64),
        "the private CA comes first"
    );
    assert!(stderr.contains("wrote"), "{stderr}");

    // Run again (a restarted init container): the same bytes.
    let before: Vec<Vec<u8>> = names.iter().map(|n| read(&out.join(n))).collect();
    let (code, stderr) = merge(&pki("corp-root.pem"), &out, "mozilla");
    assert_eq!(code, 0, "{stderr}");
    let after: Vec<Vec<u8>> = names.iter().map(|n| read(&out.join(n))).collect();
    assert!(before == after, "a second merge writes the same files");
}

#[test]
fn merge_with_no_public_roots_for_a_complete_source() {
    let dir = scratch("none");
    let out = dir.join("out");
    let (code, stderr) = merge(&pki("corp-root.pem"), &out, "none");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(count_certs(&read(&out.join("ca-bundle.crt"))), 1);
}

/// Java opens `cacerts` without a password: the truststore's certificates must not be
/// encrypted. OpenSSL lists the bags of a PKCS#12 file, and says which safes are encrypted.
#[test]
fn the_truststore_is_readable_without_a_password() {
    let dir = scratch("p12");
    let out = dir.join("out");
    let (code, stderr) = merge(&pki("corp-root.pem"), &out, "none");
    assert_eq!(code, 0, "{stderr}");
    let o = std::process::Command::new("openssl")
        .args(["pkcs12", "-info", "-noout", "-nomacver", "-passin", "pass:"])
        .arg("-in")
        .arg(out.join("truststore.p12"))
        .output()
        .expect("openssl runs (install it to run this test)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("Certificate bag"), "{text}");
    assert!(!text.contains("Encrypted data"), "{text}");
}

#[test]
fn a_private_key_in_the_source_fails_and_writes_nothing() {
    let dir = scratch("key");
    let out = dir.join("out");
    let source = dir.join("ca.crt");
    fs::write(
        &source,
        [read(&pki("corp-root.pem")), read(&pki("test-only-key.pem"))].concat(),
    )
    .expect("source");
    let (code, stderr) = merge(&source, &out, "mozilla");
    assert_ne!(code, 0);
    assert!(
        stderr.contains("block 2") && stderr.contains("private key"),
        "the message names the block: {stderr}"
    );
    assert!(stderr.contains("Nothing was written"), "{stderr}");
    assert!(listing(&out).is_empty(), "nothing is written");
}

#[test]
fn an_empty_or_absent_source_fails_and_says_so() {
    let dir = scratch("empty");
    let out = dir.join("out");
    let cases = [
        ("empty", Some(&b""[..]), "is empty"),
        ("blank", Some(&b"\n  \n"[..]), "is empty"),
        ("absent", None, "does not exist"),
        (
            "text",
            Some(&b"no certificate here\n"[..]),
            "no certificate",
        ),
    ];
    for (name, content, says) in cases {
        let source = dir.join(name);
        if let Some(c) = content {
            fs::write(&source, c).expect("source");
        }
        let (code, stderr) = merge(&source, &out, "mozilla");
        assert_ne!(code, 0, "{name}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert!(listing(&out).is_empty(), "{name}: nothing is written");
    }
    // A mounted volume directory without any certificate file.
    let empty_dir = dir.join("volume");
    fs::create_dir_all(&empty_dir).expect("volume");
    let (code, stderr) = merge(&empty_dir, &out, "mozilla");
    assert_ne!(code, 0);
    assert!(stderr.contains("no *.pem or *.crt"), "{stderr}");
}

#[test]
fn expired_and_non_ca_certificates_are_warned_about() {
    let dir = scratch("warn");
    let out = dir.join("out");
    let (code, stderr) = merge(&pki("not-a-ca.pem"), &out, "none");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning") && stderr.contains("not a CA certificate"),
        "{stderr}"
    );
}

/// The image the init container runs: non-root with the uid the init container declares,
/// the binary as entrypoint (the init container gives only `args`, starting with `merge`),
/// and nothing the merge would write to outside the emptyDir.
#[test]
fn the_image_runs_merge_as_the_declared_non_root_user() {
    let d = String::from_utf8(read(&repo_root().join("Dockerfile"))).expect("UTF-8");
    let runtime = d.split("\nFROM ").last().expect("a runtime stage");
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the runtime stage sets USER");
    let uid = trust_inject::internals::well_known::MERGE_UID.to_string();
    assert_eq!(
        user.trim(),
        format!("{uid}:{uid}"),
        "numeric, non-root, as declared"
    );
    assert!(
        runtime
            .lines()
            .any(|l| l.trim() == r#"ENTRYPOINT ["/trust-inject"]"#),
        "the binary is the entrypoint"
    );
    assert!(!runtime.contains("VOLUME"), "no image volume to write into");
    // The default image is the release of this version.
    assert!(
        trust_inject::internals::well_known::DEFAULT_MERGE_IMAGE
            .ends_with(&format!(":{}", env!("CARGO_PKG_VERSION")))
    );
    // And the binary has the subcommand the init container calls.
    let o = run_bin(&["merge".into(), "--help".into()], b"");
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for flag in ["--source", "--output-dir", "--public-roots"] {
        assert!(help.contains(flag), "{flag} in merge --help");
    }
}

/// The init container passes the Pod Security "restricted" profile, with requests and
/// limits, read through the oracle (what the API server reads).
#[test]
fn the_init_container_is_restricted_and_bounded() {
    let input = POD;
    let args = strings(MERGE_AT_START);
    let o = run_bin(&args, input);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let docs = oracle_read(&o.stdout).expect("the oracle reads the output");
    let spec = &docs[0]["spec"];
    let init = &spec["initContainers"][0];
    assert_eq!(init["name"], "trust-bundle-merge");
    assert_eq!(init["imagePullPolicy"], "IfNotPresent");
    assert_eq!(init["args"][0], "merge");
    let sc = &init["securityContext"];
    assert_eq!(sc["runAsNonRoot"], Value::Bool(true));
    assert!(sc["runAsUser"].as_i64().is_some_and(|u| u > 0));
    assert_eq!(sc["allowPrivilegeEscalation"], Value::Bool(false));
    assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(sc["readOnlyRootFilesystem"], Value::Bool(true));
    for side in ["requests", "limits"] {
        for what in ["cpu", "memory"] {
            assert!(
                init["resources"][side][what].is_string(),
                "resources.{side}.{what}"
            );
        }
    }
    // It writes only into the emptyDir; the source is mounted read-only.
    let volumes = spec["volumes"].as_array().expect("volumes");
    let empty = volumes
        .iter()
        .find(|v| v["name"] == "trust-bundle")
        .expect("our volume");
    assert_eq!(empty["emptyDir"]["medium"], "Memory");
    assert!(empty["emptyDir"]["sizeLimit"].is_string());
    for m in init["volumeMounts"].as_array().expect("mounts") {
        let writable = m["readOnly"] != Value::Bool(true);
        assert_eq!(writable, m["name"] == "trust-bundle", "{m}");
    }
}

#[test]
fn check_and_report_say_when_trust_is_partial_and_what_the_pods_depend_on() {
    let input = read(&repo_root().join("tests/trust/deployment.yaml"));
    let dir = scratch("report");
    let report = dir.join("report.json");
    let args: Vec<String> = vec![
        "--configmap".into(),
        "corp-ca".into(),
        "--report".into(),
        report.to_str().expect("UTF-8").into(),
    ];
    let o = run_bin(&args, &input);
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stderr.matches("notice: trust is partial").count(),
        1,
        "one notice per run: {stderr}"
    );
    let json: Value = serde_json::from_slice(&read(&report)).expect("report JSON");
    assert!(
        json["partialTrust"]
            .as_str()
            .is_some_and(|s| s.contains("--merge-at-start"))
    );
    assert!(
        json["sourceDependency"].as_str().is_some_and(|s| s
            .contains("key \"ca.crt\" of ConfigMap \"corp-ca\"")
            && s.contains("\"demo\"")),
        "{}",
        json["sourceDependency"]
    );
    let app = &json["workloads"][0]["containers"][0]["runtimes"];
    assert_eq!(app["trust"], serde_json::json!(["Node.js", "Go"]));

    // check says the same, on the injected stream (which passes).
    let check: Vec<String> = vec!["check".into(), "--configmap".into(), "corp-ca".into()];
    let c = run_bin(&check, &o.stdout);
    let text = String::from_utf8_lossy(&c.stderr);
    assert!(c.status.success(), "{text}");
    assert!(text.contains("notice: trust is partial"), "{text}");
    assert!(text.contains("depend on key \"ca.crt\""), "{text}");

    // With the merge, every runtime trusts the CAs: no notice.
    let merged: Vec<String> = vec![
        "--configmap".into(),
        "corp-ca".into(),
        "--merge-at-start".into(),
    ];
    let m = run_bin(&merged, &input);
    assert!(m.status.success());
    assert!(!String::from_utf8_lossy(&m.stderr).contains("notice"));
}

/// `check --merge-at-start` fails on a stream whose pods mount the emptyDir but lack the
/// merge init container (it would stay empty), and names it; it passes on the injected one.
#[test]
fn check_names_a_missing_merge_init_container() {
    let input = POD;
    let args = strings(MERGE_AT_START);
    let injected = run_bin(&args, input);
    assert!(injected.status.success());
    let mut check = vec!["check".to_owned()];
    check.extend(args.iter().cloned());
    let passes = run_bin(&check, &injected.stdout);
    assert!(
        passes.status.success(),
        "{}",
        String::from_utf8_lossy(&passes.stderr)
    );
    let text = String::from_utf8_lossy(&injected.stdout).into_owned();
    let start = text.find("  initContainers:\n").expect("init containers");
    let end = text.find("  volumes:\n").expect("volumes");
    let without = format!("{}{}", &text[..start], &text[end..]);
    let fails = run_bin(&check, without.as_bytes());
    let stderr = String::from_utf8_lossy(&fails.stderr);
    assert_eq!(fails.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("init container \"trust-bundle-merge\" is missing"),
        "{stderr}"
    );
}
