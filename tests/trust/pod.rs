//! The pod view: what one container of an injected PodSpec sees, built on this machine.
//!
//! A generated shell script runs under `unshare --mount --propagation private`, so every mount
//! disappears with it. It makes `/etc` and `/opt` copy-on-write (paths kubelet creates stay in
//! the view), lays the image's trust store over `/etc/ssl/certs` and the other files the test
//! names, then mounts the container's volumeMounts the way kubelet does: a ConfigMap volume is a
//! directory of its keys (kubelet's `..data` layout), a subPath mount binds one key over an
//! existing file or a path created for it. Each command then runs with only the image's
//! variables (PATH, HOME and what the test adds) and the container's `env`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The directories the view makes copy-on-write; every mount of the pod must lie inside one.
const COPY_ON_WRITE: &[&str] = &["/etc", "/opt"];
/// The image's PATH.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The keys of a ConfigMap (`data` and decoded `binaryData`).
pub type Keys = BTreeMap<String, Vec<u8>>;

/// What the image trusted before the injection.
pub struct Image {
    /// The content of the image's `/etc/ssl/certs`, copied into a tmpfs for each view.
    pub certs_dir: PathBuf,
    /// Other files of the image: (path in the view, file bound over it).
    pub files: Vec<(PathBuf, PathBuf)>,
}

/// One command to run in the view; its stdout, stderr and exit status are kept under `id`.
pub struct Exec {
    pub id: String,
    pub argv: Vec<String>,
    /// Variables the image sets; the container's `env` overrides them.
    pub image_env: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

/// A container's `env` as kubelet hands it to the process: in order, a later entry of the
/// same name winning. A `value` has its `$(VAR)` references to earlier entries expanded
/// (Kubernetes' dependent environment variables:
/// <https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/>);
/// a `valueFrom.secretKeyRef` reads the key of the Secret the test gives as `secret/NAME` in
/// `objects`, unexpanded, as kubelet does. A missing key of an `optional` reference leaves the
/// variable undefined (so a `$(VAR)` to it stays literal); a missing required one panics, as
/// the container would not start.
pub fn container_env(container: &Value, objects: &HashMap<String, Keys>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for var in container["env"].as_array().into_iter().flatten() {
        let name = var["name"]
            .as_str()
            .expect("env entry has a name")
            .to_owned();
        let value = match var.get("valueFrom") {
            None => expand(var["value"].as_str().unwrap_or(""), &env),
            Some(from) => {
                let r = &from["secretKeyRef"];
                let (secret, key) = match (r["name"].as_str(), r["key"].as_str()) {
                    (Some(s), Some(k)) => (s, k),
                    _ => panic!(
                        "env {name}: only valueFrom.secretKeyRef is modelled by the pod view"
                    ),
                };
                let optional = r["optional"] == Value::Bool(true) || r["optional"] == "true";
                match objects
                    .get(&format!("secret/{secret}"))
                    .and_then(|keys| keys.get(key))
                {
                    Some(bytes) => String::from_utf8(bytes.clone()).expect("a UTF-8 Secret value"),
                    None if optional => continue,
                    None => panic!(
                        "env {name}: Secret {secret} has no key {key} and the reference is not optional: the container would not start"
                    ),
                }
            }
        };
        env.retain(|(n, _)| *n != name);
        env.push((name, value));
    }
    env
}

/// Kubernetes' expansion of a `value` (`k8s.io/kubernetes/third_party/forked/golang/expansion`):
/// `$(VAR)` becomes the value of VAR when an earlier entry defines it and stays as written
/// otherwise, `$$` becomes `$`, and any other `$` stays.
fn expand(raw: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(tail) = rest.strip_prefix("$$") {
            out.push('$');
            rest = tail;
        } else if let Some(end) = rest.strip_prefix("$(").and_then(|t| t.find(')')) {
            let name = &rest[2..2 + end];
            match env.iter().rev().find(|(n, _)| n == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&rest[..3 + end]),
            }
            rest = &rest[3 + end..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out + rest
}

/// The container (or initContainer) named `name` of a PodSpec.
pub fn container<'a>(spec: &'a Value, name: &str) -> &'a Value {
    ["containers", "initContainers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten())
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("the PodSpec has no container {name:?}"))
}

