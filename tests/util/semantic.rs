//! The semantic fuzzer's generator and checks, shared by `tests/semantic.rs` (proptest,
//! read back through the Go oracle) and `fuzz/fuzz_targets/semantic.rs` (cargo-fuzz, read
//! back through [`load`], a small loader over `saphyr-parser` events). Needs only `std`,
//! `serde_json` and `saphyr-parser`; never the crate under test.
//!
//! The generator is driven by bytes ([`Dice`]): a fuzzer's input or a proptest byte
//! vector, so both shrink towards short inputs, and an exhausted input means "the
//! plainest choice". It builds a model of each document (what Kubernetes should read) and
//! renders it in random YAML styles; the checks then compare what a reader sees in the
//! tool's output with the input plus exactly the injection the options ask for.
//!
//! Each feature that a known defect trips has a switch ([`KNOWN_DEFECTS`]);
//! `SEMANTIC_OFF=name,name` (or `SEMANTIC_OFF=known` for all of them) turns features off.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------
// Switches.

/// Generator features (and one check) that known defects trip, each with what goes wrong.
pub const KNOWN_DEFECTS: &[(&str, &str)] = &[
    (
        "flow-plain-quotes",
        "plain scalars holding ' or \" inside flow collections",
    ),
    (
        "flow-close-at-key-indent",
        "a multi-line flow collection closed at its key's indentation",
    ),
    (
        "dq-continuation-low",
        "a double-quoted scalar continued at its key's indentation",
    ),
    (
        "tab-after-colon",
        "a tab between a key's colon and its value",
    ),
    ("comment-after-dash", "a comment right after `- `"),
    ("java-block-scalar", "JAVA_TOOL_OPTIONS as a block scalar"),
    ("str-tag-merge", "`!!str <<` as an ordinary key"),
    ("pretty-json", "pretty-printed JSON documents"),
    (
        "own-paths",
        "charts that mount something at the tool's own paths",
    ),
    (
        "option-change",
        "check: run(B, run(A, x)) reads as run(B, x) for A != B",
    ),
    (
        "bundle-name-collision",
        "a chart ConfigMap named like the generated bundle",
    ),
    ("windows", "Windows pods, in every spelling"),
    (
        "override-env-rerun",
        "the --override-env option set (a second run moves a variable the chart set)",
    ),
];

/// Which features are on.
#[derive(Clone, Debug, Default)]
pub struct Features {
    off: BTreeSet<String>,
}

impl Features {
    /// Everything on.
    pub fn all() -> Features {
        Features::default()
    }

    /// Reads a comma-separated list of switches to turn off (`known`: every known defect).
    pub fn without(list: &str) -> Features {
        let mut off = BTreeSet::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if name == "known" {
                off.extend(KNOWN_DEFECTS.iter().map(|(n, _)| (*n).to_owned()));
            } else {
                assert!(
                    KNOWN_DEFECTS.iter().any(|(n, _)| *n == name),
                    "unknown switch {name:?} in SEMANTIC_OFF; known: {:?}",
                    KNOWN_DEFECTS.iter().map(|(n, _)| *n).collect::<Vec<_>>()
                );
                off.insert(name.to_owned());
            }
        }
        Features { off }
    }

    /// From `SEMANTIC_OFF`.
    pub fn from_env() -> Features {
        Features::without(&std::env::var("SEMANTIC_OFF").unwrap_or_default())
    }

    /// Whether `name` is on.
    pub fn on(&self, name: &str) -> bool {
        debug_assert!(KNOWN_DEFECTS.iter().any(|(n, _)| *n == name), "{name}");
        !self.off.contains(name)
    }

    /// The switches that are off.
    pub fn off(&self) -> Vec<String> {
        self.off.iter().cloned().collect()
    }
}

// ---------------------------------------------------------------------------------------
// Choices.

/// Choices read from bytes; once the bytes run out every choice is the first (plainest)
/// one.
pub struct Dice<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Dice<'a> {
    /// Choices from `data`.
    pub fn new(data: &'a [u8]) -> Dice<'a> {
        Dice { data, pos: 0 }
    }

    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let v = if n <= 256 {
            usize::from(self.byte())
        } else {
            usize::from(self.byte()) << 8 | usize::from(self.byte())
        };
        v % n
    }

    /// True about once in `n`; false once the bytes run out.
    pub fn one_in(&mut self, n: usize) -> bool {
        n > 0 && self.below(n) == n - 1
    }

    /// One of `items` (the first once the bytes run out).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------
// The model.

/// A map key.
#[derive(Clone, Debug, PartialEq)]
pub enum K {
    /// An ordinary key.
    Name(String),
    /// `<<: *alias`, a merge.
    Merge,
    /// `!!str <<`: an ordinary key named `<<`.
    StrTagMerge,
    /// `"<<"`: an ordinary key named `<<`.
    QuotedMerge,
}

/// A YAML node as Kubernetes reads it, with the anchors and aliases it is written with.
#[derive(Clone, Debug, PartialEq)]
pub enum Y {
    Map(Vec<(K, Y)>),
    Seq(Vec<Y>),
    Str(String),
    /// A string never written as a block scalar.
    Line(String),
    /// A string written as a block scalar where it can be.
    Block(String),
    Int(i64),
    /// An integer written in YAML 1.1 octal (`0644`).
    Octal(i64),
    Bool(bool),
    Null,
    Anchor(String, Box<Y>),
    Alias(String, Box<Y>),
}

fn key(k: &str) -> K {
    K::Name(k.to_owned())
}

fn map(pairs: Vec<(&str, Y)>) -> Y {
    Y::Map(pairs.into_iter().map(|(k, v)| (key(k), v)).collect())
}

fn s(v: &str) -> Y {
    Y::Str(v.to_owned())
}

impl Y {
    /// What Kubernetes reads.
    pub fn to_json(&self) -> Value {
        match self {
            Y::Map(entries) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    match k {
                        K::Merge => {
                            if let Value::Object(src) = v.to_json() {
                                m.extend(src);
                            }
                        }
                        K::Name(n) => {
                            m.insert(n.clone(), v.to_json());
                        }
                        K::StrTagMerge | K::QuotedMerge => {
                            m.insert("<<".to_owned(), v.to_json());
                        }
                    }
                }
                Value::Object(m)
            }
            Y::Seq(items) => Value::Array(items.iter().map(Y::to_json).collect()),
            Y::Str(s) | Y::Line(s) | Y::Block(s) => Value::String(s.clone()),
            Y::Int(i) | Y::Octal(i) => Value::from(*i),
            Y::Bool(b) => Value::Bool(*b),
            Y::Null => Value::Null,
            Y::Anchor(_, y) | Y::Alias(_, y) => y.to_json(),
        }
    }

    fn set(&mut self, k: &str, v: Y) {
        if let Y::Map(entries) = self {
            match entries.iter_mut().find(|(n, _)| *n == key(k)) {
                Some(slot) => slot.1 = v,
                None => entries.push((key(k), v)),
            }
        }
    }
}

/// A step of a path into a JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(&'static str),
    Index(usize),
}

/// Where a PodSpec sits in a document.
#[derive(Clone, Debug)]
pub struct SpecLoc {
    /// Path to the object that holds it (empty, or `items[i]` of a List).
    pub object: Vec<Seg>,
    /// Path to the PodSpec.
    pub spec: Vec<Seg>,
    /// Path to the pod template's metadata (the object's for a bare Pod).
    pub meta: Vec<Seg>,
    /// A core `Pod` (ephemeral containers are injected too).
    pub is_pod: bool,
}

/// One generated document.
#[derive(Clone, Debug)]
pub struct Doc {
    /// Written with anchors, aliases or merge keys: the tool may re-emit it (README).
    pub re_emit_ok: bool,
    /// What Kubernetes should read; `None` for a document without content.
    pub model: Option<Y>,
    /// The PodSpecs a reader should find in it.
    pub specs: Vec<SpecLoc>,
}

/// A generated stream.
#[derive(Clone, Debug)]
pub struct Stream {
    pub text: String,
    pub docs: Vec<Doc>,
    /// Which generator features the stream uses, for coverage counts.
    pub used: BTreeSet<&'static str>,
}

impl Stream {
    /// What Kubernetes should read: the documents with content.
    pub fn expected(&self) -> Vec<Value> {
        self.docs
            .iter()
            .filter_map(|d| d.model.as_ref().map(Y::to_json))
            .collect()
    }

