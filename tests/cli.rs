//! The command line's contract: help, exit codes, standard streams, subcommands, reports,
//! and the ways each pipeline passes options (environment, Argo CD parameters, kustomize's
//! legacy plugin call, Helm's hidden stderr).

mod util;
use util::{dump, lossy as text, run_with_stdin as run};

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
    clean_env(&mut c);
    c
}

/// The tests set what they need; nothing leaks in from the caller's environment.
fn clean_env(c: &mut Command) {
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
        "5  the output could not be written",
        "6  internal error",
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
        format!("{DEPLOYMENT}---\nkind: Pod\nmetadata: {{name: [\n"),
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

/// A large file (over the size read in two halves at once) gives the same stdout, stderr and
/// exit code as the same bytes through a pipe: given as FILE, as standard input, and as
/// standard input whose offset is already past a first part (only the rest is read). An
/// invalid byte in the second half is placed as in a pipe.
#[test]
fn a_large_file_reads_as_the_same_bytes_through_a_pipe() {
    let dir = tempdir("large");
    let head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: skipped\n";
    let body = format!("---\n{}", deployments(30_000));
    // Over the 4 MiB from which a regular file is read in two halves.
    assert!(body.len() > 4 << 20, "{} bytes", body.len());
    let mut bad = body.clone().into_bytes();
    let at = bad.len() * 3 / 4;
    let at = at
        + bad[at..]
            .iter()
            .position(|&b| b == b'\n')
            .expect("a line break");
    bad.splice(at..at, *b"\xff");
    for content in [body.into_bytes(), bad] {
        let mut whole = head.as_bytes().to_vec();
        whole.extend_from_slice(&content);
        let file = format!("{dir}/stream.yaml");
        std::fs::write(&file, &whole).expect("write the stream");
        let args = ["-q", "--configmap", "corp-ca"];
        let mut piped = bin();
        piped.args(args);
        let want = util::run_with_stdin(piped, &content);
        let mut named = bin();
        named.args(args).arg(&file);
        let mut stdin = bin();
        stdin.args(args);
        let mut offset = bin();
        offset.args(args);
        let from = |skip: usize| {
            use std::io::{Seek, SeekFrom};
            let mut f = std::fs::File::open(&file).expect("open the stream");
            f.seek(SeekFrom::Start(skip as u64)).expect("seek");
            f
        };
        let only_body = format!("{dir}/body.yaml");
        std::fs::write(&only_body, &content).expect("write the body");
        let mut body_file = bin();
        body_file.args(args).arg(&only_body);
        for (what, mut c, input) in [
            ("FILE", body_file, None),
            (
                "stdin from the file",
                stdin,
                Some(std::fs::File::open(&only_body).expect("open")),
            ),
            ("stdin past a first part", offset, Some(from(head.len()))),
        ] {
            if let Some(f) = input {
                c.stdin(f);
            } else {
                c.stdin(Stdio::null());
            }
            let got = c.output().expect("run");
            let stderr = text(&got.stderr).replace(only_body.as_str(), "<stdin>");
            assert_eq!(
                (got.status.code(), &got.stdout, stderr),
                (want.status.code(), &want.stdout, text(&want.stderr)),
                "{what}"
            );
        }
        // The whole file read as FILE: the first document comes out too.
        let got = {
            named.stdin(Stdio::null());
            named.output().expect("run")
        };
        assert_eq!(got.status.code(), want.status.code(), "{}", dump(&got));
        if want.status.success() {
            let mut expect = head.as_bytes().to_vec();
            expect.extend_from_slice(&want.stdout);
            assert_eq!(got.stdout, expect);
        } else {
            assert!(text(&got.stderr).contains("not UTF-8"), "{}", dump(&got));
        }
    }
}

fn tempdir(name: &str) -> util::TempDir {
    util::TempDir::new(&format!("cli-{name}"))
}

// ---------------------------------------------------------------------------------------
// Output integrity: the result arrives whole or not at all.

/// A stream of `n` Deployments (about 200 bytes each).
fn deployments(n: usize) -> String {
    (0..n)
        .map(|i| DEPLOYMENT.replace("name: web", &format!("name: web-{i}")))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The names in `dir`, sorted (to see that no temporary file is left behind).
fn names_in(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read the dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs the binary under `sh -c` with a file size limit of `blocks` (SIGXFSZ at its default
/// action, which would end the process unless it handles the signal).
fn run_with_file_limit(blocks: u32, args: &[&str], stdout_to: Option<&str>) -> Output {
    let redirect = stdout_to.map(|f| format!(" > '{f}'")).unwrap_or_default();
    let script = format!("trap - XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\"{redirect}");
    let mut sh = Command::new("sh");
    clean_env(&mut sh);
    sh.arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_trust-inject"))
        .args(args);
    run(sh, "")
}

#[test]
fn write_errors_have_their_own_exit_code() {
    // -o naming a device that is always full.
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", "-o", "/dev/full"]);
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(5), "{}", dump(&o));
    assert!(
        text(&o.stderr).contains("/dev/full: cannot write the output"),
        "{}",
        dump(&o)
    );
    // Standard output is the full device.
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca"])
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create("/dev/full").expect("open /dev/full"))
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("starts");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(DEPLOYMENT.as_bytes()).expect("feed");
    drop(input);
    let o = child.wait_with_output().expect("finishes");
    assert_eq!(o.status.code(), Some(5), "{}", dump(&o));
    assert!(
        text(&o.stderr).contains("<stdout>: cannot write the output"),
        "{}",
        dump(&o)
    );
    // A report that cannot be written: exit 5 and no manifests either.
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", "--report", "/dev/full"]);
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(5), "{}", dump(&o));
    assert!(o.stdout.is_empty(), "{}", dump(&o));
    // KRM mode.
    let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: f\n  data:\n    configmap: corp-ca\n";
    let mut c = bin();
    c.args(["-o", "/dev/full"]);
    let o = run(c, list);
    assert_eq!(o.status.code(), Some(5), "{}", dump(&o));
    // The --diff, completions and man paths write through the same code.
    for args in [
        &["-q", "--configmap", "corp-ca", "--diff", "-o", "/dev/full"][..],
        &["completions", "bash"][..],
        &["man"][..],
    ] {
        let mut c = bin();
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create("/dev/full").expect("open /dev/full"))
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("starts");
        let mut input = child.stdin.take().expect("stdin");
        let _ = input.write_all(DEPLOYMENT.as_bytes());
        drop(input);
        let o = child.wait_with_output().expect("finishes");
        assert_eq!(o.status.code(), Some(5), "{args:?}: {}", dump(&o));
    }
}

