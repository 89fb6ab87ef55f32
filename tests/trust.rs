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
        let env = pod::container_env(
            pod::container(&injection.spec, "pinned"),
            &injection.configmaps,
        );
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

/// What a runtime did in one run of the proxy test: fetched the page of the corporate server
/// (which only the proxy leads to), of the server named in `--no-proxy`, and of the one at an
/// address a CIDR in `--no-proxy` covers (both reached only directly).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Proxied {
    through_proxy: bool,
    by_name: bool,
    by_cidr: bool,
}

const fn cell(through_proxy: bool, by_name: bool, by_cidr: bool) -> Proxied {
    Proxied {
        through_proxy,
        by_name,
        by_cidr,
    }
}

/// The CIDR given in `--no-proxy`. Not loopback: Go never sends a loopback address to a
/// proxy, whatever `NO_PROXY` says.
const CIDR: &str = "192.0.2.0/24";

/// The address of a runtime's server for the CIDR check, one per runtime ([`Runtime::ALL`]
/// order), so the proxy's log tells which client asked for it. The certificate names them
/// (`tests/trust/pki.rs`).
fn cidr_address(row: usize) -> String {
    format!("192.0.2.{}", 11 + row)
}

/// How the bundle and the proxy reach the pod in one run of the tool.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ProxySource {
    /// `--ca-file corp-root.pem --proxy URL`.
    Generated,
    /// `--configmap corp-ca --proxy URL`: the corporate CA alone.
    Partial,
    /// `--configmap corp-ca --merge-at-start --proxy URL`.
    Merged,
    /// `--configmap corp-ca --merge-at-start --proxy-secret corp-proxy`, with Java's keys.
    Secret,
    /// The same with a Secret that holds only `HTTP_PROXY` and `HTTPS_PROXY`.
    SecretWithoutJavaKeys,
}

/// One column of the proxy table.
struct ProxyRun {
    title: &'static str,
    source: ProxySource,
    /// The promise, in [`Runtime::ALL`] order.
    expected: [Proxied; 7],
}

const Y: bool = true;
const N: bool = false;

/// Every client that reads the proxy settings, with a bundle it trusts: OpenSSL's `s_client`
/// reads no proxy variable and Node.js 20 ignores them (both connect directly, which reaches
/// only the servers of the clients' namespace); Python's urllib and Java have no CIDR form.
const COMPLETE: [Proxied; 7] = [
    cell(N, Y, Y), // OpenSSL
    cell(Y, Y, Y), // curl
    cell(Y, Y, N), // Python ssl (urllib)
    cell(Y, Y, Y), // Python requests
    cell(N, Y, Y), // Node.js 20
    cell(Y, Y, N), // Java
    cell(Y, Y, Y), // Go
];