    /// The PodSpecs of each document with content, in order.
    pub fn specs(&self) -> Vec<Vec<SpecLoc>> {
        self.docs
            .iter()
            .filter(|d| d.model.is_some())
            .map(|d| d.specs.clone())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Building documents.

/// Strings that need every kind of quoting, or none.
const STRINGS: &[&str] = &[
    "web",
    "nginx:1.27",
    "hello world",
    "o'brien",
    "it's",
    "say \"hi\"",
    "a: b",
    "a:b",
    "x, y",
    "[x]",
    "a[0]",
    "{y}",
    "a{b}c",
    "#not-a-comment",
    "a #b",
    "a#b",
    "yes",
    "no",
    "on",
    "y",
    "0644",
    "1.0",
    "",
    "null",
    "~",
    "multi\nline\n",
    "two\nlines",
    "keep\n\n",
    "tab\there",
    "ünïcødé ✓",
    "trailing ",
    " leading",
    "- dash",
    "@at",
    "*star",
    "&amp",
    "!bang",
    "|pipe",
    ">gt",
    "back\\slash",
    "---",
    "...",
    "<<",
    "%percent",
    "`tick",
    "?q",
    "a, b: c # d",
    "http://example.com/a?b=c#d",
    "-Xmx512m -Dfoo=bar",
    "/etc/ssl/certs/ca-certificates.crt",
];

const ENV_NAMES: &[&str] = &[
    "FOO",
    "LOG_LEVEL",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "JAVA_TOOL_OPTIONS",
    "CURL_CA_BUNDLE",
    "HTTP_PROXY",
];

/// The tool's paths (switch `own-paths`) and ordinary ones, some of them directories the
/// tool writes into.
const OWN_MOUNT_PATHS: &[&str] = &[
    "/etc/trust-inject",
    "/etc/ssl/certs",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/certs/trust-inject-ca.crt",
    "/etc/pki",
    "/etc",
];
const MOUNT_PATHS: &[&str] = &["/data", "/var/log/app", "/etc/config", "/tmp/cache"];

/// (apiVersion, kind, path to the PodSpec), written out independently of the tool's table.
const WORKLOAD_KINDS: &[(&str, &str, &[&str])] = &[
    ("v1", "Pod", &["spec"]),
    ("v1", "PodTemplate", &["template", "spec"]),
    ("v1", "ReplicationController", &["spec", "template", "spec"]),
    ("apps/v1", "Deployment", &["spec", "template", "spec"]),
    (
        "extensions/v1beta1",
        "Deployment",
        &["spec", "template", "spec"],
    ),
    ("apps/v1", "ReplicaSet", &["spec", "template", "spec"]),
    ("apps/v1", "StatefulSet", &["spec", "template", "spec"]),
    ("apps/v1", "DaemonSet", &["spec", "template", "spec"]),
    ("batch/v1", "Job", &["spec", "template", "spec"]),
    (
        "batch/v1",
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
    (
        "argoproj.io/v1alpha1",
        "Rollout",
        &["spec", "template", "spec"],
    ),
    (
        "serving.knative.dev/v1",
        "Service",
        &["spec", "template", "spec"],
    ),
    (
        "serving.knative.dev/v1",
        "Configuration",
        &["spec", "template", "spec"],
    ),
    (
        "apps.kruise.io/v1alpha1",
        "CloneSet",
        &["spec", "template", "spec"],
    ),
    (
        "apps.kruise.io/v1beta1",
        "StatefulSet",
        &["spec", "template", "spec"],
    ),
    (
        "apps.kruise.io/v1alpha1",
        "DaemonSet",
        &["spec", "template", "spec"],
    ),
    (
        "apps.kruise.io/v1alpha1",
        "BroadcastJob",
        &["spec", "template", "spec"],
    ),
    (
        "apps.kruise.io/v1alpha1",
        "AdvancedCronJob",
        &[
            "spec",
            "template",
            "jobTemplate",
            "spec",
            "template",
            "spec",
        ],
    ),
    (
        "apps.kruise.io/v1alpha1",
        "AdvancedCronJob",
        &[
            "spec",
            "template",
            "broadcastJobTemplate",
            "spec",
            "template",
            "spec",
        ],
    ),
    (
        "keda.sh/v1alpha1",
        "ScaledJob",
        &["spec", "jobTargetRef", "template", "spec"],
    ),
    // Any other kind with spec.template.spec.containers (the generic rule).
    ("example.com/v1", "Widget", &["spec", "template", "spec"]),
];

/// The bundle name the tool generates with `--ca-file` (its default), which a chart's
/// ConfigMap may collide with (switch `bundle-name-collision`).
pub const GENERATED_NAME: &str = "trust-bundle";

struct Gen<'d, 'a> {
    dice: &'d mut Dice<'a>,
    feats: &'d Features,
    used: BTreeSet<&'static str>,
    anchors: usize,
}

impl Gen<'_, '_> {
    fn use_(&mut self, f: &'static str) {
        self.used.insert(f);
    }

    fn string(&mut self) -> Y {
        Y::Str(self.dice.pick(STRINGS).to_owned())
    }

    fn scalar(&mut self) -> Y {
        match self.dice.below(8) {
            0..=4 => self.string(),
            5 => Y::Int(self.dice.below(100_000) as i64 - 5),
            6 => Y::Bool(self.dice.one_in(2)),
            _ => Y::Null,
        }
    }

    fn anchor_name(&mut self) -> String {
        self.anchors += 1;
        format!("a{}", self.anchors)
    }

    /// An optional list: absent, null, empty, or the items.
    fn opt_list(&mut self, items: Vec<Y>) -> Option<Y> {
        match self.dice.below(8) {
            0..=4 if !items.is_empty() => Some(Y::Seq(items)),
            5 => {
                self.use_("field:null");
                Some(Y::Null)
            }
            6 => {
                self.use_("field:empty-list");
                Some(Y::Seq(vec![]))
            }
            _ => None,
        }
    }

    fn env_entry(&mut self, name: &str) -> Y {
        if self.dice.one_in(3) {
            let from = map(vec![(
                "configMapKeyRef",
                map(vec![("name", s("settings")), ("key", s("k"))]),
            )]);
            if self.dice.one_in(2) {
                self.use_("env:valuefrom-first");
                return Y::Map(vec![(key("valueFrom"), from), (key("name"), s(name))]);
            }
            return map(vec![("name", s(name)), ("valueFrom", from)]);
        }
        let value = if name == "JAVA_TOOL_OPTIONS" {
            let v = self
                .dice
                .pick(&["-Xmx512m", "-Xmx512m -Dfoo=bar", "-Dx=\"quoted\""]);
            if self.feats.on("java-block-scalar") {
                if self.dice.one_in(2) {
                    Y::Block(v.to_owned())
                } else {
                    Y::Str(v.to_owned())
                }
            } else {
                Y::Line(v.to_owned())
            }
        } else {
            self.string()
        };
        if self.dice.one_in(3) {
            self.use_("env:value-first");
            Y::Map(vec![(key("value"), value), (key("name"), s(name))])
        } else {
            map(vec![("name", s(name)), ("value", value)])
        }
    }

    fn container(&mut self, name: &str, volumes: &[String], ephemeral: bool) -> Y {
        let image = if self.dice.one_in(4) {
            self.string()
        } else {
            s("registry.example.com/app:1.0")
        };
        let mut c = map(vec![("name", s(name)), ("image", image)]);
        if self.dice.one_in(3) {
            let n = self.dice.below(3);
            let args = (0..n).map(|_| self.string()).collect();
            c.set("args", Y::Seq(args));
        }
        // Env: unique names.
        let mut env = Vec::new();
        let mut seen = BTreeSet::new();
        for _ in 0..self.dice.below(4) {
            let n = self.dice.pick(ENV_NAMES);
            if seen.insert(n) {
                let e = self.env_entry(n);
                env.push(e);
            }
        }
        if let Some(e) = self.opt_list(env) {
            c.set("env", e);
        }
        // Mounts: unique paths, each naming a volume of the pod.
        let mut mounts = Vec::new();
        let mut paths = BTreeSet::new();
        if !volumes.is_empty() {
            for _ in 0..self.dice.below(3) {
                let own = self.feats.on("own-paths") && self.dice.one_in(3);
                let path = if own {
                    self.use_("mount:own-path");
                    self.dice.pick(OWN_MOUNT_PATHS)
                } else {
                    self.dice.pick(MOUNT_PATHS)
                };
                // A subPath mount in an ephemeral container is invalid.
                if !paths.insert(path) {
                    continue;
                }
                let vol = volumes[self.dice.below(volumes.len())].clone();
                let mut m = map(vec![("name", Y::Str(vol)), ("mountPath", s(path))]);
                if self.dice.one_in(3) {
                    m.set("readOnly", Y::Bool(true));
                }
                if !ephemeral && self.dice.one_in(4) {
                    m.set("subPath", s("sub/file.crt"));
                }
                mounts.push(m);
            }
        }
        if let Some(m) = self.opt_list(mounts) {
            c.set("volumeMounts", m);
        }
        self.decoy(&mut c, &["env", "volumeMounts"]);
        if self.dice.one_in(5) {
            c.set(
                "resources",
                map(vec![(
                    "limits",
                    map(vec![("cpu", s("100m")), ("memory", s("64Mi"))]),
                )]),
            );
        }
        c
    }

    fn volumes(&mut self) -> (Option<Y>, Vec<String>) {
        let mut items = Vec::new();
        let mut names = Vec::new();
        for name in ["data", "config", "cache", "trust-bundle"] {
            let odds = if name == "trust-bundle" { 10 } else { 2 };
            if !self.dice.one_in(odds) {
                continue;
            }
            let v = match name {
                "data" => map(vec![("name", s(name)), ("emptyDir", Y::Map(vec![]))]),
                "trust-bundle" => {
                    // Looks like the tool's own volume (from an earlier run, or a chart's).
                    self.use_("volume:tool-name");
                    map(vec![
                        ("name", s(name)),
                        ("configMap", map(vec![("name", s("corp-ca"))])),
                    ])
                }
                _ => {
                    let mut src = map(vec![("name", Y::Str(format!("cm-{name}")))]);
                    if self.dice.one_in(2) {
                        self.use_("scalar:octal");
                        src.set("defaultMode", Y::Octal(0o644));
                    }
                    map(vec![("name", s(name)), ("configMap", src)])
                }
            };
            items.push(v);
            names.push(name.to_owned());
        }
        let v = self.opt_list(items);
        let names = match &v {
            Some(Y::Seq(items)) if !items.is_empty() => names,
            _ => Vec::new(),
        };
        (v, names)
    }

    fn pod_spec(&mut self, is_pod: bool) -> Y {
        let (volumes, vol_names) = self.volumes();
        let mut spec = Y::Map(vec![]);
        let n = 1 + self.dice.below(3);
        let containers: Vec<Y> = (0..n)
            .map(|i| self.container(&format!("c{i}"), &vol_names, false))
            .collect();
        let mut containers = containers;
        // Anchors, aliases and merges between containers.
        if containers.len() > 1 && self.dice.one_in(4) {
            let name = self.anchor_name();
            let first = containers[0].clone();
            let mut merged = vec![(K::Merge, Y::Alias(name.clone(), Box::new(first.clone())))];
            merged.push((key("name"), s("c1")));
            containers[1] = Y::Map(merged);
            containers[0] = Y::Anchor(name, Box::new(first));
            self.use_("merge:container");
        } else if containers.len() > 1 && self.dice.one_in(4) {
            // The same env list, aliased.
            if let Y::Map(e0) = &containers[0]
                && let Some((_, env @ Y::Seq(_))) = e0.iter().find(|(k, _)| *k == key("env"))
            {
                let env = env.clone();
                let name = self.anchor_name();
                containers[0].set("env", Y::Anchor(name.clone(), Box::new(env.clone())));
                containers[1].set("env", Y::Alias(name, Box::new(env)));
                self.use_("alias:env");
            }
        }
        let init = if self.dice.one_in(3) {
            let n = 1 + self.dice.below(2);
            let mut v = Vec::new();
            for i in 0..n {
                let mut c = self.container(&format!("init{i}"), &vol_names, false);
                if self.dice.one_in(2) {
                    self.use_("container:sidecar");
                    c.set("restartPolicy", s("Always"));
                }
                v.push(c);
            }
            Some(Y::Seq(v))
        } else {
            None
        };
        let ephemeral = (is_pod && self.dice.one_in(4)).then(|| {
            self.use_("container:ephemeral");
            let mut c = self.container("debug", &vol_names, true);
            c.set("targetContainerName", s("c0"));
            Y::Seq(vec![c])
        });
        // Key order: shuffled a little.
        let mut keys: Vec<(&str, Y)> = vec![("containers", Y::Seq(containers))];
        if let Some(i) = init {
            keys.push(("initContainers", i));
        }
        if let Some(e) = ephemeral {
            keys.push(("ephemeralContainers", e));
        }
        if let Some(v) = volumes {
            keys.push(("volumes", v));
        }
        if self.dice.one_in(4) {
            keys.push(("restartPolicy", s("Always")));
        }
        if self.dice.one_in(4) {
            // A Linux pod, or (switch `windows`) a Windows one.
            let windows = self.feats.on("windows") && self.dice.one_in(2);
            let os = if windows { "windows" } else { "linux" };
            if windows {
                self.use_("pod:windows");
            }
            match self.dice.below(4) {
                0 => keys.push(("nodeSelector", map(vec![("kubernetes.io/os", s(os))]))),
                1 => keys.push(("os", map(vec![("name", s(os))]))),
                2 => {
                    self.use_("pod:os-beta-label");
                    keys.push(("nodeSelector", map(vec![("beta.kubernetes.io/os", s(os))])));
                }
                _ => {
                    self.use_("pod:os-affinity");
                    let expr = map(vec![
                        ("key", s("kubernetes.io/os")),
                        ("operator", s("In")),
                        ("values", Y::Seq(vec![s(os)])),
                    ]);
                    let term = map(vec![("matchExpressions", Y::Seq(vec![expr]))]);
                    let required = map(vec![("nodeSelectorTerms", Y::Seq(vec![term]))]);
                    keys.push((
                        "affinity",
                        map(vec![(
                            "nodeAffinity",
                            map(vec![(
                                "requiredDuringSchedulingIgnoredDuringExecution",
                                required,
                            )]),
                        )]),
                    ));
                }
            }
        }
        if self.dice.one_in(5) {
            let name = self.anchor_name();
            let sc = map(vec![("runAsNonRoot", Y::Bool(true))]);
            keys.push(("securityContext", Y::Anchor(name, Box::new(sc))));
        }
        for i in (1..keys.len()).rev() {
            let j = self.dice.below(i + 1);
            if j != i {
                self.use_("order:shuffled");
            }
            // Anchors must come before their aliases: keep container order intact.
            keys.swap(i, j);
        }
        for (k, v) in keys {
            spec.set(k, v);
        }
        self.decoy(&mut spec, &["volumes", "containers"]);
        spec
    }

    /// Sometimes writes one of `keys` twice: first a decoy, then the real value. Kubernetes
    /// reads the last (README: duplicate keys are read as Kubernetes reads them).
    fn decoy(&mut self, m: &mut Y, keys: &[&str]) {
        if !self.dice.one_in(12) {
            return;
        }
        let k = self.dice.pick(keys);
        let Y::Map(entries) = m else { return };
        let Some(at) = entries.iter().position(|(n, _)| *n == key(k)) else {
            return;
        };
        let fake = match k {
            "env" => map(vec![("name", s("DECOY")), ("value", s("ignored"))]),
            "containers" => map(vec![("name", s("decoy")), ("image", s("ignored"))]),
            "volumes" => map(vec![("name", s("decoy")), ("emptyDir", Y::Map(vec![]))]),
            _ => map(vec![("name", s("decoy")), ("mountPath", s("/decoy"))]),
        };
        let decoy = if self.dice.one_in(3) {
            Y::Null
        } else {
            Y::Seq(vec![fake])
        };
        self.use_("key:duplicate");
        entries.insert(at, (key(k), decoy));
    }

    fn metadata(&mut self, name: &str, ns: Option<&str>) -> Y {
        let mut m = map(vec![("name", s(name))]);
        if let Some(ns) = ns {
            m.set("namespace", s(ns));
        }
        if self.dice.one_in(2) {
            let labels = map(vec![("app", s("demo"))]);
            m.set("labels", labels);
        }
        if self.dice.one_in(3) {
            let mut ann = vec![(key("example.com/note"), self.string())];
            if self.dice.one_in(3) {
                if self.feats.on("str-tag-merge") && self.dice.one_in(2) {
                    self.use_("key:str-tag-merge");
                    ann.push((K::StrTagMerge, s("not a merge")));
                } else {
                    self.use_("key:quoted-merge");
                    ann.push((K::QuotedMerge, s("not a merge")));
                }
            }
            m.set("annotations", Y::Map(ann));
        }
        m
    }

    fn workload(&mut self, name: &str, ns: Option<&str>) -> (Y, Vec<SpecLoc>) {
        let (api, kind, path) = self.dice.pick(WORKLOAD_KINDS);
        self.used.insert(kind_feature(kind));
        let is_pod = kind == "Pod" && api == "v1";
        let mut node = self.pod_spec(is_pod);
        let mut meta_path: Vec<Seg> = Vec::new();
        for i in (0..path.len()).rev() {
            let mut wrap = Y::Map(vec![]);
            if i > 0 && path[i - 1] == "template" && path[i] == "spec" {
                let mut tm = map(vec![("labels", map(vec![("app", s("demo"))]))]);
                if self.dice.one_in(4) {
                    tm = Y::Null;
                    self.use_("template:null-metadata");
                } else if self.dice.one_in(4) {
                    tm.set("annotations", map(vec![("example.com/a", self.string())]));
                }
                if self.dice.one_in(5) {
                    wrap.set("metadata", tm);
                    wrap.set(path[i], node);
                } else {
                    wrap.set(path[i], node);
                    wrap.set("metadata", tm);
                }
            } else {
                wrap.set(path[i], node);
            }
            if i == 1 && path[0] == "spec" && self.dice.one_in(2) {
                wrap.set("replicas", Y::Int(2));
            }
            node = wrap;
        }
        let skip = self.dice.one_in(12);
        let mut meta = self.metadata(name, ns);
        if skip {
            self.use_("workload:skip-annotation");
            meta.set(
                "annotations",
                map(vec![("trust-inject.dev/skip", s("true"))]),
            );
        }
        let mut doc = Y::Map(vec![]);
        let mut top: Vec<(&str, Y)> = vec![
            ("apiVersion", s(api)),
            ("kind", s(kind)),
            ("metadata", meta),
        ];
        if let Y::Map(e) = node {
            for (k, v) in e {
                if let K::Name(k) = k {
                    let k: &'static str = match k.as_str() {
                        "spec" => "spec",
                        "template" => "template",
                        _ => "spec",
                    };
                    top.push((k, v));
                }
            }
        }
        if self.dice.one_in(5) {
            self.use_("order:kind-first");
            top.swap(0, 1);
        }
        if self.dice.one_in(6) {
            let last = top.len() - 1;
            top.swap(2, last);
            self.use_("order:metadata-last");
        }
        for (k, v) in top {
            doc.set(k, v);
        }
        let spec: Vec<Seg> = path.iter().map(|p| Seg::Key(p)).collect();
        if is_pod {
            meta_path = vec![Seg::Key("metadata")];
        } else {
            meta_path.extend(spec[..spec.len() - 1].iter().cloned());
            meta_path.push(Seg::Key("metadata"));
        }
        let loc = SpecLoc {
            object: vec![],
            spec,
            meta: meta_path,
            is_pod,
        };
        (doc, vec![loc])
    }

    fn other(&mut self, name: &str, ns: Option<&str>) -> Y {
        let meta = self.metadata(name, ns);
        match self.dice.below(5) {
            0 => {
                let mut data = Vec::new();
                let mut seen = BTreeSet::new();
                for _ in 0..self.dice.below(4) {
                    let k = self.dice.pick(&["a.conf", "b.yaml", "c.txt", "pod.yaml"]);
                    if seen.insert(k) {
                        let v = if k == "pod.yaml" {
                            s("containers:\n- name: x\n  image: y\n")
                        } else {
                            self.string()
                        };
                        data.push((key(k), v));
                    }
                }
                let mut cm = map(vec![
                    ("apiVersion", s("v1")),
                    ("kind", s("ConfigMap")),
                    ("metadata", meta),
                ]);
                if self.feats.on("bundle-name-collision") && self.dice.one_in(2) {
                    self.use_("configmap:bundle-name");
                    if let Y::Map(e) = &mut cm
                        && let Some((_, m)) = e.iter_mut().find(|(k, _)| *k == key("metadata"))
                    {
                        m.set("name", s(GENERATED_NAME));
                    }
                }
                cm.set("data", Y::Map(data));
                cm
            }
            1 => map(vec![
                ("apiVersion", s("v1")),
                ("kind", s("Service")),
                ("metadata", meta),
                (
                    "spec",
                    map(vec![
                        ("selector", map(vec![("app", s("demo"))])),
                        (
                            "ports",
                            Y::Seq(vec![map(vec![("port", Y::Int(80)), ("name", s("http"))])]),
                        ),
                    ]),
                ),
            ]),
            2 => map(vec![
                ("apiVersion", s("v1")),
                ("kind", s("Secret")),
                ("metadata", meta),
                ("stringData", map(vec![("token", self.string())])),
            ]),
            3 => {
                // A custom resource with containers where no PodSpec is.
                let c = map(vec![("name", s("x")), ("image", s("y"))]);
                map(vec![
                    ("apiVersion", s("example.com/v1")),
                    ("kind", s("Gadget")),
                    ("metadata", meta),
                    ("spec", map(vec![("containers", Y::Seq(vec![c]))])),
                ])
            }
            _ => map(vec![
                ("apiVersion", s("v1")),
                ("kind", s("ServiceAccount")),
                ("metadata", meta),
                ("automountServiceAccountToken", Y::Bool(false)),
            ]),
        }
    }

    fn document(&mut self, index: usize) -> Doc {
        let name = format!("doc-{index}");
        let ns = self.dice.pick(&[None, Some("default"), Some("shop")]);
        match self.dice.below(10) {
            0..=4 => {
                let (model, specs) = self.workload(&name, ns);
                Doc {
                    re_emit_ok: model_has_anchors(&model),
                    model: Some(model),
                    specs,
                }
            }
            5 => {
                // A List (or a typed *List) of workloads and other objects.
                self.use_("kind:List");
                let mut items = Vec::new();
                let mut specs = Vec::new();
                for i in 0..1 + self.dice.below(3) {
                    let item_name = format!("{name}-{i}");
                    if self.dice.one_in(3) {
                        items.push(self.other(&item_name, ns));
                    } else {
                        let (m, locs) = self.workload(&item_name, ns);
                        let at = items.len();
                        for mut l in locs {
                            let prefix = [Seg::Key("items"), Seg::Index(at)];
                            l.object = prefix.to_vec();
                            l.spec.splice(0..0, prefix.iter().cloned());
                            l.meta.splice(0..0, prefix.iter().cloned());
                            specs.push(l);
                        }
                        items.push(m);
                    }
                }
                let kind = if self.dice.one_in(3) {
                    "PodList"
                } else {
                    "List"
                };
                let model = map(vec![
                    ("apiVersion", s("v1")),
                    ("kind", s(kind)),
                    ("items", Y::Seq(items)),
                ]);
                Doc {
                    re_emit_ok: model_has_anchors(&model),
                    model: Some(model),
                    specs,
                }
            }
            6..=8 => {
                let model = self.other(&name, ns);
                Doc {
                    re_emit_ok: model_has_anchors(&model),
                    model: Some(model),
                    specs: vec![],
                }
            }
            _ => Doc {
                re_emit_ok: false,
                model: None,
                specs: vec![],
            },
        }
    }
}

fn kind_feature(kind: &str) -> &'static str {
    WORKLOAD_KINDS
        .iter()
        .find(|(_, k, _)| *k == kind)
        .map_or("kind:?", |(_, k, _)| match *k {
            "Pod" => "kind:Pod",
            "PodTemplate" => "kind:PodTemplate",
            "ReplicationController" => "kind:ReplicationController",
            "Deployment" => "kind:Deployment",
            "ReplicaSet" => "kind:ReplicaSet",
            "StatefulSet" => "kind:StatefulSet",
            "DaemonSet" => "kind:DaemonSet",
            "Job" => "kind:Job",
            "CronJob" => "kind:CronJob",
            "Rollout" => "kind:Rollout",
            "Service" => "kind:Service",
            "Configuration" => "kind:Configuration",
            "CloneSet" => "kind:CloneSet",
            "BroadcastJob" => "kind:BroadcastJob",
            "AdvancedCronJob" => "kind:AdvancedCronJob",
            "ScaledJob" => "kind:ScaledJob",
            "Widget" => "kind:Widget",
            _ => "kind:?",
        })
}

// ---------------------------------------------------------------------------------------
// Rendering.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Block,
    Flow,
}