#[test]
fn file_size_limit_leaves_the_output_file_as_it_was() {
    let dir = tempdir("ulimit");
    let input = format!("{dir}/in.yaml");
    let target = format!("{dir}/out.yaml");
    let big = deployments(200);
    std::fs::write(&input, &big).expect("write input");
    std::fs::write(&target, "ORIGINAL\n").expect("write target");
    let before = names_in(&dir);
    // 16 blocks (8 or 16 KiB) is far below the output (60 KB).
    let o = run_with_file_limit(
        16,
        &["-q", "--configmap", "corp-ca", "-o", &target, &input],
        None,
    );
    assert_eq!(o.status.code(), Some(5), "{}", dump(&o));
    assert!(
        text(&o.stderr).contains("cannot write the output")
            && text(&o.stderr).contains("left as it was"),
        "{}",
        dump(&o)
    );
    assert_eq!(std::fs::read(&target).expect("target"), b"ORIGINAL\n");
    assert_eq!(names_in(&dir), before, "a temporary file was left behind");
    assert!(o.stdout.is_empty(), "{}", dump(&o));

    // -o naming the input itself: the input is kept byte for byte.
    let o = run_with_file_limit(
        16,
        &["-q", "--configmap", "corp-ca", "-o", &input, &input],
        None,
    );
    assert_eq!(o.status.code(), Some(5), "{}", dump(&o));
    assert_eq!(
        std::fs::read(&input).expect("input"),
        big.as_bytes(),
        "the input was changed"
    );
    assert_eq!(names_in(&dir), before, "a temporary file was left behind");

    // Standard output redirected to a file: the write error is reported as such.
    let redirected = format!("{dir}/stdout.yaml");
    let o = run_with_file_limit(
        16,
        &["-q", "--configmap", "corp-ca", &input],
        Some(&redirected),
    );
    assert_eq!(o.status.code(), Some(5), "{}", dump(&o));
    assert!(
        text(&o.stderr).contains("<stdout>: cannot write the output"),
        "{}",
        dump(&o)
    );
}

#[test]
fn output_file_is_replaced_whole_and_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir("outfile");
    let input = format!("{dir}/in.yaml");
    std::fs::write(&input, DEPLOYMENT).expect("write input");
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", &input]);
    let want = run(c, "").stdout;
    assert!(!want.is_empty());

    // An existing file keeps its mode.
    let target = format!("{dir}/out.yaml");
    std::fs::write(&target, "old content that is longer than nothing\n").expect("write");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", "-o", &target, &input]);
    let o = run(c, "");
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    assert!(o.stdout.is_empty(), "{}", dump(&o));
    assert_eq!(std::fs::read(&target).expect("target"), want);
    let mode = std::fs::metadata(&target)
        .expect("meta")
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o640);

    // A new file gets the mode the shell's `>` would give it.
    let fresh = format!("{dir}/new.yaml");
    let reference = format!("{dir}/reference");
    std::fs::File::create(&reference).expect("create");
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", "-o", &fresh, &input]);
    assert_eq!(run(c, "").status.code(), Some(0));
    assert_eq!(std::fs::read(&fresh).expect("new"), want);
    let mode_of = |p: &str| std::fs::metadata(p).expect("meta").permissions().mode() & 0o7777;
    assert_eq!(mode_of(&fresh), mode_of(&reference));

    // Through a symbolic link, the file it points to is replaced and the link stays.
    let link = format!("{dir}/link.yaml");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    std::fs::write(&target, "old\n").expect("write");
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", "-o", &link, &input]);
    assert_eq!(run(c, "").status.code(), Some(0));
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&target).expect("target"), want);

    // -o naming the input: it is read whole first, then replaced.
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", "-o", &input, &input]);
    assert_eq!(run(c, "").status.code(), Some(0));
    assert_eq!(std::fs::read(&input).expect("input"), want);
    let mut names = names_in(&dir);
    names.retain(|n| n.starts_with('.'));
    assert!(names.is_empty(), "temporary files left: {names:?}");
}

