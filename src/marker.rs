//! The record of an injection, kept on the pod template in the annotation
//! [`crate::well_known::INJECTED_ANNOTATION`]: what a run added that a following run could
//! not tell from the chart's own fields (the volumes, the merge init container, the image
//! pull secret, and per container the mount paths, the variable names and the part appended
//! to `JAVA_TOOL_OPTIONS`). A re-run takes out exactly what it lists, like Istio's
//! `sidecar.istio.io/status`.
//!
//! The value is one line of sections separated by `; `. A section is `key=value` fields
//! separated by spaces, each value a comma-separated list: the section with `containers=`
//! is one group of containers with the same injection (`mounts=`, `env=`, `java=` the
//! appended `JAVA_TOOL_OPTIONS` part, one option per item), the one without is the pod's
//! (`volumes=`, `initContainers=`, `imagePullSecrets=`), and after a section `proxy-only`
//! come the records of a run of the proxy alone. A part recorded as the one section `none`
//! says that a run injected nothing there: written when an earlier record of that part is
//! left empty, so that what the pod holds stays the chart's on the next run instead of being
//! read by its shape. Every item is percent-encoded where it
//! holds `%`, a separator (space, `,`, `;`), a quote or a character outside printable
//! ASCII, so no name, path or option can break the format. The fields come in a fixed order,
//! so the same injection gives the same bytes. Only reading and writing the record lives
//! here; [`crate::inject`] decides what goes in it.

use std::collections::HashMap;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use smallvec::SmallVec;

/// What one run injected into one container. The items are owned text (`String`) in a
/// record read from an annotation; a record being written for the annotation may borrow
/// them (`Cow<str>`) from the options and the document instead of copying them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerRecord<S = String> {
    /// The mountPaths of the mounts the tool added.
    pub mounts: Vec<S>,
    /// The variables the tool added (not those of the chart it overwrote).
    pub env: Vec<S>,
    /// The part appended to the chart's own `JAVA_TOOL_OPTIONS`.
    pub java: Option<S>,
}

impl<S> ContainerRecord<S> {
    /// Whether nothing was injected.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.mounts.is_empty() && self.env.is_empty() && self.java.is_none()
    }
}

/// What one run injected into one PodSpec (items owned or borrowed as in
/// [`ContainerRecord`]; a record being written may hold each container's injection already
/// rendered, as [`Fields`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<S = String, C = ContainerRecord<S>> {
    /// The volumes the tool added.
    pub volumes: Items<S>,
    /// The init containers the tool added (the start-up merge).
    pub init_containers: Items<S>,
    /// The image pull secrets the tool added.
    pub pull_secrets: Items<S>,
    /// Per group of containers (by name) with the same injection, that injection.
    pub containers: SmallVec<[(Names<S>, C); 1]>,
}

/// The items of one of a record's lists: most hold one item (our volume), or none, kept
/// inline, since a record is written for every workload.
pub type Items<S> = SmallVec<[S; 1]>;

/// The names of a group of containers: most pods have one or two containers of the same
/// injection (the app and its init container), kept inline.
pub type Names<S> = SmallVec<[S; 2]>;

impl<S, C> Default for Record<S, C> {
    fn default() -> Self {
        Record {
            volumes: SmallVec::new(),
            init_containers: SmallVec::new(),
            pull_secrets: SmallVec::new(),
            containers: SmallVec::new(),
        }
    }
}

/// What one container got, as the fields of its section are written (after
/// `containers=`): a [`ContainerRecord`], or [`Fields`] rendered already.
pub trait ContainerFields: PartialEq {
    /// Whether nothing was injected.
    fn is_empty(&self) -> bool;
    /// Writes the fields, each after a space.
    fn write(&self, out: &mut String);
}

impl<S: AsRef<str> + PartialEq> ContainerFields for ContainerRecord<S> {
    fn is_empty(&self) -> bool {
        ContainerRecord::is_empty(self)
    }

    fn write(&self, out: &mut String) {
        write_fields(
            out,
            self.mounts.iter().map(AsRef::as_ref),
            self.env.iter().map(AsRef::as_ref),
            self.java.as_ref().map(AsRef::as_ref),
        );
    }
}

/// A container's injection as the fields of its section are written (`" mounts=…
/// env=…"`), rendered once: the same injection of every container of a run is rendered
/// once for the run and borrowed. Two are equal exactly when their records are (the
/// rendering is one-to-one), so containers are grouped by it as by their records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields<'a>(std::borrow::Cow<'a, str>);

