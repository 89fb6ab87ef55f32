//! Plans the injection into ONE PodSpec: the intents to apply and the findings to report.
//!
//! Pure and idempotent: a PodSpec that already carries everything yields no intent. Never
//! touches YAML text; [`crate::pipeline`] applies the plan.

use crate::config::{LabelReq, Options, SourceKind, glob_match};
use crate::error::Severity;
use crate::well_known as wk;
use crate::workload::Found;
use crate::yaml::{Intent, Node, Op, Path, Val};

/// Why a workload was left alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// A Windows pod.
    Windows,
    /// The skip annotation.
    Annotation,
    /// Excluded by the configuration.
    Excluded(String),
    /// A PodSpec without containers.
    NoContainers,
}

impl Skip {
    /// A short reason for summaries (`windows`, `annotation`, ...).
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Skip::Windows => "windows",
            Skip::Annotation => "annotation",
            Skip::Excluded(_) => "excluded",
            Skip::NoContainers => "no containers",
        }
    }
}

/// A finding of the plan, before it is tied to a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// How serious.
    pub severity: Severity,
    /// The field, if any.
    pub path: Option<Path>,
    /// The message.
    pub message: String,
}

/// What one container gets, for reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerPlan {
    /// Container name.
    pub name: String,
    /// Field path of the container.
    pub path: String,
    /// Mount paths added.
    pub mounts: Vec<String>,
    /// Variables set.
    pub env: Vec<String>,
    /// Mount paths left alone, with the reason.
    pub kept_mounts: Vec<(String, String)>,
    /// Variables left alone, with the reason.
    pub kept_env: Vec<(String, String)>,
}

/// The plan for one PodSpec.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Changes to make (empty when everything is already there).
    pub intents: Vec<Intent>,
    /// What to tell the user.
    pub notes: Vec<Note>,
    /// Per container, what it gets.
    pub containers: Vec<ContainerPlan>,
    /// Set when the workload was left alone.
    pub skipped: Option<Skip>,
    /// Whether the bundle volume is added (it was missing).
    pub volume_added: bool,
    /// Whether the bundle hash annotation is added or changed.
    pub annotation_changed: bool,
}

/// A problem that stops the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The field.
    pub path: Path,
    /// What is wrong and what to do.
    pub message: String,
}

fn node_at<'n>(root: &'n Node, path: &Path) -> Option<&'n Node> {
    let mut n = root;
    for seg in &path.0 {
        n = match seg {
            crate::yaml::PathSeg::Key(k) => n.get(k)?,
            crate::yaml::PathSeg::Index(i) => n.items()?.get(*i)?,
        };
    }
    Some(n)
}

fn str_at<'n>(n: Option<&'n Node>, keys: &[&str]) -> Option<&'n str> {
    let mut n = n?;
    for k in keys {
        n = n.get(k)?;
    }
    n.as_str()
}

fn labels_match(labels: Option<&Node>, reqs: &[LabelReq]) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::as_str);
    reqs.iter().all(|r| match r {
        LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
        LabelReq::Ne(k, v) => get(k) != Some(v.as_str()),
        LabelReq::Exists(k) => get(k).is_some(),
        LabelReq::Missing(k) => get(k).is_none(),
    })
}

/// Whether the configuration excludes the workload, and why.
fn excluded(obj: &Node, found: &Found, opts: &Options) -> Option<String> {
    let ex = &opts.exclude;
    let o = &found.object;
    if ex.kinds.iter().any(|g| glob_match(g, &o.kind)) {
        return Some(format!("kind {} is excluded", o.kind));
    }
    let ns = o.namespace.as_deref().unwrap_or("");
    if ex.namespaces.iter().any(|g| glob_match(g, ns)) {
        return Some(format!("namespace {ns:?} is excluded"));
    }
    if ex.names.iter().any(|g| glob_match(g, &o.name)) {
        return Some(format!("name {} is excluded", o.name));
    }
    if !ex.labels.is_empty()
        && labels_match(
            obj.get("metadata").and_then(|m| m.get("labels")),
            &ex.labels,
        )
    {
        return Some("its labels match --exclude-selector".to_owned());
    }
    None
}

fn is_true(n: Option<&Node>) -> bool {
    n.and_then(Node::as_str).is_some_and(|s| s == "true")
}

/// One mount the tool wants in every container.
#[derive(Clone)]
struct WantMount {
    path: String,
    sub_path: Option<String>,
}