// The hooks that force a panic exist in debug builds only (a release build cannot be made
// to panic on purpose), so these tests do too.
#[cfg(debug_assertions)]
#[test]
fn a_panic_writes_nothing_and_exits_6() {
    let big = deployments(50);
    for stage in ["plan", "write"] {
        let mut c = bin();
        c.args(["-q", "--configmap", "corp-ca"])
            .env("TRUST_INJECT_DEBUG_PANIC", stage);
        let o = run(c, &big);
        assert_eq!(o.status.code(), Some(6), "{stage}: {}", dump(&o));
        assert!(o.stdout.is_empty(), "{stage}: {}", dump(&o));
        let err = text(&o.stderr);
        assert!(
            err.contains("internal error (a bug)")
                && err.contains("nothing was written")
                && err.contains("report it"),
            "{stage}: {}",
            dump(&o)
        );
        assert!(!err.contains("RUST_BACKTRACE"), "{stage}: {}", dump(&o));
    }
    // With -o, the target is left as it was, and the panic also reaches the error log.
    let dir = tempdir("panic");
    let target = format!("{dir}/out.yaml");
    let log = format!("{dir}/errors.log");
    std::fs::write(&target, "ORIGINAL\n").expect("write target");
    let mut c = bin();
    c.args([
        "-q",
        "--configmap",
        "corp-ca",
        "-o",
        &target,
        "--error-log",
        &log,
    ])
    .env("TRUST_INJECT_DEBUG_PANIC", "write");
    let o = run(c, &big);
    assert_eq!(o.status.code(), Some(6), "{}", dump(&o));
    assert_eq!(std::fs::read(&target).expect("target"), b"ORIGINAL\n");
    assert_eq!(names_in(&dir), ["errors.log", "out.yaml"]);
    let logged = std::fs::read_to_string(&log).expect("the log exists");
    assert!(logged.contains("internal error (a bug)"), "{logged}");
}

// The hook that raises the signal exists in debug builds only.
#[cfg(debug_assertions)]
#[test]
fn a_signal_while_writing_leaves_the_output_file_as_it_was() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempdir("signal");
    let target = format!("{dir}/out.yaml");
    std::fs::write(&target, "ORIGINAL\n").expect("write target");
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca", "-o", &target])
        .env("TRUST_INJECT_DEBUG_SIGNAL", "term");
    let o = run(c, deployments(50));
    assert_eq!(o.status.signal(), Some(15), "{}", dump(&o));
    assert_eq!(std::fs::read(&target).expect("target"), b"ORIGINAL\n");
    assert_eq!(
        names_in(&dir),
        ["out.yaml"],
        "a temporary file was left behind"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn a_failing_standard_error_does_not_fail_the_run() {
    // Without -q, each CA read is described on standard error.
    let ca = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/plain/corp-root-ca.pem"
    );
    let mut c = bin();
    c.args(["--ca-file", ca])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create("/dev/full").expect("open /dev/full"));
    let mut child = c.spawn().expect("starts");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(DEPLOYMENT.as_bytes()).expect("feed");
    drop(input);
    let o = child.wait_with_output().expect("finishes");
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("NODE_EXTRA_CA_CERTS"));
}

// ---------------------------------------------------------------------------------------
// Source precedence: a bundle source named by a higher layer (command line > environment >
// Argo CD plugin env > Argo CD parameters > config file or functionConfig) replaces the
// source of the layers below, whatever its type.

/// A `TrustInjection` config file with this `spec.source` body (indented by 4).
fn config_with_source(dir: &str, source: &str) -> String {
    let path = format!("{dir}/config.yaml");
    std::fs::write(
        &path,
        format!("apiVersion: trust-inject.dev/v1alpha1\nkind: TrustInjection\nmetadata:\n  name: x\nspec:\n  source:\n{source}"),
    )
    .expect("write config");
    path
}

const CA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/plain/corp-root-ca.pem"
);

/// Runs with `env` and `args`; returns the output after checking the exit code is 0.
fn injected(env: &[(&str, &str)], args: &[&str], stdin: &str) -> String {
    let mut c = bin();
    c.arg("-q").args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = run(c, stdin);
    assert_eq!(
        o.status.code(),
        Some(0),
        "env {env:?} args {args:?}: {}",
        dump(&o)
    );
    text(&o.stdout)
}

fn uses_secret(out: &str, name: &str) -> bool {
    out.contains(&format!("secretName: {name}")) && !out.contains("configMap:")
}

fn uses_configmap(out: &str, name: &str) -> bool {
    out.contains("configMap:\n")
        && out.contains(&format!("name: {name}\n"))
        && !out.contains("secretName")
}

/// The generated bundle object is in the output.
fn generates(out: &str) -> bool {
    out.contains("trust-inject.dev/generated")
}

/// The existing source an output mounts.
#[derive(Debug)]
enum Uses<'a> {
    Secret(&'a str),
    ConfigMap(&'a str),
}

/// A layering case: the environment, the flags, and the source the output must use.
type SourceCase<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], Uses<'a>);

/// Injects [`DEPLOYMENT`] with each case's environment and flags, and checks the source
/// the output uses.
fn assert_sources(cases: &[SourceCase]) {
    for (env, args, want) in cases {
        let out = injected(env, args, DEPLOYMENT);
        let used = match want {
            Uses::Secret(name) => uses_secret(&out, name),
            Uses::ConfigMap(name) => uses_configmap(&out, name),
        };
        assert!(used, "env {env:?} args {args:?}: not {want:?}: {out}");
    }
}

