//! Property tests over generated streams: workloads of every kind in the built-in table
//! with random containers and initContainers (existing env, volumeMounts, volumes,
//! sometimes empty or null), non-workload documents, skipped workloads, comment-only
//! documents, comments, every quoting style, block, flow and JSON style, LF and CRLF.
//!
//! For each stream, with an existing ConfigMap as the source (sometimes declared
//! complete):
//! * `f(f(x)) == f(x)`;
//! * the document count and order are kept, and documents that are not injected come out
//!   byte for byte;
//! * every container and initContainer of an injected workload has exactly one mount at
//!   each injected path (read with `trust_inject::internals::parse_chunk`);
//! * every env entry the input set is kept, text unchanged, and not duplicated;
//! * Kubernetes (the `k8s-yaml2json` oracle) reads the input as the generated data, and
//!   reads the output the same once exactly what was injected is removed.
//!
//! * a re-run under other options (pairs of option sets, through the binary) reads, to the
//!   oracle, as one run with the new options, and is a fixed point of them byte for byte.
//! * a dense stream of many generated streams (past the size processed on every core)
//!   comes out as each of its streams alone, on one core or several.
//!
//! Each property runs 256 cases (`PROPTEST_CASES` overrides; the re-run property a quarter,
//! the dense stream a sixteenth);
//! the counts are printed.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use trust_inject::Options;

#[path = "util/semantic.rs"]
mod semantic;
mod util;
use semantic::{double_quoted, pad, single_quote_ok};
use trust_inject::Limits;
use trust_inject::internals::BUILTIN_KINDS;
use trust_inject::internals::{Node, parse_chunk};

// ---------------------------------------------------------------------------------------
// The data model and its strategies.

/// A YAML value as Kubernetes reads it.
#[derive(Clone, Debug, PartialEq)]
enum Y {
    Map(Vec<(String, Y)>),
    Seq(Vec<Y>),
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
}

fn map(pairs: Vec<(&str, Y)>) -> Y {
    Y::Map(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn s(v: &str) -> Y {
    Y::Str(v.to_owned())
}

impl Y {
    fn to_json(&self) -> Value {
        match self {
            Y::Map(e) => Value::Object(e.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Y::Seq(items) => Value::Array(items.iter().map(Y::to_json).collect()),
            Y::Str(s) => Value::String(s.clone()),
            Y::Int(i) => Value::from(*i),
            Y::Bool(b) => Value::Bool(*b),
            Y::Null => Value::Null,
        }
    }

    fn set(&mut self, key: &str, value: Y) {
        if let Y::Map(e) = self {
            match e.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => e.push((key.to_owned(), value)),
            }
        }
    }
}

/// What a document is, for the checks.
#[derive(Clone, Debug)]
enum Role {
    /// Injected: the dotted path to its PodSpec.
    Workload(&'static str),
    /// Left byte for byte: not a workload, or a workload marked to skip.
    Untouched,
    /// Comments only.
    Empty,
}

#[derive(Clone, Debug)]
struct Doc {
    role: Role,
    model: Y,
}

/// Strings that need every kind of quoting, or none.
const STRINGS: &[&str] = &[
    "web",
    "nginx:1.27",
    "hello world",
    "a: b",
    "yes",
    "no",
    "on",
    "y",
    "0644",
    "1.0",
    "",
    "#not-a-comment",
    "say \"hi\"",
    "it's",
    "multi\nline\n",
    "tab\there",
    "ünïcødé ✓",
    "trailing ",
    "- dash",
    "[x]",
    "{y}",
    "null",
    "~",
    "@at",
    "*star",
    "&amp",
    "!bang",
    "|pipe",
    ">gt",
    "x, y",
    "back\\slash",
    "---",
    "...",
];

const NAMES: &[&str] = &[
    "app", "web", "api", "worker", "sidecar", "proxy", "db", "cache",
];
const ENV_NAMES: &[&str] = &[
    "FOO",
    "LOG_LEVEL",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "JAVA_TOOL_OPTIONS",
    "HTTP_PROXY",
];
const VOLUMES: &[&str] = &["data", "config", "cache", "scratch"];
const MOUNT_PATHS: &[&str] = &["/data", "/var/log/app", "/etc/config", "/tmp/cache"];

fn string() -> impl Strategy<Value = String> {
    select(STRINGS).prop_map(str::to_owned)
}

fn scalar() -> impl Strategy<Value = Y> {
    prop_oneof![
        4 => string().prop_map(Y::Str),
        1 => (-5i64..100_000).prop_map(Y::Int),
        1 => any::<bool>().prop_map(Y::Bool),
        1 => Just(Y::Null),
    ]
}

/// An optional list: absent, empty, null, or the items.
fn opt_list(items: impl Strategy<Value = Vec<Y>>) -> impl Strategy<Value = Option<Y>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(Y::Seq(vec![]))),
        1 => Just(Some(Y::Null)),
        6 => items.prop_map(|v| Some(Y::Seq(v))),
    ]
}

