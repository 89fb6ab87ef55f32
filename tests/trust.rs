//! Proves the product promise: after the injection, the program in the container trusts the
//! corporate CA and still trusts public endpoints — with real clients, for every strategy.
//!
//! The real binary injects `tests/trust/deployment.yaml`; for each strategy and container the
//! test builds the pod view (`tests/trust/pod.rs`: the container's mounts and env over an image
//! whose trust store holds only a test "public" root), and runs OpenSSL, curl, Python (ssl and
//! requests), Node.js, Java and Go inside it against two loopback servers: one whose chain goes
//! through a corporate intermediate to the corporate root, one issued by the public root.
//!
//! Every cell is asserted against [`EXPECTED`]. The results table is written to
//! `target/trust-table.md` and must equal the section of `docs/runtimes.md` between the `trust-table`
//! markers; `UPDATE_DOCS=1 cargo test --test trust` rewrites that section.
//!
//! Linux only, as root: the pod view needs `unshare --mount`. The clients come from
//! `scripts/trust-clients.sh`, which the test runs (it installs only what is missing).

#[path = "trust/pki.rs"]
mod pki;
mod util;
use util::run_ok as run_checked;
#[path = "trust/pod.rs"]
mod pod;
#[path = "trust/server.rs"]
mod server;
#[path = "trust/yaml.rs"]
mod yaml;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::Value;

use pki::Pki;
use pod::{Exec, Image, Keys, Outcome};
use server::TlsServer;

const BEGIN: &str = "<!-- BEGIN GENERATED: trust-table -->\n";
const END: &str = "<!-- END GENERATED: trust-table -->";

/// A client program, run with no trust option of its own.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Runtime {
    OpenSsl,
    Curl,
    PythonSsl,
    PythonRequests,
    Node,
    Java,
    Go,
}

impl Runtime {
    const ALL: [Runtime; 7] = [
        Runtime::OpenSsl,
        Runtime::Curl,
        Runtime::PythonSsl,
        Runtime::PythonRequests,
        Runtime::Node,
        Runtime::Java,
        Runtime::Go,
    ];

    fn label(self) -> &'static str {
        match self {
            Runtime::OpenSsl => "OpenSSL `s_client`",
            Runtime::Curl => "curl",
            Runtime::PythonSsl => "Python `ssl.create_default_context()` (urllib)",
            Runtime::PythonRequests => "Python `requests`",
            Runtime::Node => "Node.js `https.get`",
            Runtime::Java => "Java 17 `HttpsURLConnection`",
            Runtime::Go => "Go `net/http`",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Runtime::OpenSsl => "OpenSSL",
            Runtime::Curl => "curl",
            Runtime::PythonSsl => "Python `ssl`",
            Runtime::PythonRequests => "Python `requests`",
            Runtime::Node => "Node.js",
            Runtime::Java => "Java",
            Runtime::Go => "Go",
        }
    }
}

/// What a runtime verified: the corporate server, and the public one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Trust {
    corporate: bool,
    public: bool,
}

const BOTH: Trust = Trust {
    corporate: true,
    public: true,
};
const PUBLIC_ONLY: Trust = Trust {
    corporate: false,
    public: true,
};

/// How the bundle reaches the pod: one run of the tool.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
enum Source {
    /// No injection: the Deployment as the chart rendered it, to show what the image trusts.
    None,
    /// `--configmap corp-ca`: an existing ConfigMap with only the corporate root.
    PartialConfigMap,
    /// `--configmap corp-ca --complete-bundle`: an existing ConfigMap with the corporate root
    /// and the public roots.
    CompleteConfigMap,
    /// `--ca-file corp-root.pem --public-roots public-root.pem`: the tool generates it.
    Generated,
    /// `--configmap corp-ca --merge-at-start`: the ConfigMap of the corporate root alone,
    /// merged at pod start by the init container.
    MergeConfigMap,
    /// `--secret corp-ca --merge-at-start`: the same from a Secret.
    MergeSecret,
    /// `--signer-name example.com/corp-ca --merge-at-start`: the same from the
    /// ClusterTrustBundles of a signer, through a projected volume.
    MergeClusterTrustBundle,
}

/// One column of the table: a source, seen from one container of the Deployment.
struct Strategy {
    title: &'static str,
    source: Source,
    /// `app` leaves TLS to the image; `pinned` sets `SSL_CERT_FILE` to a file of its own.
    container: &'static str,
}

impl Strategy {
    /// The title without the table's line break, for messages.
    fn name(&self) -> String {
        self.title.replace("<br>", " ")
    }
}

/// The number of columns.
const COLUMNS: usize = 9;

const STRATEGIES: [Strategy; COLUMNS] = [
    Strategy {
        title: "before injection",
        source: Source::None,
        container: "app",
    },
    Strategy {
        title: "partial<br>`--configmap corp-ca`",
        source: Source::PartialConfigMap,
        container: "app",
    },
    Strategy {
        title: "complete<br>`--configmap corp-ca --complete-bundle`",
        source: Source::CompleteConfigMap,
        container: "app",
    },
    Strategy {
        title: "generated<br>`--ca-file corp-root.pem`",
        source: Source::Generated,
        container: "app",
    },
    Strategy {
        title: "complete, the chart sets `SSL_CERT_FILE`",
        source: Source::CompleteConfigMap,
        container: "pinned",
    },
    Strategy {
        title: "generated, the chart sets `SSL_CERT_FILE`",
        source: Source::Generated,
        container: "pinned",
    },
    Strategy {
        title: "merged at start<br>`--configmap corp-ca --merge-at-start`",
        source: Source::MergeConfigMap,
        container: "app",
    },
    Strategy {
        title: "merged at start<br>`--secret corp-ca --merge-at-start`",
        source: Source::MergeSecret,
        container: "app",
    },
    Strategy {
        title: "merged at start<br>`--signer-name example.com/corp-ca --merge-at-start`",
        source: Source::MergeClusterTrustBundle,
        container: "app",
    },
];