#[test]
fn a_source_from_a_higher_layer_replaces_any_source_below() {
    let dir = tempdir("precedence");
    let cm_config = config_with_source(&dir, "    configMap:\n      name: from-config\n");
    assert_sources(&[
        // Environment ConfigMap, command-line Secret.
        (
            &[("TRUST_INJECT_CONFIGMAP", "from-env")],
            &["--secret", "from-flag"],
            Uses::Secret("from-flag"),
        ),
        // Environment Secret, command-line ConfigMap.
        (
            &[("TRUST_INJECT_SECRET", "from-env")],
            &["--configmap", "from-flag"],
            Uses::ConfigMap("from-flag"),
        ),
        // Config file ConfigMap, command-line Secret.
        (
            &[],
            &["--config", &cm_config, "--secret", "from-flag"],
            Uses::Secret("from-flag"),
        ),
        // Config file ConfigMap, environment Secret.
        (
            &[("TRUST_INJECT_SECRET", "from-env")],
            &["--config", &cm_config],
            Uses::Secret("from-env"),
        ),
    ]);
    // Config file ConfigMap given through TRUST_INJECT_CONFIG, command-line --ca-file: a
    // generated bundle.
    let out = injected(
        &[("TRUST_INJECT_CONFIG", &cm_config)],
        &["--ca-file", CA],
        DEPLOYMENT,
    );
    assert!(generates(&out) && !out.contains("from-config"), "{out}");
    // Environment --ca-file, command-line ConfigMap: the existing ConfigMap, nothing generated.
    let out = injected(
        &[("TRUST_INJECT_CA_FILE", CA)],
        &["--configmap", "from-flag"],
        DEPLOYMENT,
    );
    assert!(
        uses_configmap(&out, "from-flag") && !generates(&out),
        "{out}"
    );
    // Config file with files, command-line Secret.
    let files_config = format!("{dir}/files.yaml");
    std::fs::write(
        &files_config,
        format!("apiVersion: trust-inject.dev/v1alpha1\nkind: TrustInjection\nspec:\n  source:\n    files: [{CA}]\n"),
    )
    .expect("write config");
    let out = injected(
        &[],
        &["--config", &files_config, "--secret", "from-flag"],
        DEPLOYMENT,
    );
    assert!(uses_secret(&out, "from-flag") && !generates(&out), "{out}");
    // An empty source value names nothing (an Argo CD parameter declared without a value).
    let from_config = || Uses::ConfigMap("from-config");
    let config_flags: &[&str] = &["--config", &cm_config];
    assert_sources(&[
        (&[("TRUST_INJECT_SECRET", "")], config_flags, from_config()),
        (&[("PARAM_SECRET", "")], config_flags, from_config()),
        (
            &[("ARGOCD_ENV_TRUST_INJECT_CA_FILE", "")],
            config_flags,
            from_config(),
        ),
        (&[], &["--config", &cm_config, "--secret="], from_config()),
    ]);
    // Options other than the source still layer one by one: the config file's key stays.
    let keyed = config_with_source(
        &dir,
        "    configMap:\n      name: from-config\n    key: bundle.pem\n",
    );
    let out = injected(
        &[],
        &["--config", &keyed, "--secret", "from-flag"],
        DEPLOYMENT,
    );
    assert!(
        uses_secret(&out, "from-flag") && out.contains("/etc/trust-inject/bundle.pem"),
        "{out}"
    );
}

#[test]
fn argo_cd_layers_replace_the_source_too() {
    assert_sources(&[
        // The Application's plugin env wins over its parameters.
        (
            &[
                ("PARAM_CONFIGMAP", "from-param"),
                ("ARGOCD_ENV_TRUST_INJECT_SECRET", "from-plugin-env"),
            ],
            &[],
            Uses::Secret("from-plugin-env"),
        ),
        // The command line wins over both.
        (
            &[("PARAM_SECRET", "from-param")],
            &["--configmap", "from-flag"],
            Uses::ConfigMap("from-flag"),
        ),
        // TRUST_INJECT_* wins over the parameters.
        (
            &[
                ("PARAM_CONFIGMAP", "from-param"),
                ("TRUST_INJECT_SECRET", "from-env"),
            ],
            &[],
            Uses::Secret("from-env"),
        ),
    ]);
}

#[test]
fn the_krm_function_config_source_is_replaced_by_a_flag_or_the_environment() {
    let list = "apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: debug
    namespace: shop
  spec:
    containers:
    - name: debug
      image: debug:1
functionConfig:
  apiVersion: v1
  kind: ConfigMap
  metadata:
    name: function-input
  data:
    configmap: from-function-config
";
    let out = injected(&[], &["--secret", "from-flag"], list);
    assert!(uses_secret(&out, "from-flag"), "{out}");
    let out = injected(&[("TRUST_INJECT_SECRET", "from-env")], &[], list);
    assert!(uses_secret(&out, "from-env"), "{out}");
}