struct Render<'g, 'd, 'a> {
    g: &'g mut Gen<'d, 'a>,
    /// Indentation step of the document's block mappings.
    step: usize,
    /// Rendering a whole document in flow style (its closing brace may sit at column 0).
    top: bool,
    /// The last value was a block scalar that keeps its trailing blank lines.
    kept_lines: bool,
}

pub fn pad(n: usize) -> String {
    " ".repeat(n)
}

const RESERVED_PLAIN: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
];

/// Whether `v` can be written plain in `ctx` and still read as the string `v` in YAML 1.1
/// (go-yaml v2) and 1.2. Quotes inside are fine in block context; in flow context only with
/// the switch `flow-plain-quotes`.
fn plain_ok(v: &str, ctx: Ctx, feats: &Features) -> bool {
    let Some(first) = v.chars().next() else {
        return false;
    };
    if !(first.is_alphabetic() || first == '/') {
        return false;
    }
    if RESERVED_PLAIN.contains(&v.to_ascii_lowercase().as_str()) {
        return false;
    }
    if v.ends_with([' ', ':']) || v.contains(": ") || v.contains(" #") {
        return false;
    }
    if v.chars().any(|c| c.is_control()) {
        return false;
    }
    if ctx == Ctx::Flow {
        if v.contains([',', '[', ']', '{', '}', ':']) {
            return false;
        }
        if v.contains(['\'', '"']) && !feats.on("flow-plain-quotes") {
            return false;
        }
    }
    true
}

pub fn double_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn single_quote_ok(v: &str) -> bool {
    !v.chars().any(char::is_control)
}

/// Lines of a literal block scalar: non-empty lines without leading or trailing blanks.
fn literal_lines(v: &str) -> Option<(Vec<&str>, &'static str)> {
    let (body, chomp) = if let Some(b) = v.strip_suffix("\n\n") {
        (b, "+")
    } else if let Some(b) = v.strip_suffix('\n') {
        (b, "")
    } else {
        (v, "-")
    };
    if body.is_empty() || body.ends_with('\n') {
        return None;
    }
    let lines: Vec<&str> = body.split('\n').collect();
    lines
        .iter()
        .all(|l| {
            !l.is_empty()
                && !l.starts_with([' ', '\t', '#'])
                && !l.ends_with([' ', '\t'])
                && !l.chars().any(char::is_control)
        })
        .then_some((lines, chomp))
}