fn wanted_mounts(opts: &Options) -> Vec<WantMount> {
    let key = &opts.source.key;
    let mut out = vec![WantMount {
        path: opts.mount_path.clone(),
        sub_path: None,
    }];
    if let Some(f) = &opts.additive_file {
        out.push(WantMount {
            path: f.clone(),
            sub_path: Some(key.clone()),
        });
    }
    let generated = opts.generated.then_some(opts.loaded.as_deref()).flatten();
    if let (Some(loaded), true) = (generated, opts.hashed_certs) {
        for (name, _) in &loaded.data.hashed {
            out.push(WantMount {
                path: format!("{}/{name}", wk::OPENSSL_CERT_DIR),
                sub_path: Some(name.clone()),
            });
        }
    }
    if opts.source.complete {
        let complete_key = if generated.is_some() {
            wk::GENERATED_COMPLETE_KEY
        } else {
            key.as_str()
        };
        for p in &opts.system_bundle_paths {
            out.push(WantMount {
                path: p.clone(),
                sub_path: Some(complete_key.to_owned()),
            });
        }
    }
    out
}

/// How a variable is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EnvMode {
    /// Set it unless the container does.
    Set,
    /// Append to what the container sets (JAVA_TOOL_OPTIONS).
    Append,
}

fn java_options(opts: &Options) -> String {
    format!(
        "-Djavax.net.ssl.trustStore={}/{} -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword={}",
        opts.mount_path,
        wk::GENERATED_TRUSTSTORE_KEY,
        crate::bundle::TRUSTSTORE_PASSWORD
    )
}

fn wanted_env(opts: &Options) -> Vec<(String, String, EnvMode)> {
    let file = opts.bundle_file();
    let generated = opts.generated && opts.loaded.is_some();
    let mut out: Vec<(String, String, EnvMode)> = opts
        .additive_env
        .iter()
        .map(|v| (v.clone(), file.clone(), EnvMode::Set))
        .collect();
    if opts.source.complete {
        let complete = if generated {
            format!("{}/{}", opts.mount_path, wk::GENERATED_COMPLETE_KEY)
        } else {
            file.clone()
        };
        out.extend(
            opts.replacing_env
                .iter()
                .map(|v| (v.clone(), complete.clone(), EnvMode::Set)),
        );
        if generated && opts.java_truststore {
            out.push((
                wk::JAVA_TOOL_OPTIONS.to_owned(),
                java_options(opts),
                EnvMode::Append,
            ));
        }
    }
    out
}

fn volume_val(opts: &Options) -> Val {
    let source = match opts.source.kind {
        SourceKind::ConfigMap => (
            "configMap",
            Val::map([("name", Val::str(&opts.source.name))]),
        ),
        SourceKind::Secret => (
            "secret",
            Val::map([("secretName", Val::str(&opts.source.name))]),
        ),
    };
    Val::map([("name", Val::str(&opts.volume_name)), source])
}

/// Whether `path` is `dir` or lies below it.
fn is_within(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir
        || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
        || dir.is_empty()
}

/// Adds `items` to the list at `path` (creating the key in `parent` when missing).
fn add_items(
    intents: &mut Vec<Intent>,
    parent: &Path,
    key: &str,
    existing: Option<&Node>,
    items: Vec<Val>,
) {
    if items.is_empty() {
        return;
    }
    match existing {
        Some(n) if n.items().is_some() => {
            for item in items {
                intents.push(Intent {
                    path: parent.key(key),
                    op: Op::Append(item),
                });
            }
        }
        Some(_) => intents.push(Intent {
            path: parent.key(key),
            op: Op::Replace(Val::Seq(items)),
        }),
        None => intents.push(Intent {
            path: parent.clone(),
            op: Op::AddKey(key.to_owned(), Val::Seq(items)),
        }),
    }
}