#[test]
fn sources_given_together_in_one_layer() {
    let dir = tempdir("together");
    // The documented combination: an existing ConfigMap whose content is given by --ca-file
    // (for the rollout annotation); nothing is generated.
    let out = injected(
        &[],
        &["--configmap", "corp-ca", "--ca-file", CA],
        DEPLOYMENT,
    );
    assert!(
        uses_configmap(&out, "corp-ca")
            && !generates(&out)
            && out.contains("trust-inject.dev/bundle-sha256"),
        "{out}"
    );
    // The same combination from the environment, and from a config file.
    let out = injected(
        &[
            ("TRUST_INJECT_CONFIGMAP", "corp-ca"),
            ("TRUST_INJECT_CA_FILE", CA),
        ],
        &[],
        DEPLOYMENT,
    );
    assert!(
        uses_configmap(&out, "corp-ca") && out.contains("bundle-sha256"),
        "{out}"
    );
    let both = config_with_source(
        &dir,
        &format!("    configMap:\n      name: corp-ca\n    files: [{CA}]\n"),
    );
    let out = injected(&[], &["--config", &both], DEPLOYMENT);
    assert!(
        uses_configmap(&out, "corp-ca") && out.contains("bundle-sha256"),
        "{out}"
    );
    // A ConfigMap and a Secret in one layer is still a conflict.
    for (env, args) in [
        (vec![], vec!["--configmap", "a", "--secret", "b"]),
        (
            vec![
                ("TRUST_INJECT_CONFIGMAP", "a"),
                ("TRUST_INJECT_SECRET", "b"),
            ],
            vec![],
        ),
    ] {
        let mut c = bin();
        c.args(&args);
        for (k, v) in &env {
            c.env(k, v);
        }
        let o = run(c, DEPLOYMENT);
        assert_eq!(o.status.code(), Some(4), "{}", dump(&o));
        assert!(
            text(&o.stderr).contains("give exactly one bundle source"),
            "{}",
            dump(&o)
        );
        assert!(o.stdout.is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// Several input files.

/// Writes `files` (name, bytes) into a fresh directory; returns their paths.
fn write_files(dir: &str, files: &[(&str, &[u8])]) -> Vec<String> {
    files
        .iter()
        .map(|(name, bytes)| {
            let p = format!("{dir}/{name}");
            std::fs::write(&p, bytes).expect("write input file");
            p
        })
        .collect()
}

const BOM: &str = "\u{feff}";

#[test]
fn each_file_may_start_with_a_byte_order_mark() {
    let dir = tempdir("boms");
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n";
    let crlf = DEPLOYMENT.replace('\n', "\r\n");
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![
            ("a.yaml", format!("{BOM}{service}")),
            ("b.yaml", format!("{BOM}{DEPLOYMENT}")),
        ],
        // A later file that starts with its own separator, and one after an empty file.
        vec![
            ("a.yaml", service.to_owned()),
            ("b.yaml", format!("{BOM}---\n{DEPLOYMENT}")),
            ("c.yaml", String::new()),
            (
                "d.yaml",
                format!("{BOM}{}", DEPLOYMENT.replace("web", "api")),
            ),
        ],
        // CRLF, no final line break, a comment before the first document.
        vec![
            ("a.yaml", "# only a comment".to_owned()),
            ("b.yaml", format!("{BOM}{crlf}")),
        ],
    ];
    for files in cases {
        let bytes: Vec<(&str, &[u8])> = files.iter().map(|(n, t)| (*n, t.as_bytes())).collect();
        let paths = write_files(&dir, &bytes);
        let mut c = bin();
        c.args(["-q", "--configmap", "corp-ca"]).args(&paths);
        let o = run(c, "");
        assert_eq!(o.status.code(), Some(0), "{files:?}: {}", dump(&o));
        let out = text(&o.stdout);
        let first_has_bom = files.first().is_some_and(|(_, t)| t.starts_with(BOM));
        assert_eq!(out.starts_with(BOM), first_has_bom, "{out:?}");
        assert!(
            !out[BOM.len().min(out.len())..].contains(BOM),
            "a BOM inside the stream: {out:?}"
        );
        // What Kubernetes reads: each file's documents, plus exactly the injection.
        let joined: String = files
            .iter()
            .map(|(_, t)| t.trim_start_matches(BOM))
            .filter(|t| !t.is_empty())
            .map(|t| {
                if t.starts_with("---") {
                    t.to_owned()
                } else {
                    format!("---\n{t}")
                }
            })
            .map(|t| {
                if t.ends_with('\n') {
                    t
                } else {
                    format!("{t}\n")
                }
            })
            .collect();
        let problems = util::oracle_check(joined.as_bytes(), &o.stdout, &util::Injected::default());
        assert!(problems.is_empty(), "{files:?}: {problems:#?}\n{out}");
    }
}

#[test]
fn errors_name_the_file_and_its_own_lines() {
    let dir = tempdir("file-lines");
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n";
    // Invalid YAML in the second document of the second file, lines 8-9 of that file.
    let second = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [p\nspec: {}\n";
    for first in [service.to_owned(), format!("{BOM}{}", service.trim_end())] {
        let paths = write_files(
            &dir,
            &[("a.yaml", first.as_bytes()), ("b.yaml", second.as_bytes())],
        );
        let mut c = bin();
        c.args(["-q", "--configmap", "corp-ca"]).args(&paths);
        let o = run(c, "");
        assert_eq!(o.status.code(), Some(3), "{}", dump(&o));
        assert!(o.stdout.is_empty());
        let err = text(&o.stderr);
        let re = regex_lite::Regex::new(
            r"b\.yaml: document 2 \(lines 5-\d+, Pod\b[^)]*\): invalid YAML: line (\d+) column \d+",
        )
        .expect("regex");
        let caps = re.captures(&err).unwrap_or_else(|| panic!("{}", dump(&o)));
        let line: usize = caps[1].parse().expect("a number");
        assert!(
            (9..=10).contains(&line),
            "line {line} is not in b.yaml's document 2: {}",
            dump(&o)
        );
    }
    // A workload that cannot be injected, in the third file.
    let bad = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      volumes: 5\n      containers:\n      - name: app\n        image: x\n";
    let paths = write_files(
        &dir,
        &[
            ("a.yaml", service.as_bytes()),
            ("b.yaml", DEPLOYMENT.as_bytes()),
            ("c.yaml", bad.as_bytes()),
        ],
    );
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca"]).args(&paths);
    let o = run(c, "");
    assert_eq!(o.status.code(), Some(1), "{}", dump(&o));
    assert!(
        text(&o.stderr).contains("c.yaml: document 1 (lines 1-11, Deployment web): spec.template.spec.volumes: expected a list"),
        "{}",
        dump(&o)
    );
    // A warning, and `check`, name the file and its lines too.
    let own = DEPLOYMENT.replace(
        "        image: nginx\n",
        "        image: nginx\n        env:\n        - name: NODE_EXTRA_CA_CERTS\n          value: /own.pem\n",
    );
    let paths = write_files(
        &dir,
        &[("a.yaml", service.as_bytes()), ("b.yaml", own.as_bytes())],
    );
    for sub in [&[][..], &["check"][..]] {
        let mut c = bin();
        c.args(sub)
            .args(["-q", "--configmap", "corp-ca"])
            .args(&paths);
        let o = run(c, "");
        assert!(
            text(&o.stderr).contains("b.yaml: lines 1-14 (Deployment prod/web)"),
            "{sub:?}: {}",
            dump(&o)
        );
    }
    // Warnings under --strict: each is placed in its file.
    let mut c = bin();
    c.args(["-q", "--strict", "--configmap", "corp-ca"])
        .args(&paths);
    let o = run(c, "");
    assert_eq!(o.status.code(), Some(1), "{}", dump(&o));
    assert!(
        text(&o.stderr).contains("1 warning(s) treated as errors (--strict)")
            && text(&o.stderr).contains("/b.yaml: lines 1-14 (Deployment prod/web)"),
        "{}",
        dump(&o)
    );
    // Bytes that are not UTF-8: the file, the line and the offset in it.
    let paths = write_files(
        &dir,
        &[
            ("a.yaml", service.as_bytes()),
            ("bin.yaml", b"kind: Pod\nmetadata:\n  name: \xff\n"),
        ],
    );
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca"]).args(&paths);
    let o = run(c, "");
    assert_eq!(o.status.code(), Some(3), "{}", dump(&o));
    assert!(
        text(&o.stderr).contains("bin.yaml: line 3: not UTF-8 text (invalid byte at offset 28)"),
        "{}",
        dump(&o)
    );
    // One file: its name, and the document number in it.
    let paths = write_files(&dir, &[("only.yaml", bad.as_bytes())]);
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca"]).args(&paths);
    let o = run(c, "");
    assert!(
        text(&o.stderr).contains("only.yaml: document 1 (lines 1-11"),
        "{}",
        dump(&o)
    );
}

// ---------------------------------------------------------------------------------------
// Frictions a first-time user meets.

/// A Deployment whose container sets NODE_EXTRA_CA_CERTS itself: one warning.
fn own_env_deployment(name: &str) -> String {
    DEPLOYMENT.replace("name: web", &format!("name: {name}")).replace(
        "        image: nginx\n",
        "        image: nginx\n        env:\n        - name: NODE_EXTRA_CA_CERTS\n          value: /own.pem\n",
    )
}

#[test]
fn no_workload_is_a_warning_naming_fail_on_empty() {
    const EMPTY: &str = "holds no Kubernetes object";
    for input in ["", "---\n", "---\n# nothing rendered\n---\n"] {
        // A warning, also under --quiet and in check; the (empty) result is still written.
        for args in [
            &["--configmap", "corp-ca"][..],
            &["-q", "--configmap", "corp-ca"][..],
            &["check", "--configmap", "corp-ca"][..],
        ] {
            let mut c = bin();
            c.args(args);
            let o = run(c, input);
            assert_eq!(o.status.code(), Some(0), "{args:?} {input:?}: {}", dump(&o));
            let err = text(&o.stderr);
            assert!(
                err.contains("warning: ") && err.contains(EMPTY) && err.contains("--fail-on-empty"),
                "{args:?} {input:?}: {}",
                dump(&o)
            );
            assert_eq!(text(&o.stdout), if args[0] == "check" { "" } else { input });
        }
        // --strict makes it an error (exit 1), with nothing on standard output.
        for args in [
            &["--strict", "--configmap", "corp-ca"][..],
            &["check", "--strict", "--configmap", "corp-ca"][..],
        ] {
            let mut c = bin();
            c.args(args);
            let o = run(c, input);
            assert_eq!(o.status.code(), Some(1), "{args:?}: {}", dump(&o));
            assert!(o.stdout.is_empty(), "{}", dump(&o));
            assert!(
                text(&o.stderr).contains(EMPTY) && text(&o.stderr).contains("(--strict)"),
                "{}",
                dump(&o)
            );
        }
        // --fail-on-empty stays an input error (exit 3).
        let mut c = bin();
        c.args(["--fail-on-empty", "--configmap", "corp-ca"]);
        let o = run(c, input);
        assert_eq!(o.status.code(), Some(3), "{}", dump(&o));
    }
    // Objects but no workload: a warning too, saying how to name custom workloads.
    let mut c = bin();
    c.args(["--configmap", "corp-ca"]);
    let o = run(c, "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n");
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    assert!(
        text(&o.stderr).contains("none of the 1 object(s) in the input is a workload")
            && text(&o.stderr).contains("--workload-kind"),
        "{}",
        dump(&o)
    );
    // Workloads all left alone on purpose: no such warning.
    let mut c = bin();
    c.args(["--configmap", "corp-ca", "--exclude-kind", "Deployment"]);
    let o = run(c, DEPLOYMENT);
    assert!(!text(&o.stderr).contains("warning:"), "{}", dump(&o));
    // KRM mode: a warning result (an error one under --strict).
    let list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: f\n  data:\n    configmap: corp-ca\n";
    let o = run(bin(), list);
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    let results = util::oracle_read(&o.stdout).expect("the output parses");
    let results = results[0]["results"].as_array().expect("results").clone();
    assert!(
        results.iter().any(|r| r["severity"] == "warning"
            && r["message"].as_str().is_some_and(|m| m.contains(EMPTY))),
        "{}",
        dump(&o)
    );
    let mut c = bin();
    c.arg("--strict");
    let o = run(c, list);
    assert_eq!(o.status.code(), Some(1), "{}", dump(&o));
    let results = util::oracle_read(&o.stdout).expect("the output parses");
    assert!(
        results[0]["results"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|r| r["severity"] == "error")),
        "{}",
        dump(&o)
    );
}

#[test]
fn a_terminal_on_stdin_gets_a_hint_and_is_still_read() {
    // A real pseudo-terminal: util-linux `script` runs the binary on one and copies what is
    // written to it, as a user typing; Ctrl-D (after a pause, at the start of a line) ends it.
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "this test needs `script` from util-linux (apt-get install util-linux)"
    );
    let dir = tempdir("tty");
    let (out, err) = (format!("{dir}/out.yaml"), format!("{dir}/err.txt"));
    let command = format!(
        "'{}' --configmap corp-ca >'{out}' 2>'{err}'",
        env!("CARGO_BIN_EXE_trust-inject")
    );
    let mut c = Command::new("script");
    clean_env(&mut c);
    c.args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("script starts");
    let mut typed = child.stdin.take().expect("stdin");
    typed.write_all(DEPLOYMENT.as_bytes()).expect("type");
    typed.flush().expect("flush");
    std::thread::sleep(std::time::Duration::from_millis(700));
    typed.write_all(b"\x04").expect("Ctrl-D");
    typed.flush().expect("flush");
    let status = child.wait().expect("script finishes");
    drop(typed);
    let (out, err) = (
        std::fs::read_to_string(&out).unwrap_or_default(),
        std::fs::read_to_string(&err).unwrap_or_default(),
    );
    assert!(status.success(), "{status:?}\n{err}");
    assert!(
        err.starts_with("trust-inject: reading manifests from standard input (the terminal)")
            && err.contains("Ctrl-D")
            && err.contains("--help"),
        "{err}"
    );
    assert!(
        out.contains("kind: Deployment") && out.contains("trust-inject-ca"),
        "{out}\n{err}"
    );
    // A pipe gets no hint.
    let mut c = bin();
    c.args(["--configmap", "corp-ca"]);
    let o = run(c, DEPLOYMENT);
    assert!(
        !text(&o.stderr).contains("reading manifests"),
        "{}",
        dump(&o)
    );
}

#[test]
fn a_bad_value_error_lists_the_accepted_values() {
    for (args, listed) in [
        (
            &["--complete-bundle=maybe"][..],
            "[possible values: true, false]",
        ),
        (&["--strict=maybe"][..], "[possible values: true, false]"),
        (
            &["--generic-workloads=2"][..],
            "[possible values: true, false]",
        ),
        (
            &["--generate", "maybe"][..],
            "[possible values: configmap, secret]",
        ),
        (
            &["check", "--override-env=maybe"][..],
            "[possible values: true, false]",
        ),
        (
            &["check", "--generate=Secrets"][..],
            "[possible values: configmap, secret]",
        ),
    ] {
        let mut c = bin();
        c.args(args).args(["--configmap", "corp-ca"]);
        let o = run(c, DEPLOYMENT);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", dump(&o));
        assert!(text(&o.stderr).contains(listed), "{args:?}: {}", dump(&o));
    }
    // The same from the environment.
    for var in ["TRUST_INJECT_COMPLETE_BUNDLE", "TRUST_INJECT_QUIET"] {
        let mut c = bin();
        c.env(var, "maybe").args(["--configmap", "corp-ca"]);
        let o = run(c, DEPLOYMENT);
        assert_eq!(o.status.code(), Some(2), "{var}: {}", dump(&o));
        assert!(
            text(&o.stderr).contains("[possible values: true, false]"),
            "{var}: {}",
            dump(&o)
        );
    }
    for v in ["1", "Yes", "false"] {
        let mut c = bin();
        c.env("TRUST_INJECT_QUIET", v)
            .args(["--configmap", "corp-ca"]);
        let o = run(c, DEPLOYMENT);
        assert_eq!(o.status.code(), Some(0), "{v}: {}", dump(&o));
        assert_eq!(
            text(&o.stderr).contains("injected corp-ca into"),
            v == "false",
            "{v}: {}",
            dump(&o)
        );
    }
    // The spellings accepted before still are, in any case.
    for v in [
        "true", "YES", "on", "1", "y", "T", "false", "No", "OFF", "0",
    ] {
        let mut c = bin();
        c.args([
            "-q",
            "--configmap",
            "corp-ca",
            &format!("--override-env={v}"),
        ]);
        let o = run(c, DEPLOYMENT);
        assert_eq!(o.status.code(), Some(0), "{v}: {}", dump(&o));
        let mut c = bin();
        c.env("TRUST_INJECT_SKIP_INIT_CONTAINERS", v)
            .args(["-q", "--configmap", "corp-ca"]);
        assert_eq!(run(c, DEPLOYMENT).status.code(), Some(0), "{v}");
    }
}

#[test]
fn strict_shows_every_warning_with_its_document() {
    let stream = format!(
        "{}---\n{}",
        own_env_deployment("alpha"),
        own_env_deployment("beta")
    );
    let mut c = bin();
    c.args(["-q", "--strict", "--configmap", "corp-ca"]);
    let o = run(c, &stream);
    assert_eq!(o.status.code(), Some(1), "{}", dump(&o));
    assert!(o.stdout.is_empty(), "{}", dump(&o));
    let err = text(&o.stderr);
    for doc in [
        "warning: document 1 (lines 1-14, Deployment prod/alpha)",
        "warning: document 2 (lines 15-29, Deployment prod/beta)",
        "error: 2 warning(s) treated as errors (--strict)",
    ] {
        assert!(err.contains(doc), "{doc}: {}", dump(&o));
    }
    // Several files: each warning placed in its file.
    let dir = tempdir("strict-all");
    let (a, b) = (format!("{dir}/a.yaml"), format!("{dir}/b.yaml"));
    std::fs::write(&a, own_env_deployment("alpha")).expect("write");
    std::fs::write(&b, own_env_deployment("beta")).expect("write");
    let mut c = bin();
    c.args(["-q", "--strict", "--configmap", "corp-ca", &a, &b]);
    let o = run(c, "");
    assert_eq!(o.status.code(), Some(1), "{}", dump(&o));
    let err = text(&o.stderr);
    for doc in [
        "a.yaml: lines 1-14 (Deployment prod/alpha)",
        "b.yaml: lines 1-14 (Deployment prod/beta)",
    ] {
        assert!(err.contains(doc), "{doc}: {}", dump(&o));
    }
}

#[test]
fn check_refuses_an_output_file() {
    let dir = tempdir("check-o");
    let target = format!("{dir}/out.yaml");
    for args in [
        &["-o", &target][..],
        &["--output", &target][..],
        &["-o", "-"][..],
    ] {
        let mut c = bin();
        c.args(["check", "--configmap", "corp-ca"]).args(args);
        let o = run(c, DEPLOYMENT);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", dump(&o));
        assert!(
            text(&o.stderr).contains("check writes no manifests")
                && text(&o.stderr).contains("-o/--output"),
            "{}",
            dump(&o)
        );
        assert!(o.stdout.is_empty());
        assert!(!std::path::Path::new(&target).exists());
    }
}

#[test]
fn completions_offer_the_right_values() {
    let mut c = bin();
    c.args(["completions", "bash"]);
    let o = run(c, "");
    let script = text(&o.stdout);
    // The completion of one flag, in the main command's case list.
    let entry = |flag: &str| -> String {
        let start = script
            .find(&format!("                {flag})\n"))
            .unwrap_or_else(|| panic!("{flag} has an entry"));
        let rest = &script[start..];
        rest[..rest.find(";;").unwrap_or(rest.len())].to_owned()
    };
    const FILES: &str = "compgen -f";
    for (flag, want) in [
        ("--generate", Some("compgen -W \"configmap secret\"")),
        ("--complete-bundle", Some("compgen -W \"true false\"")),
        ("--strict", Some("compgen -W \"true false\"")),
        ("--ca-file", Some(FILES)),
        ("--config", Some(FILES)),
        ("--report", Some(FILES)),
        ("--public-roots", Some(FILES)),
        ("--configmap", None),
        ("--key", None),
        ("--mount-path", None),
        ("--system-bundle-path", None),
        ("--exclude-namespace", None),
        ("--additive-env", None),
    ] {
        let e = entry(flag);
        match want {
            Some(w) => assert!(e.contains(w), "{flag}: {e}"),
            None => assert!(!e.contains("compgen"), "{flag} completes nothing: {e}"),
        }
    }
    assert!(
        entry("--output").contains("compgen -f") || entry("--output").contains("_filedir"),
        "{}",
        entry("--output")
    );
}

#[test]
fn help_shows_examples_and_what_check_refuses() {
    let mut c = bin();
    c.arg("--help");
    let o = run(c, "");
    let out = text(&o.stdout);
    assert!(
        out.contains("Examples:\n  helm template web ./chart | trust-inject --configmap corp-ca")
            && out.find("Examples:") < out.find("Exit codes:"),
        "{out}"
    );
    let mut c = bin();
    c.args(["check", "--help"]);
    let out = text(&run(c, "").stdout);
    assert!(out.contains("-o/--output is refused"), "{out}");
}

// The egress proxy (--proxy and friends): the environment, check and --report.

#[test]
fn proxy_options_come_from_the_environment_and_bad_ones_name_the_option() {
    let mut c = bin();
    c.env("TRUST_INJECT_CONFIGMAP", "corp-ca")
        .env("TRUST_INJECT_PROXY", "http://proxy.corp:3128")
        .env("TRUST_INJECT_NO_PROXY", ".corp.example");
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    let out = text(&o.stdout);
    assert!(
        out.contains("- name: https_proxy\n          value: \"http://proxy.corp:3128\"")
            && out.contains(".svc.cluster.local,.corp.example\""),
        "{}",
        dump(&o)
    );

    let mut c = bin();
    c.env("TRUST_INJECT_CONFIGMAP", "corp-ca")
        .env("TRUST_INJECT_HTTPS_PROXY", "http://me:pw@proxy.corp:3128");
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(4), "{}", dump(&o));
    assert!(o.stdout.is_empty(), "{}", dump(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("--https-proxy") && err.contains("--proxy-secret") && !err.contains("pw@"),
        "{}",
        dump(&o)
    );
}

#[test]
fn check_and_the_report_cover_the_proxy() {
    let mut c = bin();
    c.args(["-q", "--configmap", "corp-ca"]);
    let without = text(&run(c, DEPLOYMENT).stdout);
    let proxy = [
        "--configmap",
        "corp-ca",
        "--proxy",
        "http://proxy.corp:3128",
    ];
    let mut c = bin();
    c.arg("check").args(proxy);
    let o = run(c, &without);
    assert_eq!(o.status.code(), Some(1), "{}", dump(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("HTTP_PROXY") && err.contains("NO_PROXY") && err.contains("JAVA_TOOL_OPTIONS"),
        "{}",
        dump(&o)
    );

    let mut c = bin();
    c.arg("-q").args(proxy).args(["--report", "-"]);
    let o = run(c, DEPLOYMENT);
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
    let report: serde_json::Value =
        serde_json::from_str(&text(&o.stderr)).expect("the report is JSON");
    assert_eq!(report["proxy"]["https"], "http://proxy.corp:3128");
    assert_eq!(report["proxy"]["noProxy"][4], ".svc.cluster.local");
    let mut c = bin();
    c.arg("check").args(proxy);
    let o = run(c, text(&o.stdout));
    assert_eq!(o.status.code(), Some(0), "{}", dump(&o));
}