impl<'a> Render<'_, '_, 'a> {
    fn dice(&mut self) -> &mut Dice<'a> {
        &mut *self.g.dice
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.g.dice.one_in(n)
    }

    fn use_(&mut self, f: &'static str) {
        self.g.use_(f);
    }

    fn feats(&self) -> &Features {
        self.g.feats
    }

    /// A scalar on one line.
    fn scalar_inline(&mut self, v: &str, ctx: Ctx) -> String {
        match self.dice().below(4) {
            0 | 1 if plain_ok(v, ctx, self.g.feats) => {
                self.use_("scalar:plain");
                if v.contains(['\'', '"']) {
                    self.use_(if ctx == Ctx::Flow {
                        "scalar:plain-quote-in-flow"
                    } else {
                        "scalar:plain-quote"
                    });
                }
                v.to_owned()
            }
            2 if single_quote_ok(v) => {
                self.use_("scalar:single");
                format!("'{}'", v.replace('\'', "''"))
            }
            _ => {
                self.use_("scalar:double");
                double_quoted(v)
            }
        }
    }

    fn flow_scalar(&mut self, y: &Y, ctx: Ctx) -> String {
        match y {
            Y::Str(v) | Y::Line(v) | Y::Block(v) => self.scalar_inline(v, ctx),
            Y::Int(i) => i.to_string(),
            Y::Octal(i) => format!("0{i:o}"),
            Y::Bool(b) => {
                if self.one_in(4) {
                    self.use_("scalar:yaml11-bool");
                    if *b { "yes" } else { "off" }.to_owned()
                } else {
                    b.to_string()
                }
            }
            Y::Null => self.dice().pick(&["null", "~", "Null"]).to_owned(),
            _ => unreachable!("not a scalar"),
        }
    }

    /// A flow collection or scalar, on one line or (in block context, `multi` set) on
    /// several, indented from `col`.
    fn flow(&mut self, y: &Y, col: usize, multi: bool) -> String {
        match y {
            Y::Anchor(name, inner) => {
                self.use_("anchor");
                format!("&{name} {}", self.flow(inner, col, multi))
            }
            Y::Alias(name, _) => {
                self.use_("alias");
                format!("*{name}")
            }
            Y::Map(entries) => {
                let mut parts = Vec::new();
                for (k, v) in entries {
                    let k = self.key_text(k, Ctx::Flow);
                    let v = self.flow(v, col + self.step, false);
                    parts.push(format!("{k}: {v}"));
                }
                self.flow_collection(parts, '{', '}', col, multi)
            }
            Y::Seq(items) => {
                let parts = items
                    .iter()
                    .map(|v| self.flow(v, col + self.step, false))
                    .collect();
                self.flow_collection(parts, '[', ']', col, multi)
            }
            _ => self.flow_scalar(y, Ctx::Flow),
        }
    }

    fn flow_collection(
        &mut self,
        parts: Vec<String>,
        open: char,
        close: char,
        col: usize,
        multi: bool,
    ) -> String {
        if parts.is_empty() {
            return format!("{open}{close}");
        }
        if !multi || !self.one_in(3) {
            let trailing = if self.one_in(8) {
                self.use_("flow:trailing-comma");
                ","
            } else {
                ""
            };
            return format!("{open}{}{trailing}{close}", parts.join(", "));
        }
        // On several lines: items indented under the key, comments between them, the
        // closing bracket indented or (switch) at the key's own column.
        self.use_("flow:multi-line");
        let mut out = String::new();
        out.push(open);
        out.push('\n');
        let n = parts.len();
        for (i, p) in parts.into_iter().enumerate() {
            out.push_str(&pad(col + self.step));
            out.push_str(&p);
            if i + 1 < n {
                out.push(',');
            }
            if self.one_in(4) {
                self.use_("comment:in-flow");
                out.push_str(" # cmt in flow");
            }
            out.push('\n');
        }
        let top = std::mem::take(&mut self.top);
        let close_col = if top {
            col
        } else if self.feats().on("flow-close-at-key-indent") && self.one_in(2) {
            self.use_("flow:close-at-key-indent");
            col
        } else {
            col + 1
        };
        out.push_str(&pad(close_col));
        out.push(close);
        out
    }

    fn key_text(&mut self, k: &K, ctx: Ctx) -> String {
        match k {
            K::Merge => {
                self.use_("merge");
                "<<".to_owned()
            }
            K::StrTagMerge => "!!str <<".to_owned(),
            K::QuotedMerge => "\"<<\"".to_owned(),
            K::Name(n) => {
                if plain_ok(n, ctx, self.g.feats) && !self.one_in(10) {
                    n.clone()
                } else if self.one_in(2) {
                    self.use_("key:single");
                    format!("'{}'", n.replace('\'', "''"))
                } else {
                    self.use_("key:double");
                    double_quoted(n)
                }
            }
        }
    }

    /// The text after `key:` for a scalar value at key column `col` (starts with the
    /// separator; may span lines; ends without a line break unless a block scalar).
    fn block_scalar_value(&mut self, y: &Y, col: usize, in_seq: bool) -> String {
        let sep = if !in_seq && self.feats().on("tab-after-colon") && self.one_in(80) {
            self.use_("tab-after-colon");
            "\t"
        } else {
            " "
        };
        if let Y::Str(v) | Y::Block(v) = y {
            let block = matches!(y, Y::Block(_));
            if let Some((lines, chomp)) = literal_lines(v)
                && (block || self.one_in(3))
            {
                if block {
                    self.use_("scalar:forced-block");
                }
                let folded = !v.contains('\n') || (lines.len() == 1 && self.one_in(2));
                let folded = folded && self.one_in(2);
                let ind = if !in_seq && self.one_in(5) {
                    self.use_("scalar:block-indent-indicator");
                    "2"
                } else {
                    ""
                };
                self.use_(if folded {
                    "scalar:folded"
                } else {
                    "scalar:literal"
                });
                let mut out = format!("{sep}{}{ind}{chomp}", if folded { '>' } else { '|' });
                if self.one_in(6) {
                    self.use_("comment:after-block-indicator");
                    out.push_str(" # cmt block");
                }
                out.push('\n');
                let content = col + 2;
                if folded {
                    // One line per word: folding joins them with spaces.
                    let words: Vec<&str> = lines[0].split(' ').collect();
                    if words.iter().all(|w| !w.is_empty()) {
                        for w in words {
                            out.push_str(&pad(content));
                            out.push_str(w);
                            out.push('\n');
                        }
                    } else {
                        out.push_str(&pad(content));
                        out.push_str(lines[0]);
                        out.push('\n');
                    }
                } else {
                    for l in &lines {
                        out.push_str(&pad(content));
                        out.push_str(l);
                        out.push('\n');
                    }
                }
                if chomp == "+" {
                    out.push('\n');
                    self.kept_lines = true;
                }
                return out;
            }
            // A double-quoted scalar folded over two lines.
            if let Some(sp) = v.find(' ')
                && sp > 0
                && !v[sp + 1..].starts_with(' ')
                && !v[..sp].ends_with(' ')
                && !v.contains(['\n', '\t', '"', '\\'])
                && !v[sp + 1..].is_empty()
                && !in_seq
                && self.one_in(5)
            {
                let low = self.feats().on("dq-continuation-low") && self.one_in(2);
                self.use_(if low {
                    "scalar:dq-continuation-low"
                } else {
                    "scalar:dq-multi-line"
                });
                let cont = if low { col } else { col + 2 };
                return format!("{sep}\"{}\n{}{}\"", &v[..sp], pad(cont), &v[sp + 1..]);
            }
        }
        format!("{sep}{}", self.flow_scalar(y, Ctx::Block))
    }

    fn trailing_comment(&mut self) -> &'static str {
        if self.one_in(10) {
            self.use_("comment:after-value");
            " # cmt note"
        } else if self.one_in(12) {
            self.use_("trailing-space");
            "  "
        } else {
            ""
        }
    }

    /// A block mapping whose keys sit at `col`; each line ends with a line break.
    fn block_map(&mut self, entries: &[(K, Y)], col: usize, out: &mut String) {
        for (i, (k, v)) in entries.iter().enumerate() {
            // Blank lines between keys, as templates leave them (not after a block
            // scalar that keeps its trailing lines: they would join its value).
            if i > 0 && !std::mem::take(&mut self.kept_lines) && self.one_in(10) {
                self.use_("blank-line");
                // Spaces beyond a block scalar's indentation would be its content.
                let spaces = if self.one_in(2) { 0 } else { col };
                out.push_str(&pad(spaces));
                out.push('\n');
            }
            if i > 0 && self.one_in(12) {
                self.use_("comment:between-keys");
                out.push_str(&format!("{}# cmt about the next key\n", pad(col)));
            }
            out.push_str(&pad(col));
            let kt = self.key_text(k, Ctx::Block);
            out.push_str(&kt);
            out.push(':');
            self.block_value(v, col, out);
        }
    }

    /// The value after `key:` (key at column `col`), through its final line break.
    fn block_value(&mut self, v: &Y, col: usize, out: &mut String) {
        let (anchor, inner) = match v {
            Y::Anchor(name, inner) => (Some(name.clone()), inner.as_ref()),
            other => (None, other),
        };
        if let Some(a) = &anchor {
            self.use_("anchor");
            out.push_str(&format!(" &{a}"));
        }
        match inner {
            Y::Alias(name, _) => {
                self.use_("alias");
                out.push_str(&format!(" *{name}"));
                let c = self.trailing_comment();
                out.push_str(c);
                out.push('\n');
            }
            Y::Map(e) if e.is_empty() => out.push_str(" {}\n"),
            Y::Seq(items) if items.is_empty() => {
                self.use_("field:flow-empty");
                out.push_str(" []\n");
            }
            Y::Map(_) | Y::Seq(_) if self.one_in(6) => {
                self.use_("style:flow-in-block");
                let f = self.flow(inner, col, true);
                out.push(' ');
                out.push_str(&f);
                out.push('\n');
            }
            Y::Map(e) => {
                if self.one_in(10) {
                    self.use_("comment:after-key");
                    out.push_str(" # cmt the map");
                }
                out.push('\n');
                let step = if self.one_in(10) {
                    self.use_("indent:odd-nested");
                    self.dice().pick(&[1, 3, 5])
                } else {
                    self.step
                };
                self.block_map(e, col + step, out);
            }
            Y::Seq(items) => {
                if self.one_in(10) {
                    self.use_("comment:after-key");
                    out.push_str(" # cmt the list");
                }
                out.push('\n');
                let at = if self.one_in(2) {
                    self.use_("seq:unindented");
                    col
                } else {
                    col + self.step
                };
                self.block_seq(items, at, out);
            }
            Y::Null if anchor.is_none() && self.one_in(2) => {
                self.use_("field:empty-value");
                out.push('\n');
            }
            scalar => {
                let text = self.block_scalar_value(scalar, col, false);
                out.push_str(&text);
                if !text.ends_with('\n') {
                    let c = self.trailing_comment();
                    out.push_str(c);
                    out.push('\n');
                }
            }
        }
    }

    /// A block sequence with its dashes at `col`.
    fn block_seq(&mut self, items: &[Y], col: usize, out: &mut String) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 && self.one_in(10) {
                self.use_("comment:between-items");
                out.push_str(&format!("{}# cmt next item\n", pad(col)));
            }
            let (anchor, inner) = match item {
                Y::Anchor(name, inner) => (Some(name.clone()), inner.as_ref()),
                other => (None, other),
            };
            out.push_str(&pad(col));
            out.push('-');
            if let Some(a) = &anchor {
                self.use_("anchor");
                out.push_str(&format!(" &{a}"));
            }
            match inner {
                Y::Map(e) if !e.is_empty() && !self.one_in(8) => {
                    let comment = self.feats().on("comment-after-dash") && self.one_in(10);
                    if anchor.is_some() || comment {
                        if comment {
                            self.use_("comment:after-dash");
                            out.push_str(" # cmt item");
                        }
                        out.push('\n');
                        self.block_map(e, col + 2, out);
                    } else {
                        let mut inner_text = String::new();
                        self.block_map(e, col + 2, &mut inner_text);
                        out.push(' ');
                        out.push_str(&inner_text[col + 2..]);
                    }
                }
                Y::Map(_) | Y::Seq(_) => {
                    let f = self.flow(inner, col, false);
                    out.push(' ');
                    out.push_str(&f);
                    out.push('\n');
                }
                Y::Alias(name, _) => {
                    self.use_("alias");
                    out.push_str(&format!(" *{name}\n"));
                }
                scalar => {
                    let text = self.block_scalar_value(scalar, col, true);
                    out.push_str(&text);
                    if !text.ends_with('\n') {
                        out.push('\n');
                    }
                }
            }
        }
    }
}

/// Generates a stream from `data` with `feats`.
pub fn generate(data: &[u8], feats: &Features) -> Stream {
    let mut dice = Dice::new(data);
    let mut g = Gen {
        dice: &mut dice,
        feats,
        used: BTreeSet::new(),
        anchors: 0,
    };
    let n = 1 + g.dice.below(5);
    let docs: Vec<Doc> = (0..n).map(|i| g.document(i)).collect();
    let mut text = String::new();
    let bom = g.dice.one_in(16);
    let crlf = g.dice.one_in(6);
    // go-yaml refuses a document that is only `...`: the marker follows content only.
    let mut after_content = false;
    for (i, d) in docs.iter().enumerate() {
        if i > 0 || g.dice.one_in(2) {
            if after_content && g.dice.one_in(8) {
                g.use_("marker:document-end");
                text.push_str("...\n");
            }
            if g.dice.one_in(5) {
                g.use_("comment:after-separator");
                text.push_str("--- # cmt next\n");
            } else {
                if g.dice.one_in(10) {
                    g.use_("marker:trailing-space");
                    text.push_str("---  \n");
                } else {
                    text.push_str("---\n");
                }
            }
        }
        if g.dice.one_in(3) {
            g.use_("comment:document-start");
            text.push_str(&format!("# cmt Source: chart/templates/doc-{i}.yaml\n"));
        }
        after_content = d.model.is_some();
        let Some(model) = &d.model else {
            g.use_("document:empty");
            if g.dice.one_in(2) {
                text.push_str("# cmt nothing here\n");
            }
            continue;
        };
        let style = if model_has_anchors(model) {
            g.dice.below(8)
        } else {
            g.dice.below(10)
        };
        match style {
            0..=6 => {
                let step = g.dice.pick(&[2, 2, 4, 3]);
                g.use_(match step {
                    2 => "indent:2",
                    3 => "indent:3",
                    _ => "indent:4",
                });
                g.use_("style:block");
                let mut r = Render {
                    g: &mut g,
                    step,
                    top: false,
                    kept_lines: false,
                };
                let Y::Map(e) = model else {
                    unreachable!("documents are mappings")
                };
                r.block_map(e, 0, &mut text);
            }
            7 => {
                g.use_("style:flow");
                let mut r = Render {
                    g: &mut g,
                    step: 2,
                    top: true,
                    kept_lines: false,
                };
                let f = r.flow(model, 0, true);
                text.push_str(&f);
                text.push('\n');
            }
            _ => {
                let json = model.to_json();
                if g.feats.on("pretty-json") && g.dice.one_in(2) {
                    g.use_("style:pretty-json");
                    let wide = g.dice.one_in(2);
                    let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
                    for line in pretty.lines() {
                        let body = line.trim_start_matches(' ');
                        let depth = line.len() - body.len();
                        // JSON strings hold no raw line breaks: every line starts a value.
                        text.push_str(&pad(if wide { depth * 2 } else { depth }));
                        text.push_str(body);
                        text.push('\n');
                    }
                    text.pop();
                } else {
                    g.use_("style:json");
                    text.push_str(&json.to_string());
                }
                text.push('\n');
            }
        }
        if g.dice.one_in(8) {
            g.use_("comment:document-end");
            text.push_str("# cmt end of document\n");
        }
    }
    if after_content && g.dice.one_in(8) {
        g.use_("marker:document-end");
        text.push_str("...\n");
    }
    if crlf {
        g.use_("crlf");
        text = text.replace('\n', "\r\n");
    }
    if bom {
        g.use_("bom");
        text.insert(0, '\u{feff}');
    }
    Stream {
        text,
        docs,
        used: g.used,
    }
}