fn env_entry() -> impl Strategy<Value = Y> {
    (select(ENV_NAMES), string(), any::<bool>()).prop_map(|(name, value, from)| {
        if from {
            map(vec![
                ("name", s(name)),
                (
                    "valueFrom",
                    map(vec![(
                        "configMapKeyRef",
                        map(vec![("name", s("settings")), ("key", s("k"))]),
                    )]),
                ),
            ])
        } else {
            map(vec![("name", s(name)), ("value", Y::Str(value))])
        }
    })
}

/// Keeps the first item of each name (Kubernetes rejects duplicates anyway).
fn unique_by(items: Vec<Y>, key: &str) -> Vec<Y> {
    let mut seen: Vec<Y> = Vec::new();
    let mut out = Vec::new();
    for item in items {
        let k = match &item {
            Y::Map(e) => e.iter().find(|(n, _)| n == key).map(|(_, v)| v.clone()),
            _ => None,
        };
        if let Some(k) = k {
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
        }
        out.push(item);
    }
    out
}

fn mount() -> impl Strategy<Value = Y> {
    let path = prop_oneof![
        6 => select(MOUNT_PATHS),
        // The chart already uses the tool's path: left alone, with a warning.
        1 => Just("/etc/trust-inject"),
    ];
    (select(VOLUMES), path, any::<bool>()).prop_map(|(name, path, ro)| {
        let mut m = map(vec![("name", s(name)), ("mountPath", s(path))]);
        if ro {
            m.set("readOnly", Y::Bool(true));
        }
        m
    })
}

fn container() -> impl Strategy<Value = Y> {
    (
        select(NAMES),
        string(),
        proptest::option::of(prop::collection::vec(string().prop_map(Y::Str), 0..3)),
        opt_list(prop::collection::vec(env_entry(), 1..4).prop_map(|v| unique_by(v, "name"))),
        opt_list(prop::collection::vec(mount(), 1..3).prop_map(|v| unique_by(v, "mountPath"))),
    )
        .prop_map(|(name, image, args, env, mounts)| {
            let mut c = map(vec![("name", s(name)), ("image", Y::Str(image))]);
            if let Some(args) = args {
                c.set("args", Y::Seq(args));
            }
            if let Some(env) = env {
                c.set("env", env);
            }
            if let Some(m) = mounts {
                c.set("volumeMounts", m);
            }
            c
        })
}

fn pod_spec() -> impl Strategy<Value = Y> {
    (
        prop::collection::vec(container(), 1..4),
        proptest::option::of(prop::collection::vec(container(), 0..3)),
        opt_list(
            prop::collection::vec(select(VOLUMES), 1..3).prop_map(|names| {
                let mut names = names;
                names.dedup();
                names
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| {
                        let source = if i % 2 == 0 {
                            ("emptyDir", Y::Map(vec![]))
                        } else {
                            ("configMap", map(vec![("name", s(&format!("cm-{n}")))]))
                        };
                        map(vec![("name", s(n)), source])
                    })
                    .collect()
            }),
        ),
        proptest::option::of(select(&["Always", "OnFailure", "Never"][..])),
    )
        .prop_map(|(containers, init, volumes, restart)| {
            let name_all = |cs: Vec<Y>, prefix: &str| {
                Y::Seq(
                    cs.into_iter()
                        .enumerate()
                        .map(|(i, mut c)| {
                            c.set("name", Y::Str(format!("{prefix}{i}")));
                            c
                        })
                        .collect(),
                )
            };
            let mut spec = Y::Map(vec![]);
            if let Some(init) = init {
                spec.set("initContainers", name_all(init, "init-"));
            }
            spec.set("containers", name_all(containers, "c-"));
            if let Some(v) = volumes {
                spec.set("volumes", v);
            }
            if let Some(r) = restart {
                spec.set("restartPolicy", s(r));
            }
            spec
        })
}

fn metadata() -> impl Strategy<Value = Y> {
    (
        proptest::option::of(select(&["default", "shop", "kube-system"][..])),
        proptest::option::of(scalar()),
    )
        .prop_map(|(ns, annotation)| {
            let mut m = map(vec![("name", s("placeholder"))]);
            if let Some(ns) = ns {
                m.set("namespace", s(ns));
            }
            m.set("labels", map(vec![("app", s("demo"))]));
            if let Some(a) = annotation {
                let value = match a {
                    Y::Str(_) => a,
                    other => Y::Str(other.to_json().to_string()),
                };
                m.set("annotations", map(vec![("example.com/note", value)]));
            }
            m
        })
}

/// An object of `kind` with `metadata` and `spec`.
fn object(api_version: &str, kind: &str, metadata: Y, spec: Y) -> Y {
    map(vec![
        ("apiVersion", s(api_version)),
        ("kind", s(kind)),
        ("metadata", metadata),
        ("spec", spec),
    ])
}

fn api_version(group: &str) -> String {
    if group.is_empty() {
        "v1".to_owned()
    } else {
        format!("{group}/v1")
    }
}