/// Single-quotes `s` for sh.
pub fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn qp(p: &Path) -> String {
    q(p.to_str().expect("UTF-8 path"))
}

/// Writes a ConfigMap volume as kubelet's atomic writer does: the files in a timestamped
/// directory, `..data` pointing at it, and each key a symlink through `..data`.
fn write_volume(dir: &Path, keys: &Keys) {
    let data = dir.join("..2001_01_01_00_00_00.000000001");
    fs::create_dir_all(&data).expect("volume directory");
    for (key, bytes) in keys {
        let file = data.join(key);
        fs::create_dir_all(file.parent().expect("a parent")).expect("key directory");
        fs::write(&file, bytes).expect("volume key");
    }
    symlink("..2001_01_01_00_00_00.000000001", dir.join("..data")).expect("..data link");
    for key in keys.keys() {
        let top = key.split('/').next().expect("a key");
        let link = dir.join(top);
        if fs::symlink_metadata(&link).is_err() {
            symlink(format!("..data/{top}"), link).expect("key link");
        }
    }
}

/// The keys a volume exposes. A ConfigMap or Secret volume: all the keys of the object the
/// test gives under its name (`secret/NAME` for a Secret), or only its `items` under their
/// paths. A ClusterTrustBundle projection: the bundle the test gives as `ctb/NAME` (or
/// `ctb/signer/SIGNER`) under the source's `path`. An emptyDir: what the init containers
/// wrote, given as `emptyDir/NAME`.
pub fn volume_keys(volume: &Value, configmaps: &HashMap<String, Keys>) -> Keys {
    let name = volume["name"].as_str().expect("volume name");
    let given = |key: &str| {
        configmaps
            .get(key)
            .unwrap_or_else(|| panic!("volume {name}: {key} is not given to the test"))
            .clone()
    };
    if volume.get("emptyDir").is_some() {
        return configmaps
            .get(&format!("emptyDir/{name}"))
            .cloned()
            .unwrap_or_default();
    }
    if let Some(sources) = volume["projected"]["sources"].as_array() {
        let mut keys = Keys::new();
        for src in sources {
            let ctb = &src["clusterTrustBundle"];
            let id = match (ctb["name"].as_str(), ctb["signerName"].as_str()) {
                (Some(n), _) => format!("ctb/{n}"),
                (None, Some(signer)) => format!("ctb/signer/{signer}"),
                _ => panic!("volume {name}: only clusterTrustBundle projections are modelled"),
            };
            let bundle = given(&id);
            let bytes = bundle.values().next().expect("a bundle").clone();
            keys.insert(ctb["path"].as_str().expect("path").to_owned(), bytes);
        }
        return keys;
    }
    let (source, cm) = if let Some(secret) = volume["secret"]["secretName"].as_str() {
        (&volume["secret"], format!("secret/{secret}"))
    } else {
        let cm = volume["configMap"]["name"].as_str().unwrap_or_else(|| {
            panic!("volume {name}: this kind of volume is not modelled by the pod view")
        });
        (&volume["configMap"], cm.to_owned())
    };
    let cm = cm.as_str();
    let keys = configmaps.get(cm).unwrap_or_else(|| {
        panic!("volume {name}: ConfigMap {cm} is neither generated nor given to the test")
    });
    match source["items"].as_array() {
        None => keys.clone(),
        Some(items) => items
            .iter()
            .map(|item| {
                let key = item["key"].as_str().expect("item key");
                let bytes = keys
                    .get(key)
                    .unwrap_or_else(|| panic!("volume {name}: ConfigMap {cm} has no key {key}"));
                (
                    item["path"].as_str().expect("item path").to_owned(),
                    bytes.clone(),
                )
            })
            .collect(),
    }
}

