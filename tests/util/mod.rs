//! Helpers shared by the integration tests: running the binary (with a deadline where
//! hostile input could hang it), splitting streams into documents, a small line diff, and
//! the "what Kubernetes reads" oracle (`k8s-yaml2json`, see `tests/oracle/README.md`).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};
use trust_inject::internals::well_known as wk;

use serde_json::{Map, Value};

pub mod external;

/// A fresh directory under the system's temporary directory, removed with everything in
/// it when dropped, so that test runs leave nothing behind.
pub struct TempDir(PathBuf);

impl TempDir {
    /// `$TMPDIR/trust-inject-NAME-PID-N`, emptied if a crashed run left it.
    pub fn new(name: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "trust-inject-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path as text (the temporary directory is expected to have a UTF-8 path).
    pub fn as_str(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp dir path")
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl std::fmt::Display for TempDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.to_string_lossy())
    }
}

/// Dereferences to the path as text, so that it goes wherever a `&str` path does.
impl std::ops::Deref for TempDir {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `cmd` with `feed` writing its standard input (errors writing it, such as a pipe
/// closed by an early refusal, are the feeder's to ignore), killing it after `timeout`.
/// Returns the exit status (`None`: killed at the deadline), stdout and stderr.
pub fn run_timed(
    cmd: &mut Command,
    feed: impl FnOnce(ChildStdin) + Send + 'static,
    timeout: Duration,
) -> (Option<ExitStatus>, Vec<u8>, Vec<u8>) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()));
    let stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || feed(stdin));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let err = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().expect("wait for the child") {
            Some(s) => break Some(s),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    };
    let _ = writer.join();
    (
        status,
        out.join().expect("stdout reader"),
        err.join().expect("stderr reader"),
    )
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the built binary with `args` and `stdin`; `env` is added to its environment.
pub fn run_bin(args: &[String], stdin: &[u8]) -> Output {
    run_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_trust-inject"))
            .args(args)
            .env_remove("TRUST_INJECT_VERBOSE")
            .env_remove("TRUST_INJECT_CONFIG"),
        stdin,
    )
}

/// Owned copies of `args`, for [`run_bin`] and [`run_lib`].
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// Runs `args` on `input` in process, through the library API as the binary does for one
/// stream on standard input: [`trust_inject::resolve`] (with this process's
/// environment, less what [`run_bin`] removes), [`trust_inject::Options::from_settings`],
/// `load_bundle`, [`trust_inject::process`]. `None` where that path does not apply (input
/// that is not UTF-8, a ResourceList, help or a usage error). The binary's own policies
/// after processing (`--strict` certificate warnings, `--fail-on-empty`, no workload under
/// `--strict`) are not applied.
pub fn run_lib(args: &[String], input: &[u8]) -> Option<Result<String, trust_inject::Error>> {
    use trust_inject::{Env, Stop, resolve};
    let input = std::str::from_utf8(input).ok()?;
    if trust_inject::is_resource_list(input) {
        return None;
    }
    let argv: Vec<std::ffi::OsString> = std::iter::once("trust-inject".into())
        .chain(args.iter().map(Into::into))
        .collect();
    let env: Env = std::env::vars_os()
        .filter(|(k, _)| k != "TRUST_INJECT_VERBOSE" && k != "TRUST_INJECT_CONFIG")
        .collect();
    let inv = match resolve(&argv, &env, &mut |p| std::fs::read_to_string(p)) {
        Ok(inv) => inv,
        Err(Stop::Clap(_)) => return None,
        Err(Stop::Failed { error, .. }) => return Some(Err(*error)),
    };
    let run = || {
        let mut opts = trust_inject::Options::from_settings(&inv.settings)?;
        opts.load_bundle()?;
        Ok(trust_inject::process(input, &opts)?.output)
    };
    Some(run())
}

/// Runs `cmd` with `stdin` written to its standard input (from another thread, so a large
/// input cannot deadlock against a full stdout); panics naming the command when it cannot
/// start.
pub fn run_with_stdin(
    mut cmd: impl std::borrow::BorrowMut<Command>,
    stdin: impl AsRef<[u8]>,
) -> Output {
    let cmd = cmd.borrow_mut();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.as_ref().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for {cmd:?}: {e}"));
    writer.join().expect("stdin writer");
    out
}