impl<'a> Fields<'a> {
    /// The fields of the mount paths `mounts`, the variables `env` and the
    /// `JAVA_TOOL_OPTIONS` part `java`.
    #[must_use]
    pub fn new<'i>(
        mounts: impl IntoIterator<Item = &'i str>,
        env: impl IntoIterator<Item = &'i str>,
        java: Option<&str>,
    ) -> Fields<'static> {
        let mut out = String::new();
        write_fields(&mut out, mounts, env, java);
        Fields(out.into())
    }

    /// These fields, borrowed.
    #[must_use]
    pub fn borrow(&self) -> Fields<'_> {
        Fields(std::borrow::Cow::Borrowed(&self.0))
    }
}

impl ContainerFields for Fields<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn write(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

/// Writes the fields of a container's section: ` mounts=`, ` env=` and ` java=` (one
/// option per item), the empty ones left out.
fn write_fields<'i>(
    out: &mut String,
    mounts: impl IntoIterator<Item = &'i str>,
    env: impl IntoIterator<Item = &'i str>,
    java: Option<&str>,
) {
    let mut mounts = mounts.into_iter().peekable();
    if mounts.peek().is_some() {
        out.push(' ');
        push_list(out, "mounts", mounts);
    }
    let mut env = env.into_iter().peekable();
    if env.peek().is_some() {
        out.push(' ');
        push_list(out, "env", env);
    }
    if let Some(j) = java {
        out.push(' ');
        push_list(out, "java", j.split(' '));
    }
}

impl<S: PartialEq, C: ContainerFields> Record<S, C> {
    /// Whether nothing was injected.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.volumes.is_empty()
            && self.init_containers.is_empty()
            && self.pull_secrets.is_empty()
            && self.containers.is_empty()
    }

    /// Adds what the container `name` got; containers with the same injection share one
    /// group, in the order they come.
    pub fn push_container(&mut self, name: S, rec: C) {
        if rec.is_empty() {
            return;
        }
        if let Some((names, _)) = self.containers.iter_mut().find(|(_, r)| *r == rec) {
            if names.last().is_none_or(|n| *n != name) {
                names.push(name);
            }
            return;
        }
        self.containers.push((smallvec::smallvec![name], rec));
    }
}

impl Record {
    /// What each container got, by name (every group that names it, joined).
    #[must_use]
    pub fn by_container(&self) -> HashMap<&str, ContainerRecord> {
        let mut out: HashMap<&str, ContainerRecord> = HashMap::new();
        for (names, r) in &self.containers {
            for name in names {
                let c = out.entry(name.as_str()).or_default();
                extend_unique(&mut c.mounts, &r.mounts);
                extend_unique(&mut c.env, &r.env);
                if c.java.is_none() {
                    c.java.clone_from(&r.java);
                }
            }
        }
        out
    }
}

fn extend_unique(to: &mut Vec<String>, from: &[String]) {
    for s in from {
        if !to.contains(s) {
            to.push(s.clone());
        }
    }
}

/// The whole annotation: what runs with a bundle source injected, and apart from it what a
/// run of the proxy alone (no source) injected, since the two passes compose.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Marker {
    /// A run with a bundle source.
    pub main: Record,
    /// A run of the proxy alone.
    pub proxy_only: Record,
    /// Whether the part of a run with a bundle source is recorded as `none`.
    pub main_none: bool,
    /// Whether the part of a run of the proxy alone is recorded as `none`.
    pub proxy_only_none: bool,
}

impl Marker {
    /// Reads an annotation value.
    ///
    /// # Errors
    /// What is wrong with it, when it is not a record this tool writes.
    pub fn parse(text: &str) -> Result<Marker, String> {
        let mut m = Marker::default();
        let mut proxy_only = false;
        for section in text.split(';').map(str::trim) {
            if section == PROXY_ONLY {
                if proxy_only {
                    return Err(format!("{PROXY_ONLY} given twice"));
                }
                proxy_only = true;
                continue;
            }
            let (r, none) = if proxy_only {
                (&mut m.proxy_only, &mut m.proxy_only_none)
            } else {
                (&mut m.main, &mut m.main_none)
            };
            if section == NONE || *none {
                if *none || !r.is_empty() {
                    return Err(format!("{NONE} beside another section of its part"));
                }
                *none = true;
                continue;
            }
            parse_section(section, r)?;
        }
        Ok(m)
    }