/// Builds the view of `container_name` in `dir` and runs `execs` in it, in order.
pub fn run(
    unshare: &Path,
    dir: &Path,
    spec: &Value,
    container_name: &str,
    configmaps: &HashMap<String, Keys>,
    image: &Image,
    execs: &[Exec],
) -> BTreeMap<String, Outcome> {
    fs::create_dir_all(dir.join("cow")).expect("view directory");
    fs::create_dir_all(dir.join("out")).expect("output directory");
    let container = container(spec, container_name);
    let mut s = String::from("set -eu\n");
    let v = qp(dir);

    s += "# The container's filesystem: copy-on-write, so that what kubelet creates stays here.\n";
    let _ = writeln!(s, "mount -t tmpfs view-cow {v}/cow");
    for d in COPY_ON_WRITE {
        let n = d.trim_start_matches('/');
        let _ = writeln!(
            s,
            "mkdir -p {v}/cow/{n}/upper {v}/cow/{n}/work\n\
             mount -t overlay overlay -o lowerdir={d},upperdir={v}/cow/{n}/upper,workdir={v}/cow/{n}/work {d}"
        );
    }

    s += "# The image's trust store: only what the test put there.\n";
    let _ = writeln!(
        s,
        "mount -t tmpfs image-certs /etc/ssl/certs\ncp -a {}/. /etc/ssl/certs/",
        qp(&image.certs_dir)
    );
    for (target, source) in &image.files {
        bind(&mut s, &qp(source), target, false, true);
    }

    s += "# kubelet: the pod's volumes, then this container's volumeMounts in order.\n";
    let mut volume_dirs = HashMap::new();
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let name = volume["name"].as_str().expect("volume name");
        let vdir = dir.join("volumes").join(name);
        write_volume(&vdir, &volume_keys(volume, configmaps));
        volume_dirs.insert(name.to_owned(), vdir);
    }
    for mount in container["volumeMounts"].as_array().into_iter().flatten() {
        let name = mount["name"].as_str().expect("volumeMount name");
        let target = PathBuf::from(mount["mountPath"].as_str().expect("mountPath"));
        assert!(
            COPY_ON_WRITE.iter().any(|d| target.starts_with(d)),
            "mountPath {} is outside the directories the pod view copies on write ({COPY_ON_WRITE:?})",
            target.display()
        );
        assert!(
            mount.get("subPathExpr").is_none(),
            "subPathExpr is not modelled by the pod view"
        );
        let vdir = volume_dirs.get(name).unwrap_or_else(|| {
            panic!("container {container_name}: volumeMount {name} names no volume")
        });
        let read_only = mount["readOnly"] == "true";
        match mount["subPath"].as_str().filter(|p| !p.is_empty()) {
            None => bind(&mut s, &qp(vdir), &target, true, read_only),
            Some(sub) => {
                let source = vdir.join(sub);
                // kubelet resolves the key's symlinks; a missing key fails the container's start.
                let source = fs::canonicalize(&source).unwrap_or_else(|_| {
                    panic!("container {container_name}: subPath {sub} is not a key of volume {name}: the container would not start")
                });
                bind(&mut s, &qp(&source), &target, source.is_dir(), read_only);
            }
        }
    }

    s += "# The container's processes.\ncd /\n";
    let env = container_env(container, configmaps);
    for exec in execs {
        let mut cmd = format!("env -i PATH={} HOME=/root", q(PATH));
        for (k, val) in exec.image_env.iter().chain(&env) {
            let _ = write!(cmd, " {}", q(&format!("{k}={val}")));
        }
        for a in &exec.argv {
            let _ = write!(cmd, " {}", q(a));
        }
        let out = format!("{v}/out/{}", exec.id);
        let _ = writeln!(
            s,
            "set +e\n{cmd} <{} >{out}.stdout 2>{out}.stderr\necho $? >{out}.status\nset -e",
            q("/dev/null")
        );
    }

    fs::write(dir.join("view.sh"), &s).expect("view script");
    let result = Command::new("timeout")
        .arg("600")
        .arg(unshare)
        .args(["--mount", "--propagation", "private", "sh", "-c", &s])
        .output()
        .expect("unshare runs");
    assert!(
        result.status.success(),
        "the pod view of container {container_name} failed ({}; it needs root for unshare --mount and overlay mounts); script {}:\n{}",
        result.status,
        dir.join("view.sh").display(),
        String::from_utf8_lossy(&result.stderr)
    );
    execs
        .iter()
        .map(|e| {
            let read = |ext: &str| {
                fs::read_to_string(dir.join("out").join(format!("{}.{ext}", e.id)))
                    .unwrap_or_default()
            };
            let status = read("status").trim().parse().expect("an exit status");
            (
                e.id.clone(),
                Outcome {
                    stdout: read("stdout"),
                    stderr: read("stderr"),
                    status,
                },
            )
        })
        .collect()
}