/// The promise, cell by cell, in [`Runtime::ALL`] × [`STRATEGIES`] order.
#[rustfmt::skip]
const EXPECTED: [[Trust; COLUMNS]; 7] = [
    // before, partial, complete, generated, complete+pinned, generated+pinned,
    // merged at start from a ConfigMap, a Secret, a ClusterTrustBundle
    [PUBLIC_ONLY, PUBLIC_ONLY, BOTH, BOTH, PUBLIC_ONLY, BOTH, BOTH, BOTH, BOTH], // OpenSSL
    [PUBLIC_ONLY, PUBLIC_ONLY, BOTH, BOTH, BOTH, BOTH, BOTH, BOTH, BOTH], // curl: CURL_CA_BUNDLE beats SSL_CERT_FILE
    [PUBLIC_ONLY, PUBLIC_ONLY, BOTH, BOTH, PUBLIC_ONLY, BOTH, BOTH, BOTH, BOTH], // Python ssl
    [PUBLIC_ONLY, PUBLIC_ONLY, BOTH, BOTH, BOTH, BOTH, BOTH, BOTH, BOTH], // Python requests: REQUESTS_CA_BUNDLE
    [PUBLIC_ONLY, BOTH, BOTH, BOTH, BOTH, BOTH, BOTH, BOTH, BOTH], // Node.js: NODE_EXTRA_CA_CERTS
    [PUBLIC_ONLY, PUBLIC_ONLY, PUBLIC_ONLY, BOTH, PUBLIC_ONLY, BOTH, BOTH, BOTH, BOTH], // Java: generated or merged truststore
    [PUBLIC_ONLY, BOTH, BOTH, BOTH, BOTH, BOTH, BOTH, BOTH, BOTH], // Go: every file in /etc/ssl/certs
];

/// The column of the additive-only bundle in [`STRATEGIES`].
const PARTIAL: usize = 1;

/// The runtimes an additive-only bundle (corporate CAs alone, not declared complete) reaches.
const ADDITIVE_REACHES: [Runtime; 2] = [Runtime::Node, Runtime::Go];
/// The runtimes it cannot reach.
const ADDITIVE_MISSES: [Runtime; 5] = [
    Runtime::OpenSsl,
    Runtime::Curl,
    Runtime::PythonSsl,
    Runtime::PythonRequests,
    Runtime::Java,
];

/// The paths of the clients, as `scripts/trust-clients.sh` prints them.
struct Tools(HashMap<String, PathBuf>);

impl Tools {
    fn install(dir: &Path) -> Tools {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/trust-clients.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(dir)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        assert!(
            out.status.success(),
            "{script} could not install the TLS clients ({})",
            out.status
        );
        let text = String::from_utf8(out.stdout).expect("UTF-8 paths");
        Tools(
            text.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), PathBuf::from(v)))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> &Path {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("scripts/trust-clients.sh did not report {name}"))
    }

    fn str(&self, name: &str) -> String {
        self.get(name).to_str().expect("UTF-8 path").to_owned()
    }
}

/// A scratch directory under the cargo target directory, kept when the test fails.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("trust-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("trust: kept {} for inspection", self.0.display());
        } else {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// The image's trust store: the public root alone, laid out as Debian's ca-certificates does
/// (the bundle, the PEM file, its subject-hash link, and Java's cacerts). cacerts is JKS, as
/// ca-certificates-java writes it: Java opens it without a password, and keytool's PKCS#12
/// would hide its certificates behind one.
fn image_trust(tools: &Tools, pki: &Pki, dir: &Path) -> Image {
    let certs = dir.join("etc-ssl-certs");
    fs::create_dir_all(certs.join("java")).expect("image certs dir");
    fs::copy(&pki.public_root, certs.join("ca-certificates.crt")).expect("image bundle");
    fs::copy(&pki.public_root, certs.join("Test_Public_Root.pem")).expect("image PEM");
    let hash = pki::openssl(
        tools.get("OPENSSL"),
        &[
            "x509",
            "-hash",
            "-noout",
            "-in",
            pki.public_root.to_str().unwrap(),
        ],
    );
    std::os::unix::fs::symlink(
        "Test_Public_Root.pem",
        certs.join(format!("{}.0", hash.trim())),
    )
    .expect("hash link");
    let cacerts = certs.join("java/cacerts");
    run_checked(
        Command::new(tools.get("KEYTOOL"))
            .args([
                "-importcert",
                "-noprompt",
                "-alias",
                "test-public-root",
                "-storetype",
                "JKS",
                "-storepass",
                "changeit",
            ])
            .arg("-file")
            .arg(&pki.public_root)
            .arg("-keystore")
            .arg(&cacerts),
    );

    // The JDK's cacerts is usually a link to /etc/ssl/certs/java/cacerts; bind over wherever
    // it really is. certifi's bundle is what requests trusts; the chart's pinned bundle is a
    // file of its image.
    let java_home = tools
        .get("JAVA")
        .parent()
        .and_then(Path::parent)
        .expect("JAVA is .../bin/java");
    let jdk_cacerts =
        fs::canonicalize(java_home.join("lib/security/cacerts")).expect("the JDK has cacerts");
    let certifi = run_checked(
        Command::new(tools.get("PYTHON")).args(["-c", "import certifi; print(certifi.where())"]),
    );
    Image {
        certs_dir: certs,
        files: vec![
            (jdk_cacerts, cacerts),
            (PathBuf::from(certifi.trim()), pki.public_root.clone()),
            (
                PathBuf::from("/opt/app/public-roots.pem"),
                pki.public_root.clone(),
            ),
        ],
    }
}

/// Runs the tool on the Deployment; returns its stdout and stderr.
fn inject(args: &[String]) -> (String, String) {
    let input = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/trust/deployment.yaml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trust-inject"));
    // Only the flags decide: no TRUST_INJECT_* variable of the caller's reaches the tool.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TRUST_INJECT_") {
            cmd.env_remove(name);
        }
    }
    let out = cmd.args(args).arg(input).output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "trust-inject {} failed ({}):\n{stderr}",
        args.join(" "),
        out.status
    );
    (String::from_utf8(out.stdout).expect("UTF-8 output"), stderr)
}