fn model_has_anchors(y: &Y) -> bool {
    match y {
        Y::Anchor(..) | Y::Alias(..) => true,
        Y::Map(e) => e
            .iter()
            .any(|(k, v)| !matches!(k, K::Name(_)) || model_has_anchors(v)),
        Y::Seq(items) => items.iter().any(model_has_anchors),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Option sets and what each asks for, read from the README (not from the tool).

/// Stands for the path of `testdata/pki/corp-root.pem` in [`OPTION_SETS`].
pub const CA_FILE: &str = "@CA_FILE@";

/// A realistic set of options: flag names (without `--`) and values.
#[derive(Clone, Copy, Debug)]
pub struct OptSet {
    pub name: &'static str,
    pub flags: &'static [(&'static str, &'static str)],
}

/// The option sets runs pick from.
pub const OPTION_SETS: &[OptSet] = &[
    OptSet {
        name: "configmap",
        flags: &[("configmap", "corp-ca")],
    },
    OptSet {
        name: "configmap-complete",
        flags: &[("configmap", "corp-ca"), ("complete-bundle", "true")],
    },
    OptSet {
        name: "secret",
        flags: &[("secret", "corp-secret"), ("key", "k.pem")],
    },
    OptSet {
        name: "ca-file",
        flags: &[("ca-file", CA_FILE)],
    },
    OptSet {
        name: "ca-file-no-public-roots",
        flags: &[("ca-file", CA_FILE), ("public-roots", "none")],
    },
    OptSet {
        name: "mount-path",
        flags: &[("configmap", "corp-ca"), ("mount-path", "/other")],
    },
    OptSet {
        name: "configmap-merge",
        flags: &[("configmap", "corp-ca"), ("merge-at-start", "true")],
    },
    OptSet {
        name: "secret-merge",
        flags: &[
            ("secret", "corp-secret"),
            ("key", "k.pem"),
            ("merge-at-start", "true"),
        ],
    },
    OptSet {
        name: "ctb-merge",
        flags: &[
            ("cluster-trust-bundle", "corp-ctb"),
            ("merge-at-start", "true"),
        ],
    },
    OptSet {
        name: "signer",
        flags: &[("signer-name", "example.com/corp")],
    },
    OptSet {
        name: "signer-merge",
        flags: &[
            ("signer-name", "example.com/corp"),
            ("merge-at-start", "true"),
        ],
    },
    OptSet {
        name: "configmap-key",
        flags: &[("configmap", "corp-ca"), ("key", "other.pem")],
    },
    OptSet {
        name: "volume-name",
        flags: &[("configmap", "corp-ca"), ("volume-name", "corp-trust")],
    },
    OptSet {
        name: "exclude-container",
        flags: &[
            ("configmap", "corp-ca"),
            ("complete-bundle", "true"),
            ("exclude-container", "c1"),
        ],
    },
    OptSet {
        name: "proxy",
        flags: &[
            ("configmap", "corp-ca"),
            ("proxy", "http://proxy.corp:3128"),
            ("no-proxy", ".corp.example"),
        ],
    },
    OptSet {
        name: "ca-file-proxy",
        flags: &[("ca-file", CA_FILE), ("proxy", "http://proxy.corp:3128")],
    },
    OptSet {
        name: "merge-proxy",
        flags: &[
            ("configmap", "corp-ca"),
            ("merge-at-start", "true"),
            ("proxy", "http://proxy.corp:3128"),
        ],
    },
    OptSet {
        name: "complete-override-env",
        flags: &[
            ("configmap", "corp-ca"),
            ("complete-bundle", "true"),
            ("override-env", "true"),
        ],
    },
];

/// The option set to use for choice `i`: the one at `i`, unless a switch turned it off
/// (then the first).
pub fn option_set(feats: &Features, i: usize) -> usize {
    let i = i % OPTION_SETS.len();
    let overrides = OPTION_SETS[i]
        .flags
        .iter()
        .any(|(f, _)| *f == "override-env");
    if overrides && !feats.on("override-env-rerun") {
        0
    } else {
        i
    }
}

/// Whether `run(b, run(a, x))` must read as `run(b, x)`: not when `a` overwrote the chart's
/// own variables (`--override-env`: their values cannot be given back) or mounted the
/// directory at another `--mount-path` (not recognised when no variable of the tool points
/// into it); README "Re-runs".
pub fn converges(a: &OptSet) -> bool {
    a.flag("override-env").is_none() && a.flag("mount-path").is_none()
}

/// The README's deliberate refusals, by a phrase of their message: a different volume
/// named like ours, and a generated bundle that would replace an object of the stream.
pub const DOCUMENTED_REFUSALS: &[&str] = &["different volume named", "would generate another"];

/// What the convergence check compares: the documents without the generated bundles of
/// an earlier run when `b` generates none (README "Re-runs": unused, and left), and with
/// null-valued keys dropped (Kubernetes reads a null field as an absent one), and keys
/// holding an empty list or map (read as absent too: a chart's `env: []` that a re-run
/// empties again may come back as `[]` or null).
pub fn convergence_view(docs: &[Value], b: &OptSet) -> Vec<Value> {
    fn drop_nulls(v: &Value) -> Value {
        let empty = |v: &Value| match v {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(m) => m.is_empty(),
            _ => false,
        };
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, v)| !empty(v))
                    .map(|(k, v)| (k.clone(), drop_nulls(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(drop_nulls).collect()),
            other => other.clone(),
        }
    }
    let generates = b.flag("ca-file").is_some();
    docs.iter()
        .filter(|d| generates || !generated(d))
        .map(drop_nulls)
        .collect()
}

/// The injection-related environment variables, for stripping.
pub const TOOL_ENV: &[&str] = &[
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "AWS_CA_BUNDLE",
    "PIP_CERT",
    "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
    "JAVA_TOOL_OPTIONS",
];
const REPLACING_ENV: &[&str] = &[
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "AWS_CA_BUNDLE",
    "PIP_CERT",
    "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
];
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];
const VOLUME: &str = "trust-bundle";
/// The proxy's variables (README "Egress proxy"), besides its JAVA_TOOL_OPTIONS part.
const PROXY_ENV: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "NODE_USE_ENV_PROXY",
];
const MERGE_CONTAINER: &str = "trust-bundle-merge";
const MERGE_SOURCE: &str = "trust-bundle-source";
const HASH_ANNOTATION: &str = "trust-inject.dev/bundle-sha256";
const INJECTED_ANNOTATION: &str = "trust-inject.dev/injected";
const GENERATED_ANNOTATION: &str = "trust-inject.dev/generated";
const SKIP_ANNOTATION: &str = "trust-inject.dev/skip";

/// What an option set asks for.
#[derive(Clone, Debug)]
pub struct Expect {
    /// `configMap` or `secret`, and the object's name.
    pub source: (&'static str, String),
    pub key: String,
    pub complete: bool,
    pub generated: bool,
    /// `--merge-at-start`: an init container writes the generated layout into an emptyDir.
    pub merge: bool,
    pub override_env: bool,
    pub mount_path: String,
    /// `--volume-name`.
    pub volume: String,
    /// `--proxy`: the proxy's variables in every container the CA reaches.
    pub proxy: bool,
    /// `--exclude-container`: the one container name left alone.
    pub exclude: Option<String>,
}

impl OptSet {
    fn flag(&self, name: &str) -> Option<&'static str> {
        self.flags.iter().find(|(f, _)| *f == name).map(|(_, v)| *v)
    }

    /// What the README promises for these options.
    pub fn expect(&self) -> Expect {
        let generated = self.flag("ca-file").is_some();
        let merge = self.flag("merge-at-start") == Some("true");
        let source = match (
            self.flag("configmap"),
            self.flag("secret"),
            self.flag("cluster-trust-bundle"),
            self.flag("signer-name"),
        ) {
            (Some(n), ..) => ("configMap", n.to_owned()),
            (None, Some(n), ..) => ("secret", n.to_owned()),
            (None, None, Some(n), _) => ("clusterTrustBundle", n.to_owned()),
            (None, None, None, Some(n)) => ("signer", n.to_owned()),
            (None, None, None, None) => ("configMap", GENERATED_NAME.to_owned()),
        };
        Expect {
            source,
            key: self.flag("key").unwrap_or("ca.crt").to_owned(),
            complete: if generated || merge {
                self.flag("public-roots") != Some("none")
            } else {
                self.flag("complete-bundle") == Some("true")
            },
            generated,
            merge,
            override_env: self.flag("override-env") == Some("true"),
            mount_path: self
                .flag("mount-path")
                .unwrap_or("/etc/trust-inject")
                .to_owned(),
            volume: self.flag("volume-name").unwrap_or(VOLUME).to_owned(),
            proxy: self.flag("proxy").is_some(),
            exclude: self.flag("exclude-container").map(str::to_owned),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The checks.

fn at<'v>(v: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get(*k),
        Seg::Index(i) => v.get(*i),
    })
}

fn at_mut<'v>(v: &'v mut Value, path: &[Seg]) -> Option<&'v mut Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(*k),
        Seg::Index(i) => v.get_mut(*i),
    })
}

fn str_of<'v>(v: Option<&'v Value>, keys: &[&str]) -> Option<&'v str> {
    keys.iter().try_fold(v?, |v, k| v.get(*k))?.as_str()
}