/// Plans the injection into the PodSpec `found` of the (resolved) document `root`.
///
/// # Errors
/// A [`Conflict`] when the PodSpec cannot be injected as it is: a different volume with
/// our name, or a field of the wrong type.
pub fn plan(root: &Node, found: &Found, opts: &Options) -> Result<Plan, Conflict> {
    let mut plan = Plan::default();
    let obj = node_at(root, &found.object_path).unwrap_or(root);
    let spec_path = &found.spec_path;
    let conflict = |path: Path, message: String| Conflict { path, message };
    let spec =
        node_at(root, spec_path).ok_or_else(|| conflict(spec_path.clone(), "not found".into()))?;
    if spec.entries().is_none() {
        if spec.is_null() {
            plan.skipped = Some(Skip::NoContainers);
            return Ok(plan);
        }
        return Err(conflict(
            spec_path.clone(),
            format!("expected a mapping, found {}", spec.kind_name()),
        ));
    }
    let meta = obj.get("metadata");
    if is_true(
        meta.and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(wk::SKIP_ANNOTATION)),
    ) {
        plan.skipped = Some(Skip::Annotation);
        plan.notes.push(Note {
            severity: Severity::Info,
            path: None,
            message: format!("left alone: annotated {}: \"true\"", wk::SKIP_ANNOTATION),
        });
        return Ok(plan);
    }
    if let Some(why) = excluded(obj, found, opts) {
        plan.notes.push(Note {
            severity: Severity::Info,
            path: None,
            message: format!("left alone: {why}"),
        });
        plan.skipped = Some(Skip::Excluded(why));
        return Ok(plan);
    }
    let windows = str_at(Some(spec), &["nodeSelector", wk::OS_LABEL]) == Some("windows")
        || str_at(Some(spec), &["os", "name"]) == Some("windows");
    if windows {
        plan.skipped = Some(Skip::Windows);
        plan.notes.push(Note {
            severity: Severity::Warning,
            path: Some(spec_path.clone()),
            message: "left alone: a Windows pod (its containers read trust from the Windows certificate store, not from files)".into(),
        });
        return Ok(plan);
    }

    // The volume.
    let volumes = spec.get("volumes");
    let mut have_volume = false;
    if let Some(v) = volumes {
        match v.items() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    if str_at(Some(item), &["name"]) != Some(opts.volume_name.as_str()) {
                        continue;
                    }
                    let same = match opts.source.kind {
                        SourceKind::ConfigMap => {
                            str_at(Some(item), &["configMap", "name"])
                                == Some(opts.source.name.as_str())
                        }
                        SourceKind::Secret => {
                            str_at(Some(item), &["secret", "secretName"])
                                == Some(opts.source.name.as_str())
                        }
                    };
                    if !same {
                        return Err(conflict(
                            spec_path.key("volumes").index(i),
                            format!(
                                "the pod already has a different volume named {:?}; give ours another name with --volume-name (spec.volumeName)",
                                opts.volume_name
                            ),
                        ));
                    }
                    have_volume = true;
                }
            }
            None if v.is_null() => {}
            None => {
                return Err(conflict(
                    spec_path.key("volumes"),
                    format!("expected a list, found {}", v.kind_name()),
                ));
            }
        }
    }

    // The containers.
    let mut lists = vec!["containers"];
    if !opts.skip_init_containers {
        lists.push("initContainers");
    }
    if found.object.kind == "Pod" && found.object.group().is_empty() {
        lists.push("ephemeralContainers");
    }
    let mounts = wanted_mounts(opts);
    let env = wanted_env(opts);
    let mut any_container = false;
    // Kubernetes forbids subPath mounts in ephemeral containers.
    let dir_mounts: Vec<WantMount> = mounts
        .iter()
        .filter(|m| m.sub_path.is_none())
        .cloned()
        .collect();
    for list in lists {
        let list_mounts = if list == "ephemeralContainers" {
            &dir_mounts
        } else {
            &mounts
        };
        let Some(cs) = spec.get(list) else { continue };
        let Some(items) = cs.items() else {
            if cs.is_null() {
                continue;
            }
            return Err(conflict(
                spec_path.key(list),
                format!("expected a list, found {}", cs.kind_name()),
            ));
        };
        for (i, c) in items.iter().enumerate() {
            let cpath = spec_path.key(list).index(i);
            if c.entries().is_none() {
                return Err(conflict(
                    cpath,
                    format!("expected a mapping, found {}", c.kind_name()),
                ));
            }
            any_container = true;
            let name = str_at(Some(c), &["name"]).unwrap_or("").to_owned();
            if let Some(g) = opts
                .exclude_containers
                .iter()
                .find(|g| glob_match(g, &name))
            {
                plan.notes.push(Note {
                    severity: Severity::Info,
                    path: Some(cpath),
                    message: format!(
                        "container {name:?} left alone: matches --exclude-container {g:?}"
                    ),
                });
                continue;
            }
            let mut cp = ContainerPlan {
                name: name.clone(),
                path: cpath.to_string(),
                ..ContainerPlan::default()
            };
            plan_container(c, &cpath, list_mounts, &env, opts, &mut plan, &mut cp)?;
            plan.containers.push(cp);
        }
    }
    if !any_container {
        plan.skipped = Some(Skip::NoContainers);
        plan.notes.push(Note {
            severity: Severity::Warning,
            path: Some(spec_path.clone()),
            message: "left alone: the PodSpec has no containers".into(),
        });
        plan.intents.clear();
        return Ok(plan);
    }
    if !have_volume && !plan.containers.is_empty() {
        plan.volume_added = true;
        add_items(
            &mut plan.intents,
            spec_path,
            "volumes",
            volumes,
            vec![volume_val(opts)],
        );
    }
    if let Some(hash) = &opts.bundle_hash {
        let before = plan.intents.len();
        annotate(root, found, hash, &mut plan);
        plan.annotation_changed = plan.intents.len() > before;
    }
    Ok(plan)
}