/// The keys of a ConfigMap document: `data`, and `binaryData` decoded.
fn configmap_keys(doc: &Value) -> Keys {
    let mut keys = Keys::new();
    for (k, v) in doc["data"].as_object().into_iter().flatten() {
        keys.insert(
            k.clone(),
            v.as_str().expect("string data").as_bytes().to_vec(),
        );
    }
    for (k, v) in doc["binaryData"].as_object().into_iter().flatten() {
        let b64: String = v
            .as_str()
            .expect("string binaryData")
            .split_whitespace()
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_else(|e| panic!("binaryData {k}: {e}"));
        keys.insert(k.clone(), bytes);
    }
    keys
}

/// What one tool run produced: the injected PodSpec and every ConfigMap a volume may name.
struct Injection {
    spec: Value,
    configmaps: HashMap<String, Keys>,
    stderr: String,
    /// The `--report` JSON of the run (null for no run).
    report: Value,
}

fn run_source(source: Source, pki: &Pki) -> Injection {
    let read = |p: &Path| fs::read(p).expect("certificate");
    let path = |p: &Path| p.to_str().expect("UTF-8 path").to_owned();
    let (args, given): (Vec<String>, Option<Keys>) = match source {
        Source::None => {
            let input = fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/trust/deployment.yaml"
            ))
            .expect("the Deployment fixture");
            let docs = yaml::parse_stream(&input);
            return Injection {
                spec: docs[0]["spec"]["template"]["spec"].clone(),
                configmaps: HashMap::new(),
                stderr: String::new(),
                report: Value::Null,
            };
        }
        Source::PartialConfigMap => (
            vec!["--configmap".into(), "corp-ca".into()],
            Some(Keys::from([("ca.crt".to_owned(), read(&pki.corp_root))])),
        ),
        Source::CompleteConfigMap => (
            vec![
                "--configmap".into(),
                "corp-ca".into(),
                "--complete-bundle".into(),
            ],
            Some(Keys::from([(
                "ca.crt".to_owned(),
                [read(&pki.corp_root), read(&pki.public_root)].concat(),
            )])),
        ),
        Source::Generated => (
            vec![
                "--ca-file".into(),
                path(&pki.corp_root),
                "--public-roots".into(),
                path(&pki.public_root),
            ],
            None,
        ),
        Source::MergeConfigMap => (
            vec![
                "--configmap".into(),
                "corp-ca".into(),
                "--merge-at-start".into(),
            ],
            Some(Keys::from([("ca.crt".to_owned(), read(&pki.corp_root))])),
        ),
        Source::MergeSecret => (
            vec![
                "--secret".into(),
                "corp-ca".into(),
                "--merge-at-start".into(),
            ],
            Some(Keys::from([("ca.crt".to_owned(), read(&pki.corp_root))])),
        ),
        Source::MergeClusterTrustBundle => (
            vec![
                "--signer-name".into(),
                "example.com/corp-ca".into(),
                "--merge-at-start".into(),
            ],
            Some(Keys::from([("bundle".to_owned(), read(&pki.corp_root))])),
        ),
    };
    let report_file = std::env::temp_dir().join(format!(
        "trust-report-{}-{source:?}.json",
        std::process::id()
    ));
    let mut args = args;
    args.extend(["--report".to_owned(), path(&report_file)]);
    let (stdout, stderr) = inject(&args);
    let report: Value = serde_json::from_str(&fs::read_to_string(&report_file).expect("report"))
        .expect("the report is JSON");
    let _ = fs::remove_file(&report_file);
    let docs = yaml::parse_stream(&stdout);
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("the Deployment comes out");
    let mut configmaps: HashMap<String, Keys> = docs
        .iter()
        .filter(|d| d["kind"] == "ConfigMap" && d["metadata"]["namespace"] == "demo")
        .map(|d| {
            (
                d["metadata"]["name"].as_str().expect("a name").to_owned(),
                configmap_keys(d),
            )
        })
        .collect();
    if let Some(keys) = given {
        let id = match source {
            Source::MergeSecret => "secret/corp-ca",
            Source::MergeClusterTrustBundle => "ctb/signer/example.com/corp-ca",
            _ => "corp-ca",
        };
        configmaps.insert(id.to_owned(), keys);
    } else {
        assert!(
            !configmaps.is_empty(),
            "--ca-file generated no ConfigMap in namespace demo:\n{stdout}"
        );
    }
    Injection {
        spec: deployment["spec"]["template"]["spec"].clone(),
        configmaps,
        stderr,
        report,
    }
}

/// The name the `--report` JSON gives a runtime.
fn report_name(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::OpenSsl => "OpenSSL",
        Runtime::Curl => "curl",
        Runtime::PythonSsl => "Python ssl",
        Runtime::PythonRequests => "Python requests",
        Runtime::Node => "Node.js",
        Runtime::Java => "Java",
        Runtime::Go => "Go",
    }
}

/// Runs the start-up merge init container of the injection, if it has one, the way kubelet
/// would (see [`pod::run_init`]), and adds what it wrote to the volumes the containers see.
/// The test's public root stands for the Mozilla store compiled into the binary, as it stands
/// for the image's roots: the spec must ask for `--public-roots mozilla`.
fn merge_at_start(injection: &mut Injection, tools: &Tools, dir: &Path, pki: &Pki) {
    let name = "trust-bundle-merge";
    let first = &injection.spec["initContainers"][0];
    if first["name"] != name {
        return;
    }
    let args: Vec<&str> = first["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        args.windows(2).any(|w| w == ["--public-roots", "mozilla"]),
        "the merge init container does not merge the Mozilla roots: {args:?}"
    );
    let public = pki.public_root.to_str().expect("UTF-8 path");
    let (written, outcome) = pod::run_init(
        tools.get("UNSHARE"),
        dir,
        &injection.spec,
        name,
        &injection.configmaps,
        Path::new(env!("CARGO_BIN_EXE_trust-inject")),
        &[("mozilla", public)],
    );
    assert_eq!(
        outcome.status, 0,
        "the merge init container failed:\n{}{}",
        outcome.stdout, outcome.stderr
    );
    injection.configmaps.extend(written);
}