fn workload() -> impl Strategy<Value = Doc> {
    (
        select(BUILTIN_KINDS),
        metadata(),
        pod_spec(),
        0i64..5,
        prop::bool::weighted(0.1),
    )
        .prop_map(|((group, kind, path), meta, spec, replicas, skip)| {
            // Build the maps along the path, innermost first; a pod template also gets
            // labels, and a top-level spec a replica count.
            let segs: Vec<&str> = path.split('.').collect();
            let mut node = spec;
            for i in (0..segs.len()).rev() {
                let mut wrap = Y::Map(vec![]);
                if i > 0 && segs[i - 1] == "template" {
                    wrap.set(
                        "metadata",
                        map(vec![("labels", map(vec![("app", s("demo"))]))]),
                    );
                }
                if i == 1 && segs[0] == "spec" {
                    wrap.set("replicas", Y::Int(replicas));
                }
                wrap.set(segs[i], node);
                node = wrap;
            }
            let mut meta = meta;
            if skip {
                meta.set(
                    "annotations",
                    map(vec![("trust-inject.dev/skip", s("true"))]),
                );
            }
            let mut doc = map(vec![
                ("apiVersion", Y::Str(api_version(group))),
                ("kind", s(kind)),
                ("metadata", meta),
            ]);
            if let Y::Map(e) = node {
                for (k, v) in e {
                    doc.set(&k, v);
                }
            }
            Doc {
                role: if skip {
                    Role::Untouched
                } else {
                    Role::Workload(path)
                },
                model: doc,
            }
        })
}

fn other_doc() -> impl Strategy<Value = Doc> {
    let config_map = (
        metadata(),
        prop::collection::vec((select(NAMES), string()), 0..4),
    )
        .prop_map(|(meta, data)| {
            let data = data
                .into_iter()
                .map(|(k, v)| (format!("{k}.conf"), Y::Str(v)))
                .collect::<Vec<_>>();
            let mut data = data;
            data.sort_by(|a, b| a.0.cmp(&b.0));
            data.dedup_by(|a, b| a.0 == b.0);
            map(vec![
                ("apiVersion", s("v1")),
                ("kind", s("ConfigMap")),
                ("metadata", meta),
                ("data", Y::Map(data)),
            ])
        });
    let service = (metadata(), 1i64..65535).prop_map(|(meta, port)| {
        object(
            "v1",
            "Service",
            meta,
            map(vec![
                ("selector", map(vec![("app", s("demo"))])),
                (
                    "ports",
                    Y::Seq(vec![map(vec![("port", Y::Int(port)), ("name", s("http"))])]),
                ),
            ]),
        )
    });
    // A custom resource with a pod template but no containers: not a workload.
    let widget = (metadata(), scalar()).prop_map(|(meta, v)| {
        object(
            "example.com/v1",
            "Widget",
            meta,
            map(vec![
                ("value", v),
                (
                    "template",
                    map(vec![("spec", map(vec![("image", s("busybox"))]))]),
                ),
            ]),
        )
    });
    prop_oneof![config_map, service, widget].prop_map(|model| Doc {
        role: Role::Untouched,
        model,
    })
}

fn doc() -> impl Strategy<Value = Doc> {
    prop_oneof![
        5 => workload(),
        3 => other_doc(),
        1 => Just(Doc { role: Role::Empty, model: Y::Null }),
    ]
}

/// A stream: documents (each named after its position), a rendering seed, CRLF or not,
/// and whether the source is complete.
#[derive(Clone, Debug)]
struct Stream {
    docs: Vec<Doc>,
    seed: u64,
    crlf: bool,
    complete: bool,
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        prop::collection::vec(doc(), 1..7),
        any::<u64>(),
        prop::bool::weighted(0.15),
        any::<bool>(),
    )
        .prop_map(|(docs, seed, crlf, complete)| {
            let docs = docs
                .into_iter()
                .enumerate()
                .map(|(i, mut d)| {
                    if let Y::Map(e) = &mut d.model
                        && let Some((_, meta)) = e.iter_mut().find(|(k, _)| k == "metadata")
                    {
                        meta.set("name", Y::Str(format!("doc-{i}")));
                    }
                    d
                })
                .collect();
            Stream {
                docs,
                seed,
                crlf,
                complete,
            }
        })
}

// ---------------------------------------------------------------------------------------
// Rendering: the same data in many spellings.

/// A small deterministic generator for style choices (splitmix64).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

/// Safe as a plain scalar in both YAML 1.1 and 1.2, in block and flow context.
fn plain_ok(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z' | 'A'..='Z'))
        && chars.all(|c| c.is_ascii_alphanumeric() || "-./_".contains(c))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        )
}

fn literal_ok(s: &str) -> bool {
    s.ends_with('\n')
        && !s.ends_with("\n\n")
        && s.lines().all(|l| {
            !l.is_empty()
                && !l.starts_with([' ', '\t'])
                && !l.ends_with([' ', '\t'])
                && !l.chars().any(char::is_control)
        })
}

/// A scalar in block context, its content lines indented by `indent + 2`; ends with a
/// line break only for a literal block scalar.
fn block_scalar(y: &Y, indent: usize, dice: &mut Dice, allow_empty: bool) -> String {
    match y {
        Y::Str(v) => {
            if literal_ok(v) && dice.one_in(2) {
                let mut out = String::from("|\n");
                for l in v.lines() {
                    out.push_str(&pad(indent + 2));
                    out.push_str(l);
                    out.push('\n');
                }
                return out;
            }
            flow_scalar(y, dice)
        }
        Y::Null if allow_empty && dice.one_in(3) => String::new(),
        _ => flow_scalar(y, dice),
    }
}