/// Runs `cmd` to its end with no standard input; panics naming the command when it cannot
/// start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs `cmd` and requires success: its standard output (UTF-8), or a panic that shows the
/// command, its status and both outputs.
#[track_caller]
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed:\n{}", dump(&out));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Copies the folder `src` into `dst`, recursively.
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for e in std::fs::read_dir(src).unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
        let e = e.expect("entry");
        let to = dst.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
        }
    }
}

/// Every PodSpec (an object with a `containers` list) under `v`, as Kubernetes read it.
pub fn pod_specs<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if matches!(m.get("containers"), Some(Value::Array(_))) {
                out.push(v);
            }
            m.values().for_each(|x| pod_specs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| pod_specs(x, out)),
        _ => {}
    }
}

/// Bytes as text, invalid UTF-8 replaced.
pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A finished command for a failure message: its status and both outputs.
pub fn dump(o: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        lossy(&o.stdout),
        lossy(&o.stderr)
    )
}

/// Splits a stream into documents, each with its own separator line: a new document starts
/// at every line that begins with `---` followed by a blank, a `#` comment or the end of
/// the line (the rule apimachinery's YAMLReader uses). Concatenating the pieces gives the
/// input back.
pub fn split_docs(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if is_separator(line) && pos > start {
            out.push(&text[start..pos]);
            start = pos;
        }
        pos += line.len();
    }
    if pos > start || out.is_empty() {
        out.push(&text[start..]);
    }
    out
}

fn is_separator(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("---") else {
        return false;
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.is_empty() || rest.starts_with(['\n', '\r', '#'])
}

/// Whether the lines of `small` appear in `big` in the same order (not necessarily
/// adjacent).
pub fn is_line_subsequence(small: &str, big: &str) -> bool {
    let mut big_lines = big.lines();
    small.lines().all(|l| big_lines.any(|b| b == l))
}

/// A unified-style line diff of `expected` and `actual` (LCS based; fine for test files).
pub fn line_diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.split_inclusive('\n').collect();
    let b: Vec<&str> = actual.split_inclusive('\n').collect();
    if a.len() * b.len() > 25_000_000 {
        return format!("(too large to diff: {} vs {} lines)\n", a.len(), b.len());
    }
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let show = |l: &str| {
        let mut s = l.replace('\r', "\\r");
        if !s.ends_with('\n') {
            s.push_str("\\ (no newline at end)\n");
        }
        s
    };
    let mut out = String::from("--- expected\n+++ actual\n");
    let (mut i, mut j) = (0, 0);
    let mut last_ctx: Option<usize> = None;
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        if last_ctx != Some(i) {
            out.push_str(&format!(
                "@@ expected line {}, actual line {} @@\n",
                i + 1,
                j + 1
            ));
            for line in &a[i.saturating_sub(2)..i] {
                out.push_str(&format!(" {}", show(line)));
            }
        }
        if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("+{}", show(b[j])));
            j += 1;
        } else {
            out.push_str(&format!("-{}", show(a[i])));
            i += 1;
        }
        last_ctx = Some(i);
    }
    out
}

// ---------------------------------------------------------------------------------------
// The oracle.

/// Where `scripts/build-oracle.sh` puts the oracle.
pub fn oracle_path() -> PathBuf {
    let tools = std::env::var_os("TRUST_INJECT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools"));
    tools.join("bin").join("k8s-yaml2json")
}

/// The oracle binary; panics (never skips) when it is missing.
pub fn oracle() -> PathBuf {
    let p = oracle_path();
    assert!(
        p.is_file(),
        "k8s-yaml2json not found: run scripts/install-tools.sh (or scripts/build-oracle.sh) \
         (looked for {})",
        p.display()
    );
    p
}