const PROXY_RUNS: [ProxyRun; 5] = [
    ProxyRun {
        title: "generated<br>`--ca-file corp-root.pem --proxy URL`",
        source: ProxySource::Generated,
        expected: COMPLETE,
    },
    ProxyRun {
        title: "corporate CA alone<br>`--configmap corp-ca --proxy URL`",
        source: ProxySource::Partial,
        // Only Node.js and Go trust a bundle of the corporate CA alone.
        expected: [
            cell(N, N, N),
            cell(N, N, N),
            cell(N, N, N),
            cell(N, N, N),
            cell(N, Y, Y),
            cell(N, N, N),
            cell(Y, Y, Y),
        ],
    },
    ProxyRun {
        title: "merged at start<br>`--configmap corp-ca --merge-at-start --proxy URL`",
        source: ProxySource::Merged,
        expected: COMPLETE,
    },
    ProxyRun {
        title: "from a Secret<br>`--configmap corp-ca --merge-at-start --proxy-secret corp-proxy`",
        source: ProxySource::Secret,
        expected: COMPLETE,
    },
    ProxyRun {
        title: "from a Secret without Java's keys",
        source: ProxySource::SecretWithoutJavaKeys,
        // Java starts, reaches the NO_PROXY name, and fails through the proxy.
        expected: [
            cell(N, Y, Y),
            cell(Y, Y, Y),
            cell(Y, Y, N),
            cell(Y, Y, Y),
            cell(N, Y, Y),
            cell(N, Y, N),
            cell(Y, Y, Y),
        ],
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

    /// Gives the namespace's loopback one more address.
    fn add_address(&self, address: &str) {
        run_checked(Command::new("ip").args([
            "netns",
            "exec",
            &self.0,
            "ip",
            "addr",
            "add",
            &format!("{address}/32"),
            "dev",
            "lo",
        ]));
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

/// What the runs measured, beside the cells: for each run, the runtimes whose request for
/// their CIDR address reached the proxy.
struct ProxyResults {
    cells: Vec<[Proxied; 7]>,
    cidr_asked_proxy: Vec<Vec<Runtime>>,
}

fn proxy_cell(p: Proxied) -> String {
    format!(
        "{} / {} / {}",
        mark(p.through_proxy),
        mark(p.by_name),
        mark(p.by_cidr)
    )
}

/// The docs/injection.md section: the table, then what it means, every list in it measured.
fn proxy_table(r: &ProxyResults) -> String {
    let mut t = wrap(&format!(
        "Each cell is *corporate server through the proxy / `NO_PROXY` name / `NO_PROXY` CIDR*: ✔ \
         when the client, run with the injected container's env and mounts and no proxy or trust \
         option of its own, fetched the page; ✘ when it failed. The corporate server can be \
         reached only through the proxy; the other two only directly: one named in `--no-proxy`, \
         and one reached by an address that `--no-proxy`'s `{CIDR}` covers. Every run has \
         `--no-proxy direct.example.test,{CIDR}`."
    ));
    t += "\n| runtime |";
    for run in &PROXY_RUNS {
        t += &format!(" {} |", run.title);
    }
    t += "\n|---|";
    t += &"---|".repeat(PROXY_RUNS.len());
    t += "\n";
    for (row, runtime) in Runtime::ALL.iter().enumerate() {
        let label = match runtime {
            Runtime::Node => "Node.js 20 `https.get`".to_owned(),
            other => other.label().to_owned(),
        };
        t += &format!("| {label} |");
        for cells in &r.cells {
            t += &format!(" {} |", proxy_cell(cells[row]));
        }
        t += "\n";
    }
    let generated = PROXY_RUNS
        .iter()
        .position(|run| run.source == ProxySource::Generated)
        .expect("a generated run");
    let partial = PROXY_RUNS
        .iter()
        .position(|run| run.source == ProxySource::Partial)
        .expect("a partial run");
    let proxied: Vec<Runtime> = Runtime::ALL
        .iter()
        .enumerate()
        .filter(|(row, _)| r.cells[generated][*row].through_proxy)
        .map(|(_, rt)| *rt)
        .collect();
    let (cidr_no, cidr_yes): (Vec<Runtime>, Vec<Runtime>) = proxied
        .iter()
        .partition(|rt| r.cidr_asked_proxy[generated].contains(rt));
    let alone: Vec<Runtime> = Runtime::ALL
        .iter()
        .enumerate()
        .filter(|(row, _)| r.cells[partial][*row].through_proxy)
        .map(|(_, rt)| *rt)
        .collect();
    let need: Vec<Runtime> = proxied
        .iter()
        .filter(|rt| !alone.contains(rt))
        .copied()
        .collect();
    // Verbs agree with the measured lists; the Python `ssl` client fetches with urllib.
    let verb = |rts: &[Runtime], one: &'static str, many: &'static str| {
        if rts.len() == 1 { one } else { many }
    };
    let names = |rts: &[Runtime]| list(rts).replace("Python `ssl`", "Python `urllib`");
    t += "\n";
    t += &wrap(&format!(
        "A CIDR in `NO_PROXY`: {} {} directly to an address it covers (the proxy's log shows no \
         request for it); {} {} the proxy for it, which fails here. Every client reached the \
         `NO_PROXY` name directly: the proxy's log shows no request for it.",
        names(&cidr_yes),
        verb(&cidr_yes, "connects", "connect"),
        names(&cidr_no),
        verb(&cidr_no, "asks", "ask"),
    ));
    t += "\n";
    t += &wrap(&format!(
        "With the corporate CA alone (`--configmap` of a bundle not declared `--complete-bundle`), \
         only {} {} the corporate server through the proxy. {} {} a complete bundle: \
         `--merge-at-start` (an init container merges the public roots), `--ca-file`, or a \
         source declared `--complete-bundle`.",
        names(&alone),
        verb(&alone, "reaches", "reach"),
        names(&need),
        verb(&need, "needs", "need"),
    ));
    t += "\n";
    t += &wrap(
        "OpenSSL's `s_client` reads no proxy variable. Node.js honours `NODE_USE_ENV_PROXY=1` (and \
         so the proxy variables) from version 24; the Node.js 20 measured here ignores both, \
         whatever the bundle, and connects directly: it reaches the `NO_PROXY` servers but not \
         the corporate one, which the network leaves to the proxy. Java reads the \
         `-Dhttps.proxyHost` family and `-Dhttp.nonProxyHosts` that the tool appends to \
         `JAVA_TOOL_OPTIONS`; with `--proxy-secret` their values are `$(VAR)` references to the \
         Secret's optional keys. Without those keys the JVM still starts and reaches the \
         `NO_PROXY` name, but asks for the unknown proxy host `$(TRUST_INJECT_HTTPS_PROXY_HOST)`.",
    );
    t += "\n";
    t += &wrap(
        "Measured by `cargo test --test trust`: the clients run in a network namespace of their \
         own whose loopback holds the proxy's listening socket and the `NO_PROXY` servers; the \
         proxy (`tests/trust/proxy.py`, CONNECT only, logging every request) connects from the \
         test's namespace, where the corporate server listens, so no direct connection reaches \
         it. The env comes from the container as kubelet builds it: Secret keys read, `$(VAR)` \
         expanded. The merge init container runs as in the trust table.",
    );
    t
}

/// The tool's arguments for a run, and the objects the pod reads (`corp-ca`, `secret/…`).
fn proxy_args(
    source: ProxySource,
    pki: &Pki,
    proxy_url: &str,
    no_proxy: &str,
) -> (Vec<String>, HashMap<String, Keys>) {
    let path = |p: &Path| p.to_str().expect("UTF-8 path").to_owned();
    let corp_ca = || {
        (
            "corp-ca".to_owned(),
            Keys::from([(
                "ca.crt".to_owned(),
                fs::read(&pki.corp_root).expect("certificate"),
            )]),
        )
    };
    let mut given = HashMap::new();
    let mut args: Vec<String> = match source {
        ProxySource::Generated => vec![
            "--ca-file".into(),
            path(&pki.corp_root),
            "--public-roots".into(),
            path(&pki.public_root),
        ],
        ProxySource::Partial => {
            given.extend([corp_ca()]);
            vec!["--configmap".into(), "corp-ca".into()]
        }
        _ => {
            given.extend([corp_ca()]);
            vec![
                "--configmap".into(),
                "corp-ca".into(),
                "--merge-at-start".into(),
            ]
        }
    };
    match source {
        ProxySource::Secret | ProxySource::SecretWithoutJavaKeys => {
            // The URL with credentials, as a Secret holds it (the test proxy ignores them).
            let (host, port) = proxy_url
                .trim_start_matches("http://")
                .split_once(':')
                .expect("host:port");
            let url = format!("http://user:s3cret@{host}:{port}");
            let mut keys = Keys::from([
                ("HTTP_PROXY".to_owned(), url.clone().into_bytes()),
                ("HTTPS_PROXY".to_owned(), url.into_bytes()),
            ]);
            if source == ProxySource::Secret {
                for scheme in ["HTTP", "HTTPS"] {
                    keys.insert(format!("{scheme}_PROXY_HOST"), host.as_bytes().to_vec());
                    keys.insert(format!("{scheme}_PROXY_PORT"), port.as_bytes().to_vec());
                }
            }
            given.insert("secret/corp-proxy".to_owned(), keys);
            args.extend(["--proxy-secret".into(), "corp-proxy".into()]);
        }
        _ => args.extend(["--proxy".into(), proxy_url.to_owned()]),
    }
    args.extend(["--no-proxy".into(), no_proxy.to_owned()]);
    (args, given)
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
    for row in 0..Runtime::ALL.len() {
        ns.add_address(&cidr_address(row));
    }
    let python_in_ns = ns.wrapper(&scratch.0, "python-in-ns", tools.get("PYTHON"));
    let unshare_in_ns = ns.wrapper(&scratch.0, "unshare-in-ns", tools.get("UNSHARE"));

    // The corporate server in the test's namespace; the NO_PROXY one in the clients', on
    // every address there (127.0.0.1 for its name, and the CIDR addresses).
    let corp_server = TlsServer::start(tools.get("PYTHON"), &pki.corp_server);
    let direct_server = TlsServer::start_on(&python_in_ns, &pki.corp_server, "0.0.0.0");
    assert_ne!(
        corp_server.port, direct_server.port,
        "ports collide; run again"
    );
    let proxy = Proxy::start(tools.get("PYTHON"), &ns, scratch.0.join("proxy.log"));
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let no_proxy = format!("direct.example.test,{CIDR}");
    let corp = format!("https://corp.example.test:{}/", corp_server.port);
    let direct = format!("https://direct.example.test:{}/", direct_server.port);
    let by_cidr = |row: usize| format!("https://{}:{}/", cidr_address(row), direct_server.port);
    let hosts = scratch.0.join("hosts");
    fs::write(
        &hosts,
        "127.0.0.1 localhost corp.example.test direct.example.test\n",
    )
    .expect("hosts file");
    image.files.push((PathBuf::from("/etc/hosts"), hosts));

    let src = |f: &str| format!("{}/tests/trust/{f}", env!("CARGO_MANIFEST_DIR"));
    let exec = |id: &str, argv: Vec<String>| Exec {
        id: id.to_owned(),
        argv,
        image_env: vec![],
    };
    let row_of = |rt: Runtime| {
        Runtime::ALL
            .iter()
            .position(|r| *r == rt)
            .expect("a runtime")
    };
    let urls = |rt: Runtime| vec![corp.clone(), direct.clone(), by_cidr(row_of(rt))];
    let mut execs = Vec::new();
    for (which, host, port) in [
        ("corp", "corp.example.test".to_owned(), corp_server.port),
        ("name", "direct.example.test".to_owned(), direct_server.port),
        (
            "cidr",
            cidr_address(row_of(Runtime::OpenSsl)),
            direct_server.port,
        ),
    ] {
        execs.push(exec(
            &format!("openssl-{which}"),
            vec![
                tools.str("OPENSSL"),
                "s_client".into(),
                "-verify_return_error".into(),
                "-servername".into(),
                host.clone(),
                "-connect".into(),
                format!("{host}:{port}"),
            ],
        ));
    }
    for (which, url) in ["corp", "name", "cidr"].iter().zip(urls(Runtime::Curl)) {
        execs.push(exec(
            &format!("curl-{which}"),
            vec![
                tools.str("CURL"),
                "-sS".into(),
                "-o".into(),
                "/dev/null".into(),
                url,
            ],
        ));
    }
    for (id, rt, argv) in [
        (
            "python-ssl",
            Runtime::PythonSsl,
            vec![tools.str("PYTHON"), src("client_urllib.py")],
        ),
        (
            "python-requests",
            Runtime::PythonRequests,
            vec![tools.str("PYTHON"), src("client_requests.py")],
        ),
        (
            "node",
            Runtime::Node,
            vec![tools.str("NODE"), src("client.js")],
        ),
        (
            "java",
            Runtime::Java,
            vec![tools.str("JAVA"), src("Client.java")],
        ),
        (
            "go",
            Runtime::Go,
            vec![go_client.to_str().expect("UTF-8 path").to_owned()],
        ),
    ] {
        execs.push(exec(id, [argv, urls(rt)].concat()));
    }

    let mut results = ProxyResults {
        cells: Vec::new(),
        cidr_asked_proxy: Vec::new(),
    };
    let mut problems = Vec::new();
    for (col, run) in PROXY_RUNS.iter().enumerate() {
        let (args, given) = proxy_args(run.source, &pki, &proxy_url, &no_proxy);
        let (stdout, stderr) = inject(&args);
        let docs = yaml::parse_stream(&stdout);
        let deployment = docs
            .iter()
            .find(|d| d["kind"] == "Deployment")
            .expect("the Deployment comes out");
        let mut configmaps: HashMap<String, Keys> = docs
            .iter()
            .filter(|d| d["kind"] == "ConfigMap")
            .map(|d| {
                (
                    d["metadata"]["name"].as_str().expect("a name").to_owned(),
                    configmap_keys(d),
                )
            })
            .collect();
        configmaps.extend(given);
        let mut injection = Injection {
            spec: deployment["spec"]["template"]["spec"].clone(),
            configmaps,
            stderr,
            report: Value::Null,
        };
        merge_at_start(
            &mut injection,
            &tools,
            &scratch.0.join(format!("proxy-init-{col}")),
            &pki,
        );

        fs::write(&proxy.log, "").expect("proxy log");
        let view = scratch.0.join(format!("proxy-view-{col}"));
        let out = pod::run(
            &unshare_in_ns,
            &view,
            &injection.spec,
            "app",
            &injection.configmaps,
            &image,
            &execs,
        );
        let mut log = String::new();
        for (id, o) in &out {
            log += &format!("== {id} (exit {})\n{}{}\n", o.status, o.stdout, o.stderr);
        }
        fs::write(view.join("clients.log"), &log).expect("clients log");
        let proxy_log = fs::read_to_string(&proxy.log).expect("proxy log");
        fs::write(view.join("proxy.log"), &proxy_log).expect("proxy log copy");

        let ok = |runtime: Runtime, which: usize| -> bool {
            let names = ["corp", "name", "cidr"];
            let url = &urls(runtime)[which];
            match runtime {
                Runtime::OpenSsl => {
                    let o = &out[&format!("openssl-{}", names[which])];
                    o.status == 0 && o.stdout.contains("Verify return code: 0 (ok)")
                }
                Runtime::Curl => out[&format!("curl-{}", names[which])].status == 0,
                Runtime::PythonSsl => client_line(&out["python-ssl"], url).0,
                Runtime::PythonRequests => client_line(&out["python-requests"], url).0,
                Runtime::Node => client_line(&out["node"], url).0,
                Runtime::Java => client_line(&out["java"], url).0,
                Runtime::Go => client_line(&out["go"], url).0,
            }
        };
        let mut cells = [cell(N, N, N); 7];
        let mut asked = Vec::new();
        for (row, &runtime) in Runtime::ALL.iter().enumerate() {
            cells[row] = cell(ok(runtime, 0), ok(runtime, 1), ok(runtime, 2));
            let request = format!("CONNECT {}:{} ", cidr_address(row), direct_server.port);
            if proxy_log.lines().any(|l| l.starts_with(&request)) {
                asked.push(runtime);
                // Only directly can it get there.
                if cells[row].by_cidr {
                    problems.push(format!(
                        "{}: the proxy was asked for {} yet the client fetched it",
                        run.title,
                        cidr_address(row)
                    ));
                }
            }
            if cells[row] != run.expected[row] {
                problems.push(format!(
                    "{} with {}: {}, expected {} (see {}/clients.log)",
                    runtime.short(),
                    run.title.replace("<br>", " "),
                    proxy_cell(cells[row]),
                    proxy_cell(run.expected[row]),
                    view.display()
                ));
            }
        }
        // Every client that reached the corporate server went through the proxy.
        let through = cells.iter().filter(|c| c.through_proxy).count();
        let connects = proxy_log
            .lines()
            .filter(|l| l.starts_with(&format!("CONNECT corp.example.test:{} ", corp_server.port)))
            .count();
        if connects < through {
            problems.push(format!(
                "{}: {through} clients reached the corporate server but the proxy logged {connects} CONNECTs for it",
                run.title
            ));
        }
        if proxy_log.contains("direct.example.test") {
            problems.push(format!(
                "{}: the proxy was asked for the NO_PROXY name direct.example.test",
                run.title
            ));
        }
        // Without Java's keys, the JVM starts and names the undefined variable.
        if run.source == ProxySource::SecretWithoutJavaKeys {
            let (_, line) = client_line(&out["java"], &corp);
            if !line.contains("$(TRUST_INJECT_HTTPS_PROXY_HOST)") {
                problems.push(format!(
                    "Java without the Secret's Java keys: {line:?} does not name the proxy host variable"
                ));
            }
        }
        results.cells.push(cells);
        results.cidr_asked_proxy.push(asked);
    }
    assert!(
        problems.is_empty(),
        "{}\nscratch: {}",
        problems.join("\n"),
        scratch.0.display()
    );
    check_doc_between(
        "docs/injection.md",
        PROXY_BEGIN,
        PROXY_END,
        &proxy_table(&results),
    );
}