fn flow_scalar(y: &Y, dice: &mut Dice) -> String {
    match y {
        Y::Str(v) => match dice.next() % 3 {
            0 if plain_ok(v) => v.clone(),
            1 if single_quote_ok(v) => format!("'{}'", v.replace('\'', "''")),
            _ => double_quoted(v),
        },
        Y::Int(i) => i.to_string(),
        Y::Bool(b) => b.to_string(),
        Y::Null => if dice.one_in(2) { "null" } else { "~" }.to_owned(),
        Y::Map(_) | Y::Seq(_) => flow(y, dice),
    }
}

fn key(k: &str, dice: &mut Dice) -> String {
    if plain_ok(k) && !dice.one_in(8) {
        k.to_owned()
    } else {
        double_quoted(k)
    }
}

fn flow(y: &Y, dice: &mut Dice) -> String {
    match y {
        Y::Map(e) => {
            let parts: Vec<String> = e
                .iter()
                .map(|(k, v)| format!("{}: {}", key(k, dice), flow(v, dice)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Y::Seq(items) => {
            let parts: Vec<String> = items.iter().map(|v| flow(v, dice)).collect();
            format!("[{}]", parts.join(", "))
        }
        _ => flow_scalar(y, dice),
    }
}

fn json(y: &Y) -> String {
    match y {
        Y::Map(e) => {
            let parts: Vec<String> = e
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), json(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Y::Seq(items) => format!(
            "[{}]",
            items.iter().map(json).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_json().to_string(),
    }
}

fn block_map(
    entries: &[(String, Y)],
    indent: usize,
    first_comment: bool,
    dice: &mut Dice,
    out: &mut String,
) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if (i > 0 || first_comment) && dice.one_in(10) {
            out.push_str(&format!("{}# about {k}\n", pad(indent)));
        }
        out.push_str(&pad(indent));
        out.push_str(&key(k, dice));
        out.push(':');
        match v {
            Y::Map(e) if e.is_empty() => out.push_str(" {}\n"),
            Y::Seq(items) if items.is_empty() => out.push_str(" []\n"),
            // A non-empty collection: one time in six in flow style on the key's line.
            Y::Map(_) | Y::Seq(_) if dice.one_in(6) => {
                out.push(' ');
                out.push_str(&flow(v, dice));
                out.push('\n');
            }
            Y::Map(e) => {
                out.push('\n');
                block_map(e, indent + 2, true, dice, out);
            }
            Y::Seq(items) => {
                out.push('\n');
                // Both spellings charts use: items at the key's column or indented.
                let at = if dice.one_in(2) { indent } else { indent + 2 };
                block_seq(items, at, dice, out);
            }
            _ => {
                let text = block_scalar(v, indent, dice, true);
                if !text.is_empty() {
                    out.push(' ');
                }
                out.push_str(&text);
                if !text.ends_with('\n') {
                    if dice.one_in(12) {
                        out.push_str(" # trailing comment");
                    }
                    out.push('\n');
                }
            }
        }
    }
}

fn block_seq(items: &[Y], indent: usize, dice: &mut Dice, out: &mut String) {
    for item in items {
        match item {
            Y::Map(e) if !e.is_empty() && !dice.one_in(6) => {
                let mut inner = String::new();
                block_map(e, indent + 2, false, dice, &mut inner);
                out.push_str(&pad(indent));
                out.push_str("- ");
                out.push_str(&inner[indent + 2..]);
            }
            Y::Map(_) | Y::Seq(_) => {
                out.push_str(&format!("{}- {}\n", pad(indent), flow(item, dice)));
            }
            _ => {
                let text = block_scalar(item, indent, dice, false);
                out.push_str(&format!("{}- {text}", pad(indent)));
                if !text.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
    }
}

impl Stream {
    /// The stream's text.
    fn render(&self) -> String {
        self.render_styles().0
    }

    /// The stream's text and the style of each document (block, flow, json, empty).
    fn render_styles(&self) -> (String, Vec<&'static str>) {
        let mut styles = Vec::new();
        let mut dice = Dice(self.seed);
        let mut out = String::new();
        for (i, d) in self.docs.iter().enumerate() {
            if i > 0 || dice.one_in(2) {
                out.push_str(if dice.one_in(5) {
                    "--- # next\n"
                } else {
                    "---\n"
                });
            }
            if dice.one_in(3) {
                out.push_str(&format!("# Source: chart/templates/doc-{i}.yaml\n"));
            }
            match (&d.role, &d.model) {
                (Role::Empty, _) => {
                    styles.push("empty");
                    out.push_str("# nothing here\n");
                }
                (_, Y::Map(e)) => match dice.next() % 10 {
                    0 => {
                        styles.push("json");
                        out.push_str(&json(&d.model));
                        out.push('\n');
                    }
                    1 => {
                        styles.push("flow");
                        out.push_str(&flow(&d.model, &mut dice));
                        out.push('\n');
                    }
                    _ => {
                        styles.push("block");
                        block_map(e, 0, true, &mut dice, &mut out);
                    }
                },
                (_, other) => panic!("a document model must be a mapping: {other:?}"),
            }
        }
        if self.crlf {
            out = out.replace('\n', "\r\n");
        }
        (out, styles)
    }

    /// What Kubernetes should read: one JSON value per document with content.
    fn expected_reading(&self) -> Vec<Value> {
        self.docs
            .iter()
            .filter(|d| !matches!(d.role, Role::Empty))
            .map(|d| d.model.to_json())
            .collect()
    }

    fn options(&self) -> Options {
        Options::from_configmap("corp-ca", "ca.crt").with_complete_bundle(self.complete)
    }
}

// ---------------------------------------------------------------------------------------
// Reading streams back.

/// The root of a document's text, parsed by the tool's own reader.
fn parse_doc(text: &str) -> Option<Node> {
    let docs = parse_chunk(text, 0, 1, &Limits::default(), true)
        .unwrap_or_else(|e| panic!("cannot parse {text:?}: {e}"));
    docs.into_iter()
        .find_map(|d| d.root)
        .map(|r| r.resolve(&Limits::default()).expect("resolve"))
}

fn at<'a>(node: &'a Node, path: &str) -> Option<&'a Node> {
    path.split('.').try_fold(node, |n, seg| n.get(seg))
}

/// The containers and initContainers of a PodSpec.
fn containers(spec: &Node) -> Vec<&Node> {
    ["initContainers", "containers"]
        .iter()
        .filter_map(|k| spec.get(k).and_then(Node::items))
        .flatten()
        .collect()
}

/// What Kubernetes reads, without the `null` of comment-only documents.
fn oracle_read(stream: &str) -> Vec<Value> {
    util::oracle_read(stream.as_bytes())
        .unwrap_or_else(|e| panic!("{e}: {stream:?}"))
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

/// What the tool injects with `opts`, for [`util::strip_injected`].
fn injected(opts: &Options) -> util::Injected {
    util::Injected {
        volume_name: opts.volume_name.clone(),
        env: opts
            .additive_env
            .iter()
            .chain(&opts.replacing_env)
            .cloned()
            .collect(),
        ..util::Injected::default()
    }
}

// ---------------------------------------------------------------------------------------
// The properties.

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Runs `check` on `cases()` generated streams and prints how many passed.
fn check_streams(name: &str, check: impl Fn(&Stream, &str, &str) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let ran = std::cell::Cell::new(0u32);
    let result = runner.run(&stream(), |st| {
        ran.set(ran.get() + 1);
        let input = st.render();
        let out = trust_inject::process(&input, &st.options())
            .map_err(|e| TestCaseError::fail(format!("process failed: {e}\ninput:\n{input}")))?;
        check(&st, &input, &out.output).map_err(|e| {
            TestCaseError::fail(format!(
                "{e}\n--- input:\n{input}--- output:\n{}",
                out.output
            ))
        })
    });
    if let Err(e) = result {
        panic!("property {name:?} failed: {e}");
    }
    println!(
        "properties: {name}: {} cases passed ({} runs including shrinking)",
        cases(),
        ran.get()
    );
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(TestCaseError::fail(format!($($msg)+)));
        }
    };
}

#[test]
fn injecting_twice_changes_nothing() {
    check_streams("idempotence", |st, _input, output| {
        let again = trust_inject::process(output, &st.options())
            .map_err(|e| TestCaseError::fail(format!("second run failed: {e}")))?;
        ensure!(
            again.output == output,
            "a second run changed the output:\n{}",
            again.output
        );
        Ok(())
    });
}

#[test]
fn documents_keep_count_order_and_untouched_bytes() {
    check_streams("documents kept", |st, input, output| {
        let (ins, outs) = (util::split_docs(input), util::split_docs(output));
        ensure!(
            ins.len() == outs.len() && ins.len() == st.docs.len(),
            "{} documents generated, {} in the input, {} in the output",
            st.docs.len(),
            ins.len(),
            outs.len()
        );
        for (i, ((doc, a), b)) in st.docs.iter().zip(&ins).zip(&outs).enumerate() {
            match doc.role {
                Role::Workload(_) => {
                    let name = |t: &str| {
                        parse_doc(t).and_then(|r| {
                            r.get("metadata")?.get("name")?.as_str().map(str::to_owned)
                        })
                    };
                    ensure!(
                        name(b) == Some(format!("doc-{i}")),
                        "document {i} is {:?} in the output",
                        name(b)
                    );
                    ensure!(a != b, "workload document {i} was not injected");
                }
                Role::Untouched | Role::Empty => {
                    ensure!(a == b, "document {i} changed:\n{a:?}\n{b:?}");
                }
            }
        }
        Ok(())
    });
}

#[test]
fn every_container_gets_exactly_one_mount_per_path() {
    check_streams("one mount per path", |st, _input, output| {
        let opts = st.options();
        assert_eq!(opts.mount_path, "/etc/trust-inject");
        assert_eq!(
            opts.additive_file.as_deref(),
            Some("/etc/ssl/certs/trust-inject-ca.crt")
        );
        let mut paths = vec![opts.mount_path.clone()];
        paths.extend(opts.additive_file.clone());
        if st.complete {
            paths.extend(opts.system_bundle_paths.iter().cloned());
        }
        for (i, (doc, text)) in st.docs.iter().zip(util::split_docs(output)).enumerate() {
            let Role::Workload(path) = doc.role else {
                continue;
            };
            let root = parse_doc(text).expect("a workload document has content");
            let spec = at(&root, path).expect("the PodSpec is still there");
            for c in containers(spec) {
                let cname = c.get("name").and_then(Node::as_str).unwrap_or("?");
                let mounts = c.get("volumeMounts").and_then(Node::items).unwrap_or(&[]);
                for p in &paths {
                    let n = mounts
                        .iter()
                        .filter(|m| m.get("mountPath").and_then(Node::as_str) == Some(p))
                        .count();
                    ensure!(n == 1, "document {i}, container {cname}: {n} mounts at {p}");
                }
            }
        }
        Ok(())
    });
}

#[test]
fn env_vars_the_input_sets_are_never_changed() {
    check_streams("user env kept", |st, input, output| {
        for (i, ((doc, a), b)) in st
            .docs
            .iter()
            .zip(util::split_docs(input))
            .zip(util::split_docs(output))
            .enumerate()
        {
            let Role::Workload(path) = doc.role else {
                continue;
            };
            let (ra, rb) = (parse_doc(a).expect("input"), parse_doc(b).expect("output"));
            let (sa, sb) = (
                at(&ra, path).expect("input spec"),
                at(&rb, path).expect("output spec"),
            );
            let (ca, cb) = (containers(sa), containers(sb));
            ensure!(
                ca.len() == cb.len(),
                "document {i}: container count changed"
            );
            for (x, y) in ca.iter().zip(&cb) {
                let before = x.get("env").and_then(Node::items).unwrap_or(&[]);
                let after = y.get("env").and_then(Node::items).unwrap_or(&[]);
                for e in before {
                    let name = e.get("name").and_then(Node::as_str).expect("env name");
                    let same: Vec<&Node> = after
                        .iter()
                        .filter(|f| f.get("name").and_then(Node::as_str) == Some(name))
                        .collect();
                    ensure!(
                        same.len() == 1,
                        "document {i}: {} entries named {name}",
                        same.len()
                    );
                    // A block scalar's span runs to the next token: ignore trailing blanks.
                    let (t0, t1) = (
                        a[e.start..e.end].trim_end(),
                        b[same[0].start..same[0].end].trim_end(),
                    );
                    ensure!(
                        t0 == t1,
                        "document {i}: env {name} changed from {t0:?} to {t1:?}"
                    );
                }
            }
        }
        Ok(())
    });
}

#[test]
fn kubernetes_reads_the_same_data_once_the_injection_is_removed() {
    check_streams("Kubernetes reading", |st, input, output| {
        let opts = st.options();
        let before = oracle_read(input);
        ensure!(
            before == st.expected_reading(),
            "the generated text does not read as the generated data (a test bug):\n{}",
            serde_json::to_string_pretty(&before).unwrap_or_default()
        );
        let mut after = oracle_read(output);
        ensure!(
            after.len() == before.len(),
            "{} documents read back, {} expected",
            after.len(),
            before.len()
        );
        for (i, (o, b)) in after.iter_mut().zip(&before).enumerate() {
            util::strip_injected(o, Some(b), &injected(&opts));
            ensure!(
                o == b,
                "document {i} reads differently:\n{}\nexpected:\n{}",
                serde_json::to_string_pretty(o).unwrap_or_default(),
                serde_json::to_string_pretty(b).unwrap_or_default()
            );
        }
        Ok(())
    });
}

#[test]
fn generated_streams_cover_every_kind_and_style() {
    // The generator itself: every kind of the table is reachable, and so are flow, JSON,
    // CRLF and comment-only documents; otherwise the properties above prove less.
    let mut runner = TestRunner::deterministic();
    let mut kinds = std::collections::BTreeSet::new();
    let (mut crlf, mut json_docs, mut flow_docs, mut empty) = (0, 0, 0, 0);
    for _ in 0..2000 {
        let st = stream().new_tree(&mut runner).expect("a stream").current();
        let (_, styles) = st.render_styles();
        crlf += usize::from(st.crlf);
        json_docs += styles.iter().filter(|s| **s == "json").count();
        flow_docs += styles.iter().filter(|s| **s == "flow").count();
        empty += styles.iter().filter(|s| **s == "empty").count();
        for d in &st.docs {
            if let (Role::Workload(path), Y::Map(e)) = (&d.role, &d.model) {
                let kind = e
                    .iter()
                    .find(|(k, _)| k == "kind")
                    .map(|(_, v)| format!("{v:?}"));
                kinds.insert((kind, path.to_string()));
            }
        }
    }
    let table: std::collections::BTreeSet<&str> = BUILTIN_KINDS.iter().map(|r| r.1).collect();
    let seen: std::collections::BTreeSet<String> =
        kinds.iter().filter_map(|k| k.0.clone()).collect();
    for k in &table {
        assert!(
            seen.contains(&format!("{:?}", Y::Str((*k).to_owned()))),
            "kind {k} never generated"
        );
    }
    assert!(
        crlf > 0 && json_docs > 0 && flow_docs > 0 && empty > 0,
        "crlf {crlf}, json {json_docs}, flow {flow_docs}, empty {empty}"
    );
    println!(
        "properties: generator: {} kind/path rows, {crlf} CRLF streams, {json_docs} JSON and {flow_docs} flow documents, {empty} comment-only documents in 2000 streams",
        kinds.len()
    );
}

// ---------------------------------------------------------------------------------------
// Re-runs under other options.

/// One set of command-line options: a source and a few choices that change what is
/// injected. Left out on purpose, as the README's "Re-runs" says they are not recognised:
/// `--override-env` (a value it overwrote cannot be given back), another `--volume-name`,
/// custom variable names, and a directory or extra file at other paths than the defaults.
fn option_set() -> impl Strategy<Value = Vec<String>> {
    let pki = |f: &str| {
        util::repo_root()
            .join("testdata/pki")
            .join(f)
            .display()
            .to_string()
    };
    let (corp, public) = (pki("corp-root.pem"), pki("public-root.pem"));
    let sources: Vec<Vec<String>> = vec![
        vec!["--configmap".into(), "corp-ca".into()],
        vec![
            "--configmap".into(),
            "corp-ca".into(),
            "--complete-bundle".into(),
        ],
        vec![
            "--configmap".into(),
            "corp-ca".into(),
            "--key".into(),
            "bundle.pem".into(),
        ],
        vec![
            "--secret".into(),
            "corp-ca".into(),
            "--complete-bundle".into(),
        ],
        vec![
            "--ca-file".into(),
            corp.clone(),
            "--public-roots".into(),
            "none".into(),
        ],
        vec![
            "--ca-file".into(),
            corp.clone(),
            "--public-roots".into(),
            public.clone(),
        ],
        vec![
            "--ca-file".into(),
            public.clone(),
            "--public-roots".into(),
            public,
        ],
        vec![
            "--ca-file".into(),
            corp,
            "--public-roots".into(),
            "none".into(),
            "--generate".into(),
            "secret".into(),
        ],
    ];
    let extras: Vec<Vec<&'static str>> = vec![
        vec!["--skip-init-containers"],
        vec!["--exclude-container", "c1*"],
        vec!["--exclude-kind", "Deployment"],
        vec!["--java-truststore=false"],
        vec!["--hashed-certs=false"],
        vec!["--additive-file="],
        vec!["--bundle-name", "corp-bundle"],
    ];
    (select(sources), prop::sample::subsequence(extras, 0..3)).prop_map(|(source, extras)| {
        let mut args = source;
        args.extend(extras.into_iter().flatten().map(str::to_owned));
        args
    })
}

/// What Kubernetes reads from a stream, with lists, maps and nulls that Kubernetes reads as
/// absent removed (`volumeMounts: []` is no mount), and the generated bundle objects apart.
fn reading_for_rerun(stream: &[u8]) -> (Vec<Value>, Vec<Value>) {
    fn prune(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.values_mut().for_each(prune);
                m.retain(|_, v| match v {
                    Value::Null => false,
                    Value::Array(a) => !a.is_empty(),
                    Value::Object(o) => !o.is_empty(),
                    _ => true,
                });
            }
            Value::Array(a) => a.iter_mut().for_each(prune),
            _ => {}
        }
    }
    let docs = util::oracle_read(stream).unwrap_or_else(|e| panic!("{e}"));
    let (mut generated, mut rest): (Vec<Value>, Vec<Value>) =
        docs.into_iter().filter(|v| !v.is_null()).partition(|v| {
            v.pointer("/metadata/annotations/trust-inject.dev~1generated")
                == Some(&Value::String("true".into()))
        });
    rest.iter_mut().for_each(prune);
    generated.sort_by_key(|v| v.pointer("/metadata/namespace").map(Value::to_string));
    (rest, generated)
}