/// What Kubernetes reads from `stream`: one JSON value per document (`null` for a document
/// with no content, `{"error": …}` for one that does not convert).
pub fn oracle_read(stream: &[u8]) -> Result<Vec<Value>, String> {
    let out = run_with_stdin(&mut Command::new(oracle()), stream);
    if !out.status.success() {
        return Err(format!(
            "k8s-yaml2json rejected the stream ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8(out.stdout).map_err(|e| e.to_string())?;
    text.lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad oracle line {l:?}: {e}")))
        .collect()
}

/// What the tool is allowed to add, for [`strip_injected`].
#[derive(Clone, Debug)]
pub struct Injected {
    /// Name of the volume the tool adds.
    pub volume_name: String,
    /// Environment variables the tool may set.
    pub env: Vec<String>,
    /// The pod-template annotation the tool may add.
    pub annotation: String,
    /// The image pull secret the start-up merge may add (`--merge-image-pull-secret`).
    pub pull_secret: Option<String>,
}

impl Default for Injected {
    fn default() -> Self {
        Injected {
            volume_name: wk::DEFAULT_VOLUME_NAME.into(),
            env: wk::ADDITIVE_ENV
                .iter()
                .chain(wk::REPLACING_ENV)
                .chain(&[wk::JAVA_TOOL_OPTIONS])
                .map(|s| (*s).to_owned())
                .collect(),
            annotation: wk::BUNDLE_HASH_ANNOTATION.into(),
            pull_secret: None,
        }
    }
}

impl Injected {
    /// Adjusts the defaults to a `TrustInjection` config document (`spec.volumeName`,
    /// `spec.env.additive`, `spec.env.replacing`), read through the oracle.
    pub fn apply_config(&mut self, config: &[u8]) {
        let docs = oracle_read(config).unwrap_or_else(|e| panic!("config: {e}"));
        let Some(spec) = docs.first().and_then(|d| d.get("spec")) else {
            return;
        };
        if let Some(v) = spec.get("volumeName").and_then(Value::as_str) {
            self.volume_name = v.to_owned();
        }
        if let Some(v) = spec
            .get("mergeAtStart")
            .and_then(|m| m.get("imagePullSecret"))
            .and_then(Value::as_str)
        {
            self.pull_secret = Some(v.to_owned());
        }
        if spec.get("proxy").is_some() {
            self.env.extend(PROXY_ENV.iter().map(|s| (*s).to_owned()));
        }
        for list in ["additive", "replacing"] {
            if let Some(vars) = spec
                .get("env")
                .and_then(|e| e.get(list))
                .and_then(Value::as_array)
            {
                self.env
                    .extend(vars.iter().filter_map(Value::as_str).map(str::to_owned));
            }
        }
    }

    /// Adjusts the defaults to the CLI arguments of a run (`--volume-name`,
    /// `--additive-env`, `--replacing-env`).
    pub fn from_args(args: &[String]) -> Injected {
        Injected::default().overlay_args(args)
    }

    /// [`Injected::from_args`] over `self`.
    pub fn overlay_args(self, args: &[String]) -> Injected {
        let mut inj = self;
        let mut i = 0;
        while i < args.len() {
            let (flag, inline) = match args[i].split_once('=') {
                Some((f, v)) => (f, Some(v.to_owned())),
                None => (args[i].as_str(), None),
            };
            let value = || inline.clone().or_else(|| args.get(i + 1).cloned());
            match flag {
                "--volume-name" => inj.volume_name = value().unwrap_or_default(),
                "--merge-image-pull-secret" => inj.pull_secret = value(),
                "--additive-env" | "--replacing-env" => inj
                    .env
                    .extend(value().unwrap_or_default().split(',').map(str::to_owned)),
                // The proxy's variables (src/proxy.rs).
                "--proxy" | "--http-proxy" | "--https-proxy" | "--proxy-secret" => {
                    inj.env.extend(PROXY_ENV.iter().map(|s| (*s).to_owned()));
                }
                _ => {}
            }
            i += 1;
        }
        inj
    }
}

/// The variables the proxy options (`--proxy`, `--http-proxy`, `--https-proxy`,
/// `--proxy-secret`) set, besides their part of JAVA_TOOL_OPTIONS.
pub const PROXY_ENV: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "NODE_USE_ENV_PROXY",
    // With --proxy-secret: the Secret keys Java's proxy options refer to.
    "TRUST_INJECT_HTTP_PROXY_HOST",
    "TRUST_INJECT_HTTP_PROXY_PORT",
    "TRUST_INJECT_HTTPS_PROXY_HOST",
    "TRUST_INJECT_HTTPS_PROXY_PORT",
];

/// Whether `v` holds a PodSpec anywhere (an object with a `containers` list).
pub fn has_pod_spec(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            matches!(m.get("containers"), Some(Value::Array(_))) || m.values().any(has_pod_spec)
        }
        Value::Array(a) => a.iter().any(has_pod_spec),
        _ => false,
    }
}