/// Plans one container; returns whether it gets anything.
fn plan_container(
    c: &Node,
    cpath: &Path,
    mounts: &[WantMount],
    env: &[(String, String, EnvMode)],
    opts: &Options,
    plan: &mut Plan,
    cp: &mut ContainerPlan,
) -> Result<bool, Conflict> {
    let existing_mounts = c.get("volumeMounts");
    let mut have: Vec<(String, String)> = Vec::new();
    if let Some(m) = existing_mounts {
        match m.items() {
            Some(items) => {
                for item in items {
                    let path = str_at(Some(item), &["mountPath"]).unwrap_or("").to_owned();
                    let name = str_at(Some(item), &["name"]).unwrap_or("").to_owned();
                    have.push((path, name));
                }
            }
            None if m.is_null() => {}
            None => {
                return Err(Conflict {
                    path: cpath.key("volumeMounts"),
                    message: format!("expected a list, found {}", m.kind_name()),
                });
            }
        }
    }
    let mut new_mounts = Vec::new();
    for want in mounts {
        if let Some((_, name)) = have
            .iter()
            .find(|(p, _)| p.trim_end_matches('/') == want.path)
        {
            if *name != opts.volume_name {
                keep_mount(
                    plan,
                    cp,
                    cpath,
                    &want.path,
                    format!("mountPath {} is already used by volume {name:?}", want.path),
                );
            }
            continue;
        }
        if let Some((dir, name)) = have
            .iter()
            .find(|(p, n)| *n != opts.volume_name && !p.is_empty() && is_within(&want.path, p))
        {
            keep_mount(
                plan,
                cp,
                cpath,
                &want.path,
                format!(
                    "{} lies inside {dir}, which volume {name:?} already mounts over",
                    want.path
                ),
            );
            continue;
        }
        let mut m = vec![
            ("name".to_owned(), Val::str(&opts.volume_name)),
            ("mountPath".to_owned(), Val::str(&want.path)),
        ];
        if let Some(sp) = &want.sub_path {
            m.push(("subPath".to_owned(), Val::str(sp)));
        }
        m.push(("readOnly".to_owned(), Val::Bool(true)));
        new_mounts.push(Val::Map(m));
        cp.mounts.push(want.path.clone());
    }

    let existing_env = c.get("env");
    let mut new_env = Vec::new();
    let env_items: &[Node] = match existing_env {
        Some(e) => match e.items() {
            Some(items) => items,
            None if e.is_null() => &[],
            None => {
                return Err(Conflict {
                    path: cpath.key("env"),
                    message: format!("expected a list, found {}", e.kind_name()),
                });
            }
        },
        None => &[],
    };
    for (var, value, mode) in env {
        let found = env_items
            .iter()
            .enumerate()
            .rev()
            .find(|(_, e)| str_at(Some(e), &["name"]) == Some(var.as_str()));
        match found {
            None => {
                new_env.push(Val::map([
                    ("name", Val::str(var)),
                    ("value", Val::str(value)),
                ]));
                cp.env.push(var.clone());
            }
            Some((_, e))
                if str_at(Some(e), &["value"]) == Some(value.as_str())
                    && e.get("valueFrom").is_none() => {}
            Some((i, e)) if *mode == EnvMode::Append && e.get("valueFrom").is_none() => {
                let current = str_at(Some(e), &["value"]).unwrap_or("");
                if current.contains(value.as_str()) {
                    continue;
                }
                if current.contains("-Djavax.net.ssl.trustStore=") && !opts.override_env {
                    let why = format!("the container points Java at its own truststore in {var}");
                    plan.notes.push(Note { severity: Severity::Warning, path: Some(cpath.key("env").index(i)), message: format!("container {:?}: {why}; kept (pass --override-env to append ours anyway)", cp.name) });
                    cp.kept_env.push((var.clone(), why));
                    continue;
                }
                let joined = if current.trim().is_empty() {
                    value.clone()
                } else {
                    format!("{} {value}", current.trim_end())
                };
                let epath = cpath.key("env").index(i);
                if e.get("value").is_some() {
                    plan.intents.push(Intent {
                        path: epath.key("value"),
                        op: Op::Replace(Val::str(joined)),
                    });
                } else {
                    plan.intents.push(Intent {
                        path: epath,
                        op: Op::AddKey("value".into(), Val::str(joined)),
                    });
                }
                cp.env.push(var.clone());
            }
            Some((i, e)) => {
                let current = match (str_at(Some(e), &["value"]), e.get("valueFrom")) {
                    (_, Some(_)) => "a valueFrom reference".to_owned(),
                    (Some(v), None) => format!("{v:?}"),
                    (None, None) => "an empty value".to_owned(),
                };
                let epath = cpath.key("env").index(i);
                if opts.override_env {
                    if e.get("value").is_some() {
                        plan.intents.push(Intent {
                            path: epath.key("value"),
                            op: Op::Replace(Val::str(value)),
                        });
                    } else {
                        plan.intents.push(Intent {
                            path: epath.clone(),
                            op: Op::AddKey("value".into(), Val::str(value)),
                        });
                    }
                    if e.get("valueFrom").is_some() {
                        plan.intents.push(Intent {
                            path: epath,
                            op: Op::RemoveKey("valueFrom".into()),
                        });
                    }
                    cp.env.push(var.clone());
                    plan.notes.push(Note {
                        severity: Severity::Info,
                        path: Some(cpath.key("env")),
                        message: format!(
                            "container {:?}: {var} was {current}; overridden (--override-env)",
                            cp.name
                        ),
                    });
                } else {
                    let why = format!("the container sets {var} to {current} itself");
                    plan.notes.push(Note {
                        severity: Severity::Warning,
                        path: Some(cpath.key("env")),
                        message: format!(
                            "container {:?}: {why}; kept (pass --override-env to replace it)",
                            cp.name
                        ),
                    });
                    cp.kept_env.push((var.clone(), why));
                }
            }
        }
    }
    let touched = !new_mounts.is_empty() || !new_env.is_empty();
    add_items(
        &mut plan.intents,
        cpath,
        "volumeMounts",
        existing_mounts,
        new_mounts,
    );
    add_items(&mut plan.intents, cpath, "env", existing_env, new_env);
    Ok(touched || !cp.mounts.is_empty())
}