    /// The record of a run with a bundle source, when there is one (`none` included); without
    /// one, an earlier injection is read by its shape.
    #[must_use]
    pub fn main_part(&self) -> Option<&Record> {
        (self.main_none || !self.main.is_empty()).then_some(&self.main)
    }

    /// The record of a run of the proxy alone, when there is one (`none` included).
    #[must_use]
    pub fn proxy_only_part(&self) -> Option<&Record> {
        (self.proxy_only_none || !self.proxy_only.is_empty()).then_some(&self.proxy_only)
    }
}

/// Writes into `out` (emptied first) the annotation value of the marker with the records
/// `main` and `proxy_only` (a run with a bundle source, a run of the proxy alone): fields in
/// a fixed order, empty ones left out. An empty part is written as `none` where `none` says
/// so (main first), else left out. Taken as two records, so that a new record is written
/// beside the earlier marker's without copying it; since a record is rendered for every
/// workload, one string kept from a workload to the next is written into without new room.
pub fn render_into<A, CA, B, CB>(
    out: &mut String,
    main: &Record<A, CA>,
    proxy_only: &Record<B, CB>,
    none: [bool; 2],
) where
    A: AsRef<str> + PartialEq,
    B: AsRef<str> + PartialEq,
    CA: ContainerFields,
    CB: ContainerFields,
{
    out.clear();
    render_record(main, out);
    if main.is_empty() && none[0] {
        out.push_str(NONE);
    }
    let proxy_none = proxy_only.is_empty() && none[1];
    if !proxy_only.is_empty() || proxy_none {
        start_section(out);
        out.push_str(PROXY_ONLY);
        render_record(proxy_only, out);
        if proxy_none {
            start_section(out);
            out.push_str(NONE);
        }
    }
}

/// The section after which a run of the proxy alone's records come.
const PROXY_ONLY: &str = "proxy-only";

/// The one section of a part that records that a run injected nothing there.
const NONE: &str = "none";

/// What is percent-encoded in an item: the separators, `%` itself, quotes, and (with the
/// controls) everything outside printable ASCII.
const ENCODED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b',')
    .add(b';')
    .add(b'%')
    .add(b'"')
    .add(b'\'')
    .add(b'\\');

/// Writes `key=` and the items, percent-encoded and separated by commas.
fn push_list<'a>(out: &mut String, key: &str, items: impl IntoIterator<Item = &'a str>) {
    out.push_str(key);
    out.push('=');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Every byte is looked at (no early exit), which lets the loop run unrolled.
        if item.bytes().fold(true, |kept, b| kept & is_kept(b)) {
            out.push_str(item);
        } else {
            out.extend(utf8_percent_encode(item, ENCODED));
        }
    }
}

/// Whether the byte stands for itself in an item: printable ASCII that [`ENCODED`] does
/// not list (a name or path holds nothing else, so most items are copied whole).
fn is_kept(b: u8) -> bool {
    KEPT[usize::from(b)]
}

/// [`is_kept`] for every byte.
const KEPT: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_graphic() && !matches!(c, b',' | b';' | b'%' | b'"' | b'\'' | b'\\');
        b += 1;
    }
    t
};

/// Starts a section: sections are separated by `; ` (none is empty).
fn start_section(out: &mut String) {
    if !out.is_empty() {
        out.push_str("; ");
    }
}

/// Writes the sections of `r` (the pod's, then one per group of containers) after those
/// `out` holds; the fields of a section are separated by spaces. Written straight into
/// one string: a record is rendered for every workload.
fn render_record<S: AsRef<str>, C: ContainerFields>(r: &Record<S, C>, out: &mut String) {
    let mut pod = false;
    for (k, items) in [
        ("volumes", &r.volumes),
        ("initContainers", &r.init_containers),
        ("imagePullSecrets", &r.pull_secrets),
    ] {
        if !items.is_empty() {
            if pod {
                out.push(' ');
            } else {
                start_section(out);
                pod = true;
            }
            push_list(out, k, items.iter().map(AsRef::as_ref));
        }
    }
    for (names, c) in &r.containers {
        start_section(out);
        push_list(out, "containers", names.iter().map(AsRef::as_ref));
        c.write(out);
    }
}