/// Appends the commands that bind `source` over `target`, creating `target` first (a
/// directory, or an empty file in a created directory) when the image lacks it.
fn bind(s: &mut String, source: &str, target: &Path, is_dir: bool, read_only: bool) {
    let t = qp(target);
    if is_dir {
        let _ = writeln!(s, "mkdir -p {t}");
    } else {
        let parent = qp(target.parent().expect("an absolute path"));
        let _ = writeln!(s, "mkdir -p {parent}\n[ -e {t} ] || touch {t}");
    }
    let _ = writeln!(s, "mount --bind {source} {t}");
    if read_only {
        let _ = writeln!(s, "mount -o remount,bind,ro {t}");
    }
}

/// Runs the init container `init_name` of `spec` as kubelet would: its volumes written, each
/// mount bound where its `args` name it (read-only when the mount is), in a private mount
/// namespace whose root filesystem is read-only, as the uid and gid of its securityContext.
/// `program` stands for the image's entrypoint; `replace` swaps argument values (the test's
/// public root for the compiled-in Mozilla store). Returns what it wrote into each emptyDir,
/// as `emptyDir/NAME`, with its exit status and output.
pub fn run_init(
    unshare: &Path,
    dir: &Path,
    spec: &Value,
    init_name: &str,
    configmaps: &HashMap<String, Keys>,
    program: &Path,
    replace: &[(&str, &str)],
) -> (HashMap<String, Keys>, Outcome) {
    let init = container(spec, init_name);
    let sc = &init["securityContext"];
    assert_eq!(
        sc["readOnlyRootFilesystem"], "true",
        "{init_name}: readOnlyRootFilesystem"
    );
    let uid = sc["runAsUser"].as_str().expect("runAsUser");
    let gid = sc["runAsGroup"].as_str().unwrap_or(uid);
    let mut s = String::from("set -eu\n");
    let mut map: Vec<(String, PathBuf)> = Vec::new();
    let mut empty_dirs = Vec::new();
    // What the container sees (its volumes and its program) appears under a folder that any
    // user can reach, as the image's paths are: the checkout may sit in a folder that only
    // its owner may enter, which the container's non-root user could not cross.
    let view = std::env::temp_dir().join(format!("trust-inject-init-{}", std::process::id()));
    let _ = fs::remove_dir_all(&view);
    fs::create_dir_all(&view).expect("init view directory");
    fs::set_permissions(&view, fs::Permissions::from_mode(0o755)).expect("init view mode");
    let image_program = view.join("trust-inject");
    fs::copy(program, &image_program).expect("the program into the init view");
    fs::set_permissions(&image_program, fs::Permissions::from_mode(0o755)).expect("program mode");
    for mount in init["volumeMounts"].as_array().into_iter().flatten() {
        let name = mount["name"].as_str().expect("volumeMount name");
        let volume = spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{init_name}: volumeMount {name} names no volume"));
        let vdir = dir.join("volumes").join(name);
        if volume.get("emptyDir").is_some() {
            fs::create_dir_all(&vdir).expect("emptyDir");
            // kubelet creates an emptyDir with mode 0777.
            let _ = writeln!(s, "chmod 0777 {}", qp(&vdir));
            empty_dirs.push((name.to_owned(), vdir.clone()));
        } else {
            write_volume(&vdir, &volume_keys(volume, configmaps));
        }
        let seen = view.join(name);
        fs::create_dir_all(&seen).expect("volume in the init view");
        let _ = writeln!(s, "mount --bind {} {}", qp(&vdir), qp(&seen));
        if mount["readOnly"] == "true" {
            let _ = writeln!(s, "mount -o remount,bind,ro {}", qp(&seen));
        }
        map.push((
            mount["mountPath"].as_str().expect("mountPath").to_owned(),
            seen,
        ));
    }
    let args: Vec<String> = init["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| {
            let mut a = a.as_str().expect("a string argument").to_owned();
            for (from, to) in replace {
                if a == *from {
                    // A file the argument stands for goes into the view too.
                    let file = Path::new(to);
                    a = match file.file_name() {
                        Some(base) if file.is_file() => {
                            let seen = view.join(base);
                            fs::copy(file, &seen).expect("a file into the init view");
                            seen.to_str().expect("UTF-8 path").to_owned()
                        }
                        _ => (*to).to_owned(),
                    };
                }
            }
            for (path, vdir) in &map {
                if let Some(rest) = a.strip_prefix(path.as_str()) {
                    a = format!("{}{rest}", vdir.to_str().expect("UTF-8 path"));
                }
            }
            a
        })
        .collect();
    // The container's output goes to a directory of the test, outside the read-only root.
    let log = dir.join("init-log");
    fs::create_dir_all(&log).expect("init log directory");
    let _ = writeln!(s, "mount --bind {0} {0}", qp(&log));
    s += "# The image's root filesystem is read-only.\nmount -o remount,bind,ro /\n";
    let mut cmd = format!(
        "setpriv --reuid={uid} --regid={gid} --clear-groups env -i PATH={} {}",
        q(PATH),
        qp(&image_program)
    );
    for a in &args {
        let _ = write!(cmd, " {}", q(a));
    }
    let out = qp(&log.join("init"));
    let _ = writeln!(
        s,
        "set +e\n{cmd} >{out}.stdout 2>{out}.stderr\necho $? >{out}.status"
    );
    fs::write(dir.join("init.sh"), &s).expect("init script");
    let result = Command::new(unshare)
        .args(["--mount", "--propagation", "private", "sh", "-c", &s])
        .output()
        .expect("unshare runs");
    assert!(
        result.status.success(),
        "the init container view failed ({}): {}",
        result.status,
        String::from_utf8_lossy(&result.stderr)
    );
    let read = |ext: &str| fs::read_to_string(log.join(format!("init.{ext}"))).unwrap_or_default();
    let outcome = Outcome {
        stdout: read("stdout"),
        stderr: read("stderr"),
        status: read("status").trim().parse().expect("an exit status"),
    };
    let _ = fs::remove_dir_all(&view);
    let mut written = HashMap::new();
    for (name, vdir) in empty_dirs {
        let mut keys = Keys::new();
        for entry in fs::read_dir(&vdir).expect("emptyDir").flatten() {
            let file = entry.file_name().to_str().expect("UTF-8 name").to_owned();
            keys.insert(file, fs::read(entry.path()).expect("written file"));
        }
        written.insert(format!("emptyDir/{name}"), keys);
    }
    (written, outcome)
}
