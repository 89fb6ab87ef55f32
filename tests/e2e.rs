//! End-to-end tests: the built binary inside the real pipelines it is made for, with the
//! pinned tools `scripts/install-tools.sh` installs into
//! `${TRUST_INJECT_TOOLS:-<repo>/.tools}/bin/` (helm3, helm4, kubectl, kustomize, kpt and
//! the YAML oracle k8s-yaml2json, used here to read outputs the way Kubernetes does).
//!
//! A missing tool FAILS its test with a message naming `scripts/install-tools.sh`. The one
//! exception is kpt, which no reachable package registry publishes: when neither
//! `.tools/bin/kpt` nor `/usr/bin/kpt` exists, a kpt test is recorded as *not run* for
//! `scripts/test.sh` to list (and fails under CI or outside that script; see
//! `tests/util/external.rs`).
//!
//! Every test works in its own temporary directory with HOME, HELM_*_HOME, HELM_PLUGINS,
//! XDG_CACHE_HOME and KUSTOMIZE_PLUGIN_HOME pointing into it, so nothing touches the user's
//! Helm plugins (Helm 3 and 4 share the default plugin directory, and a `postrenderer/v1`
//! plugin there breaks Helm 3's plugin loading).
//!
//! Fixtures: `tests/e2e/chart` (a Deployment, a Service, a CronJob, a pre-install hook Job
//! and a test Pod), `tests/e2e/kustomize/*`, `tests/e2e/kpt/*`; the examples under
//! `examples/` and the Argo CD plugin are run as documented and compared with their
//! expected output.

mod util;
use util::{copy_dir, lossy as text, run, run_ok as ok};

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Tools and sandboxes.

fn repo() -> PathBuf {
    util::repo_root()
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_trust-inject"))
}

fn tools_bin() -> PathBuf {
    std::env::var_os("TRUST_INJECT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools"))
        .join("bin")
}

/// A pinned tool; fails the test when it is missing.
fn tool(name: &str) -> PathBuf {
    let p = tools_bin().join(name);
    assert!(
        p.is_file(),
        "{name} not found at {}: run scripts/install-tools.sh (it installs helm3, helm4, \
         kubectl, kustomize and links kpt into {})",
        p.display(),
        tools_bin().display()
    );
    p
}

/// kpt, or None when it is missing and the calling test is recorded as not run (see
/// `util::external`): no package registry reachable from here publishes kpt, so
/// `scripts/install-tools.sh` only links one that is already installed.
#[track_caller]
fn kpt() -> Option<PathBuf> {
    util::external::tool(
        "kpt",
        &util::external::kpt_candidates(&tools_bin()),
        "install it, e.g. the google-cloud-cli-kpt package or a release from \
         github.com/kptdev/kpt, then run scripts/install-tools.sh or set KPT_BIN",
    )
}

/// A temporary directory removed on drop (kept with E2E_KEEP=1 for debugging).
struct Sandbox {
    root: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        static N: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "trust-inject-e2e-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        for d in [
            "home",
            "helm/cache",
            "helm/config",
            "helm/data/plugins",
            "xdg-cache",
            "bin",
        ] {
            std::fs::create_dir_all(root.join(d)).expect("create sandbox");
        }
        Sandbox { root }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.root.join(p)
    }

    /// `bin/NAME` → `target`: what the sandbox's PATH finds first.
    fn link(&self, name: &str, target: &Path) {
        std::os::unix::fs::symlink(target, self.path("bin").join(name)).expect("symlink");
    }

    /// A command with a clean environment: PATH is the sandbox's bin, then the tools, then
    /// the system's; Helm, kustomize and XDG state live in the sandbox.
    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        let mut path = OsString::from(self.path("bin"));
        path.push(":");
        path.push(tools_bin());
        path.push(":/usr/local/bin:/usr/bin:/bin");
        c.env_clear()
            .env("PATH", path)
            .env("HOME", self.path("home"))
            .env("TMPDIR", std::env::temp_dir())
            .env("HELM_CACHE_HOME", self.path("helm/cache"))
            .env("HELM_CONFIG_HOME", self.path("helm/config"))
            .env("HELM_DATA_HOME", self.path("helm/data"))
            // Helm 4.1's local plugin installer writes to $HELM_DATA_HOME/plugins whatever
            // HELM_PLUGINS says (helm/helm#32646): keep the two the same.
            .env("HELM_PLUGINS", self.path("helm/data/plugins"))
            .env("XDG_CACHE_HOME", self.path("xdg-cache"))
            .env("KUSTOMIZE_PLUGIN_HOME", self.path("kustomize-plugins"))
            .current_dir(&self.root)
            .stdin(Stdio::null());
        c
    }

    fn error_log(&self) -> PathBuf {
        self.path("xdg-cache/trust-inject/helm-post-renderer.log")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if std::env::var_os("E2E_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// Replaces `from` by `to` in a file.
fn substitute(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    assert!(text.contains(from), "{} has no {from}", file.display());
    std::fs::write(file, text.replace(from, to)).expect("write");
}

/// A copy of the fixture `tests/e2e/<set>/<name>` in the sandbox.
fn fixture(sb: &Sandbox, set: &str, name: &str) -> PathBuf {
    let dir = sb.path(name);
    copy_dir(&repo().join("tests/e2e").join(set).join(name), &dir);
    dir
}

/// Replaces the `@TRUST_INJECT_BIN@` placeholder of a fixture file by the binary's path.
fn point_at_binary(file: &Path) {
    substitute(file, "@TRUST_INJECT_BIN@", &bin().display().to_string());
}

// ---------------------------------------------------------------------------------------
// Reading outputs the way Kubernetes does (the k8s-yaml2json oracle).

fn objects(stream: &str) -> Vec<Value> {
    util::oracle_read(stream.as_bytes())
        .unwrap_or_else(|e| panic!("{e}\n--- stream:\n{stream}"))
        .into_iter()
        .filter(|v| v.is_object())
        .collect()
}

fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| {
            let have: Vec<String> = objs
                .iter()
                .map(|o| format!("{} {}", o["kind"], o["metadata"]["name"]))
                .collect();
            panic!("no {kind} {name} in the output; found {have:?}")
        })
}