/// Removes from `out` exactly what the tool injected, using `inp` (the reading of the
/// input document) to tell what was there before: in each PodSpec the volume named
/// `volume_name` when the input had none, mounts of that volume the input did not have,
/// the tool's env entries (a variable the input set gets its input entry back), keys that
/// became empty and were absent (or null) in the input; and the bundle hash annotation
/// and the record of the injection (`trust-inject.dev/injected`) with their
/// `annotations`/`metadata` parents when they became empty.
pub fn strip_injected(out: &mut Value, inp: Option<&Value>, inj: &Injected) {
    match out {
        Value::Object(m) => {
            let im = inp.and_then(Value::as_object);
            if matches!(m.get("containers"), Some(Value::Array(_))) {
                strip_pod_spec(m, im, inj);
            }
            if m.contains_key("metadata") {
                strip_annotation(m, im, inj);
            }
            for (k, v) in m.iter_mut() {
                strip_injected(v, im.and_then(|im| im.get(k)), inj);
            }
        }
        Value::Array(a) => {
            let ia = inp.and_then(Value::as_array);
            for (i, v) in a.iter_mut().enumerate() {
                strip_injected(v, ia.and_then(|ia| ia.get(i)), inj);
            }
        }
        _ => {}
    }
}

fn name_of(v: &Value) -> Option<&str> {
    v.get("name").and_then(Value::as_str)
}

/// After a removal: a list that became empty goes back to what the input had (absent or
/// null).
fn restore_empty(m: &mut Map<String, Value>, im: Option<&Map<String, Value>>, key: &str) {
    let empty = matches!(m.get(key), Some(Value::Array(a)) if a.is_empty());
    if !empty {
        return;
    }
    match im.and_then(|im| im.get(key)) {
        None => {
            m.remove(key);
        }
        Some(Value::Null) => {
            m.insert(key.to_owned(), Value::Null);
        }
        Some(_) => {}
    }
}

fn strip_pod_spec(m: &mut Map<String, Value>, im: Option<&Map<String, Value>>, inj: &Injected) {
    let input_has = |list: &str, name: &str| {
        im.and_then(|im| im.get(list))
            .and_then(Value::as_array)
            .is_some_and(|vs| vs.iter().any(|v| name_of(v) == Some(name)))
    };
    // The start-up merge: its source volume, its init container (first of all) and the
    // image pull secret, when the input had none of them.
    let source_volume = format!("{}-source", inj.volume_name);
    let merge_container = format!("{}-merge", inj.volume_name);
    for (list, name) in [
        ("volumes", inj.volume_name.as_str()),
        ("volumes", source_volume.as_str()),
        ("initContainers", merge_container.as_str()),
    ] {
        if !input_has(list, name) {
            if let Some(Value::Array(vs)) = m.get_mut(list) {
                vs.retain(|v| name_of(v) != Some(name));
            }
            restore_empty(m, im, list);
        }
    }
    if let Some(secret) = &inj.pull_secret
        && !input_has("imagePullSecrets", secret)
    {
        if let Some(Value::Array(vs)) = m.get_mut("imagePullSecrets") {
            vs.retain(|v| name_of(v) != Some(secret.as_str()));
        }
        restore_empty(m, im, "imagePullSecrets");
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(Value::Array(cs)) = m.get_mut(list) else {
            continue;
        };
        let ics = im.and_then(|im| im.get(list)).and_then(Value::as_array);
        for (i, c) in cs.iter_mut().enumerate() {
            let Value::Object(c) = c else { continue };
            let ic = ics.and_then(|ics| ics.get(i)).and_then(Value::as_object);
            strip_container(c, ic, inj);
        }
    }
}