fn items(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn is_within(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir || dir.is_empty() || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

fn generated(v: &Value) -> bool {
    str_of(Some(v), &["metadata", "annotations", GENERATED_ANNOTATION]) == Some("true")
}

fn describe(v: &Value) -> String {
    format!(
        "{} {}",
        str_of(Some(v), &["kind"]).unwrap_or("?"),
        str_of(Some(v), &["metadata", "name"]).unwrap_or("?")
    )
}

/// The container lists of a PodSpec the tool injects.
fn container_lists(is_pod: bool) -> &'static [&'static str] {
    if is_pod {
        &["containers", "initContainers", "ephemeralContainers"]
    } else {
        &["containers", "initContainers"]
    }
}

/// Whether a pod can only run on Windows nodes: `spec.os.name`, the OS node label (or
/// its deprecated beta form) in `nodeSelector`, or a required node affinity every term of
/// which asks for Windows.
fn windows_only(spec: Option<&Value>) -> bool {
    const LABELS: &[&str] = &["kubernetes.io/os", "beta.kubernetes.io/os"];
    let selector = LABELS
        .iter()
        .any(|l| str_of(spec, &["nodeSelector", l]) == Some("windows"));
    let terms = items(spec.and_then(|s| {
        s.pointer("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
    }));
    let affinity = !terms.is_empty()
        && terms.iter().all(|t| {
            items(t.get("matchExpressions")).iter().any(|e| {
                LABELS.contains(&str_of(Some(e), &["key"]).unwrap_or(""))
                    && str_of(Some(e), &["operator"]) == Some("In")
                    && !items(e.get("values")).is_empty()
                    && items(e.get("values"))
                        .iter()
                        .all(|v| v.as_str() == Some("windows"))
            })
        });
    selector || affinity || str_of(spec, &["os", "name"]) == Some("windows")
}

/// Whether a PodSpec is left alone: the skip annotation on its object, a Windows pod, or
/// no container.
fn left_alone(doc: &Value, loc: &SpecLoc) -> bool {
    let obj = at(doc, &loc.object);
    let spec = at(doc, &loc.spec);
    str_of(obj, &["metadata", "annotations", SKIP_ANNOTATION]) == Some("true")
        || windows_only(spec)
        || container_lists(loc.is_pod)
            .iter()
            .all(|l| items(spec.and_then(|s| s.get(*l))).is_empty())
}

/// Removes from a PodSpec of the output what the tool may add, given the input's PodSpec:
/// our volume and mounts (unless the input had them), the tool's variables (the input's
/// entry comes back when it had one), and lists that became empty.
fn remove_injection(out: &mut Value, inp: Option<&Value>, volume: &str) {
    fn restore_empty(m: &mut Map<String, Value>, im: Option<&Value>, key: &str) {
        if !matches!(m.get(key), Some(Value::Array(a)) if a.is_empty()) {
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
    let Value::Object(m) = out else { return };
    let had_volume = items(inp.and_then(|i| i.get("volumes")))
        .iter()
        .any(|v| str_of(Some(v), &["name"]) == Some(volume));
    if !had_volume && let Some(Value::Array(vs)) = m.get_mut("volumes") {
        vs.retain(|v| str_of(Some(v), &["name"]) != Some(volume));
    }
    // An earlier run's volume may change its source (an emptyDir under the start-up merge):
    // it reads back as the input's.
    let in_volume = items(inp.and_then(|i| i.get("volumes")))
        .iter()
        .find(|v| str_of(Some(v), &["name"]) == Some(volume));
    if let (Some(iv), Some(Value::Array(vs))) = (in_volume, m.get_mut("volumes")) {
        for v in vs.iter_mut() {
            if str_of(Some(v), &["name"]) == Some(volume) {
                *v = iv.clone();
            }
        }
    }
    restore_empty(m, inp, "volumes");
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(Value::Array(cs)) = m.get_mut(list) else {
            continue;
        };
        let ics = items(inp.and_then(|i| i.get(list)));
        for (j, c) in cs.iter_mut().enumerate() {
            let ic = ics.get(j);
            let Value::Object(c) = c else { continue };
            let in_mounts = items(ic.and_then(|c| c.get("volumeMounts")));
            if let Some(Value::Array(ms)) = c.get_mut("volumeMounts") {
                ms.retain(|x| str_of(Some(x), &["name"]) != Some(volume) || in_mounts.contains(x));
            }
            restore_empty(c, ic, "volumeMounts");
            let in_env = items(ic.and_then(|c| c.get("env")));
            if let Some(Value::Array(env)) = c.get_mut("env") {
                let mut kept = Vec::new();
                for e in env.drain(..) {
                    let name = str_of(Some(&e), &["name"]).unwrap_or_default().to_owned();
                    if !TOOL_ENV.contains(&name.as_str()) && !PROXY_ENV.contains(&name.as_str()) {
                        kept.push(e);
                    } else if let Some(orig) = in_env
                        .iter()
                        .find(|x| str_of(Some(x), &["name"]) == Some(&name))
                    {
                        kept.push(orig.clone());
                    }
                }
                *env = kept;
            }
            restore_empty(c, ic, "env");
        }
    }
}

/// Removes the bundle hash annotation (and parents that became empty) from pod template
/// metadata `out`, given the input's.
fn remove_annotation(parent: &mut Value, inp_parent: Option<&Value>, key: &str) {
    let inp = inp_parent.and_then(|p| p.get(key));
    let Some(Value::Object(meta)) = parent.get_mut(key) else {
        return;
    };
    let in_ann = inp.and_then(|m| m.get("annotations"));
    if let Some(Value::Object(ann)) = meta.get_mut("annotations") {
        for key in [HASH_ANNOTATION, INJECTED_ANNOTATION] {
            if in_ann.and_then(|a| a.get(key)).is_none() {
                ann.remove(key);
            }
        }
        if ann.is_empty() {
            match in_ann {
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
    if meta.is_empty() {
        match inp {
            None => {
                if let Value::Object(p) = parent {
                    p.remove(key);
                }
            }
            Some(Value::Null) => {
                if let Value::Object(p) = parent {
                    p.insert(key.to_owned(), Value::Null);
                }
            }
            Some(_) => {}
        }
    }
}

/// Whether the file `path` comes from our volume in container `c`, and which key it is.
fn served_key(c: &Value, volume: &str, path: &str, keys: &BTreeSet<String>) -> Option<String> {
    items(c.get("volumeMounts")).iter().find_map(|m| {
        if str_of(Some(m), &["name"]) != Some(volume) {
            return None;
        }
        let mp = str_of(Some(m), &["mountPath"])?;
        match str_of(Some(m), &["subPath"]) {
            Some(sp) => (mp == path && keys.contains(sp)).then(|| sp.to_owned()),
            None => {
                let k = path.strip_prefix(mp)?.strip_prefix('/')?;
                keys.contains(k).then(|| k.to_owned())
            }
        }
    })
}

/// The rules an injection can break, for one PodSpec: unique volume names, unique
/// mountPaths per container, every mount names a volume, relative subPaths without `..`,
/// unique env names per container.
pub fn pod_spec_rules(spec: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let vols: Vec<&str> = items(spec.get("volumes"))
        .iter()
        .filter_map(|v| str_of(Some(v), &["name"]))
        .collect();
    let unique: BTreeSet<&str> = vols.iter().copied().collect();
    if unique.len() != vols.len() {
        problems.push(format!("volume names repeat: {vols:?}"));
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for (j, c) in items(spec.get(list)).iter().enumerate() {
            let cname = format!("{list}[{j}]");
            let mounts = items(c.get("volumeMounts"));
            let paths: Vec<&str> = mounts
                .iter()
                .filter_map(|m| str_of(Some(m), &["mountPath"]))
                .collect();
            if paths.iter().collect::<BTreeSet<_>>().len() != paths.len() {
                problems.push(format!("{cname}: mountPaths repeat: {paths:?}"));
            }
            for m in mounts {
                let name = str_of(Some(m), &["name"]).unwrap_or("");
                if !unique.contains(name) {
                    problems.push(format!(
                        "{cname}: mount of volume {name:?}, which the pod lacks"
                    ));
                }
                if let Some(sp) = str_of(Some(m), &["subPath"])
                    && (sp.starts_with('/') || sp.split('/').any(|p| p == ".."))
                {
                    problems.push(format!("{cname}: subPath {sp:?} is not a relative path"));
                }
            }
            let names: Vec<&str> = items(c.get("env"))
                .iter()
                .filter_map(|e| str_of(Some(e), &["name"]))
                .collect();
            if names.iter().collect::<BTreeSet<_>>().len() != names.len() {
                problems.push(format!("{cname}: env names repeat: {names:?}"));
            }
        }
    }
    problems
}

/// Whether the volume `v` (named `name`) reads the source the options name.
fn check_source(v: &Value, name: &str, ex: &Expect, problems: &mut Vec<String>) {
    let (kind, want) = &ex.source;
    let got = match *kind {
        "secret" => str_of(Some(v), &["secret", "secretName"]),
        "configMap" => str_of(Some(v), &["configMap", "name"]),
        _ => {
            let field = if *kind == "signer" {
                "signerName"
            } else {
                "name"
            };
            items(v.pointer("/projected/sources"))
                .first()
                .and_then(|s| str_of(Some(s), &["clusterTrustBundle", field]))
        }
    };
    if got != Some(want.as_str()) {
        problems.push(format!("volume {name} is {v}, expected {kind} {want}"));
    }
}

/// With `--merge-at-start`: checks that the merge init container comes first and the source
/// volume is there, and takes the container (and the source volume when `source`) out of
/// `spec` when the input had none, so that the rest is checked like any injection.
fn take_merge_out(spec: &mut Value, in_spec: &Value, source: bool, problems: &mut Vec<String>) {
    let had = |list: &str, name: &str| {
        items(in_spec.get(list))
            .iter()
            .any(|v| str_of(Some(v), &["name"]) == Some(name))
    };
    if !had("initContainers", MERGE_CONTAINER) {
        let first = items(spec.get("initContainers"))
            .first()
            .and_then(|c| str_of(Some(c), &["name"]));
        if first != Some(MERGE_CONTAINER) {
            problems.push(format!(
                "initContainers: {MERGE_CONTAINER} is not first (first: {first:?})"
            ));
        }
        if let Some(Value::Array(cs)) = spec.get_mut("initContainers") {
            cs.retain(|c| str_of(Some(c), &["name"]) != Some(MERGE_CONTAINER));
            if cs.is_empty() {
                match in_spec.get("initContainers") {
                    None => {
                        spec.as_object_mut().map(|m| m.remove("initContainers"));
                    }
                    Some(Value::Null) => {
                        spec.as_object_mut()
                            .map(|m| m.insert("initContainers".into(), Value::Null));
                    }
                    Some(_) => {}
                }
            }
        }
    }
    if source
        && !had("volumes", MERGE_SOURCE)
        && let Some(Value::Array(vs)) = spec.get_mut("volumes")
    {
        vs.retain(|v| str_of(Some(v), &["name"]) != Some(MERGE_SOURCE));
    }
}

/// What the run should have injected into one PodSpec, checked against the output.
fn check_injected(
    out_spec: &Value,
    in_spec: &Value,
    is_pod: bool,
    ex: &Expect,
    keys: &BTreeSet<String>,
    problems: &mut Vec<String>,
) {
    let vols: Vec<&Value> = items(out_spec.get("volumes"))
        .iter()
        .filter(|v| str_of(Some(v), &["name"]) == Some(ex.volume.as_str()))
        .collect();
    match vols.as_slice() {
        [v] if ex.merge => {
            if v.get("emptyDir").is_none() {
                problems.push(format!("volume {} is {v}, expected an emptyDir", ex.volume));
            }
        }
        [v] => check_source(v, &ex.volume, ex, problems),
        other => problems.push(format!("{} volumes named {}", other.len(), ex.volume)),
    }
    if ex.merge {
        let sources: Vec<&Value> = items(out_spec.get("volumes"))
            .iter()
            .filter(|v| str_of(Some(v), &["name"]) == Some(MERGE_SOURCE))
            .collect();
        match sources.as_slice() {
            [v] => check_source(v, MERGE_SOURCE, ex, problems),
            other => problems.push(format!("{} volumes named {MERGE_SOURCE}", other.len())),
        }
    }
    let extra_key = if ex.merge { "ca.crt" } else { ex.key.as_str() };
    let mut want_files: Vec<(String, String)> = vec![(
        "/etc/ssl/certs/trust-inject-ca.crt".into(),
        extra_key.to_owned(),
    )];
    if ex.generated {
        want_files.extend(
            keys.iter()
                .filter(|k| k.ends_with(".0"))
                .map(|k| (format!("/etc/ssl/certs/{k}"), k.clone())),
        );
    }
    if ex.complete {
        let k = if ex.generated || ex.merge {
            "ca-bundle.crt"
        } else {
            &ex.key
        };
        want_files.extend(
            SYSTEM_BUNDLES
                .iter()
                .map(|p| ((*p).to_owned(), k.to_owned())),
        );
    }
    let mut want_env: Vec<&str> = vec!["NODE_EXTRA_CA_CERTS"];
    if ex.complete {
        want_env.extend(REPLACING_ENV);
        if ex.generated || ex.merge {
            want_env.push("JAVA_TOOL_OPTIONS");
        }
    }
    for list in container_lists(is_pod) {
        let ins = items(in_spec.get(*list));
        for (j, c) in items(out_spec.get(*list)).iter().enumerate() {
            let cname = format!("{list}[{j}]");
            let ic = ins.get(j).unwrap_or(&Value::Null);
            // A container matching --exclude-container gets nothing.
            if ex.exclude.is_some() && str_of(Some(c), &["name"]) == ex.exclude.as_deref() {
                if c != ic {
                    problems.push(format!("{cname}: excluded, yet it changed"));
                }
                continue;
            }
            let in_paths: Vec<&str> = items(ic.get("volumeMounts"))
                .iter()
                .filter_map(|m| str_of(Some(m), &["mountPath"]))
                .collect();
            let out_mounts = items(c.get("volumeMounts"));
            let mut wants: Vec<(String, Option<String>)> = vec![(ex.mount_path.clone(), None)];
            if *list != "ephemeralContainers" {
                wants.extend(want_files.iter().map(|(p, k)| (p.clone(), Some(k.clone()))));
            }
            for (path, sub) in wants {
                if in_paths.iter().any(|d| is_within(&path, d)) {
                    continue; // the chart's mount wins
                }
                let ours: Vec<&Value> = out_mounts
                    .iter()
                    .filter(|m| str_of(Some(m), &["mountPath"]) == Some(path.as_str()))
                    .collect();
                let ok = matches!(ours.as_slice(), [m]
                    if str_of(Some(m), &["name"]) == Some(ex.volume.as_str())
                        && str_of(Some(m), &["subPath"]) == sub.as_deref());
                if !ok {
                    problems.push(format!(
                        "{cname}: expected one mount of {} at {path} (subPath {sub:?}), found {ours:?}",
                        ex.volume
                    ));
                }
            }
            let in_env = items(ic.get("env"));
            let out_env = items(c.get("env"));
            // The proxy's variables, unless the container sets them itself.
            if ex.proxy {
                for name in PROXY_ENV {
                    let user = items(ic.get("env"))
                        .iter()
                        .any(|x| str_of(Some(x), &["name"]) == Some(name));
                    let n = items(c.get("env"))
                        .iter()
                        .filter(|e| str_of(Some(e), &["name"]) == Some(name))
                        .count();
                    if !user && n != 1 {
                        problems.push(format!("{cname}: {n} entries named {name}"));
                    }
                }
            }
            for name in &want_env {
                let named: Vec<&Value> = out_env
                    .iter()
                    .filter(|e| str_of(Some(e), &["name"]) == Some(name))
                    .collect();
                // Every variable names a file in the bundle directory: without that mount
                // (the chart mounts over it) the variable may be left out, and the chart's
                // own stays as it is even with --override-env (README: a variable is only
                // set when a mount of the bundle provides the file it names).
                let dir_kept = in_paths.iter().any(|d| is_within(&ex.mount_path, d));
                let user = in_env
                    .iter()
                    .any(|x| str_of(Some(x), &["name"]) == Some(name));
                if dir_kept && (named.is_empty() || user) {
                    continue;
                }
                let [e] = named.as_slice() else {
                    problems.push(format!("{cname}: {} entries named {name}", named.len()));
                    continue;
                };
                if user && (!ex.override_env || *name == "JAVA_TOOL_OPTIONS") {
                    continue; // the chart's value is kept (or appended to)
                }
                let value = str_of(Some(e), &["value"]).unwrap_or_default();
                let file = if *name == "JAVA_TOOL_OPTIONS" {
                    value
                        .split(' ')
                        .find_map(|w| w.strip_prefix("-Djavax.net.ssl.trustStore="))
                        .unwrap_or_default()
                } else {
                    value
                };
                match served_key(c, &ex.volume, file, keys) {
                    Some(k) if *name == "JAVA_TOOL_OPTIONS" && k != "truststore.p12" => problems
                        .push(format!(
                            "{cname}: {name} points at key {k}, not the truststore"
                        )),
                    Some(_) => {}
                    None => problems.push(format!(
                        "{cname}: {name}={value:?} names a file that no mount of {} provides",
                        ex.volume
                    )),
                }
            }
        }
    }
}

/// Checks what a reader sees in the output (`outs`, documents with content) against the
/// input (`ins`) and the generator's PodSpec locations (`specs`, one list per input
/// document with content): every document reads as the input plus exactly the injection,
/// each PodSpec that should be injected is (every container, every mount and variable the
/// options ask for, each variable naming a mounted file), no PodSpec rule is broken, and
/// generated bundles come once per namespace with a matching hash annotation.
pub fn check_output(
    ins: &[Value],
    outs: &[Value],
    specs: &[Vec<SpecLoc>],
    ex: &Expect,
) -> Vec<String> {
    let mut problems = Vec::new();
    let (gen_docs, outs): (Vec<&Value>, Vec<&Value>) = outs.iter().partition(|v| generated(v));
    if ins.len() != outs.len() {
        return vec![format!(
            "{} documents in the input, {} (besides generated ones) in the output",
            ins.len(),
            outs.len()
        )];
    }
    let mut keys: BTreeSet<String> = if ex.merge {
        ["ca.crt", "ca-bundle.crt", "truststore.p12"]
            .map(str::to_owned)
            .into()
    } else {
        BTreeSet::from([ex.key.clone()])
    };
    let mut hashes = BTreeSet::new();
    for g in &gen_docs {
        for field in ["data", "binaryData"] {
            if let Some(Value::Object(m)) = g.get(field) {
                keys.extend(m.keys().cloned());
            }
        }
        hashes.extend(
            str_of(Some(g), &["metadata", "annotations", HASH_ANNOTATION]).map(str::to_owned),
        );
    }
    let mut namespaces = BTreeSet::new();
    for (i, ((inp, out), locs)) in ins.iter().zip(&outs).zip(specs).enumerate() {
        let what = format!("document {} ({})", i + 1, describe(inp));
        let mut doc_problems = Vec::new();
        let mut stripped = (*out).clone();
        for loc in locs {
            let here = format!("{:?}", loc.spec);
            let (Some(in_spec), Some(out_spec)) = (at(inp, &loc.spec), at(out, &loc.spec)) else {
                doc_problems.push(format!("{here}: the PodSpec is missing"));
                continue;
            };
            let mut merged_out = out_spec.clone();
            if pod_spec_rules(in_spec).is_empty() {
                for p in pod_spec_rules(out_spec) {
                    doc_problems.push(format!("{here}: {p}"));
                }
            }
            if left_alone(inp, loc) {
                if at(inp, &loc.object) != at(out, &loc.object) {
                    doc_problems.push(format!("{here}: left alone, yet the object changed"));
                }
                continue;
            }
            let ns = str_of(at(inp, &loc.object), &["metadata", "namespace"]).unwrap_or("");
            namespaces.insert(ns.to_owned());
            let mut probs = Vec::new();
            if ex.merge {
                take_merge_out(&mut merged_out, in_spec, false, &mut probs);
            }
            check_injected(&merged_out, in_spec, loc.is_pod, ex, &keys, &mut probs);
            if ex.generated {
                let h = str_of(at(out, &loc.meta), &["annotations", HASH_ANNOTATION]);
                if h.is_none_or(|h| !hashes.contains(h)) {
                    probs.push(format!("pod template annotation {HASH_ANNOTATION} is {h:?}, the bundle's is {hashes:?}"));
                }
            }
            doc_problems.extend(probs.into_iter().map(|p| format!("{here}: {p}")));
            if let Some(s) = at_mut(&mut stripped, &loc.spec) {
                if ex.merge {
                    take_merge_out(s, in_spec, true, &mut Vec::new());
                }
                remove_injection(s, Some(in_spec), &ex.volume);
            }
            let (parent, key) = loc.meta.split_at(loc.meta.len() - 1);
            if let (Some(p), [Seg::Key(k)]) = (at_mut(&mut stripped, parent), key) {
                remove_annotation(p, at(inp, parent), k);
            }
        }
        if &stripped != inp {
            doc_problems.push(format!(
                "reads differently once the injection is removed:\n  input:    {inp}\n  stripped: {stripped}\n  output:   {out}"
            ));
        }
        problems.extend(doc_problems.into_iter().map(|p| format!("{what}: {p}")));
    }
    // Generated bundles: one per namespace with an injected workload, none without one.
    let gen_ns: Vec<String> = gen_docs
        .iter()
        .map(|g| {
            str_of(Some(g), &["metadata", "namespace"])
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    let want_ns: Vec<String> = if ex.generated {
        namespaces.into_iter().collect()
    } else {
        vec![]
    };
    let mut got_ns = gen_ns.clone();
    got_ns.sort();
    if got_ns != want_ns {
        problems.push(format!(
            "generated bundles in namespaces {gen_ns:?}, expected {want_ns:?}"
        ));
    }
    // Two objects with one identity: the later silently replaces the earlier on apply.
    let identity = |v: &Value| {
        (
            str_of(Some(v), &["kind"]).unwrap_or("").to_owned(),
            str_of(Some(v), &["metadata", "namespace"])
                .unwrap_or("")
                .to_owned(),
            str_of(Some(v), &["metadata", "name"])
                .unwrap_or("")
                .to_owned(),
        )
    };
    let in_ids: Vec<_> = ins.iter().map(identity).collect();
    for g in &gen_docs {
        let id = identity(g);
        if in_ids.contains(&id) {
            problems.push(format!(
                "the generated {} {}/{} has the identity of an input object, which it would replace",
                id.0, id.1, id.2
            ));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------
// An independent loader: saphyr-parser events to JSON, with go-yaml v2's YAML 1.1 scalars.

fn resolve_plain(v: &str) -> Value {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    let plain: String = v.chars().filter(|c| *c != '_').collect();
    let (neg, digits) = match plain.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
    };
    let int = if let Some(h) = digits.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(b) = digits.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Value::from(if neg { -i } else { i });
    }
    let float_like = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b".eE+-".contains(&b))
        && digits.bytes().any(|b| b.is_ascii_digit());
    if float_like && let Ok(f) = plain.parse::<f64>() {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            return Value::from(f as i64);
        }
        if let Some(n) = serde_json::Number::from_f64(f) {
            return Value::Number(n);
        }
    }
    Value::String(v.to_owned())
}

enum Frame {
    Seq(Vec<Value>, usize),
    Map(Map<String, Value>, usize, Option<Key>),
}

enum Key {
    Merge,
    Name(String),
}

/// Reads `text` as Kubernetes does: one JSON value per document with content (documents
/// without content are left out).
pub fn load(text: &str) -> Result<Vec<Value>, String> {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: BTreeMap<usize, Value> = BTreeMap::new();
    let mut nodes = 0usize;
    for ev in Parser::new_from_str(text) {
        let (ev, _span) = ev.map_err(|e| e.to_string())?;
        let (value, anchor, is_merge_key) = match ev {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => continue,
            Event::DocumentStart(_) => {
                anchors.clear();
                continue;
            }
            Event::SequenceStart(a, tag) => {
                if let Some(t) = tag {
                    return Err(format!("unsupported tag {t:?}"));
                }
                stack.push(Frame::Seq(Vec::new(), a));
                continue;
            }
            Event::MappingStart(a, tag) => {
                if let Some(t) = tag {
                    return Err(format!("unsupported tag {t:?}"));
                }
                stack.push(Frame::Map(Map::new(), a, None));
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(v, a)) => (Value::Array(v), a, false),
                _ => return Err("unbalanced sequence".into()),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(m, a, None)) => (Value::Object(m), a, false),
                _ => return Err("unbalanced mapping".into()),
            },
            Event::Alias(id) => {
                let v = anchors.get(&id).cloned().ok_or("unknown alias")?;
                nodes += 1;
                (v, 0, false)
            }
            Event::Scalar(v, style, a, tag) => {
                let value = match (&tag, style) {
                    (Some(t), _) if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" => {
                        match t.suffix.as_str() {
                            "str" => Value::String(v.to_string()),
                            "null" => Value::Null,
                            "bool" | "int" | "float" => resolve_plain(&v),
                            other => return Err(format!("unsupported tag !!{other}")),
                        }
                    }
                    (Some(t), _) => return Err(format!("unsupported tag {t:?}")),
                    (None, ScalarStyle::Plain) => resolve_plain(&v),
                    (None, _) => Value::String(v.to_string()),
                };
                let merge = tag.is_none() && style == ScalarStyle::Plain && v == "<<";
                (value, a, merge)
            }
        };
        nodes += 1;
        if nodes > 1_000_000 {
            return Err("too many nodes".into());
        }
        if anchor != 0 {
            anchors.insert(anchor, value.clone());
        }
        match stack.last_mut() {
            None => {
                if !value.is_null() {
                    docs.push(value);
                }
            }
            Some(Frame::Seq(items, _)) => items.push(value),
            Some(Frame::Map(m, _, pending)) => match pending.take() {
                None => {
                    *pending = Some(if is_merge_key {
                        Key::Merge
                    } else {
                        Key::Name(match value {
                            Value::String(s) => s,
                            Value::Null => "null".into(),
                            Value::Bool(b) => b.to_string(),
                            Value::Number(n) => n.to_string(),
                            _ => return Err("a collection as a map key".into()),
                        })
                    });
                }
                Some(Key::Name(k)) => {
                    m.insert(k, value);
                }
                Some(Key::Merge) => match value {
                    Value::Object(src) => m.extend(src),
                    Value::Array(list) => {
                        for src in list.into_iter().rev() {
                            match src {
                                Value::Object(src) => m.extend(src),
                                _ => return Err("merge of a non-mapping".into()),
                            }
                        }
                    }
                    _ => return Err("merge of a non-mapping".into()),
                },
            },
        }
    }
    Ok(docs)
}

// ---------------------------------------------------------------------------------------
// Faithful text.

/// Splits a stream into documents at `---` lines (the rule apimachinery's reader uses),
/// after a leading BOM.
pub fn split_docs(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let (mut start, mut pos) = (0, 0);
    for line in text.split_inclusive('\n') {
        let sep = line.strip_prefix("---").is_some_and(|r| {
            let r = r.trim_start_matches([' ', '\t']);
            r.is_empty() || r.starts_with(['\n', '\r', '#'])
        });
        if sep && pos > start {
            out.push(&text[start..pos]);
            start = pos;
        }
        pos += line.len();
    }
    if pos > start {
        out.push(&text[start..]);
    }
    out
}

/// The first line of a document that is neither a separator nor a comment nor blank.
fn first_content_line(doc: &str) -> &str {
    doc.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("---"))
        .unwrap_or("")
}

/// The comment lines of `doc` (trimmed), with how often each occurs.
fn comment_lines(doc: &str) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for l in doc
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("# cmt"))
    {
        *out.entry(l).or_default() += 1;
    }
    out
}

/// Documents are edited in place, not re-emitted (README, "Faithful output"), except
/// where anchors, aliases or merge keys are involved: every comment of the input document
/// is still in the output, every comment line is still a comment line (a comment at the
/// end of a line the tool replaces may become one), and a document written in flow style
/// or JSON stays so. The tool removes only what it injected, which holds no comment, so
/// this holds for the output of a run on the output of another one as well; but for the
/// lines (comments included) of the shadowed duplicates of a key that is gone (see
/// [`shadowed_gone`]).
pub fn check_faithful(st: &Stream, output: &str) -> Vec<String> {
    let ins = split_docs(&st.text);
    let outs = split_docs(output);
    if ins.len() != st.docs.len() || outs.len() < ins.len() {
        return Vec::new();
    }
    let mut problems = Vec::new();
    for (i, ((doc, a), b)) in st.docs.iter().zip(&ins).zip(&outs).enumerate() {
        if doc.re_emit_ok {
            continue;
        }
        // The lines of shadowed duplicates of a key the output no longer has may go with it.
        let gone = shadowed_gone(a, b);
        let a_kept = without_lines(a, &gone);
        let (ca, cb) = (a.matches("# cmt").count(), b.matches("# cmt").count());
        let ca_min = a_kept.matches("# cmt").count();
        if cb < ca_min || cb > ca {
            problems.push(format!(
                "document {}: {ca} comments in the input, {cb} in the output (re-emitted?)",
                i + 1
            ));
        }
        let kept = comment_lines(b);
        for (line, n) in comment_lines(&a_kept) {
            let m = kept.get(line).copied().unwrap_or(0);
            if m < n {
                problems.push(format!(
                    "document {}: comment line {line:?} is {n} times in the input, {m} in the output",
                    i + 1
                ));
            }
        }
        let (fa, fb) = (first_content_line(a), first_content_line(b));
        if fa.starts_with('{') {
            if !fb.starts_with('{') {
                problems.push(format!(
                    "document {}: written in flow style, re-emitted in block style",
                    i + 1
                ));
            }
        } else if let Some(line) = lost_line(a, b, &gone) {
            problems.push(format!(
                "document {}: input line {line:?} is gone from the output (re-emitted?)",
                i + 1
            ));
        }
    }
    problems
}

/// `doc` without the lines whose indexes `skip` holds.
fn without_lines(doc: &str, skip: &BTreeSet<usize>) -> String {
    doc.split_inclusive('\n')
        .enumerate()
        .filter(|(i, _)| !skip.contains(i))
        .map(|(_, l)| l)
        .collect()
}

/// The table of longest common subsequence lengths of `ins[i..]` and `outs[j..]`, at
/// `i * w + j`, with its row width `w`.
fn lcs_table(ins: &[String], outs: &[String]) -> (Vec<u32>, usize) {
    let w = outs.len() + 1;
    let mut lcs = vec![0u32; (ins.len() + 1) * w];
    for i in (0..ins.len()).rev() {
        for j in (0..outs.len()).rev() {
            lcs[i * w + j] = if ins[i] == outs[j] {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    (lcs, w)
}

/// Which lines of `a` are kept, in order, in `b`: a longest common subsequence of the
/// lines, compared after `norm`.
fn kept_lines(ins: &[String], outs: &[String]) -> Vec<bool> {
    let (lcs, w) = lcs_table(ins, outs);
    let mut kept = vec![false; ins.len()];
    let (mut i, mut j) = (0, 0);
    while i < ins.len() {
        if j < outs.len() && ins[i] == outs[j] {
            kept[i] = true;
            i += 1;
            j += 1;
        } else if j < outs.len() && lcs[i * w + j + 1] >= lcs[(i + 1) * w + j] {
            j += 1;
        } else {
            i += 1;
        }
    }
    kept
}

/// An input line as [`lost_line`] compares it: items go into a multi-line flow collection
/// after a comma added to its last line.
fn norm_line(l: &str) -> String {
    l.trim_end_matches('\r')
        .replace(", #", " #")
        .trim_end_matches(',')
        .to_owned()
}

/// The quote (`"` or `'`) of a quoted scalar that the value on the block-mapping line `line`
/// (`key: "...`) opens and does not close on that line.
fn opens_quote(line: &str) -> Option<char> {
    block_key(line)?;
    let body = line.trim_start().trim_start_matches("- ");
    let body = match body.chars().next()? {
        q @ ('\'' | '"') => &body[body[1..].find(q)? + 2..],
        _ => body,
    };
    let value = body.split_once(':')?.1.trim_start();
    let q = value.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    (!closes_quote(&value[1..], q)).then_some(q)
}

/// Whether `text` (inside a quoted scalar) holds the quote `q` that closes it: a `"` not
/// escaped by a backslash, or a `'` not doubled.
fn closes_quote(text: &str, q: char) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if q == '"' => {
                chars.next();
            }
            '\'' if q == '\'' => {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    return true;
                }
            }
            '"' if q == '"' => return true,
            _ => {}
        }
    }
    false
}

