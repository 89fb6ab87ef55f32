//! The README, the pages under `docs/` and the examples' READMEs are executed: every fenced
//! block is run or checked as written, in a temporary copy of the repository's examples,
//! with the pinned tools (`scripts/install-tools.sh`).
//!
//! What a block is, and what it must do, is said by HTML comments on the lines right above
//! it (invisible on GitHub):
//!
//! * `<!-- not-run: REASON -->`: the block cannot run here (a cluster, the internet); it
//!   is listed with the reason (`scripts/test.sh` prints the list);
//! * `<!-- file: PATH -->`: the block's text is written to PATH (relative to the folder the
//!   blocks of that page run in) for the blocks after it;
//! * `<!-- excerpt: PATH -->`: the block's lines appear, in a row, in PATH (relative to the
//!   repository root);
//! * `<!-- helm: helm4 -->`: `helm` is Helm 4 in this block (Helm 3 otherwise);
//! * `<!-- expect: SRC injects KIND/NAME... -->`, `<!-- expect: SRC leaves KIND/NAME... -->`:
//!   after the block ran, Kubernetes (the `k8s-yaml2json` oracle) reads from SRC (`stdout`
//!   or a file) the named workloads with the trust bundle volume mounted in every container
//!   (`injects`), or without it (`leaves`);
//!   `stdout` is all the block prints: where several commands print streams that do not
//!   start with `---`, send them to files instead, or their documents run together;
//! * `<!-- expect: SRC = PATH -->`: SRC equals the file PATH (relative to the repository root);
//! * `<!-- expect: executable PATH -->`, `<!-- expect: nonempty PATH -->`: PATH (`~` is the
//!   home folder) is an executable file, or a file that is not empty.
//!
//! A shell block that runs kpt when kpt is missing is not run, and then the page's test
//! counts as not run (it fails under CI; see `tests/util/external.rs`).
//!
//! A shell block (`sh`) without `not-run` runs with `bash -euo pipefail` and must succeed
//! and meet its `expect`s; it needs at least one. A YAML or text block needs `not-run`,
//! `file` or `excerpt`.
//!
//! The blocks of one page run in order, in one folder of a fresh copy of `examples/`,
//! `helm-plugin/`, `install.sh` and `Cargo.toml` (the repository root for the README and
//! `docs/`, the example's folder for an example's README), with HOME in the sandbox. PATH
//! holds the pinned tools and, but for the README, the binary under test as `trust-inject`;
//! the README gets `trust-inject` from its own `./install.sh` block. Three
//! stand-ins, and only these: `cargo run --release -- ARGS` runs the binary under test
//! (already built by Cargo); `./install.sh` installs that binary
//! (`TRUST_INJECT_INSTALL_BINARY`) instead of building it again; and, without a cluster,
//! `kubectl apply -f FILE|-` appends what it would send to `applied.yaml` in the sandbox
//! (every other `kubectl` command is the pinned kubectl).

mod util;
use util::{copy_dir, pod_specs};

use std::ffi::OsString;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(180);
const VOLUME: &str = "trust-bundle";

/// One fenced block of a Markdown page.
struct Block {
    /// `page:line` of the opening fence.
    place: String,
    lang: String,
    body: String,
    directives: Vec<(String, String)>,
}