fn strip_container(c: &mut Map<String, Value>, ic: Option<&Map<String, Value>>, inj: &Injected) {
    let in_mounts: Vec<Value> = ic
        .and_then(|ic| ic.get("volumeMounts"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Array(ms)) = c.get_mut("volumeMounts") {
        ms.retain(|mnt| name_of(mnt) != Some(&inj.volume_name) || in_mounts.contains(mnt));
    }
    restore_empty(c, ic, "volumeMounts");
    let in_env: Vec<Value> = ic
        .and_then(|ic| ic.get("env"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Array(env)) = c.get_mut("env") {
        let mut kept = Vec::new();
        for e in env.drain(..) {
            let name = name_of(&e).unwrap_or_default().to_owned();
            if !inj.env.contains(&name) {
                kept.push(e);
                continue;
            }
            // The tool's variable: give back what the input had under that name, if any.
            if let Some(orig) = in_env.iter().rev().find(|ie| name_of(ie) == Some(&name)) {
                kept.push(orig.clone());
            }
        }
        *env = kept;
    }
    restore_empty(c, ic, "env");
}

fn strip_annotation(m: &mut Map<String, Value>, im: Option<&Map<String, Value>>, inj: &Injected) {
    let imeta = im
        .and_then(|im| im.get("metadata"))
        .and_then(Value::as_object);
    let iann = imeta
        .and_then(|im| im.get("annotations"))
        .and_then(Value::as_object);
    let Some(Value::Object(meta)) = m.get_mut("metadata") else {
        return;
    };
    if let Some(Value::Object(ann)) = meta.get_mut("annotations") {
        for key in [inj.annotation.as_str(), wk::INJECTED_ANNOTATION] {
            if !iann.is_some_and(|ia| ia.contains_key(key)) {
                ann.remove(key);
            }
        }
        // Emptied: back to what the input had (no key, or null).
        if ann.is_empty() {
            match imeta.and_then(|im| im.get("annotations")) {
                None => {
                    meta.remove("annotations");
                }
                Some(Value::Null) => {
                    meta.insert("annotations".into(), Value::Null);
                }
                Some(_) => {}
            }
        }
    }
    if meta.is_empty() && im.is_none_or(|im| !im.contains_key("metadata")) {
        m.remove("metadata");
    }
}

/// Compares how Kubernetes reads `input` and `output`: the same number of documents; a
/// document without a PodSpec reads identically; a document with one reads identically
/// once exactly what was injected is removed. Returns every difference found.
pub fn oracle_check(input: &[u8], output: &[u8], inj: &Injected) -> Vec<String> {
    let mut problems = Vec::new();
    let (ins, outs) = match (oracle_read(input), oracle_read(output)) {
        (Ok(i), Ok(o)) => (i, o),
        (Err(e), _) => return vec![format!("input: {e}")],
        (_, Err(e)) => return vec![format!("output: {e}")],
    };
    // Bundle objects the tool generated (one per namespace) are new documents; the rest
    // must pair up with the input's.
    let generated = |v: &Value| {
        v.pointer("/metadata/annotations/trust-inject.dev~1generated")
            == Some(&Value::String("true".into()))
    };
    let in_generated = ins.iter().filter(|v| generated(v)).count();
    let outs: Vec<Value> = if in_generated == 0 {
        outs.into_iter().filter(|v| !generated(v)).collect()
    } else {
        outs
    };
    if ins.len() != outs.len() {
        problems.push(format!(
            "Kubernetes reads {} documents in the input but {} in the output",
            ins.len(),
            outs.len()
        ));
        return problems;
    }
    for (i, (iv, ov)) in ins.iter().zip(&outs).enumerate() {
        let what = describe(iv);
        if iv.get("error").is_some() && iv.as_object().is_some_and(|m| m.len() == 1) {
            problems.push(format!(
                "document {} ({what}): the input does not convert: {iv}",
                i + 1
            ));
            continue;
        }
        if !has_pod_spec(iv) {
            if iv != ov {
                problems.push(format!(
                    "document {} ({what}) has no PodSpec but reads differently:\n  input:  {iv}\n  output: {ov}",
                    i + 1
                ));
            }
            continue;
        }
        let mut stripped = ov.clone();
        strip_injected(&mut stripped, Some(iv), inj);
        if &stripped != iv {
            problems.push(format!(
                "document {} ({what}) reads differently once the injection is removed:\n  input:    {iv}\n  stripped: {stripped}\n  output:   {ov}",
                i + 1
            ));
        }
    }
    problems
}

fn describe(v: &Value) -> String {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("?");
    let name = v
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    format!("{kind} {name}")
}

/// Reads a file, with the path in the panic message.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