fn pod_spec(o: &Value) -> &Value {
    match o["kind"].as_str() {
        Some("Pod") => &o["spec"],
        Some("CronJob") => &o["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => &o["spec"]["template"]["spec"],
    }
}

/// The volume `trust-bundle` of the object's pod, if any.
fn trust_volume(o: &Value) -> Option<&Value> {
    pod_spec(o)["volumes"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == "trust-bundle")
}

/// The object is injected from ConfigMap `configmap`: volume, mount in every container,
/// NODE_EXTRA_CA_CERTS.
fn assert_injected(objs: &[Value], kind: &str, name: &str, configmap: &str) {
    let o = find(objs, kind, name);
    let vol = trust_volume(o).unwrap_or_else(|| panic!("{kind} {name} is not injected:\n{o:#}"));
    assert_eq!(vol["configMap"]["name"], configmap, "{kind} {name}: {vol}");
    for c in pod_spec(o)["containers"].as_array().expect("containers") {
        let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
        assert!(
            mounts
                .iter()
                .any(|m| m["name"] == "trust-bundle" && m["mountPath"] == "/etc/trust-inject"),
            "{kind} {name} container {}: no bundle mount",
            c["name"]
        );
        let env = c["env"].as_array().cloned().unwrap_or_default();
        assert!(
            env.iter().any(|e| e["name"] == "NODE_EXTRA_CA_CERTS"),
            "{kind} {name} container {}: no NODE_EXTRA_CA_CERTS",
            c["name"]
        );
    }
}

fn assert_not_injected(objs: &[Value], kind: &str, name: &str) {
    let o = find(objs, kind, name);
    assert!(
        trust_volume(o).is_none() && !o.to_string().contains("trust-inject"),
        "{kind} {name} must not be injected:\n{o:#}"
    );
}

fn chart() -> PathBuf {
    repo().join("tests/e2e/chart")
}

/// `<helm> template demo` of the test chart with `helm_args` and trust-inject as the
/// post-renderer: `renderer` is its path, or a bare name (Helm 3 finds it on PATH, Helm 4
/// installed as a plugin); each of `renderer_args` follows a `--post-renderer-args`; `env`
/// is set for Helm, which passes it on.
fn helm_template(
    sb: &Sandbox,
    helm: &str,
    renderer: impl AsRef<std::ffi::OsStr>,
    helm_args: &[&str],
    renderer_args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let mut cmd = sb.cmd(tool(helm));
    cmd.args(["template", "demo"])
        .arg(chart())
        .args(helm_args)
        .arg("--post-renderer")
        .arg(renderer);
    for a in renderer_args {
        cmd.args(["--post-renderer-args", a]);
    }
    cmd.envs(env.iter().copied());
    cmd
}

/// Helm 3's output through the post-renderer (see [`helm_template`]); fails the test when
/// Helm fails.
fn helm3_template(
    sb: &Sandbox,
    renderer: impl AsRef<std::ffi::OsStr>,
    renderer_args: &[&str],
    env: &[(&str, &str)],
) -> String {
    ok(&mut helm_template(
        sb,
        "helm3",
        renderer,
        &[],
        renderer_args,
        env,
    ))
}

// ---------------------------------------------------------------------------------------
// Helm 3: an executable post-renderer; hooks never reach it.

#[test]
fn helm3_post_renderer_with_post_renderer_args() {
    let sb = Sandbox::new("helm3-args");
    let out = helm3_template(&sb, bin(), &["--configmap=corp-ca"], &[]);
    let objs = objects(&out);
    assert_injected(&objs, "Deployment", "demo-web", "corp-ca");
    assert_injected(&objs, "CronJob", "demo-report", "corp-ca");
    assert_not_injected(&objs, "Service", "demo-web");
    // Helm 3 keeps hooks (and test hooks) away from post-renderers.
    assert_not_injected(&objs, "Job", "demo-migrate");
    assert_not_injected(&objs, "Pod", "demo-test-connection");
    assert!(out.contains("# Source: tchart/templates/deployment.yaml"));
}

#[test]
fn helm3_post_renderer_configured_by_environment_only() {
    let sb = Sandbox::new("helm3-env");
    sb.link("trust-inject", &bin());
    // Found on PATH, as Helm 3 looks a bare name up there first.
    let out = helm3_template(
        &sb,
        "trust-inject",
        &[],
        &[("TRUST_INJECT_CONFIGMAP", "corp-ca")],
    );
    let objs = objects(&out);
    assert_injected(&objs, "Deployment", "demo-web", "corp-ca");
    assert_injected(&objs, "CronJob", "demo-report", "corp-ca");
    assert_not_injected(&objs, "Job", "demo-migrate");
}

// ---------------------------------------------------------------------------------------
// Helm 4: a postrenderer/v1 plugin; hooks and test hooks are post-rendered too.

/// Installs helm-plugin/ into the sandbox's HELM_PLUGINS with `helm4 plugin install`,
/// with the binary bundled as bin/trust-inject or not.
fn install_helm4_plugin(sb: &Sandbox, bundle_binary: bool) {
    let src = sb.path("src/trust-inject");
    copy_dir(&repo().join("helm-plugin"), &src);
    if bundle_binary {
        std::fs::create_dir_all(src.join("bin")).expect("mkdir bin");
        std::os::unix::fs::symlink(bin(), src.join("bin/trust-inject")).expect("symlink");
    }
    ok(sb.cmd(tool("helm4")).args(["plugin", "install"]).arg(&src));
    let list = ok(sb.cmd(tool("helm4")).args(["plugin", "list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("trust-inject") && l.contains("postrenderer/v1")),
        "helm4 plugin list does not show the plugin:\n{list}"
    );
}

/// Helm 4 through the installed plugin with these `--post-renderer-args`, however it ends.
fn helm4_template(sb: &Sandbox, renderer_args: &[&str]) -> Output {
    run(&mut helm_template(
        sb,
        "helm4",
        "trust-inject",
        &[],
        renderer_args,
        &[],
    ))
}

/// The chart's workloads Helm 4 post-renders: hooks and test hooks too.
const HELM4_WORKLOADS: [(&str, &str); 4] = [
    ("Deployment", "demo-web"),
    ("CronJob", "demo-report"),
    ("Job", "demo-migrate"),
    ("Pod", "demo-test-connection"),
];

fn assert_helm4_output(out: &Output) {
    assert!(out.status.success(), "helm4 failed: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let objs = objects(&stdout);
    assert_injected(&objs, "Deployment", "demo-web", "corp-ca");
    assert_injected(&objs, "CronJob", "demo-report", "corp-ca");
    // Helm 4 sends hooks and test hooks through the post-renderer.
    assert_injected(&objs, "Job", "demo-migrate", "corp-ca");
    assert_injected(&objs, "Pod", "demo-test-connection", "corp-ca");
    assert_not_injected(&objs, "Service", "demo-web");
    // Helm 4 regroups the output by the postrender-filename annotation and then removes it;
    // a document that lost it would come back as generated-by-postrender-N.yaml.
    for f in [
        "deployment.yaml",
        "cronjob.yaml",
        "hook-job.yaml",
        "service.yaml",
        "tests/test-connection.yaml",
    ] {
        assert!(
            stdout.contains(&format!("# Source: tchart/templates/{f}\n")),
            "{f} lost its file name:\n{stdout}"
        );
    }
    assert!(!stdout.contains("generated-by-postrender"), "{stdout}");
    assert!(!stdout.contains("postrenderer.helm.sh/postrender-filename"));
}

#[test]
fn helm4_plugin_with_bundled_binary() {
    let sb = Sandbox::new("helm4-bundled");
    install_helm4_plugin(&sb, true);
    let out = helm4_template(&sb, &["--configmap=corp-ca"]);
    assert_helm4_output(&out);
    assert!(!sb.error_log().exists(), "no error, so no error log");
}

#[test]
fn helm4_plugin_finds_binary_on_path() {
    let sb = Sandbox::new("helm4-path");
    install_helm4_plugin(&sb, false);
    sb.link("trust-inject", &bin());
    // Options through the environment instead of --post-renderer-args.
    let out = run(&mut helm_template(
        &sb,
        "helm4",
        "trust-inject",
        &[],
        &[],
        &[("TRUST_INJECT_CONFIGMAP", "corp-ca")],
    ));
    assert_helm4_output(&out);
}

#[test]
fn helm4_plugin_receives_the_filename_annotation() {
    // What the plugin receives and returns, seen through a recording post-renderer
    // wrapper: every document carries postrender-filename, and trust-inject keeps it.
    let sb = Sandbox::new("helm4-annotation");
    let src = sb.path("src/trust-inject");
    copy_dir(&repo().join("helm-plugin"), &src);
    std::fs::create_dir_all(src.join("bin")).expect("mkdir");
    let script = format!(
        "#!/bin/sh\ntee {in_} | {bin} \"$@\" | tee {out}\n",
        in_ = sb.path("received.yaml").display(),
        out = sb.path("returned.yaml").display(),
        bin = bin().display()
    );
    std::fs::write(src.join("bin/trust-inject"), script).expect("write");
    std::fs::set_permissions(
        src.join("bin/trust-inject"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    ok(sb.cmd(tool("helm4")).args(["plugin", "install"]).arg(&src));
    let out = helm4_template(&sb, &["--configmap=corp-ca"]);
    assert_helm4_output(&out);
    let received = std::fs::read_to_string(sb.path("received.yaml")).expect("received");
    let returned = std::fs::read_to_string(sb.path("returned.yaml")).expect("returned");
    let key = "postrenderer.helm.sh/postrender-filename";
    let want = objects(&received).len();
    assert_eq!(want, 5, "Helm 4 sends all five documents, hooks included");
    for (what, stream) in [("received", &received), ("returned", &returned)] {
        let objs = objects(stream);
        assert_eq!(objs.len(), want, "{what}");
        for o in &objs {
            assert!(
                o["metadata"]["annotations"][key].is_string(),
                "{what}: {} {} has no {key}",
                o["kind"],
                o["metadata"]["name"]
            );
        }
    }
}

#[test]
fn helm4_failure_is_written_to_the_error_log() {
    let sb = Sandbox::new("helm4-errors");
    install_helm4_plugin(&sb, true);

    // 1. The chart has its own volume named trust-bundle.
    let out = run(&mut helm_template(
        &sb,
        "helm4",
        "trust-inject",
        &["--set", "conflictingVolume=true"],
        &["--configmap=corp-ca"],
        &[],
    ));
    assert!(!out.status.success(), "a conflicting volume must fail");
    assert!(out.stdout.is_empty() || !text(&out.stdout).contains("kind: Deployment"));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("plugin \"trust-inject\" exited with error"),
        "Helm 4 only says the plugin failed: {stderr}"
    );
    let log = std::fs::read_to_string(sb.error_log())
        .unwrap_or_else(|e| panic!("{}: {e}", sb.error_log().display()));
    assert_eq!(log.lines().count(), 1, "{log}");
    let re = regex_lite::Regex::new(
        r#"^\[unix time \d+\] trust-inject: error: .*Deployment demo-web.*spec\.template\.spec\.volumes\[0\]: the pod already has a different volume named "trust-bundle"; give ours another name with --volume-name"#,
    )
    .expect("regex");
    assert!(re.is_match(log.lines().next().unwrap_or("")), "log: {log}");

    // 2. No bundle source at all: appended to the same log.
    let out = helm4_template(&sb, &[]);
    assert!(!out.status.success());
    let log = std::fs::read_to_string(sb.error_log()).expect("log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[1].contains("trust-inject: error: invalid configuration: source: no bundle source"),
        "{log}"
    );
}

#[test]
fn helm4_failure_log_honours_error_log_flag() {
    let sb = Sandbox::new("helm4-error-log-flag");
    install_helm4_plugin(&sb, true);
    let custom = sb.path("custom/errors.log");
    let arg = format!("--error-log={}", custom.display());
    let out = helm4_template(&sb, &[&arg]);
    assert!(!out.status.success());
    let log = std::fs::read_to_string(&custom).expect("custom log");
    assert!(log.contains("no bundle source"), "{log}");
    assert!(
        !sb.error_log().exists(),
        "--error-log replaces the default log"
    );
}

#[test]
fn helm4_plugin_yaml_uses_only_known_keys() {
    let text = std::fs::read_to_string(repo().join("helm-plugin/plugin.yaml")).expect("plugin");
    let v = &objects(&text)[0];
    // Helm 4.1 reads plugin.yaml strictly: an unknown key makes it skip the plugin.
    let known = [
        "apiVersion",
        "type",
        "name",
        "version",
        "runtime",
        "sourceURL",
        "config",
        "runtimeConfig",
    ];
    for k in v.as_object().expect("map").keys() {
        assert!(known.contains(&k.as_str()), "unknown plugin.yaml key {k}");
    }
    assert_eq!(v["apiVersion"], "v1");
    assert_eq!(v["type"], "postrenderer/v1");
    assert_eq!(v["runtime"], "subprocess");
    assert_eq!(v["name"], "trust-inject");
    let version = v["version"].as_str().expect("version");
    assert!(
        regex_lite::Regex::new(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
            .expect("re")
            .is_match(version),
        "version {version} is not full semver"
    );
    let cmds = v["runtimeConfig"]["platformCommand"]
        .as_array()
        .expect("cmds");
    for os in ["linux", "darwin"] {
        assert!(
            cmds.iter().any(|c| c["os"] == os),
            "no platformCommand for {os}"
        );
    }
    for c in cmds {
        let keys: Vec<&String> = c.as_object().expect("map").keys().collect();
        for k in keys {
            assert!(
                ["os", "arch", "command", "args"].contains(&k.as_str()),
                "{k}"
            );
        }
    }
    let script = repo().join("helm-plugin/trust-inject.sh");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&script).expect("script").permissions(),
    );
    assert!(mode & 0o111 != 0, "{} must be executable", script.display());
}

// ---------------------------------------------------------------------------------------
// kustomize.

fn kustomize_fixture(sb: &Sandbox, name: &str) -> PathBuf {
    fixture(sb, "kustomize", name)
}

/// The kustomize fixture `name` whose trust-injection.yaml runs the binary as an exec KRM
/// function.
fn exec_fn_fixture(sb: &Sandbox, name: &str) -> PathBuf {
    let dir = kustomize_fixture(sb, name);
    point_at_binary(&dir.join("trust-injection.yaml"));
    dir
}

/// `kustomize build` of `dir` with exec KRM functions enabled.
fn kustomize_build_exec(sb: &Sandbox, dir: &Path) -> String {
    ok(sb
        .cmd(tool("kustomize"))
        .args(["build", "--enable-alpha-plugins", "--enable-exec"])
        .arg(dir))
}

#[test]
fn kustomize_exec_krm_function() {
    let sb = Sandbox::new("kustomize-exec");
    let dir = exec_fn_fixture(&sb, "exec-fn");
    let out = kustomize_build_exec(&sb, &dir);
    let objs = objects(&out);
    assert_injected(&objs, "Deployment", "api", "corp-ca");
    assert_not_injected(&objs, "Service", "api");
    assert_eq!(objs.len(), 2, "{out}");
    // kustomize removes its bookkeeping annotations again: they were kept through us.
    assert!(!out.contains("config.kubernetes.io/"), "{out}");
}

#[test]
fn kubectl_kustomize_skips_exec_krm_functions_silently() {
    // kubectl 1.35's built-in kustomize (v5.7.1) has no --enable-exec: a transformer with an
    // exec function annotation is skipped without a word. Users of kubectl kustomize need
    // the legacy exec plugin (next test). This test pins that behaviour.
    let sb = Sandbox::new("kubectl-exec");
    let dir = exec_fn_fixture(&sb, "exec-fn");
    let out = run(sb
        .cmd(tool("kubectl"))
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(&dir));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        out.stderr.is_empty(),
        "not even a warning: {}",
        text(&out.stderr)
    );
    let objs = objects(&text(&out.stdout));
    assert_not_injected(&objs, "Deployment", "api");
}

fn install_legacy_plugin(sb: &Sandbox) {
    let dir = sb.path("kustomize-plugins/trust-inject.dev/v1alpha1/trustinjection");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::os::unix::fs::symlink(bin(), dir.join("TrustInjection")).expect("symlink");
}

#[test]
fn kustomize_legacy_exec_plugin() {
    let sb = Sandbox::new("kustomize-legacy");
    install_legacy_plugin(&sb);
    let dir = kustomize_fixture(&sb, "legacy");
    // kubectl's built-in kustomize and the standalone one both run legacy exec plugins.
    for (name, mut cmd) in [
        ("kubectl kustomize", {
            let mut c = sb.cmd(tool("kubectl"));
            c.args(["kustomize", "--enable-alpha-plugins"]).arg(&dir);
            c
        }),
        ("kustomize build", {
            let mut c = sb.cmd(tool("kustomize"));
            c.args(["build", "--enable-alpha-plugins"]).arg(&dir);
            c
        }),
    ] {
        let out = ok(&mut cmd);
        let objs = objects(&out);
        assert_injected(&objs, "Deployment", "api", "corp-ca");
        assert_not_injected(&objs, "Service", "api");
        assert_eq!(objs.len(), 2, "{name}: {out}");
    }
    // Without --enable-alpha-plugins kustomize refuses the plugin (nothing is skipped).
    let out = run(sb.cmd(tool("kubectl")).arg("kustomize").arg(&dir));
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("external plugins disabled"));
}

#[test]
fn kustomize_transformer_acts_on_helm_charts_output() {
    let sb = Sandbox::new("kustomize-helm");
    let dir = exec_fn_fixture(&sb, "helm-charts");
    copy_dir(&chart(), &dir.join("charts/tchart"));
    let out = ok(sb
        .cmd(tool("kustomize"))
        .args(["build", "--enable-helm", "--helm-command"])
        .arg(tool("helm3"))
        .args(["--enable-alpha-plugins", "--enable-exec"])
        .arg(&dir));
    let objs = objects(&out);
    assert_injected(&objs, "Deployment", "demo-web", "corp-ca");
    assert_injected(&objs, "CronJob", "demo-report", "corp-ca");
    // kustomize's chart inflator renders hooks as plain resources, so they are injected.
    assert_injected(&objs, "Job", "demo-migrate", "corp-ca");
    assert_injected(&objs, "Pod", "demo-test-connection", "corp-ca");
    assert_not_injected(&objs, "Service", "demo-web");
    for o in &objs {
        assert_eq!(o["metadata"]["namespace"], "shop", "{o}");
    }
}

// ---------------------------------------------------------------------------------------
// kpt.

fn kpt_package(sb: &Sandbox, name: &str) -> PathBuf {
    fixture(sb, "kpt", name)
}

/// The kpt package `name` whose Kptfile pipeline runs the binary.
fn kpt_render_package(sb: &Sandbox, name: &str) -> PathBuf {
    let pkg = kpt_package(sb, name);
    point_at_binary(&pkg.join("Kptfile"));
    pkg
}

/// `kpt fn eval --exec <binary> <pkg> -- <args>`.
fn kpt_eval(sb: &Sandbox, kpt: &Path, pkg: &Path, args: &[&str]) -> Command {
    let mut cmd = sb.cmd(kpt);
    cmd.args(["fn", "eval", "--exec"])
        .arg(bin())
        .arg(pkg)
        .arg("--")
        .args(args);
    cmd
}

/// Runs `cmd` again and checks that `file` still reads `before`: a second run changes
/// nothing.
fn assert_rerun_unchanged(cmd: &mut Command, file: &Path, before: &str) {
    ok(cmd);
    assert_eq!(read(file), before, "a second run changes nothing");
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn kpt_fn_eval_exec() {
    let Some(kpt) = kpt() else { return };
    let sb = Sandbox::new("kpt-eval");
    let pkg = kpt_package(&sb, "eval-pkg");
    let src = repo().join("tests/e2e/kpt/eval-pkg");
    let mut cmd = kpt_eval(&sb, &kpt, &pkg, &["configmap=corp-ca"]);
    ok(&mut cmd);
    // Only the Deployment file changed; the Kptfile and the Service are byte for byte.
    assert_eq!(read(&pkg.join("Kptfile")), read(&src.join("Kptfile")));
    assert_eq!(
        read(&pkg.join("service.yaml")),
        read(&src.join("service.yaml"))
    );
    let dep = read(&pkg.join("deployment.yaml"));
    assert!(
        dep.starts_with("# The web frontend.\n"),
        "comment kept: {dep}"
    );
    assert_injected(&objects(&dep), "Deployment", "web", "corp-ca");
    let mut names: Vec<String> = std::fs::read_dir(&pkg)
        .expect("pkg")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Kptfile", "deployment.yaml", "service.yaml"]);
    assert_rerun_unchanged(&mut cmd, &pkg.join("deployment.yaml"), &dep);
}

#[test]
fn kpt_fn_render_allow_exec_with_config_path() {
    let Some(kpt) = kpt() else { return };
    let sb = Sandbox::new("kpt-render");
    let pkg = kpt_render_package(&sb, "render-pkg");
    substitute(
        &pkg.join("trust-injection.yaml"),
        "@CA_FILE@",
        &repo()
            .join("testdata/krm/test-ca.pem")
            .display()
            .to_string(),
    );
    let kptfile = read(&pkg.join("Kptfile"));
    let config = read(&pkg.join("trust-injection.yaml"));
    let service = read(&pkg.join("service.yaml"));
    // Without --allow-exec kpt refuses to run the binary.
    let out = run(sb.cmd(&kpt).args(["fn", "render"]).arg(&pkg));
    assert!(
        !out.status.success(),
        "kpt must refuse exec functions without --allow-exec"
    );

    let mut cmd = sb.cmd(&kpt);
    cmd.args(["fn", "render", "--allow-exec"]).arg(&pkg);
    ok(&mut cmd);
    assert_eq!(
        read(&pkg.join("Kptfile")),
        kptfile,
        "the Kptfile is untouched"
    );
    assert_eq!(read(&pkg.join("trust-injection.yaml")), config);
    assert_eq!(read(&pkg.join("service.yaml")), service);
    let dep = read(&pkg.join("deployment.yaml"));
    let objs = objects(&dep);
    let o = find(&objs, "Deployment", "web");
    assert_eq!(
        trust_volume(o).expect("injected")["configMap"]["name"],
        "trust-bundle"
    );
    assert!(
        o["spec"]["template"]["metadata"]["annotations"]["trust-inject.dev/bundle-sha256"]
            .is_string()
    );
    // The generated bundle lands in the package as its own file.
    let generated = pkg.join("trust-bundle_shop.yaml");
    let cm_text = read(&generated);
    let cm = &objects(&cm_text)[0];
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["name"], "trust-bundle");
    assert_eq!(cm["metadata"]["namespace"], "shop");
    let pem = read(&repo().join("testdata/krm/test-ca.pem"));
    assert_eq!(
        cm["data"]["ca.crt"].as_str().map(str::trim),
        Some(pem.trim())
    );
    assert!(
        !cm_text.contains("config.kubernetes.io/"),
        "kpt strips its annotations"
    );
    // Rendering again is a no-op.
    let snapshot: Vec<(String, String)> = ["Kptfile", "deployment.yaml", "trust-bundle_shop.yaml"]
        .iter()
        .map(|f| (f.to_string(), read(&pkg.join(f))))
        .collect();
    ok(&mut cmd);
    for (f, before) in snapshot {
        assert_eq!(
            read(&pkg.join(&f)),
            before,
            "{f} changed on the second render"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Argo CD config management plugin.

fn argocd_plugin() -> Value {
    let text = read(&repo().join("examples/argocd/plugin.yaml"));
    objects(&text).remove(0)
}

/// Runs the plugin's `generate` command as the CMP server does: in the application's source
/// directory, with the build environment and PARAM_* variables.
fn argocd_generate(sb: &Sandbox, app_dir: &Path, params: &[(&str, &str)]) -> Output {
    let plugin = argocd_plugin();
    let generate = &plugin["spec"]["generate"];
    let mut argv: Vec<String> = generate["command"]
        .as_array()
        .expect("generate.command")
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .collect();
    argv.extend(
        generate["args"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().expect("string").to_owned())
                    .collect::<Vec<String>>()
            })
            .unwrap_or_default(),
    );
    let mut cmd = sb.cmd(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(app_dir)
        .env("ARGOCD_APP_NAME", "shop")
        .env("ARGOCD_APP_NAMESPACE", "shop-prod")
        .env("ARGOCD_APP_REVISION", "0123456789abcdef")
        .env("ARGOCD_APP_SOURCE_PATH", "tchart")
        .env(
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/shop.git",
        )
        .env("KUBE_VERSION", "1.35.0");
    for (k, v) in params {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

fn argocd_sandbox(name: &str) -> (Sandbox, PathBuf) {
    let sb = Sandbox::new(name);
    sb.link("helm", &tool("helm3"));
    sb.link("trust-inject", &bin());
    let app = sb.path("repo/tchart");
    copy_dir(&chart(), &app);
    (sb, app)
}

#[test]
fn argocd_cmp_generate_injects() {
    let (sb, app) = argocd_sandbox("argocd");
    let out = argocd_generate(&sb, &app, &[("PARAM_CONFIGMAP", "corp-ca")]);
    assert!(
        out.status.success(),
        "generate failed: {}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    let objs = objects(&stdout);
    assert_injected(&objs, "Deployment", "shop-web", "corp-ca");
    assert_injected(&objs, "CronJob", "shop-report", "corp-ca");
    // `helm template` in a pipe: hooks are ordinary documents, so they are injected too.
    assert_injected(&objs, "Job", "shop-migrate", "corp-ca");
    for o in &objs {
        assert_eq!(
            o["metadata"]["namespace"],
            Value::Null,
            "helm template sets none"
        );
    }

    // The Application's plugin env arrives as ARGOCD_ENV_*; complete-bundle as a parameter.
    let out = argocd_generate(
        &sb,
        &app,
        &[
            ("ARGOCD_ENV_TRUST_INJECT_SECRET", "corp-bundle"),
            ("PARAM_COMPLETE_BUNDLE", "true"),
        ],
    );
    assert!(
        out.status.success(),
        "generate failed: {}",
        text(&out.stderr)
    );
    let objs = objects(&text(&out.stdout));
    let vol = trust_volume(find(&objs, "Deployment", "shop-web")).expect("injected");
    assert_eq!(vol["secret"]["secretName"], "corp-bundle");
    let dep = find(&objs, "Deployment", "shop-web").to_string();
    assert!(dep.contains("SSL_CERT_FILE"), "complete bundle: {dep}");
}

#[test]
fn argocd_cmp_generate_fails_on_empty_render_and_errors() {
    let (sb, app) = argocd_sandbox("argocd-empty");
    // An empty render would prune the whole application: it must fail.
    std::fs::write(app.join("values.yaml"), "empty: true\n").expect("values");
    let out = argocd_generate(&sb, &app, &[("PARAM_CONFIGMAP", "corp-ca")]);
    assert!(!out.status.success(), "an empty render must fail");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("the input holds no Kubernetes object"),
        "{}",
        text(&out.stderr)
    );

    // A failing helm (pipefail): broken template.
    let (sb, app) = argocd_sandbox("argocd-helm-fails");
    std::fs::write(
        app.join("templates/broken.yaml"),
        "{{ .Values.nope.deeper }}\n",
    )
    .expect("w");
    let out = argocd_generate(&sb, &app, &[("PARAM_CONFIGMAP", "corp-ca")]);
    assert!(
        !out.status.success(),
        "a failing helm template must fail the plugin"
    );

    // No source configured.
    let (sb, app) = argocd_sandbox("argocd-no-source");
    let out = argocd_generate(&sb, &app, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no bundle source"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn argocd_plugin_announces_real_options() {
    let plugin = argocd_plugin();
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(plugin["spec"]["discover"]["fileName"], "./Chart.yaml");
    let generate = plugin["spec"]["generate"].to_string();
    assert!(generate.contains("set -euo pipefail"), "{generate}");
    assert!(generate.contains("bash"), "{generate}");
    let help = ok(Command::new(bin()).arg("--help"));
    let names: Vec<&str> = plugin["spec"]["parameters"]["static"]
        .as_array()
        .expect("parameters.static")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    for want in ["configmap", "secret", "key", "complete-bundle", "ca-file"] {
        assert!(names.contains(&want), "parameter {want} is not announced");
    }
    for n in names {
        // PARAM_<NAME> is read for the flag --<name>.
        assert!(
            help.contains(&format!("--{n}")),
            "announced parameter {n} is no flag"
        );
    }
}

#[test]
fn argocd_repo_server_patch_is_a_cmp_sidecar() {
    let text = read(&repo().join("examples/argocd/repo-server-patch.yaml"));
    let patch = objects(&text).remove(0);
    let spec = &patch["spec"]["template"]["spec"];
    let c = spec["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .find(|c| c["name"] == "trust-inject")
        .expect("sidecar trust-inject");
    assert_eq!(c["command"][0], "/var/run/argocd/argocd-cmp-server");
    assert_eq!(c["securityContext"]["runAsUser"], 999);
    assert_eq!(c["securityContext"]["runAsNonRoot"], true);
    let mounts: Vec<(String, String)> = c["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap_or("").to_owned(),
                m["mountPath"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    for (name, path) in [
        ("var-files", "/var/run/argocd"),
        ("plugins", "/home/argocd/cmp-server/plugins"),
        ("cmp-tmp", "/tmp"),
    ] {
        assert!(
            mounts.contains(&(name.into(), path.into())),
            "mount {name} at {path} missing: {mounts:?}"
        );
    }
    assert!(
        mounts
            .iter()
            .any(|(_, p)| p == "/home/argocd/cmp-server/config/plugin.yaml"),
        "plugin config mount missing"
    );
    let env: Vec<String> = c["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            format!(
                "{}={}",
                e["name"].as_str().unwrap_or(""),
                e["value"].as_str().unwrap_or("")
            )
        })
        .collect();
    for k in [
        "HELM_CACHE_HOME=/tmp/",
        "HELM_CONFIG_HOME=/tmp/",
        "HELM_DATA_HOME=/tmp/",
    ] {
        assert!(
            env.iter().any(|e| e.starts_with(k)),
            "{k}… missing: {env:?}"
        );
    }
    let vols: Vec<&str> = spec["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .map(|v| v["name"].as_str().unwrap_or(""))
        .collect();
    assert!(vols.contains(&"cmp-tmp"));
    // The plugin.yaml inside the ConfigMap is the one in examples/argocd/plugin.yaml.
    let cm = objects(&read(&repo().join("examples/argocd/plugin-configmap.yaml"))).remove(0);
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(
        spec["volumes"][0]["configMap"]["name"], cm["metadata"]["name"],
        "the sidecar mounts this ConfigMap"
    );
    let embedded = cm["data"]["plugin.yaml"].as_str().expect("plugin.yaml key");
    assert_eq!(
        objects(embedded)[0],
        argocd_plugin(),
        "embedded plugin.yaml differs"
    );
}

// ---------------------------------------------------------------------------------------
// The examples: each run.sh is run as documented and compared with expected-output.yaml.

fn run_example(name: &str, helm: Option<&str>) {
    let sb = Sandbox::new(&format!("example-{name}"));
    let dir = repo().join("examples").join(name);
    sb.link("trust-inject", &bin());
    if let Some(h) = helm {
        sb.link("helm", &tool(h));
    }
    if name == "kustomize" {
        sb.link("kustomize", &tool("kustomize"));
    }
    if name == "kpt" {
        let Some(kpt) = kpt() else { return };
        sb.link("kpt", &kpt);
    }
    let out = run(sb.cmd("bash").arg(dir.join("run.sh")).current_dir(&dir));
    assert!(
        out.status.success(),
        "examples/{name}/run.sh failed: {}",
        text(&out.stderr)
    );
    let actual = text(&out.stdout);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(dir.join("expected-output.yaml"), &actual).expect("write");
    }
    let expected = read(&dir.join("expected-output.yaml"));
    assert!(
        actual == expected,
        "examples/{name}: output differs from expected-output.yaml:\n{}",
        util::line_diff(&expected, &actual)
    );
    // The README shows the same command and output.
    let readme = read(&dir.join("README.md"));
    assert!(
        readme.contains("run.sh"),
        "examples/{name}/README.md must show run.sh"
    );
}

#[test]
fn example_helm3() {
    run_example("helm3", Some("helm3"));
}

#[test]
fn example_helm4() {
    run_example("helm4", Some("helm4"));
}

#[test]
fn example_kustomize() {
    run_example("kustomize", None);
}

#[test]
fn example_kpt() {
    run_example("kpt", None);
}

// ---------------------------------------------------------------------------------------
// The function image (no container engine runs in the test environment: the Dockerfile is
// checked, not built).

#[test]
fn dockerfile_builds_a_static_nonroot_image() {
    let d = read(&repo().join("Dockerfile"));
    assert!(d.contains("x86_64-unknown-linux-musl"), "static musl build");
    assert!(d.matches("FROM ").count() >= 2, "multi-stage");
    let last_from = d.lines().rfind(|l| l.starts_with("FROM ")).expect("FROM");
    assert!(
        last_from.contains("scratch") || last_from.contains("distroless/static"),
        "{last_from}"
    );
    assert!(
        d.lines().any(|l| l.trim() == "USER 65534:65534"),
        "runs as nobody"
    );
    assert!(
        d.lines()
            .any(|l| l.starts_with("ENTRYPOINT [\"/trust-inject\"]")),
        "ENTRYPOINT is the binary"
    );
}

// ---------------------------------------------------------------------------------------
// The start-up merge (--merge-at-start) through every pipeline: the init container first,
// the emptyDir mounted as a complete bundle, the same on a second run.

/// The object is injected with the start-up merge from `source` (the volume source the
/// init container reads, e.g. `{"configMap": {"name": "corp-ca"}}`): the merge init
/// container first, running `merge` with the restricted security context, our volume an
/// emptyDir, and every other container mounting it as a complete bundle.
fn assert_merged(objs: &[Value], kind: &str, name: &str, source: &Value) {
    let o = find(objs, kind, name);
    let spec = pod_spec(o);
    let vol = trust_volume(o).unwrap_or_else(|| panic!("{kind} {name} is not injected:\n{o:#}"));
    assert_eq!(vol["emptyDir"]["medium"], "Memory", "{kind} {name}: {vol}");
    let src = spec["volumes"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"] == "trust-bundle-source"))
        .unwrap_or_else(|| panic!("{kind} {name}: no source volume:\n{o:#}"));
    for (k, v) in source.as_object().expect("a volume source") {
        assert_eq!(&src[k], v, "{kind} {name}: source volume {src}");
    }
    let inits = spec["initContainers"].as_array().expect("initContainers");
    let merge = &inits[0];
    assert_eq!(merge["name"], "trust-bundle-merge", "{kind} {name}: first");
    assert_eq!(merge["args"][0], "merge");
    assert_eq!(merge["securityContext"]["runAsNonRoot"], Value::Bool(true));
    assert_eq!(
        merge["securityContext"]["readOnlyRootFilesystem"],
        Value::Bool(true)
    );
    let others = inits[1..]
        .iter()
        .chain(spec["containers"].as_array().expect("containers"));
    for c in others {
        let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
        for path in ["/etc/trust-inject", "/etc/ssl/certs/ca-certificates.crt"] {
            assert!(
                mounts
                    .iter()
                    .any(|m| m["name"] == "trust-bundle" && m["mountPath"] == path),
                "{kind} {name} container {}: no mount at {path}",
                c["name"]
            );
        }
        let env = c["env"].as_array().cloned().unwrap_or_default();
        for (var, value) in [
            ("SSL_CERT_FILE", "/etc/trust-inject/ca-bundle.crt"),
            ("NODE_EXTRA_CA_CERTS", "/etc/trust-inject/ca.crt"),
        ] {
            assert!(
                env.iter().any(|e| e["name"] == var && e["value"] == value),
                "{kind} {name} container {}: no {var}={value}",
                c["name"]
            );
        }
        assert!(
            env.iter().any(|e| e["name"] == "JAVA_TOOL_OPTIONS"
                && e["value"]
                    .as_str()
                    .is_some_and(|v| v.contains("/etc/trust-inject/truststore.p12"))),
            "{kind} {name} container {}: no truststore",
            c["name"]
        );
    }
}

fn configmap_source() -> Value {
    serde_json::json!({"configMap": {"name": "corp-ca"}})
}

#[test]
fn merge_at_start_plain_pipe_is_idempotent() {
    let sb = Sandbox::new("merge-pipe");
    let rendered = ok(sb
        .cmd(tool("helm3"))
        .args(["template", "demo"])
        .arg(chart()));
    let args = ["--configmap", "corp-ca", "--merge-at-start"];
    let once = util::run_bin(&args.map(str::to_owned), rendered.as_bytes());
    assert!(once.status.success(), "{}", text(&once.stderr));
    let out = text(&once.stdout);
    let objs = objects(&out);
    assert_merged(&objs, "Deployment", "demo-web", &configmap_source());
    assert_merged(&objs, "CronJob", "demo-report", &configmap_source());
    assert_not_injected(&objs, "Service", "demo-web");
    let twice = util::run_bin(&args.map(str::to_owned), &once.stdout);
    assert_eq!(text(&twice.stdout), out, "a second run changes nothing");
}

#[test]
fn merge_at_start_helm3_post_renderer() {
    let sb = Sandbox::new("merge-helm3");
    sb.link("trust-inject", &bin());
    let out = helm3_template(
        &sb,
        "trust-inject",
        &[],
        &[
            ("TRUST_INJECT_SECRET", "corp-ca"),
            ("TRUST_INJECT_MERGE_AT_START", "true"),
        ],
    );
    let objs = objects(&out);
    let secret = serde_json::json!({"secret": {"secretName": "corp-ca"}});
    assert_merged(&objs, "Deployment", "demo-web", &secret);
    assert_merged(&objs, "CronJob", "demo-report", &secret);
}

#[test]
fn merge_at_start_helm4_plugin() {
    let sb = Sandbox::new("merge-helm4");
    install_helm4_plugin(&sb, true);
    let out = helm4_template(&sb, &["--configmap=corp-ca", "--merge-at-start"]);
    assert!(out.status.success(), "helm4 failed: {}", text(&out.stderr));
    let objs = objects(&text(&out.stdout));
    for (kind, name) in HELM4_WORKLOADS {
        assert_merged(&objs, kind, name, &configmap_source());
    }
}

#[test]
fn merge_at_start_kustomize_exec_function() {
    let sb = Sandbox::new("merge-kustomize");
    let dir = exec_fn_fixture(&sb, "exec-fn");
    let config = read(&dir.join("trust-injection.yaml"));
    std::fs::write(
        dir.join("trust-injection.yaml"),
        format!("{config}  mergeAtStart:\n    enabled: true\n    imagePullSecret: platform-pull\n"),
    )
    .expect("config");
    let out = kustomize_build_exec(&sb, &dir);
    let objs = objects(&out);
    assert_merged(&objs, "Deployment", "api", &configmap_source());
    let pulls = &pod_spec(find(&objs, "Deployment", "api"))["imagePullSecrets"];
    assert_eq!(pulls, &serde_json::json!([{"name": "platform-pull"}]));
}

#[test]
fn merge_at_start_kpt_fn_eval() {
    let Some(kpt) = kpt() else { return };
    let sb = Sandbox::new("merge-kpt");
    let pkg = kpt_package(&sb, "eval-pkg");
    let mut cmd = kpt_eval(
        &sb,
        &kpt,
        &pkg,
        &["signer-name=example.com/corp-ca", "merge-at-start=true"],
    );
    ok(&mut cmd);
    let dep = read(&pkg.join("deployment.yaml"));
    let ctb = serde_json::json!({"projected": {"sources": [{"clusterTrustBundle": {
        "signerName": "example.com/corp-ca", "labelSelector": {}, "path": "ca.crt"}}]}});
    assert_merged(&objects(&dep), "Deployment", "web", &ctb);
    assert_rerun_unchanged(&mut cmd, &pkg.join("deployment.yaml"), &dep);
}

// The egress proxy through Helm 3, Helm 4, kustomize and kpt (KRM: tests/krm.rs, plain pipe:
// golden cases).

/// Every container of the object has the proxy variables in both cases, and Java's part.
fn assert_proxied(objs: &[Value], kind: &str, name: &str, url: &str) {
    let o = find(objs, kind, name);
    for c in pod_spec(o)["containers"].as_array().expect("containers") {
        let env = c["env"].as_array().cloned().unwrap_or_default();
        let value = |n: &str| {
            env.iter()
                .find(|e| e["name"] == n)
                .map(|e| e["value"].clone())
                .unwrap_or_default()
        };
        for n in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] {
            assert_eq!(value(n), url, "{kind} {name} container {}: {n}", c["name"]);
        }
        assert!(
            value("NO_PROXY")
                .as_str()
                .is_some_and(|v| v.starts_with("localhost,127.0.0.1,::1,.svc,")),
            "{kind} {name} container {}: NO_PROXY",
            c["name"]
        );
        assert_eq!(value("NODE_USE_ENV_PROXY"), "1");
        assert!(
            value("JAVA_TOOL_OPTIONS")
                .as_str()
                .is_some_and(|v| v.contains("-Dhttps.proxyHost=proxy.corp -Dhttps.proxyPort=3128")),
            "{kind} {name} container {}: JAVA_TOOL_OPTIONS",
            c["name"]
        );
    }
}

#[test]
fn helm3_post_renderer_sets_the_proxy() {
    let sb = Sandbox::new("helm3-proxy");
    let out = helm3_template(
        &sb,
        bin(),
        &["--configmap=corp-ca", "--proxy=http://proxy.corp:3128"],
        &[],
    );
    let objs = objects(&out);
    assert_injected(&objs, "Deployment", "demo-web", "corp-ca");
    assert_proxied(&objs, "Deployment", "demo-web", "http://proxy.corp:3128");
    assert_proxied(&objs, "CronJob", "demo-report", "http://proxy.corp:3128");
    assert_not_injected(&objs, "Service", "demo-web");
}

#[test]
fn kustomize_exec_krm_function_sets_the_proxy() {
    let sb = Sandbox::new("kustomize-exec-proxy");
    let dir = exec_fn_fixture(&sb, "exec-fn");
    substitute(
        &dir.join("trust-injection.yaml"),
        "spec:\n",
        "spec:\n  proxy:\n    url: http://proxy.corp:3128\n    noProxy: .corp.example\n",
    );
    let out = kustomize_build_exec(&sb, &dir);
    let objs = objects(&out);
    assert_injected(&objs, "Deployment", "api", "corp-ca");
    assert_proxied(&objs, "Deployment", "api", "http://proxy.corp:3128");
    assert!(out.contains(".svc.cluster.local,.corp.example"), "{out}");
}

#[test]
fn helm4_plugin_sets_the_proxy() {
    let sb = Sandbox::new("helm4-proxy");
    install_helm4_plugin(&sb, true);
    let out = helm4_template(
        &sb,
        &["--configmap=corp-ca", "--proxy=http://proxy.corp:3128"],
    );
    // Every workload injected (hooks and test hooks too), file names kept.
    assert_helm4_output(&out);
    let objs = objects(&text(&out.stdout));
    for (kind, name) in HELM4_WORKLOADS {
        assert_proxied(&objs, kind, name, "http://proxy.corp:3128");
    }
}

#[test]
fn kpt_fn_eval_exec_sets_the_proxy() {
    let Some(kpt) = kpt() else { return };
    let sb = Sandbox::new("kpt-eval-proxy");
    let pkg = kpt_package(&sb, "eval-pkg");
    let src = repo().join("tests/e2e/kpt/eval-pkg");
    let mut cmd = kpt_eval(
        &sb,
        &kpt,
        &pkg,
        &[
            "configmap=corp-ca",
            "proxy=http://proxy.corp:3128",
            "no-proxy=.corp.example",
        ],
    );
    ok(&mut cmd);
    assert_eq!(
        read(&pkg.join("service.yaml")),
        read(&src.join("service.yaml"))
    );
    let dep = read(&pkg.join("deployment.yaml"));
    let objs = objects(&dep);
    assert_injected(&objs, "Deployment", "web", "corp-ca");
    assert_proxied(&objs, "Deployment", "web", "http://proxy.corp:3128");
    assert!(dep.contains(".svc.cluster.local,.corp.example"), "{dep}");
    assert_rerun_unchanged(&mut cmd, &pkg.join("deployment.yaml"), &dep);
}

#[test]
fn kpt_fn_render_sets_the_proxy() {
    let Some(kpt) = kpt() else { return };
    let sb = Sandbox::new("kpt-render-proxy");
    let pkg = kpt_render_package(&sb, "render-pkg");
    // The proxy alongside the configured bundle source, as in the issue's example.
    std::fs::write(
        pkg.join("trust-injection.yaml"),
        "apiVersion: trust-inject.dev/v1alpha1\nkind: TrustInjection\nmetadata:\n  name: corp-ca\n  \
         annotations:\n    config.kubernetes.io/local-config: \"true\"\nspec:\n  source:\n    \
         configMap:\n      name: corp-ca\n  proxy:\n    url: http://proxy.corp:3128\n    noProxy: .corp.example\n",
    )
    .expect("config");
    let service = read(&pkg.join("service.yaml"));
    let mut cmd = sb.cmd(&kpt);
    cmd.args(["fn", "render", "--allow-exec"]).arg(&pkg);
    ok(&mut cmd);
    assert_eq!(read(&pkg.join("service.yaml")), service);
    let dep = read(&pkg.join("deployment.yaml"));
    let objs = objects(&dep);
    assert_injected(&objs, "Deployment", "web", "corp-ca");
    assert_proxied(&objs, "Deployment", "web", "http://proxy.corp:3128");
    assert!(dep.contains(".svc.cluster.local,.corp.example"), "{dep}");
    // kpt runs the pipeline again on its own output: the second render changes nothing.
    let snapshot: Vec<(String, String)> = std::fs::read_dir(&pkg)
        .expect("pkg")
        .map(|e| e.expect("entry").path())
        .map(|p| (p.display().to_string(), read(&p)))
        .collect();
    ok(&mut cmd);
    for (f, before) in snapshot {
        assert_eq!(
            read(Path::new(&f)),
            before,
            "{f} changed on the second render"
        );
    }
    let files = std::fs::read_dir(&pkg).expect("pkg").count();
    assert_eq!(files, 4, "the second render added no file");
}