/// The key a block-mapping line starts (after any `- `), with its column, and whether its
/// value is a block scalar; `None` for any other line.
fn block_key(line: &str) -> Option<(String, usize, bool)> {
    let line = line.trim_end_matches('\r');
    let mut col = line.len() - line.trim_start_matches(' ').len();
    let mut rest = &line[col..];
    while let Some(r) = rest.strip_prefix("- ") {
        let pad = r.len() - r.trim_start_matches(' ').len();
        col += 2 + pad;
        rest = &r[pad..];
    }
    let (key, after) = match rest.chars().next()? {
        q @ ('\'' | '"') => {
            let close = rest[1..].find(q)? + 1;
            (rest[1..close].to_owned(), &rest[close + 1..])
        }
        '#' | '[' | '{' | '-' | '?' | '&' | '*' | '!' | '|' | '>' => return None,
        _ => {
            let colon = rest
                .find(": ")
                .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))?;
            (rest[..colon].trim_end().to_owned(), &rest[colon..])
        }
    };
    let value = after.trim_start().strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with([' ', '\t'])) {
        return None;
    }
    let value = value.split(" #").next().unwrap_or("").trim();
    let block_scalar = value.starts_with(['|', '>']);
    Some((key, col, block_scalar))
}

/// The lines of `a` (a block document) that belong to an occurrence of a key that a later
/// occurrence of the same key in the same mapping shadows, when that later occurrence is
/// gone from `b`. Kubernetes reads the last occurrence of a duplicated key (go-yaml v2;
/// `k8s-yaml2json` reads `{v: [x], v: []}` as `{"v": []}`), so an earlier one is dead
/// text; a re-run that removes the key it injected into must remove the earlier
/// occurrences too, or they would come alive (README "Faithful output").
fn shadowed_gone(a: &str, b: &str) -> BTreeSet<usize> {
    let raw: Vec<&str> = a.lines().collect();
    let ins: Vec<String> = raw.iter().map(|l| norm_line(l)).collect();
    let outs: Vec<String> = b.lines().map(norm_line).collect();
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let neutral = |l: &str| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    };
    // Each key line (outside block scalars) with its key, column, and the last line of
    // what it holds.
    let mut keys: Vec<(usize, String, usize, usize)> = Vec::new();
    let mut scalar_under: Option<usize> = None;
    for (i, l) in raw.iter().enumerate() {
        if let Some(c) = scalar_under {
            if neutral(l) || indent(l) > c {
                continue;
            }
            scalar_under = None;
        }
        let Some((key, col, block_scalar)) = block_key(l) else {
            continue;
        };
        if block_scalar {
            scalar_under = Some(col);
        }
        let mut last = i;
        for (j, m) in raw.iter().enumerate().skip(i + 1) {
            if neutral(m) {
                continue;
            }
            if indent(m) <= col {
                break;
            }
            last = j;
        }
        keys.push((i, key, col, last));
    }
    // Two key lines at one column are in one mapping when no line between them is indented
    // less than that column.
    let same_map = |i: usize, j: usize, col: usize| {
        raw[i + 1..=j]
            .iter()
            .all(|m| neutral(m) || indent(m) >= col)
            && indent(raw[j]) == col
    };
    let kept = kept_lines(&ins, &outs);
    let mut gone = BTreeSet::new();
    for (n, (i, key, col, last)) in keys.iter().enumerate() {
        let shadow = keys[n + 1..]
            .iter()
            .rfind(|(j, k, c, _)| c == col && k == key && same_map(*i, *j, *col));
        if let Some((j, ..)) = shadow
            && !kept[*j]
        {
            gone.extend(*i..=*last);
        }
    }
    gone
}