/// The commands run in every view: each client against both servers.
fn execs(tools: &Tools, go_client: &Path, corp: &str, public: &str) -> Vec<Exec> {
    let src = |f: &str| format!("{}/tests/trust/{f}", env!("CARGO_MANIFEST_DIR"));
    let exec = |id: &str, argv: Vec<String>| Exec {
        id: id.to_owned(),
        argv,
        image_env: vec![],
    };
    let mut list = Vec::new();
    for (which, url) in [("corp", corp), ("public", public)] {
        let port = url
            .trim_start_matches("https://localhost:")
            .trim_end_matches('/');
        list.push(exec(
            &format!("openssl-{which}"),
            [
                &tools.str("OPENSSL"),
                "s_client",
                "-verify_return_error",
                "-servername",
                "localhost",
                "-connect",
            ]
            .iter()
            .map(|s| s.to_string())
            .chain([format!("localhost:{port}")])
            .collect(),
        ));
        list.push(exec(
            &format!("curl-{which}"),
            vec![
                tools.str("CURL"),
                "-sS".into(),
                "-o".into(),
                "/dev/null".into(),
                url.into(),
            ],
        ));
    }
    let both = |mut argv: Vec<String>| {
        argv.extend([corp.to_owned(), public.to_owned()]);
        argv
    };
    list.push(exec(
        "python-ssl",
        both(vec![tools.str("PYTHON"), src("client_urllib.py")]),
    ));
    list.push(exec(
        "python-requests",
        both(vec![tools.str("PYTHON"), src("client_requests.py")]),
    ));
    // Node.js trusts its compiled-in Mozilla roots by default, and no test root can be put
    // there; this image makes it read the system store instead, so the test's public root
    // stands for them. NODE_EXTRA_CA_CERTS adds to either store; "node-bundled" checks that.
    list.push(Exec {
        id: "node".into(),
        argv: both(vec![tools.str("NODE"), src("client.js")]),
        image_env: vec![("NODE_OPTIONS".into(), "--use-openssl-ca".into())],
    });
    list.push(exec(
        "node-bundled",
        both(vec![tools.str("NODE"), src("client.js")]),
    ));
    list.push(exec(
        "java",
        both(vec![tools.str("JAVA"), src("Client.java")]),
    ));
    list.push(exec(
        "go",
        both(vec![go_client.to_str().expect("UTF-8 path").to_owned()]),
    ));
    list
}

/// Words every client uses when it rejects a certificate chain (OpenSSL's "verify error",
/// curl's "SSL certificate problem", Python's CERTIFICATE_VERIFY_FAILED, Node's
/// UNABLE_TO_GET_ISSUER_CERT_LOCALLY, Java's "PKIX path building failed", Go's "certificate
/// signed by unknown authority"). A failure without them is the harness's, not a ✘.
const REJECTION_WORDS: &[&str] = &["certificate", "verify", "pkix", "issuer"];

/// Whether `runtime` verified the server at `url` (`which` is "corp" or "public"): `Ok(false)`
/// only when it rejected the certificate chain, `Err` when it failed for any other reason.
fn verified(
    runtime: Runtime,
    out: &BTreeMap<String, Outcome>,
    which: &str,
    url: &str,
) -> Result<bool, String> {
    let (ok, failure) = match runtime {
        Runtime::OpenSsl => {
            let o = &out[&format!("openssl-{which}")];
            (
                o.status == 0 && o.stdout.contains("Verify return code: 0 (ok)"),
                format!("{}{}", o.stdout, o.stderr),
            )
        }
        Runtime::Curl => {
            let o = &out[&format!("curl-{which}")];
            (o.status == 0, o.stderr.clone())
        }
        _ => {
            let id = match runtime {
                Runtime::PythonSsl => "python-ssl",
                Runtime::PythonRequests => "python-requests",
                Runtime::Node => "node",
                Runtime::Java => "java",
                _ => "go",
            };
            client_line(&out[id], url)
        }
    };
    let lower = failure.to_lowercase();
    match ok {
        true => Ok(true),
        false if REJECTION_WORDS.iter().any(|w| lower.contains(w)) => Ok(false),
        false => Err(failure),
    }
}

/// What a multi-URL client printed for `url`: whether it is "ok", and the line (or, when it
/// printed none, everything it wrote).
fn client_line(outcome: &Outcome, url: &str) -> (bool, String) {
    let prefix = format!("{url} ");
    match outcome.stdout.lines().find(|l| l.starts_with(&prefix)) {
        Some(line) => (line == format!("{url} ok"), line.to_owned()),
        None => (
            false,
            format!(
                "exit {}: {}{}",
                outcome.status, outcome.stdout, outcome.stderr
            ),
        ),
    }
}

fn mark(b: bool) -> &'static str {
    if b { "✔" } else { "✘" }
}