impl Block {
    fn get(&self, key: &str) -> Option<&str> {
        self.directives
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The fenced blocks of `page` (relative to the repository root), with the directives in
/// the HTML comments right above each.
fn blocks(page: &str) -> Vec<Block> {
    let text = String::from_utf8(util::read(&util::repo_root().join(page)))
        .unwrap_or_else(|e| panic!("{page} is not UTF-8: {e}"));
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let opening = lines[i].trim_start();
        let Some((fence, info)) = ["```", "~~~"]
            .iter()
            .find_map(|f| opening.strip_prefix(f).map(|info| (*f, info)))
        else {
            i += 1;
            continue;
        };
        let open = i;
        let mut body = String::new();
        i += 1;
        while i < lines.len() && lines[i].trim() != fence {
            body.push_str(lines[i]);
            body.push('\n');
            i += 1;
        }
        assert!(i < lines.len(), "{page}:{}: unclosed code block", open + 1);
        let mut directives = Vec::new();
        for l in lines[..open].iter().rev() {
            let Some(c) = l
                .trim()
                .strip_prefix("<!--")
                .and_then(|c| c.strip_suffix("-->"))
            else {
                break;
            };
            let (k, v) = c.trim().split_once(':').unwrap_or((c.trim(), ""));
            directives.insert(0, (k.trim().to_owned(), v.trim().to_owned()));
        }
        out.push(Block {
            place: format!("{page}:{}", open + 1),
            lang: info.trim().to_owned(),
            body,
            directives,
        });
        i += 1;
    }
    out
}

fn write_exe(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn tools_bin() -> PathBuf {
    util::oracle_path()
        .parent()
        .expect("the tools' bin folder")
        .to_owned()
}

/// A pinned tool; fails when it is missing.
fn tool(name: &str) -> PathBuf {
    let p = tools_bin().join(name);
    assert!(
        p.is_file(),
        "{name} not found at {}: run scripts/install-tools.sh",
        p.display()
    );
    p
}

fn kpt() -> Option<PathBuf> {
    util::external::kpt_candidates(&tools_bin())
        .into_iter()
        .find(|p| p.is_file())
}

/// A fresh sandbox for `page`: the copy of the repository, the home folder, the tools.
struct Sandbox {
    root: PathBuf,
    /// Where the page's blocks run.
    cwd: PathBuf,
}

impl Sandbox {
    fn new(page: &str) -> Sandbox {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("snippets")
            .join(page.replace(['/', '.'], "_"));
        let _ = std::fs::remove_dir_all(&root);
        let repo = root.join("repo");
        let src = util::repo_root();
        for d in ["examples", "helm-plugin"] {
            copy_dir(&src.join(d), &repo.join(d));
        }
        for f in ["install.sh", "Cargo.toml"] {
            std::fs::copy(src.join(f), repo.join(f)).expect("copy");
        }
        std::fs::create_dir_all(root.join("home")).expect("home");
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        write_exe(
            &bin.join("cargo"),
            "#!/bin/sh\n# Stand-in: `cargo run --release -- ARGS` runs the binary under test.\n\
             if [ \"$1\" = run ] && [ \"$2\" = --release ] && [ \"$3\" = -- ]; then\n\
             \x20 shift 3\n  exec \"$SNIPPET_BIN\" \"$@\"\nfi\n\
             echo \"snippets test: only 'cargo run --release -- ...' runs here, not: cargo $*\" >&2\n\
             exit 97\n",
        );
        write_exe(
            &bin.join("kubectl"),
            "#!/bin/sh\n# Stand-in without a cluster: `kubectl apply -f FILE|-` appends what it\n\
             # would send to $SNIPPET_APPLIED; anything else is the pinned kubectl.\n\
             if [ \"$1\" = apply ]; then\n  shift\n  while [ $# -gt 0 ]; do\n\
             \x20   case \"$1\" in\n      -f) f=$2; shift 2 ;;\n      -f=*|--filename=*) f=${1#*=}; shift ;;\n\
             \x20     *) shift ;;\n    esac\n  done\n\
             \x20 [ -n \"${f:-}\" ] || { echo 'kubectl stand-in: apply without -f' >&2; exit 97; }\n\
             \x20 { echo '---'; if [ \"$f\" = - ]; then cat; else cat \"$f\"; fi; } >>\"$SNIPPET_APPLIED\"\n\
             \x20 echo 'kubectl stand-in: recorded for apply (no cluster)' >&2\n  exit 0\nfi\n\
             exec \"$SNIPPET_KUBECTL\" \"$@\"\n",
        );
        std::os::unix::fs::symlink(tool("kustomize"), bin.join("kustomize")).expect("link");
        if let Some(k) = kpt() {
            std::os::unix::fs::symlink(k, bin.join("kpt")).expect("link");
        }
        if page != "README.md" {
            // The other pages start "with trust-inject on PATH"; the README installs it.
            std::os::unix::fs::symlink(
                env!("CARGO_BIN_EXE_trust-inject"),
                bin.join("trust-inject"),
            )
            .expect("link");
        }
        let cwd = match page.strip_suffix("/README.md") {
            Some(dir) if dir.starts_with("examples/") => repo.join(dir),
            _ => repo,
        };
        Sandbox { root, cwd }
    }

    fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    fn applied(&self) -> PathBuf {
        self.root.join("applied.yaml")
    }

    /// `~/x` in the home folder, other relative paths from the blocks' folder.
    fn resolve(&self, p: &str) -> PathBuf {
        match p.strip_prefix("~/") {
            Some(rest) => self.home().join(rest),
            None => self.cwd.join(p),
        }
    }

    fn use_helm(&self, which: &str) {
        let link = self.root.join("bin/helm");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(tool(which), link).expect("link");
    }

    /// Runs a shell block; returns (success, stdout, stderr).
    fn run(&self, body: &str) -> (bool, String, String) {
        let mut path = OsString::from(self.home().join(".local/bin"));
        path.push(":");
        path.push(self.root.join("bin"));
        path.push(":/usr/local/bin:/usr/bin:/bin");
        let mut cmd = Command::new("bash");
        cmd.args(["-euo", "pipefail", "-c", body])
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.home())
            .env("TMPDIR", std::env::temp_dir())
            .env("LANG", "C.UTF-8")
            .env("SNIPPET_BIN", env!("CARGO_BIN_EXE_trust-inject"))
            .env("SNIPPET_KUBECTL", tool("kubectl"))
            .env("SNIPPET_APPLIED", self.applied())
            .env(
                "TRUST_INJECT_INSTALL_BINARY",
                env!("CARGO_BIN_EXE_trust-inject"),
            )
            .current_dir(&self.cwd);
        let (status, out, err) = util::run_timed(&mut cmd, drop, TIMEOUT);
        (
            status.is_some_and(|s| s.success()),
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }
}

/// Whether the PodSpec has our volume and every container mounts it.
fn injected(spec: &Value) -> bool {
    let named = |v: &Value| v.get("name").and_then(Value::as_str) == Some(VOLUME);
    let has_volume = spec
        .get("volumes")
        .and_then(Value::as_array)
        .is_some_and(|vs| vs.iter().any(named));
    let all_mount = ["containers", "initContainers"]
        .iter()
        .filter_map(|k| spec.get(k).and_then(Value::as_array))
        .flatten()
        .all(|c| {
            c.get("volumeMounts")
                .and_then(Value::as_array)
                .is_some_and(|ms| ms.iter().any(named))
        });
    has_volume && all_mount
}

/// Checks one `expect` directive; returns the problem, if any.
fn check_expect(sb: &Sandbox, expect: &str, stdout: &str) -> Result<(), String> {
    let words: Vec<&str> = expect.split_whitespace().collect();
    let read_src = |src: &str| -> Result<String, String> {
        if src == "stdout" {
            return Ok(stdout.to_owned());
        }
        let p = if src == "applied.yaml" {
            sb.applied()
        } else {
            sb.resolve(src)
        };
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    match words.as_slice() {
        ["nonempty", path] => {
            let p = sb.resolve(path);
            match std::fs::metadata(&p) {
                Ok(m) if m.len() > 0 => Ok(()),
                Ok(_) => Err(format!("{} is empty", p.display())),
                Err(e) => Err(format!("{}: {e}", p.display())),
            }
        }
        ["executable", path] => {
            let p = sb.resolve(path);
            let mode = std::fs::metadata(&p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .permissions()
                .mode();
            if mode & 0o111 == 0 {
                return Err(format!("{} is not executable", p.display()));
            }
            Ok(())
        }
        [src, "=", file] => {
            let got = read_src(src)?;
            let want = String::from_utf8(util::read(&util::repo_root().join(file)))
                .map_err(|e| e.to_string())?;
            if got != want {
                return Err(format!(
                    "{src} differs from {file}:\n{}",
                    util::line_diff(&want, &got)
                ));
            }
            Ok(())
        }
        [src, verb @ ("injects" | "leaves"), objects @ ..] if !objects.is_empty() => {
            let docs = util::oracle_read(read_src(src)?.as_bytes())?;
            for want in objects {
                let (kind, name) = want
                    .split_once('/')
                    .ok_or_else(|| format!("{want}: write KIND/NAME"))?;
                let found: Vec<&Value> = docs
                    .iter()
                    .filter(|d| {
                        d.get("kind").and_then(Value::as_str) == Some(kind)
                            && d.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
                    })
                    .collect();
                if found.is_empty() {
                    return Err(format!("{src} holds no {want}"));
                }
                for d in found {
                    let mut specs = Vec::new();
                    pod_specs(d, &mut specs);
                    if specs.is_empty() {
                        return Err(format!("{want} in {src} has no PodSpec"));
                    }
                    let ok = if *verb == "injects" {
                        specs.iter().all(|s| injected(s))
                    } else {
                        specs.iter().all(|s| !injected(s))
                    };
                    if !ok {
                        return Err(format!("{want} in {src}: not as claimed ({verb}): {d}"));
                    }
                }
            }
            Ok(())
        }
        _ => Err(format!("cannot read the expectation {expect:?}")),
    }
}

/// Whether `lines` appear in a row in `file`.
fn is_excerpt(body: &str, file: &str) -> bool {
    let want: Vec<&str> = body.lines().collect();
    let have: Vec<&str> = file.lines().collect();
    want.is_empty() || have.windows(want.len()).any(|w| w == want.as_slice())
}

/// Runs and checks every block of `page`; returns the problems.
fn check_page(page: &str) -> Vec<String> {
    let sb = Sandbox::new(page);
    let mut problems = Vec::new();
    let mut without_kpt = Vec::new();
    let list = blocks(page);
    for b in &list {
        let known = ["not-run", "file", "excerpt", "helm", "expect"];
        if let Some((k, _)) = b
            .directives
            .iter()
            .find(|(k, _)| !known.contains(&k.as_str()))
        {
            problems.push(format!("{}: unknown directive {k:?}", b.place));
            continue;
        }
        if let Some(reason) = b.get("not-run") {
            if reason.is_empty() {
                problems.push(format!("{}: not-run without a reason", b.place));
            }
            util::external::left_out(&b.place, reason);
            continue;
        }
        if let Some(path) = b.get("excerpt") {
            let file = util::repo_root().join(path);
            match std::fs::read_to_string(&file) {
                Ok(text) if is_excerpt(&b.body, &text) => {}
                Ok(_) => problems.push(format!(
                    "{}: the block is not an excerpt of {path}:\n{}",
                    b.place, b.body
                )),
                Err(e) => problems.push(format!("{}: {path}: {e}", b.place)),
            }
            continue;
        }
        if let Some(path) = b.get("file") {
            let p = sb.resolve(path);
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir).expect("mkdir");
            }
            std::fs::write(&p, &b.body).expect("write a file block");
            continue;
        }
        if !matches!(b.lang.as_str(), "sh" | "bash" | "shell") {
            problems.push(format!(
                "{}: a {:?} block needs not-run, file or excerpt (see tests/snippets.rs)",
                b.place, b.lang
            ));
            continue;
        }
        let expects: Vec<&str> = b
            .directives
            .iter()
            .filter(|(k, _)| k == "expect")
            .map(|(_, v)| v.as_str())
            .collect();
        if expects.is_empty() {
            problems.push(format!(
                "{}: a shell block needs an expect (what it must produce) or not-run",
                b.place
            ));
            continue;
        }
        if b.body.contains("kpt ") && kpt().is_none() {
            without_kpt.push(b.place.clone());
            continue;
        }
        sb.use_helm(b.get("helm").unwrap_or("helm3"));
        let (ok, stdout, stderr) = sb.run(&b.body);
        if !ok {
            problems.push(format!(
                "{}: failed:\n{}\n--- stdout:\n{}\n--- stderr:\n{}",
                b.place, b.body, stdout, stderr
            ));
            continue;
        }
        for e in expects {
            if let Err(why) = check_expect(&sb, e, &stdout) {
                problems.push(format!("{}: expect {e}: {why}", b.place));
            }
        }
    }
    if list.is_empty() {
        problems.push(format!("{page}: no code block"));
    }
    if problems.is_empty() && !without_kpt.is_empty() {
        // Part of the page did not run: the test counts as not run (and fails under CI).
        util::external::not_run::<()>(&format!(
            "kpt not found, so {} did not run (see docs/testing.md)",
            without_kpt.join(", ")
        ));
    }
    problems
}

fn assert_page(page: &str) {
    let problems = check_page(page);
    let mut report = String::new();
    for p in &problems {
        let _ = writeln!(report, "- {p}");
    }
    assert!(problems.is_empty(), "{page}:\n{report}");
}

/// Every page with code blocks has its test below.
const PAGES: &[&str] = &[
    "README.md",
    "docs/injection.md",
    "docs/pipelines.md",
    "docs/testing.md",
    "docs/usage.md",
    "examples/helm3/README.md",
    "examples/helm4/README.md",
    "examples/kpt/README.md",
    "examples/kustomize/README.md",
    "examples/plain/README.md",
];

#[test]
fn every_page_is_covered() {
    let root = util::repo_root();
    let mut found = vec!["README.md".to_owned()];
    for dir in ["examples", "docs"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            for md in [p.join("README.md"), p.clone()] {
                if md.is_file() && md.extension().is_some_and(|x| x == "md") {
                    let rel = md.strip_prefix(&root).expect("under the root");
                    let rel = rel.to_string_lossy().into_owned();
                    if !blocks(&rel).is_empty() {
                        found.push(rel);
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    let mut listed: Vec<String> = PAGES.iter().map(|s| (*s).to_owned()).collect();
    listed.sort();
    assert_eq!(found, listed, "add a test per page with code blocks");
}

#[test]
fn readme() {
    assert_page("README.md");
}

#[test]
fn docs_pipelines() {
    assert_page("docs/pipelines.md");
}

#[test]
fn docs_injection() {
    assert_page("docs/injection.md");
}

#[test]
fn docs_usage() {
    assert_page("docs/usage.md");
}

#[test]
fn docs_testing() {
    assert_page("docs/testing.md");
}

#[test]
fn example_helm3_readme() {
    assert_page("examples/helm3/README.md");
}

#[test]
fn example_helm4_readme() {
    assert_page("examples/helm4/README.md");
}

#[test]
fn example_kpt_readme() {
    assert_page("examples/kpt/README.md");
}

#[test]
fn example_kustomize_readme() {
    assert_page("examples/kustomize/README.md");
}

#[test]
fn example_plain_readme() {
    assert_page("examples/plain/README.md");
}