/// Records a mount left alone, and why, with a warning.
fn keep_mount(plan: &mut Plan, cp: &mut ContainerPlan, cpath: &Path, path: &str, why: String) {
    plan.notes.push(Note {
        severity: Severity::Warning,
        path: Some(cpath.key("volumeMounts")),
        message: format!("container {:?}: {why}; left alone", cp.name),
    });
    cp.kept_mounts.push((path.to_owned(), why));
}

/// Writes the bundle hash annotation on the pod template.
fn annotate(root: &Node, found: &Found, hash: &str, plan: &mut Plan) {
    let key = wk::BUNDLE_HASH_ANNOTATION;
    let meta_path = &found.meta_path;
    let mut template_path = meta_path.clone();
    template_path.0.pop();
    match node_at(root, meta_path) {
        None => plan.intents.push(Intent {
            path: template_path,
            op: Op::AddKey(
                "metadata".into(),
                Val::map([(
                    "annotations",
                    Val::Map(vec![(key.to_owned(), Val::str(hash))]),
                )]),
            ),
        }),
        Some(m) if m.entries().is_none() => plan.intents.push(Intent {
            path: meta_path.clone(),
            op: Op::Replace(Val::map([(
                "annotations",
                Val::Map(vec![(key.to_owned(), Val::str(hash))]),
            )])),
        }),
        Some(m) => match m.get("annotations") {
            None => plan.intents.push(Intent {
                path: meta_path.clone(),
                op: Op::AddKey(
                    "annotations".into(),
                    Val::Map(vec![(key.to_owned(), Val::str(hash))]),
                ),
            }),
            Some(a) if a.entries().is_none() => plan.intents.push(Intent {
                path: meta_path.key("annotations"),
                op: Op::Replace(Val::Map(vec![(key.to_owned(), Val::str(hash))])),
            }),
            Some(a) => match a.get(key).and_then(Node::as_str) {
                Some(v) if v == hash => {}
                Some(_) => plan.intents.push(Intent {
                    path: meta_path.key("annotations").key(key),
                    op: Op::Replace(Val::str(hash)),
                }),
                None => plan.intents.push(Intent {
                    path: meta_path.key("annotations"),
                    op: Op::AddKey(key.to_owned(), Val::str(hash)),
                }),
            },
        },
    }
}
