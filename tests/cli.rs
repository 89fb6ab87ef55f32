//! The command line's contract: help, exit codes, standard streams, subcommands, reports,
//! and the ways each pipeline passes options (environment, Argo CD parameters, kustomize's
//! legacy plugin call, Helm's hidden stderr).

use std::io::Write;
use std::process::{Command, Output, Stdio};

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trust-inject"));
    // The tests set what they need; nothing leaks in from the caller's environment.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("TRUST_INJECT_")
            || k.starts_with("PARAM_")
            || k.starts_with("ARGOCD_")
            || k.starts_with("HELM_")
            || k.starts_with("KUSTOMIZE_")
        {
            c.env_remove(k);
        }
    }
    c
}

fn run(mut cmd: Command, stdin: &str) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("the binary finishes");
    let _ = writer.join();
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn dump(o: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

#[test]
fn help_lists_every_exit_code() {
    let o = run(
        {
            let mut c = bin();
            c.arg("--help");
            c
        },
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    for code in [
        "0  success",
        "1  a workload",
        "2  usage",
        "3  input",
        "4  configuration",
    ] {
        assert!(
            text(&o.stdout).contains(code),
            "--help lacks {code:?}\n{}",
            dump(&o)
        );
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let mut c = bin();
    c.arg("--no-such-flag");
    let o = run(c, "");
    assert_eq!(o.status.code(), Some(2), "{}", dump(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn missing_source_is_a_config_error() {
    let o = run(bin(), DEPLOYMENT);
    assert_eq!(o.status.code(), Some(4), "{}", dump(&o));
    assert!(text(&o.stderr).contains("no bundle source"), "{}", dump(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn empty_stdin_gives_empty_stdout() {
    let mut c = bin();
    c.args(["--configmap", "corp-ca"]);
    let o = run(c, "");
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn invalid_yaml_is_an_input_error_with_nothing_on_stdout() {
    let mut c = bin();
    c.args(["--configmap", "corp-ca"]);
    let o = run(
        c,
        &format!("{DEPLOYMENT}---\nkind: Pod\nmetadata: {{name: [\n"),
    );
    assert_eq!(o.status.code(), Some(3), "{}", dump(&o));
    assert!(o.stdout.is_empty(), "{}", dump(&o));
    assert!(text(&o.stderr).contains("document 2 ("), "{}", dump(&o));
}

#[test]
fn options_come_from_the_environment() {
    let mut c = bin();
    c.env("TRUST_INJECT_CONFIGMAP", "from-env")
        .env("TRUST_INJECT_COMPLETE_BUNDLE", "true");
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    let out = text(&o.stdout);
    assert!(out.contains("name: from-env"), "{}", dump(&o));
    assert!(out.contains("SSL_CERT_FILE"), "{}", dump(&o));
}

#[test]
fn flags_win_over_the_environment() {
    let mut c = bin();
    c.env("TRUST_INJECT_CONFIGMAP", "from-env")
        .args(["--configmap", "from-flag"]);
    let o = run(c, DEPLOYMENT);
    assert!(text(&o.stdout).contains("name: from-flag"), "{}", dump(&o));
}

#[test]
fn argo_cd_parameters_and_plugin_env_are_read() {
    let mut c = bin();
    c.env("ARGOCD_APP_NAME", "shop")
        .env("PARAM_CONFIGMAP", "from-param")
        .env("ARGOCD_ENV_TRUST_INJECT_VOLUME_NAME", "corp-trust");
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    let out = text(&o.stdout);
    assert!(
        out.contains("name: from-param") && out.contains("- name: corp-trust"),
        "{}",
        dump(&o)
    );
}

#[test]
fn empty_render_fails_under_argo_cd_only() {
    let mut c = bin();
    c.env("ARGOCD_APP_NAME", "shop")
        .args(["--configmap", "corp-ca"]);
    let o = run(c, "---\n# nothing rendered\n");
    assert_eq!(o.status.code(), Some(3), "{}", dump(&o));
    assert!(o.stdout.is_empty());
    assert!(
        text(&o.stderr).contains("holds no Kubernetes object"),
        "{}",
        dump(&o)
    );

    let mut c = bin();
    c.env("ARGOCD_APP_NAME", "shop")
        .args(["--configmap", "corp-ca", "--fail-on-empty=false"]);
    assert_eq!(run(c, "").status.code(), Some(0));

    let mut c = bin();
    c.args(["--configmap", "corp-ca"]);
    assert_eq!(run(c, "").status.code(), Some(0));
}

#[test]
fn errors_under_helm_also_go_to_the_log_file() {
    let dir = tempdir("helm-log");
    let mut c = bin();
    c.env("HELM_PLUGIN_NAME", "trust-inject")
        .env("XDG_CACHE_HOME", &dir);
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(4), "{}", dump(&o));
    let log = std::fs::read_to_string(format!("{dir}/trust-inject/helm-post-renderer.log"))
        .expect("the log file exists");
    assert!(log.contains("no bundle source"), "{log}");
}

#[test]
fn legacy_kustomize_plugin_reads_its_config_file() {
    let dir = tempdir("legacy");
    let config = format!("{dir}/config.yaml");
    std::fs::write(&config, "apiVersion: trust-inject.dev/v1alpha1\nkind: TrustInjection\nmetadata:\n  name: x\nspec:\n  source:\n    configMap:\n      name: legacy-ca\n")
        .expect("write config");
    let plugin = format!("{dir}/TrustInjection");
    std::fs::copy(env!("CARGO_BIN_EXE_trust-inject"), &plugin).expect("copy the binary");
    let mut c = Command::new(&plugin);
    c.arg(&config);
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    assert!(text(&o.stdout).contains("name: legacy-ca"), "{}", dump(&o));
}

#[test]
fn broken_pipe_is_not_an_error() {
    let big: String = std::iter::repeat_n(format!("{DEPLOYMENT}---\n"), 20_000).collect();
    let mut c = bin();
    c.args(["--configmap", "corp-ca", "-q"]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("starts");
    let mut input = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(big.as_bytes());
    });
    // Read one byte, then close the pipe, like `| head -c1`.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut one = [0u8; 1];
    let _ = std::io::Read::read(&mut stdout, &mut one);
    drop(stdout);
    let out = child.wait_with_output().expect("finishes");
    let _ = writer.join();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
}

#[test]
fn check_fails_on_raw_and_passes_on_injected_streams() {
    let mut c = bin();
    c.args(["check", "--configmap", "corp-ca"]);
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(1), "{}", dump(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("Deployment prod/web") && err.contains("the bundle volume is missing"),
        "{}",
        dump(&o)
    );
    assert!(o.stdout.is_empty());

    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca"]);
    let injected = text(&run(c, DEPLOYMENT).stdout);
    let mut c = bin();
    c.args(["check", "--configmap", "corp-ca"]);
    let o = run(c, &injected);
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    assert!(text(&o.stderr).contains("check passed"), "{}", dump(&o));
}

#[test]
fn check_reports_what_an_injection_under_other_options_left() {
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", "--complete-bundle"]);
    let complete = text(&run(c, DEPLOYMENT).stdout);
    // The bundle is no longer declared complete: SSL_CERT_FILE and the system bundle
    // overrides would hide the public roots.
    let mut c = bin();
    c.args(["check", "--configmap", "corp-ca"]);
    let o = run(c, &complete);
    assert_eq!(o.status.code(), Some(1), "{}", dump(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("keeps what an injection under other options added")
            && err.contains("/etc/ssl/certs/ca-certificates.crt")
            && err.contains("SSL_CERT_FILE"),
        "{}",
        dump(&o)
    );
}

#[test]
fn check_reports_a_charts_own_override() {
    let own = DEPLOYMENT.replace("        image: nginx\n", "        image: nginx\n        env:\n        - name: NODE_EXTRA_CA_CERTS\n          value: /own.pem\n");
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca"]);
    let injected = text(&run(c, &own).stdout);
    let mut c = bin();
    c.args(["check", "--configmap", "corp-ca"]);
    let o = run(c, &injected);
    assert_eq!(o.status.code(), Some(1), "{}", dump(&o));
    assert!(
        text(&o.stderr).contains("sets NODE_EXTRA_CA_CERTS to \"/own.pem\" itself"),
        "{}",
        dump(&o)
    );
}

#[test]
fn json_report_has_the_documented_shape() {
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", "--report", "-"]);
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    let report: serde_json::Value =
        serde_json::from_str(&text(&o.stderr)).expect("the report is JSON");
    assert_eq!(report["reportVersion"], 1);
    assert_eq!(report["source"]["kind"], "ConfigMap");
    assert_eq!(report["source"]["name"], "corp-ca");
    assert_eq!(report["summary"]["workloads"], 1);
    assert_eq!(report["summary"]["containers"], 1);
    let w = &report["workloads"][0];
    for key in [
        "document",
        "lines",
        "source",
        "apiVersion",
        "kind",
        "namespace",
        "name",
        "podSpecPath",
        "skipped",
        "changed",
        "volumeAdded",
        "containers",
    ] {
        assert!(w.get(key).is_some(), "workload lacks {key}: {w}");
    }
    assert_eq!(w["kind"], "Deployment");
    assert_eq!(w["containers"][0]["mountsAdded"][0], "/etc/trust-inject");
    assert_eq!(w["containers"][0]["envSet"][0], "NODE_EXTRA_CA_CERTS");
    assert!(report["findings"].is_array());
}

#[test]
fn diff_shows_only_added_lines() {
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", "--diff"]);
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    let out = text(&o.stdout);
    assert!(out.starts_with("--- input\n+++ injected\n@@"), "{out}");
    assert!(
        out.lines()
            .any(|l| l == "+        - name: NODE_EXTRA_CA_CERTS"),
        "{out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---")),
        "{out}"
    );
}

#[test]
fn completions_and_man_page() {
    for (shell, marker) in [
        ("bash", "_trust__inject()"),
        ("zsh", "#compdef trust-inject"),
        ("fish", "complete -c trust-inject"),
    ] {
        let mut c = bin();
        c.args(["completions", shell]);
        let o = run(c, "");
        assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
        let out = text(&o.stdout);
        assert!(
            out.contains(marker) && out.contains("configmap"),
            "{shell}: {}",
            &out[..out.len().min(300)]
        );
    }
    let mut c = bin();
    c.arg("man");
    let o = run(c, "");
    let out = text(&o.stdout);
    assert!(
        out.contains(".TH trust-inject 1") && out.contains("configmap"),
        "{}",
        &out[..out.len().min(300)]
    );
}

#[test]
fn summary_line_and_quiet() {
    let mut c = bin();
    c.args(["--configmap", "corp-ca"]);
    let o = run(c, DEPLOYMENT);
    assert!(
        text(&o.stderr).contains(
            "trust-inject: injected corp-ca into 1 workload (1 container) in 1 namespace"
        ),
        "{}",
        dump(&o)
    );
    let mut c = bin();
    c.args(["--configmap", "corp-ca", "--quiet"]);
    let o = run(c, DEPLOYMENT);
    assert!(o.stderr.is_empty(), "{}", dump(&o));
}

#[test]
fn several_files_become_one_stream() {
    let dir = tempdir("files");
    let a = format!("{dir}/a.yaml");
    let b = format!("{dir}/b.yaml");
    std::fs::write(&a, "apiVersion: v1\nkind: Service\nmetadata:\n  name: s").expect("write a");
    std::fs::write(&b, DEPLOYMENT).expect("write b");
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", &a, &b]);
    let o = run(c, "");
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    assert!(
        text(&o.stdout).starts_with(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\napiVersion: apps/v1\n"
        ),
        "{}",
        dump(&o)
    );
}

fn tempdir(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("trust-inject-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir.to_string_lossy().into_owned()
}