fn list(runtimes: &[Runtime]) -> String {
    let names: Vec<&str> = runtimes.iter().map(|r| r.short()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// Wraps a paragraph at 100 columns, as the rest of the documentation is.
fn wrap(paragraph: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in paragraph.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > 100 {
            out += &line;
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line += word;
    }
    out + &line + "\n"
}

/// The docs/runtimes.md section: the table, then what it means.
fn table(results: &[[Trust; COLUMNS]; 7]) -> String {
    let mut t = wrap(
        "Each cell is *corporate CA / public root*: ✔ when the client, run with no trust option of \
         its own inside the injected container, verified a server whose chain goes through an \
         intermediate to the corporate root (left), or one issued by a public root the image \
         already trusted (right); ✘ when it rejected it.",
    );
    t += "\n| runtime |";
    for s in &STRATEGIES {
        t += &format!(" {} |", s.title);
    }
    t += "\n|---|";
    t += &"---|".repeat(STRATEGIES.len());
    t += "\n";
    for (runtime, row) in Runtime::ALL.iter().zip(results) {
        t += &format!("| {} |", runtime.label());
        for cell in row {
            t += &format!(" {} / {} |", mark(cell.corporate), mark(cell.public));
        }
        t += "\n";
    }
    let (reaches, misses) = additive_reach(results);
    t += "\n";
    t += &wrap(&format!(
        "An additive-only bundle (a ConfigMap or Secret of the corporate CAs alone, not declared \
         `--complete-bundle`) reaches {} (`NODE_EXTRA_CA_CERTS`, and every file in \
         `/etc/ssl/certs`). It cannot reach {}: OpenSSL looks a CA up in `/etc/ssl/certs` only \
         under its `<subject-hash>.0` name, which the tool writes only for certificates it reads \
         itself (`--ca-file`), never for `--configmap` or `--secret`; requests reads certifi's \
         bundle and Java its `cacerts`; and the variables that would redirect them replace the \
         public roots, so the tool sets them only for complete bundles.",
        list(&reaches),
        list(&misses)
    ));
    t += "\n";
    t += &wrap(
        "The start-up merge (`--merge-at-start`) reaches every runtime from that same bundle: an \
         init container runs `trust-inject merge` as a non-root user with a read-only root \
         filesystem, reads the ConfigMap, Secret or ClusterTrustBundle projection mounted read-only, \
         and writes the generated \
         layout (the complete bundle, the `<subject-hash>.N` files, the truststore) into an \
         emptyDir that the containers mount as a generated complete bundle. Here it runs the \
         real binary that way, in its own mount namespace, with the test's public root in place \
         of the Mozilla roots it merges in a pod.",
    );
    t += "\n";
    t += &wrap(
        "Java gets a truststore (`JAVA_TOOL_OPTIONS`) only from a generated bundle or the start-up \
         merge, which carry `truststore.p12`. When the chart sets `SSL_CERT_FILE` itself, its value is kept (with a \
         warning): OpenSSL and Python `ssl` then read the chart's file, and find the corporate CA \
         only through the `<subject-hash>.0` files of a generated bundle; curl and requests follow \
         `CURL_CA_BUNDLE` and `REQUESTS_CA_BUNDLE`, which the tool still sets.",
    );
    t += "\n";
    t += &wrap(
        "Measured by `cargo test --test trust` on Debian 12: the real binary injects a \
         Deployment, and each client runs in a private mount namespace holding the container's \
         volumeMounts and env as kubelet would mount and set them, over an image whose trust \
         (`/etc/ssl/certs`, certifi's bundle, Java's `cacerts`) is a test public root alone. \
         Node.js runs with `--use-openssl-ca` so that this root stands for its built-in Mozilla \
         roots; with the built-in roots it trusts the corporate CA in the same cells.",
    );
    t
}

/// The runtimes the additive-only bundle reaches, and those it cannot.
fn additive_reach(results: &[[Trust; COLUMNS]; 7]) -> (Vec<Runtime>, Vec<Runtime>) {
    Runtime::ALL
        .iter()
        .zip(results)
        .map(|(&rt, row)| (rt, row[PARTIAL].corporate))
        .fold(
            (Vec::new(), Vec::new()),
            |(mut yes, mut no), (rt, reached)| {
                if reached {
                    yes.push(rt)
                } else {
                    no.push(rt)
                }
                (yes, no)
            },
        )
}

/// The trust table of docs/runtimes.md, or a failure naming what differs; `UPDATE_DOCS=1`
/// rewrites it.
fn check_readme(want: &str) {
    check_doc_between("docs/runtimes.md", BEGIN, END, want);
}

/// Checks (or with `UPDATE_DOCS` rewrites) the section of the docs page `page` between
/// `begin` and `end_marker`.
fn check_doc_between(page: &str, begin: &str, end_marker: &str, want: &str) {
    let path = format!("{}/{page}", env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{page} is readable: {e}"));
    let start = readme
        .find(begin)
        .unwrap_or_else(|| panic!("{page} lacks the line {begin:?}"))
        + begin.len();
    let end = start
        + readme[start..]
            .find(end_marker)
            .unwrap_or_else(|| panic!("{page} lacks the marker {end_marker:?}"));
    if readme[start..end] == *want {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        fs::write(
            path,
            format!("{}{}{}", &readme[..start], want, &readme[end..]),
        )
        .unwrap_or_else(|e| panic!("{page} is writable: {e}"));
        return;
    }
    panic!(
        "a generated table of {page} is out of date: run `UPDATE_DOCS=1 cargo test --test trust`\n--- {page}\n{}\n--- measured\n{want}",
        &readme[start..end]
    );
}

/// Builds the Go client in `dir`.
fn build_go_client(tools: &Tools, dir: &Path) -> PathBuf {
    // Built once, outside the views, from the standard library alone.
    let go_dir = dir.join("go-client");
    fs::create_dir_all(&go_dir).expect("go client dir");
    fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/trust/client.go"),
        go_dir.join("main.go"),
    )
    .expect("client.go");
    fs::write(go_dir.join("go.mod"), "module trustclient\n\ngo 1.19\n").expect("go.mod");
    let go_client = go_dir.join("trust-client");
    run_checked(
        Command::new(tools.get("GO"))
            .args(["build", "-o"])
            .arg(&go_client)
            .arg(".")
            .current_dir(&go_dir)
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .env(
                "GOCACHE",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("trust-clients/go-cache"),
            ),
    );
    go_client
}

#[test]
fn every_runtime_trusts_the_corporate_ca_and_still_trusts_public_roots() {
    let scratch = Scratch::new();
    let tools = Tools::install(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("trust-clients"));
    let pki = Pki::generate(tools.get("OPENSSL"), &scratch.0.join("pki"));
    let image = image_trust(&tools, &pki, &scratch.0.join("image"));

    let go_client = build_go_client(&tools, &scratch.0);

    let corp_server = TlsServer::start(tools.get("PYTHON"), &pki.corp_server);
    let public_server = TlsServer::start(tools.get("PYTHON"), &pki.public_server);
    let (corp, public) = (corp_server.url(), public_server.url());
    let execs = execs(&tools, &go_client, &corp, &public);

    let mut injections: HashMap<Source, Injection> = HashMap::new();
    let mut results = [[PUBLIC_ONLY; COLUMNS]; 7];
    let mut problems = Vec::new();
    for (col, strategy) in STRATEGIES.iter().enumerate() {
        let injection = injections.entry(strategy.source).or_insert_with(|| {
            let mut injection = run_source(strategy.source, &pki);
            merge_at_start(
                &mut injection,
                &tools,
                &scratch.0.join(format!("init-{col}")),
                &pki,
            );
            injection
        });
        let dir = scratch.0.join(format!("view-{col}-{}", strategy.container));
        let out = pod::run(
            tools.get("UNSHARE"),
            &dir,
            &injection.spec,
            strategy.container,
            &injection.configmaps,
            &image,
            &execs,
        );
        for (row, &runtime) in Runtime::ALL.iter().enumerate() {
            let mut side = |which: &str, url: &str| {
                verified(runtime, &out, which, url).unwrap_or_else(|failure| {
                    problems.push(format!(
                        "{} against the {which} server with {}: failed without rejecting the certificate: {failure}",
                        runtime.short(),
                        strategy.name()
                    ));
                    false
                })
            };
            results[row][col] = Trust {
                corporate: side("corp", &corp),
                public: side("public", &public),
            };
        }
        // NODE_EXTRA_CA_CERTS adds to Node's built-in roots just as to the system store.
        let bundled = client_line(&out["node-bundled"], &corp).0;
        let node = Runtime::ALL
            .iter()
            .position(|&r| r == Runtime::Node)
            .expect("Node.js is a runtime");
        if bundled != results[node][col].corporate {
            problems.push(format!(
                "Node.js with its built-in roots trusts the corporate CA: {} with {}, unlike with the system store",
                mark(bundled),
                strategy.name()
            ));
        }
        let mut log = String::new();
        for (id, o) in &out {
            log += &format!("== {id} (exit {})\n{}{}\n", o.status, o.stdout, o.stderr);
        }
        fs::write(dir.join("clients.log"), log).expect("clients log");
    }

    for (row, runtime) in Runtime::ALL.iter().enumerate() {
        for (col, strategy) in STRATEGIES.iter().enumerate() {
            let (got, want) = (results[row][col], EXPECTED[row][col]);
            if !got.public {
                problems.push(format!(
                    "{} no longer trusts the public root with {}",
                    runtime.short(),
                    strategy.name()
                ));
            }
            if got != want {
                problems.push(format!(
                    "{} with {}: corporate {} public {}, expected {} / {} (see {}/view-{col}-{}/clients.log)",
                    runtime.short(),
                    strategy.name(),
                    mark(got.corporate),
                    mark(got.public),
                    mark(want.corporate),
                    mark(want.public),
                    scratch.0.display(),
                    strategy.container,
                ));
            }
        }
    }

    // What the run says (`--report`: per container, which runtimes trust the CAs; the
    // partial-trust notice) is what the clients did.
    for (col, strategy) in STRATEGIES.iter().enumerate() {
        let injection = &injections[&strategy.source];
        if strategy.source == Source::None {
            continue;
        }
        let container = injection.report["workloads"][0]["containers"]
            .as_array()
            .expect("report containers")
            .iter()
            .find(|c| c["name"] == strategy.container)
            .expect("the container is in the report");
        let said: Vec<&str> = container["runtimes"]["trust"]
            .as_array()
            .expect("runtimes.trust")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for (row, &runtime) in Runtime::ALL.iter().enumerate() {
            let claimed = said.contains(&report_name(runtime));
            if claimed != results[row][col].corporate {
                problems.push(format!(
                    "--report says {} {} the CA with {}, the client says {}",
                    runtime.short(),
                    if claimed { "trusts" } else { "does not trust" },
                    strategy.name(),
                    mark(results[row][col].corporate)
                ));
            }
        }
        let partial = (0..Runtime::ALL.len()).any(|row| !results[row][col].corporate);
        let noticed = injection.stderr.contains("notice: trust is partial");
        if strategy.container == "app" && partial != noticed {
            problems.push(format!(
                "{}: the partial-trust notice is {} but the clients say trust is {}:\n{}",
                strategy.name(),
                if noticed { "printed" } else { "missing" },
                if partial { "partial" } else { "complete" },
                injection.stderr
            ));
        }
    }

    // The chart's SSL_CERT_FILE is kept, and the warning names its container.
    for source in [Source::CompleteConfigMap, Source::Generated] {
        let injection = &injections[&source];
        let warned = injection.stderr.lines().any(|l| {
            l.contains("warning")
                && l.contains("container \"pinned\"")
                && l.contains("SSL_CERT_FILE")
        });
        if !warned {
            problems.push(format!(
                "{source:?}: no warning names container \"pinned\" and SSL_CERT_FILE:\n{}",
                injection.stderr
            ));
        }
        let env = pod::container_env(pod::container(&injection.spec, "pinned"));
        if !env.contains(&(
            "SSL_CERT_FILE".to_owned(),
            "/opt/app/public-roots.pem".to_owned(),
        )) {
            problems.push(format!(
                "{source:?}: the chart's SSL_CERT_FILE was not kept: {env:?}"
            ));
        }
    }

    let (reaches, misses) = additive_reach(&results);
    if reaches != ADDITIVE_REACHES || misses != ADDITIVE_MISSES {
        problems.push(format!("an additive-only bundle reaches {reaches:?} and misses {misses:?}, expected {ADDITIVE_REACHES:?} and {ADDITIVE_MISSES:?}"));
    }

    let markdown = table(&results);
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("trust-table.md");
    fs::write(&target, &markdown).expect("target/trust-table.md");
    eprintln!("{markdown}");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
    check_readme(&markdown);
}

// The egress proxy: the clients reach the corporate server only through a CONNECT proxy.

const PROXY_BEGIN: &str = "<!-- BEGIN GENERATED: proxy-table -->\n";
const PROXY_END: &str = "<!-- END GENERATED: proxy-table -->";

/// What a runtime did in the proxy test: reached the corporate server through the proxy, and
/// the `NO_PROXY` server directly.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Proxied {
    through_proxy: bool,
    direct: bool,
}

/// The promise, in [`Runtime::ALL`] order.
const PROXY_EXPECTED: [Proxied; 7] = [
    // OpenSSL s_client reads no proxy variable (it has -proxy).
    Proxied {
        through_proxy: false,
        direct: true,
    },
    // curl, Python ssl (urllib), Python requests.
    Proxied {
        through_proxy: true,
        direct: true,
    },
    Proxied {
        through_proxy: true,
        direct: true,
    },
    Proxied {
        through_proxy: true,
        direct: true,
    },
    // Node.js before 24 ignores NODE_USE_ENV_PROXY and the proxy variables.
    Proxied {
        through_proxy: false,
        direct: true,
    },
    // Java (its proxy properties), Go.
    Proxied {
        through_proxy: true,
        direct: true,
    },
    Proxied {
        through_proxy: true,
        direct: true,
    },
];

/// A network namespace of the test, deleted on drop.
struct NetNs(String);

impl NetNs {
    fn new(name: String) -> NetNs {
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        run_checked(Command::new("ip").args(["netns", "add", &name]));
        let ns = NetNs(name);
        run_checked(
            Command::new("ip").args(["netns", "exec", &ns.0, "ip", "link", "set", "lo", "up"]),
        );
        ns
    }

    /// A script that runs `program` with its arguments inside the namespace.
    fn wrapper(&self, dir: &Path, name: &str, program: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join(name);
        fs::write(
            &path,
            format!(
                "#!/bin/sh\nexec ip netns exec {} {} \"$@\"\n",
                self.0,
                pod::q(program.to_str().expect("UTF-8 path"))
            ),
        )
        .expect("wrapper script");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// The CONNECT proxy (`tests/trust/proxy.py`): listening on the loopback of `ns`, connecting
/// from the test's own network namespace; killed on drop.
struct Proxy {
    child: std::process::Child,
    port: u16,
    log: PathBuf,
}

impl Proxy {
    fn start(python: &Path, ns: &NetNs, log: PathBuf) -> Proxy {
        use std::io::BufRead as _;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/trust/proxy.py");
        fs::write(&log, "").expect("proxy log");
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns.0])
            .arg(python)
            .arg(script)
            .arg(format!("/proc/{}/ns/net", std::process::id()))
            .arg(&log)
            .arg("900")
            .args([
                "corp.example.test=127.0.0.1",
                "direct.example.test=127.0.0.1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the proxy starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the proxy prints its port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the proxy did not start (printed {line:?})")
        });
        Proxy { child, port, log }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proxy_table(results: &[Proxied; 7]) -> String {
    let mut t = wrap(
        "Each cell is ✔ when the client, run with the injected container's env and mounts and no \
         proxy option of its own, fetched the page: from the corporate server, which it can reach \
         only through the proxy (left), and from a server named in `--no-proxy`, reached directly \
         (right); ✘ when it failed.",
    );
    t += "\n| runtime | `--ca-file corp-root.pem --proxy http://127.0.0.1:PORT --no-proxy direct.example.test`<br>through the proxy / `NO_PROXY` |\n|---|---|\n";
    for (runtime, r) in Runtime::ALL.iter().zip(results) {
        let label = match runtime {
            Runtime::Node => "Node.js 20 `https.get`".to_owned(),
            other => other.label().to_owned(),
        };
        t += &format!(
            "| {label} | {} / {} |\n",
            mark(r.through_proxy),
            mark(r.direct)
        );
    }
    t += "\n";
    t += &wrap(
        "OpenSSL's `s_client` reads no proxy variable. Node.js honours `NODE_USE_ENV_PROXY=1` (and \
         so the proxy variables) from version 24; the Node.js 20 measured here ignores both and \
         connects directly, which the network refuses. Java reads the `-Dhttps.proxyHost` family \
         and `-Dhttp.nonProxyHosts` that the tool appends to `JAVA_TOOL_OPTIONS`. The proxy's log \
         shows no request for the `NO_PROXY` name.",
    );
    t += "\n";
    t += &wrap(
        "Measured by `cargo test --test trust`: the clients run in a network namespace of their \
         own whose loopback holds the proxy's listening socket and the `NO_PROXY` server; the \
         proxy (`tests/trust/proxy.py`, CONNECT only, logging every request) connects from the \
         test's namespace, where the corporate server listens, so no direct connection reaches it.",
    );
    t
}

#[test]
fn every_proxy_aware_runtime_reaches_the_corporate_server_through_the_proxy() {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("trust-proxy-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch directory");
    let scratch = Scratch(dir);
    let tools = Tools::install(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("trust-clients"));
    let pki = Pki::generate(tools.get("OPENSSL"), &scratch.0.join("pki"));
    let mut image = image_trust(&tools, &pki, &scratch.0.join("image"));
    let go_client = build_go_client(&tools, &scratch.0);
    let ns = NetNs::new(format!("ti-proxy-{}", std::process::id()));
    let python_in_ns = ns.wrapper(&scratch.0, "python-in-ns", tools.get("PYTHON"));
    let unshare_in_ns = ns.wrapper(&scratch.0, "unshare-in-ns", tools.get("UNSHARE"));

    // The corporate server in the test's namespace; the NO_PROXY one in the clients'.
    let corp_server = TlsServer::start(tools.get("PYTHON"), &pki.corp_server);
    let direct_server = TlsServer::start(&python_in_ns, &pki.corp_server);
    assert_ne!(
        corp_server.port, direct_server.port,
        "ports collide; run again"
    );
    let proxy = Proxy::start(tools.get("PYTHON"), &ns, scratch.0.join("proxy.log"));
    let corp = format!("https://corp.example.test:{}/", corp_server.port);
    let direct = format!("https://direct.example.test:{}/", direct_server.port);
    let hosts = scratch.0.join("hosts");
    fs::write(
        &hosts,
        "127.0.0.1 localhost corp.example.test direct.example.test\n",
    )
    .expect("hosts file");
    image.files.push((PathBuf::from("/etc/hosts"), hosts));

    let path = |p: &Path| p.to_str().expect("UTF-8 path").to_owned();
    let (stdout, _) = inject(&[
        "--ca-file".into(),
        path(&pki.corp_root),
        "--public-roots".into(),
        path(&pki.public_root),
        "--proxy".into(),
        format!("http://127.0.0.1:{}", proxy.port),
        "--no-proxy".into(),
        "direct.example.test".into(),
    ]);
    let docs = yaml::parse_stream(&stdout);
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("the Deployment comes out");
    let configmaps: HashMap<String, Keys> = docs
        .iter()
        .filter(|d| d["kind"] == "ConfigMap")
        .map(|d| {
            (
                d["metadata"]["name"].as_str().expect("a name").to_owned(),
                configmap_keys(d),
            )
        })
        .collect();
    let spec = deployment["spec"]["template"]["spec"].clone();

    let src = |f: &str| format!("{}/tests/trust/{f}", env!("CARGO_MANIFEST_DIR"));
    let exec = |id: &str, argv: Vec<String>| Exec {
        id: id.to_owned(),
        argv,
        image_env: vec![],
    };
    let both = |argv: Vec<String>| [argv, vec![corp.clone(), direct.clone()]].concat();
    let mut execs = Vec::new();
    for (which, host, port) in [
        ("corp", "corp.example.test", corp_server.port),
        ("public", "direct.example.test", direct_server.port),
    ] {
        execs.push(exec(
            &format!("openssl-{which}"),
            vec![
                tools.str("OPENSSL"),
                "s_client".into(),
                "-verify_return_error".into(),
                "-servername".into(),
                host.into(),
                "-connect".into(),
                format!("{host}:{port}"),
            ],
        ));
    }
    for (which, url) in [("corp", &corp), ("public", &direct)] {
        execs.push(exec(
            &format!("curl-{which}"),
            vec![
                tools.str("CURL"),
                "-sS".into(),
                "-o".into(),
                "/dev/null".into(),
                url.clone(),
            ],
        ));
    }
    execs.push(exec(
        "python-ssl",
        both(vec![tools.str("PYTHON"), src("client_urllib.py")]),
    ));
    execs.push(exec(
        "python-requests",
        both(vec![tools.str("PYTHON"), src("client_requests.py")]),
    ));
    execs.push(exec(
        "node",
        both(vec![tools.str("NODE"), src("client.js")]),
    ));
    execs.push(exec(
        "java",
        both(vec![tools.str("JAVA"), src("Client.java")]),
    ));
    execs.push(exec("go", both(vec![path(&go_client)])));

    let view = scratch.0.join("view");
    let out = pod::run(
        &unshare_in_ns,
        &view,
        &spec,
        "app",
        &configmaps,
        &image,
        &execs,
    );
    let mut log = String::new();
    for (id, o) in &out {
        log += &format!("== {id} (exit {})\n{}{}\n", o.status, o.stdout, o.stderr);
    }
    fs::write(view.join("clients.log"), &log).expect("clients log");

    let ok = |runtime: Runtime, which: &str, url: &str| -> bool {
        match runtime {
            Runtime::OpenSsl => {
                let o = &out[&format!("openssl-{which}")];
                o.status == 0 && o.stdout.contains("Verify return code: 0 (ok)")
            }
            Runtime::Curl => out[&format!("curl-{which}")].status == 0,
            Runtime::PythonSsl => client_line(&out["python-ssl"], url).0,
            Runtime::PythonRequests => client_line(&out["python-requests"], url).0,
            Runtime::Node => client_line(&out["node"], url).0,
            Runtime::Java => client_line(&out["java"], url).0,
            Runtime::Go => client_line(&out["go"], url).0,
        }
    };
    let mut results = [Proxied {
        through_proxy: false,
        direct: false,
    }; 7];
    for (i, &runtime) in Runtime::ALL.iter().enumerate() {
        results[i] = Proxied {
            through_proxy: ok(runtime, "corp", &corp),
            direct: ok(runtime, "public", &direct),
        };
    }
    let proxy_log = fs::read_to_string(&proxy.log).expect("proxy log");
    let mut problems = Vec::new();
    for (i, runtime) in Runtime::ALL.iter().enumerate() {
        if results[i] != PROXY_EXPECTED[i] {
            problems.push(format!(
                "{}: through the proxy {}, direct {}, expected {} / {}",
                runtime.short(),
                mark(results[i].through_proxy),
                mark(results[i].direct),
                mark(PROXY_EXPECTED[i].through_proxy),
                mark(PROXY_EXPECTED[i].direct)
            ));
        }
    }
    // Every client that reached the corporate server went through the proxy, once each.
    let through = results.iter().filter(|r| r.through_proxy).count();
    let connects = proxy_log
        .lines()
        .filter(|l| l.starts_with(&format!("CONNECT corp.example.test:{} ", corp_server.port)))
        .count();
    if connects < through {
        problems.push(format!(
            "{through} clients reached the corporate server but the proxy logged {connects} CONNECTs for it"
        ));
    }
    if proxy_log.contains("direct.example.test") {
        problems.push("the proxy was asked for the NO_PROXY name direct.example.test".into());
    }
    assert!(
        problems.is_empty(),
        "{}\nproxy log:\n{proxy_log}\nclients: {}/clients.log",
        problems.join("\n"),
        view.display()
    );
    check_doc_between(
        "docs/injection.md",
        PROXY_BEGIN,
        PROXY_END,
        &proxy_table(&results),
    );
}