#[test]
fn a_rerun_under_other_options_reads_as_a_single_run() {
    // run(B, run(A, x)) reads as run(B, x) for any option sets A and B, and is a fixed
    // point of B byte for byte. Each case starts the binary four times and the oracle
    // twice, so this property runs a quarter of the cases.
    let mut runner = TestRunner::new(Config {
        cases: cases().div_ceil(4),
        failure_persistence: None,
        ..Config::default()
    });
    let ran = std::cell::Cell::new(0u32);
    let result = runner.run(&(stream(), option_set(), option_set()), |(st, a, b)| {
        ran.set(ran.get() + 1);
        let x = st.render();
        let once_a = util::run_bin(&a, x.as_bytes());
        prop_assume!(once_a.status.success());
        let ab = util::run_bin(&b, &once_a.stdout);
        let once_b = util::run_bin(&b, x.as_bytes());
        let show = || {
            format!(
                "A: {a:?}\nB: {b:?}\n--- x:\n{x}--- run(A, x):\n{}--- run(B, x):\n{}--- run(B, run(A, x)):\n{}--- stderr of run(B, run(A, x)):\n{}",
                String::from_utf8_lossy(&once_a.stdout),
                String::from_utf8_lossy(&once_b.stdout),
                String::from_utf8_lossy(&ab.stdout),
                String::from_utf8_lossy(&ab.stderr),
            )
        };
        ensure!(
            ab.status.code() == once_b.status.code(),
            "exit {:?} after A, {:?} on its own\n{}",
            ab.status.code(),
            once_b.status.code(),
            show()
        );
        if !once_b.status.success() {
            return Ok(());
        }
        let again = util::run_bin(&b, &ab.stdout);
        ensure!(
            again.stdout == ab.stdout,
            "a further run of B changed the output\n{}",
            show()
        );
        let (rest_ab, gen_ab) = reading_for_rerun(&ab.stdout);
        let (rest_b, gen_b) = reading_for_rerun(&once_b.stdout);
        ensure!(
            rest_ab == rest_b,
            "the objects read differently:\n{}\n{}",
            serde_json::to_string_pretty(&rest_ab).unwrap_or_default(),
            show()
        );
        // B replaces (or removes) the bundle objects A generated under B's name; objects A
        // generated under another name, or when B generates none, are left (README).
        let b_name = if b.iter().any(|f| f == "--ca-file") {
            b.windows(2)
                .find(|w| w[0] == "--bundle-name")
                .map_or("trust-bundle", |w| w[1].as_str())
        } else {
            ""
        };
        let of_b: Vec<&Value> = gen_ab
            .iter()
            .filter(|v| v.pointer("/metadata/name").and_then(Value::as_str) == Some(b_name))
            .collect();
        ensure!(
            of_b == gen_b.iter().collect::<Vec<_>>(),
            "the generated bundle objects differ:\n{}\n{}",
            serde_json::to_string_pretty(&gen_ab).unwrap_or_default(),
            show()
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("property \"re-run\" failed: {e}");
    }
    println!(
        "properties: re-run: {} cases passed ({} runs including shrinking)",
        cases().div_ceil(4),
        ran.get()
    );
}

// ---------------------------------------------------------------------------------------
// Dense streams: what a core keeps from one workload for the next.

/// A dense stream (many generated streams one after the other, far over the size that is
/// processed on every core) comes out as each of its streams does on its own, on one core
/// or several: what a core keeps from one workload for the next (paths, annotation
/// mappings, the record's text, rendered snippets, spare lists) never reaches another
/// workload, whichever core takes which part and however full the kept state is.
#[test]
fn a_dense_stream_comes_out_as_its_streams_alone_on_any_number_of_cores() {
    /// The size the dense stream grows past (the parallel threshold is 128 KiB).
    const DENSE_BYTES: usize = 256 * 1024;
    let pools = [1, 3].map(|n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("a thread pool")
    });
    let cases = cases().div_ceil(16);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (prop::collection::vec(stream(), 8..24), any::<bool>());
    let result = runner.run(&strategy, |(parts, complete)| {
        let opts = Options::from_configmap("corp-ca", "ca.crt").with_complete_bundle(complete);
        // Each stream alone (on a thread of its own, which has kept nothing), then the
        // dense stream of them all, repeated, each after a document marker; what it should
        // give is each stream's own output there.
        let mut alone = Vec::new();
        for p in &parts {
            let text = p.render();
            let out = std::thread::scope(|s| {
                s.spawn(|| trust_inject::process(&text, &opts))
                    .join()
                    .expect("no panic")
            })
            .map_err(|e| TestCaseError::fail(format!("alone: {e}\ninput:\n{text}")))?;
            let marker = if p.crlf { "---\r\n" } else { "---\n" };
            alone.push((marker, text, out.output));
        }
        let (mut dense, mut want) = (String::new(), String::new());
        while dense.len() <= DENSE_BYTES {
            for (marker, text, out) in &alone {
                dense.push_str(marker);
                dense.push_str(text);
                want.push_str(marker);
                want.push_str(out);
            }
        }
        for pool in &pools {
            let got = pool
                .install(|| trust_inject::process(&dense, &opts))
                .map_err(|e| TestCaseError::fail(format!("dense: {e}")))?;
            if got.output != want {
                let (w, g) = (util::split_docs(&want), util::split_docs(&got.output));
                let at = w.iter().zip(&g).position(|(a, b)| a != b).unwrap_or(0);
                return Err(TestCaseError::fail(format!(
                    "on {} cores, document {} of the dense stream ({} and {} documents) is not as \
                     its stream alone gives it:\n--- alone:\n{}--- in the dense stream:\n{}",
                    pool.current_num_threads(),
                    at + 1,
                    w.len(),
                    g.len(),
                    w.get(at).unwrap_or(&""),
                    g.get(at).unwrap_or(&""),
                )));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("property \"dense stream\" failed: {e}");
    }
    println!("properties: dense stream: {cases} cases passed");
}