fn items(value: &str, key: &str) -> Result<Vec<String>, String> {
    value
        .split(',')
        .map(|i| {
            percent_decode_str(i)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| format!("{key}: {i:?} is not percent-encoded UTF-8"))
        })
        .collect()
}

fn parse_section(section: &str, r: &mut Record) -> Result<(), String> {
    if section.is_empty() {
        return Err("an empty section".to_owned());
    }
    let mut fields: Vec<(&str, Vec<String>)> = Vec::new();
    for token in section.split(' ') {
        let (k, v) = token
            .split_once('=')
            .ok_or_else(|| format!("{token:?} is not key=value"))?;
        if fields.iter().any(|(f, _)| *f == k) {
            return Err(format!("{k} given twice in one section"));
        }
        fields.push((k, items(v, k)?));
    }
    let take = |fields: &mut Vec<(&str, Vec<String>)>, k: &str| {
        fields
            .iter()
            .position(|(f, _)| *f == k)
            .map(|i| fields.remove(i).1)
    };
    if let Some(names) = take(&mut fields, "containers") {
        let c = ContainerRecord {
            mounts: take(&mut fields, "mounts").unwrap_or_default(),
            env: take(&mut fields, "env").unwrap_or_default(),
            java: take(&mut fields, "java").map(|j| j.join(" ")),
        };
        r.containers.push((SmallVec::from_vec(names), c));
    } else {
        for (k, to) in [
            ("volumes", &mut r.volumes),
            ("initContainers", &mut r.init_containers),
            ("imagePullSecrets", &mut r.pull_secrets),
        ] {
            if let Some(v) = take(&mut fields, k) {
                to.extend(v);
            }
        }
    }
    match fields.first() {
        Some((k, _)) => Err(format!("unknown field {k}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`render_into`] a new string.
    fn render<A, CA, B, CB>(
        main: &Record<A, CA>,
        proxy_only: &Record<B, CB>,
        none: [bool; 2],
    ) -> String
    where
        A: AsRef<str> + PartialEq,
        B: AsRef<str> + PartialEq,
        CA: ContainerFields,
        CB: ContainerFields,
    {
        let mut out = String::new();
        render_into(&mut out, main, proxy_only, none);
        out
    }

    #[test]
    fn render_then_parse_gives_the_record_back() {
        let mut main = Record {
            volumes: smallvec::smallvec!["trust-bundle".into()],
            init_containers: smallvec::smallvec!["trust-bundle-merge".into()],
            pull_secrets: smallvec::smallvec!["reg,cred\"x".into()],
            containers: SmallVec::new(),
        };
        let c = ContainerRecord {
            mounts: vec!["/etc/trust-inject".into(), "/a,b;c d".into()],
            env: vec!["SSL_CERT_FILE".into()],
            java: Some("-Da=b -Dc=\"d\"".into()),
        };
        main.push_container("web".into(), c.clone());
        main.push_container("sidecar".into(), c.clone());
        main.push_container("other".into(), ContainerRecord::default());
        let mut proxy_only = Record::default();
        proxy_only.push_container(
            "web".into(),
            ContainerRecord {
                env: vec!["HTTP_PROXY".into()],
                ..ContainerRecord::default()
            },
        );
        let m = Marker {
            main,
            proxy_only,
            ..Marker::default()
        };
        let text = render(&m.main, &m.proxy_only, [true, true]);
        assert_eq!(
            text,
            "volumes=trust-bundle initContainers=trust-bundle-merge imagePullSecrets=reg%2Ccred%22x; \
             containers=web,sidecar mounts=/etc/trust-inject,/a%2Cb%3Bc%20d env=SSL_CERT_FILE java=-Da=b,-Dc=%22d%22; \
             proxy-only; containers=web env=HTTP_PROXY"
        );
        assert_eq!(Marker::parse(&text), Ok(m.clone()));
        // A record that borrows its items is written the same.
        fn borrowed(r: &Record) -> Record<std::borrow::Cow<'_, str>> {
            Record {
                volumes: r.volumes.iter().map(|v| v.as_str().into()).collect(),
                init_containers: r
                    .init_containers
                    .iter()
                    .map(|v| v.as_str().into())
                    .collect(),
                pull_secrets: r.pull_secrets.iter().map(|v| v.as_str().into()).collect(),
                containers: r
                    .containers
                    .iter()
                    .map(|(names, c)| {
                        let names = names.iter().map(|n| n.as_str().into()).collect();
                        let c = ContainerRecord {
                            mounts: c.mounts.iter().map(|v| v.as_str().into()).collect(),
                            env: c.env.iter().map(|v| v.as_str().into()).collect(),
                            java: c.java.as_deref().map(Into::into),
                        };
                        (names, c)
                    })
                    .collect(),
            }
        }
        assert_eq!(render(&borrowed(&m.main), &m.proxy_only, [false; 2]), text);
        assert_eq!(render(&m.main, &borrowed(&m.proxy_only), [false; 2]), text);
        // A record that holds each container's fields rendered is written the same, and
        // groups its containers the same.
        let mut rendered: Record<&str, Fields<'_>> = Record {
            volumes: m.main.volumes.iter().map(String::as_str).collect(),
            init_containers: m.main.init_containers.iter().map(String::as_str).collect(),
            pull_secrets: m.main.pull_secrets.iter().map(String::as_str).collect(),
            containers: SmallVec::new(),
        };
        let fields = |c: &ContainerRecord| {
            Fields::new(
                c.mounts.iter().map(String::as_str),
                c.env.iter().map(String::as_str),
                c.java.as_deref(),
            )
        };
        for name in ["web", "sidecar"] {
            rendered.push_container(name, fields(&c));
        }
        rendered.push_container("other", fields(&ContainerRecord::default()));
        assert_eq!(rendered.containers.len(), 1);
        assert_eq!(render(&rendered, &m.proxy_only, [false; 2]), text);
        assert_ne!(
            fields(&c),
            fields(&ContainerRecord {
                java: None,
                ..c.clone()
            })
        );
        assert_eq!(m.main.containers.len(), 1);
        let by = m.main.by_container();
        assert_eq!(by.get("sidecar"), Some(&c));
        assert_eq!(by.get("other"), None);
    }

    #[test]
    fn a_part_recorded_as_none_reads_back_as_recorded_and_empty() {
        let empty = Record::<String>::default();
        let mut proxy = Record::default();
        proxy.push_container(
            "web".to_owned(),
            ContainerRecord {
                env: vec!["HTTP_PROXY".to_owned()],
                ..ContainerRecord::default()
            },
        );
        for (main_none, proxy_only, proxy_none, text) in [
            (true, &empty, false, "none"),
            (
                true,
                &proxy,
                false,
                "none; proxy-only; containers=web env=HTTP_PROXY",
            ),
            (false, &empty, true, "proxy-only; none"),
            (true, &empty, true, "none; proxy-only; none"),
        ] {
            assert_eq!(render(&empty, proxy_only, [main_none, proxy_none]), text);
            let m = Marker::parse(text).expect(text);
            assert_eq!(m.main_part().is_some(), main_none, "{text}");
            assert_eq!(m.main, empty, "{text}");
            assert_eq!(&m.proxy_only, proxy_only, "{text}");
            assert_eq!(
                m.proxy_only_part().is_some(),
                proxy_none || !proxy_only.is_empty()
            );
        }
        // Without `none`, an empty part is left out and reads as not recorded.
        assert_eq!(render(&empty, &empty, [false; 2]), "");
        let m = Marker::parse("proxy-only; containers=web env=HTTP_PROXY").expect("parses");
        assert!(m.main_part().is_none());
    }

    #[test]
    fn items_copied_whole_are_those_encoding_leaves_alone() {
        for b in 0..=0x7f_u8 {
            let s = char::from(b).to_string();
            let unchanged = utf8_percent_encode(&s, ENCODED).to_string() == s;
            assert_eq!(is_kept(b), unchanged, "byte {b:#04x}");
        }
        for b in 0x80..=0xff_u8 {
            assert!(!is_kept(b), "byte {b:#04x}");
        }
        let mut out = String::new();
        push_list(&mut out, "k", ["plain/path.crt", "a b,c", "é"]);
        assert_eq!(out, "k=plain/path.crt,a%20b%2Cc,%C3%A9");
    }

    #[test]
    fn refuses_what_it_does_not_write() {
        for bad in [
            "",
            "volumes",
            "volumes=a;",
            "volumes=a volumes=b",
            "containers=web mounts=/x other=1",
            "proxy-only; proxy-only",
            "none; none",
            "none; volumes=a",
            "volumes=a; none",
            "proxy-only; none; containers=web env=A",
            "containers=%FF",
            "{\"volumes\":[\"a\"]}",
        ] {
            assert!(Marker::parse(bad).is_err(), "{bad:?}");
        }
    }
}