/// The first line of block document `a` that is not in `b` (in order) and that an edit in
/// place would not change. An edit may change a line holding a null or empty value that
/// becomes a list, a flow collection that gains items, an env value (with the lines
/// nested under it) that --override-env replaces or JAVA_TOOL_OPTIONS extends, and a
/// volume source (with its lines) a re-run under another source replaces; items go in
/// before the closing bracket of a flow collection, on its line, after a comma added to
/// the last item's line. The lines in `gone` (see [`shadowed_gone`]) may go.
fn lost_line<'a>(a: &'a str, b: &str, gone: &BTreeSet<usize>) -> Option<&'a str> {
    let norm = norm_line;
    let ins_raw: Vec<&str> = a.lines().map(|l| l.trim_end_matches('\r')).collect();
    let ins: Vec<String> = ins_raw.iter().map(|l| norm(l)).collect();
    let outs: Vec<String> = b.lines().map(norm).collect();
    // The longest common subsequence tells which input lines are still there.
    let (lcs, w) = lcs_table(&ins, &outs);
    // An env value, and the source of an earlier run's volume that a re-run under another
    // source rewrites (README "Re-runs"), with the lines nested under them.
    let replaceable = |body: &str| {
        let key = body
            .trim_start_matches("- ")
            .trim_start_matches(['\'', '"']);
        key.starts_with("value")
            || ["configMap", "secret", "projected", "emptyDir"]
                .iter()
                .any(|k| key.starts_with(k))
    };
    let indent_of = |line: &str| line.len() - line.trim_start().len();
    let (mut i, mut j) = (0, 0);
    let mut under: Option<usize> = None;
    // The quote of a quoted scalar that a replaceable key's line opens and does not close:
    // go-yaml reads its continuation lines at any indentation, and they change with it.
    let mut quote: Option<char> = None;
    while i < ins.len() {
        if let Some(q) = quote {
            if closes_quote(ins_raw[i], q) {
                quote = None;
            }
            if j < outs.len() && ins[i] == outs[j] {
                j += 1;
            }
            i += 1;
            continue;
        }
        if j < outs.len() && ins[i] == outs[j] {
            // A replaceable key may match a line of another (added) one: the lines
            // nested under it may still have changed.
            // Blank and comment lines kept inside a replaced value end nothing.
            let (line, indent) = (ins_raw[i], indent_of(ins_raw[i]));
            let neutral = line.trim().is_empty() || line.trim_start().starts_with('#');
            if !neutral && under.is_none_or(|u| indent <= u) {
                under = replaceable(line.trim_start()).then_some(indent);
                quote = under.and(opens_quote(line));
            }
            i += 1;
            j += 1;
            continue;
        }
        if j < outs.len() && lcs[i * w + j + 1] >= lcs[(i + 1) * w + j] {
            j += 1; // an added line
            continue;
        }
        let line = ins_raw[i];
        i += 1;
        if gone.contains(&(i - 1)) {
            continue;
        }
        let body = line.trim_start();
        let indent = line.len() - body.len();
        if under.is_some_and(|u| indent > u) {
            continue;
        }
        // A blank line inside a replaced value (the next line with text is still nested
        // under it) may be a line of one of its block scalars, and goes with the value.
        if body.is_empty()
            && let Some(u) = under
            && ins_raw[i..]
                .iter()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| indent_of(l) > u)
        {
            continue;
        }
        if replaceable(body) {
            under = Some(indent);
            quote = opens_quote(line);
            continue;
        }
        let may_change = body.ends_with(':')
            || body.starts_with([']', '}'])
            || ["~", "null", "Null", "[", "{"]
                .iter()
                .any(|m| body.contains(m));
        if !may_change {
            return Some(line);
        }
    }
    None
}
