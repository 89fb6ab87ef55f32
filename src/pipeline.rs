//! The only module that sequences: split → parse → find workloads → plan → edit →
//! assemble. Documents that get no edit are copied byte for byte; edited documents gain
//! lines; a document that cannot be edited in place is re-emitted whole.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IoSlice;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use memchr::memmem;

use rayon::prelude::*;

use crate::config::Options;
use crate::error::{DocRef, Error, Finding, OverLimit, Severity};
use crate::inject::{ContainerPlan, Skip, SkipReason, Wanted, plan};
use crate::well_known as wk;
use crate::workload::{Found, NEVER_WORKLOADS, NotFound, ObjectRef, ObjectView, find_pod_specs};
use crate::yaml::ResolveError;
use crate::yaml::{
    Chunk, Document, Intent, Node, Op, Path, TextEditor, apply_to_tree, count_lines,
    duplicate_keys, emit_document, guess_object, helm_source, odd_line_break, parse_chunk_lenient,
    recycle, split_stream, top_level_kind,
};

/// What happened to one workload, for reports.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::plan_edits_reporting(pod, &opts, trust_inject::Reports::PerWorkload)?;
/// let w: &trust_inject::WorkloadReport = &run.workloads[0];
/// assert_eq!((w.object.kind.as_str(), w.spec_path.as_str()), ("Pod", "spec"));
/// assert!(w.changed && w.volume_added && w.skipped.is_none());
/// assert!(w.containers[0].mounts.contains(&"/etc/trust-inject".to_owned()));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadReport {
    /// The document.
    pub doc: DocRef,
    /// The object.
    pub object: ObjectRef,
    /// Field path of the PodSpec.
    pub spec_path: String,
    /// Why it was left alone, if it was.
    pub skipped: Option<Skip>,
    /// Per container, what it got.
    pub containers: Vec<ContainerPlan>,
    /// Whether its document changed.
    pub changed: bool,
    /// Whether the bundle volume was missing.
    pub volume_added: bool,
    /// Whether the bundle hash annotation was missing or stale.
    pub annotation_changed: bool,
    /// What of the start-up merge was missing, stale or left by an earlier run.
    pub merge_changes: Vec<String>,
}

/// Counts for the summary line.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::process(&format!("{pod}---\nkind: Service\n"), &opts)?;
/// let s: &trust_inject::Summary = &run.summary;
/// assert_eq!((s.documents, s.workloads, s.containers, s.changed), (2, 1, 1, 1));
/// assert!(s.namespaces.contains("web"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Documents in the stream.
    pub documents: usize,
    /// Documents that are mappings (candidate objects).
    pub objects: usize,
    /// Workloads injected (or already complete).
    pub workloads: usize,
    /// Containers injected.
    pub containers: usize,
    /// Namespaces of injected workloads (`""` for none).
    pub namespaces: BTreeSet<String>,
    /// Workloads left alone, by reason.
    pub skipped: BTreeMap<SkipReason, usize>,
    /// Warnings.
    pub warnings: usize,
    /// Documents that changed.
    pub changed: usize,
}

/// The result of a run.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let planned: trust_inject::Processed = trust_inject::plan_edits(pod, &opts)?;
/// let mut out = Vec::new();
/// planned.write_output(pod, &mut out).map_err(|e| e.to_string())?;
/// assert_eq!(String::from_utf8(out).map_err(|e| e.to_string())?, trust_inject::process(pod, &opts)?.output);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Processed {
    /// The output stream (empty from [`plan_edits`], which leaves assembling to
    /// [`Processed::write_output`]).
    pub output: String,
    /// The edits to the input, as `(start, end, replacement)` byte ranges in order. The
    /// same snippet inserted into many workloads is one shared text.
    pub splices: Vec<(usize, usize, Arc<str>)>,
    /// Findings, in document order.
    pub findings: Vec<Finding>,
    /// Per workload.
    pub workloads: Vec<WorkloadReport>,
    /// Counts.
    pub summary: Summary,
    /// The ConfigMaps or Secrets of the stream that the workloads read the bundle from.
    pub sources: Vec<crate::reach::SourceObject>,
}

/// Injects the CA bundle into every workload of a multi-document stream.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), trust_inject::Error> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let out = trust_inject::process("kind: Service\n", &opts)?;
/// assert_eq!(out.output, "kind: Service\n"); // non-workloads pass through unchanged
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error`] for invalid YAML, a workload that cannot be injected, or warnings under
/// `strict`; nothing of the output is returned then.
pub fn process(input: &str, opts: &Options) -> Result<Processed, Error> {
    let mut out = plan_edits(input, opts)?;
    let extra: usize = out.splices.iter().map(|s| s.2.len()).sum();
    let mut text = String::with_capacity(input.len() + extra);
    let mut pos = 0usize;
    for (start, end, t) in &out.splices {
        text.push_str(&input[pos..*start]);
        text.push_str(t);
        pos = *end;
    }
    text.push_str(&input[pos..]);
    out.output = text;
    Ok(out)
}

impl Processed {
    /// Writes the output — `input` with the edits applied — to `w` without assembling it
    /// in memory first: the unchanged parts are handed to `w` straight from `input`, with the
    /// inserted text, in vectored writes of up to `WRITE_SLICES` (1,024) pieces (one `writev` each
    /// when `w` is unbuffered), never copied.
    ///
    /// # Errors
    /// What writing to `w` returns.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
    /// let input = "kind: Service\nmetadata: {name: s}\n";
    /// let planned = trust_inject::plan_edits(input, &opts)?;
    /// let mut out = Vec::new();
    /// planned.write_output(input, &mut out)?;
    /// assert_eq!(out, input.as_bytes()); // nothing to inject: the input, byte for byte
    /// # Ok(()) }
    /// ```
    pub fn write_output<W: std::io::Write + ?Sized>(
        &self,
        input: &str,
        w: &mut W,
    ) -> std::io::Result<()> {
        let input = input.as_bytes();
        let mut batch: Vec<IoSlice<'_>> =
            Vec::with_capacity(WRITE_SLICES.min(2 * self.splices.len() + 1));
        let mut pos = 0usize;
        for (start, end, t) in &self.splices {
            let kept = input.get(pos..*start).ok_or_else(|| {
                std::io::Error::other("an edit lies outside the input or overlaps another")
            })?;
            for piece in [kept, t.as_bytes()] {
                if !piece.is_empty() {
                    batch.push(IoSlice::new(piece));
                }
            }
            if batch.len() + 2 > WRITE_SLICES {
                write_all_slices(w, &mut batch)?;
            }
            pos = *end;
        }
        if let Some(rest) = input.get(pos..).filter(|r| !r.is_empty()) {
            batch.push(IoSlice::new(rest));
        }
        write_all_slices(w, &mut batch)
    }
}

/// How many pieces of the output go in one vectored write (Linux's `IOV_MAX`).
const WRITE_SLICES: usize = 1024;

/// Writes every piece of `batch` (empty afterwards), resuming after partial writes.
fn write_all_slices<W: std::io::Write + ?Sized>(
    w: &mut W,
    batch: &mut Vec<IoSlice<'_>>,
) -> std::io::Result<()> {
    let mut rest: &mut [IoSlice<'_>] = batch;
    while !rest.is_empty() {
        match w.write_vectored(rest) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::WriteZero,
                    "failed to write the whole output",
                ));
            }
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    batch.clear();
    Ok(())
}

/// How much a run keeps about each workload.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use trust_inject::Reports;
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let lean = trust_inject::plan_edits_reporting(pod, &opts, Reports::SummaryOnly)?;
/// let full = trust_inject::plan_edits_reporting(pod, &opts, Reports::PerWorkload)?;
/// assert!(lean.workloads.is_empty() && full.workloads.len() == 1);
/// assert_eq!(lean.summary, full.summary);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reports {
    /// A [`WorkloadReport`] per workload in [`Processed::workloads`], for `check` and the
    /// JSON report.
    PerWorkload,
    /// Only the counts of [`Processed::summary`]; [`Processed::workloads`] stays empty, so
    /// memory does not grow with the number of workloads.
    SummaryOnly,
}

/// Like [`process`], but leaves `output` empty: the edits are in `splices`, for
/// [`Processed::write_output`] to apply while writing (one copy of the stream less in
/// memory).
///
/// # Errors
/// As [`process`].
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let planned = trust_inject::plan_edits(pod, &opts)?;
/// assert!(planned.output.is_empty() && !planned.splices.is_empty());
/// // Every edit inserts lines: nothing of the input is replaced.
/// assert!(planned.splices.iter().all(|(start, end, _)| start == end));
/// # Ok(()) }
/// ```
pub fn plan_edits(input: &str, opts: &Options) -> Result<Processed, Error> {
    plan_edits_reporting(input, opts, Reports::PerWorkload)
}

/// [`plan_edits`], keeping per-workload reports only when `reports` asks for them.
///
/// # Errors
/// As [`process`].
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let opts = trust_inject::Options::from_configmap("corp-ca", "ca.crt");
/// let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: web\nspec:\n  containers:\n  - name: app\n";
/// let run = trust_inject::plan_edits_reporting(pod, &opts, trust_inject::Reports::PerWorkload)?;
/// assert_eq!(run.workloads[0].object.name, "p");
/// # Ok(()) }
/// ```
pub fn plan_edits_reporting(
    input: &str,
    opts: &Options,
    reports: Reports,
) -> Result<Processed, Error> {
    if input.len() as u64 > opts.max_input_bytes {
        return Err(Error::TooLarge {
            limit: opts.max_input_bytes,
        });
    }
    let parallel = input.len() > PARALLEL_THRESHOLD;
    let chunks = split_stream(input);
    let bases = first_lines(input, &chunks, parallel);
    let keep = reports == Reports::PerWorkload;
    let wanted = Wanted::new(opts, keep);
    let work = |run: &std::ops::Range<usize>| {
        let (Some(run_chunks), Some(run_bases)) =
            (chunks.get(run.clone()), bases.get(run.start..run.end + 1))
        else {
            return Ok(ChunkOut::default());
        };
        process_run(input, run_chunks, run_bases, opts, &wanted, keep)
    };
    let mut merged = Merged::default();
    // Small chunks are taken in runs: one task and one result per run, so a stream of
    // millions of tiny documents does not hold millions of per-chunk results. On one
    // thread each run is merged as it ends (an error stops the run there). On every core
    // each run is merged in stream order as soon as the runs before it are (see
    // [`process_in_order`]). The first error in the stream is the one returned.
    let runs = runs_of(&chunks);
    if parallel {
        process_in_order(&runs, &work, &mut merged)?;
    } else {
        for r in runs.iter().map(work) {
            merged.absorb(r)?;
        }
    }
    let Merged {
        mut out,
        mut splices,
        existing,
        bundle_like,
        sources,
        first_in_ns,
        ..
    } = merged;
    if let Some(e) = crate::reach::missing_key(opts, &sources, &first_in_ns) {
        return Err(e);
    }
    out.sources = sources;
    count_warnings(opts, &mut out)?;
    if let (true, true, Some(loaded)) = (
        opts.generated,
        opts.append_generated,
        opts.loaded.as_deref(),
    ) {
        if let Some((ns, chart)) = bundle_like
            .iter()
            .find(|(ns, _)| out.summary.namespaces.contains(ns))
        {
            return Err(collision(
                opts,
                ns,
                chart,
                first_in_ns.get(ns).map(|f| &f.0),
            ));
        }
        generated_splices(
            input,
            opts,
            loaded,
            &out.summary.namespaces,
            &existing,
            &mut splices,
        );
    }
    refuse_overlaps(input, &splices)?;
    out.splices = splices;
    Ok(out)
}

/// Processes every run on the pool and merges the results into `merged` in stream order.
///
/// The runs are queued oldest first, and a core takes the next one as soon as it is free:
/// no core waits for the others between groups of runs. The core that ends a run merges
/// it, and every result waiting behind it, when the runs before them are merged; a result
/// that ends early waits in `held` for them (a handful at a time: the runs are taken in
/// order). After an error, the runs behind it are skipped, and the first error in the
/// stream is returned. A panic (a bug) skips them too, and reaches the caller once the
/// runs under way end.
fn process_in_order<W>(
    runs: &[std::ops::Range<usize>],
    work: &W,
    merged: &mut Merged,
) -> Result<(), Error>
where
    W: Fn(&std::ops::Range<usize>) -> Result<ChunkOut, Error> + Sync,
{
    struct InOrder<'m> {
        merged: &'m mut Merged,
        held: BTreeMap<usize, Option<Result<ChunkOut, Error>>>,
        next: usize,
        result: Result<(), Error>,
    }
    let failed_at = AtomicUsize::new(usize::MAX);
    let state = Mutex::new(InOrder {
        merged,
        held: BTreeMap::new(),
        next: 0,
        result: Ok(()),
    });
    rayon::in_place_scope_fifo(|s| {
        for (i, run) in runs.iter().enumerate() {
            let (failed_at, state) = (&failed_at, &state);
            s.spawn_fifo(move |_| {
                let _stop = StopOnPanic { at: i, failed_at };
                let out = (i < failed_at.load(Ordering::Relaxed)).then(|| work(run));
                if let Some(Err(_)) = out {
                    failed_at.fetch_min(i, Ordering::Relaxed);
                }
                // A panic while merging poisons the lock; the panic itself goes on to the
                // caller, so the state behind it is of no further use.
                let mut st = state
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                st.held.insert(i, out);
                loop {
                    let next = st.next;
                    let Some(out) = st.held.remove(&next) else {
                        break;
                    };
                    st.next += 1;
                    if let (Ok(()), Some(out)) = (&st.result, out)
                        && let Err(e) = st.merged.absorb(out)
                    {
                        failed_at.fetch_min(next, Ordering::Relaxed);
                        st.result = Err(e);
                    }
                }
            });
        }
    });
    state
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .result
}

/// Marks the run `at` failed when it is dropped by a panic, so that the runs behind it are
/// skipped as after an error (rayon lets every queued run go on before the panic reaches
/// the caller).
struct StopOnPanic<'a> {
    at: usize,
    failed_at: &'a AtomicUsize,
}

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.failed_at.fetch_min(self.at, Ordering::Relaxed);
        }
    }
}

/// The chunks cut into runs of consecutive chunks of about [`RUN_BYTES`] each (a larger
/// chunk is a run of its own).
fn runs_of(chunks: &[Chunk]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut bytes = 0usize;
    for (i, c) in chunks.iter().enumerate() {
        bytes += c.end - c.start;
        if bytes >= RUN_BYTES {
            runs.push(start..i + 1);
            start = i + 1;
            bytes = 0;
        }
    }
    if start < chunks.len() {
        runs.push(start..chunks.len());
    }
    runs
}

/// Processes consecutive chunks (starting at the lines `bases`, which end with the line
/// after the last chunk) into one result, their
/// documents numbered in order from 1.
fn process_run(
    input: &str,
    chunks: &[Chunk],
    bases: &[usize],
    opts: &Options,
    wanted: &Wanted,
    keep_reports: bool,
) -> Result<ChunkOut, Error> {
    let mut out = ChunkOut {
        keep_reports,
        ..ChunkOut::default()
    };
    for (c, lines) in chunks.iter().zip(bases.windows(2)) {
        let (base, breaks) = match *lines {
            [base, next] => (base, next - base),
            _ => continue,
        };
        let lines = ChunkLines {
            first: base,
            breaks,
        };
        process_chunk(input, *c, lines, opts, wanted, &mut out)?;
    }
    Ok(out)
}

/// The line number of the first line of each chunk, and then of the line after the last
/// (so that a chunk's line breaks are counted once, here).
fn first_lines(input: &str, chunks: &[Chunk], parallel: bool) -> Vec<usize> {
    let lines_of = |c: &Chunk| input.get(c.start..c.end).map_or(0, count_lines);
    let counts: Vec<usize> = if parallel {
        chunks.par_iter().map(lines_of).collect()
    } else {
        chunks.iter().map(lines_of).collect()
    };
    let mut bases = Vec::with_capacity(chunks.len() + 1);
    let mut line = 1usize;
    for n in counts {
        bases.push(line);
        line += n;
    }
    bases.push(line);
    bases
}

/// The results of the chunks merged so far, in stream order.
#[derive(Default)]
struct Merged {
    /// Findings, reports and counts.
    out: Processed,
    /// The edits, in order.
    splices: Vec<(usize, usize, Arc<str>)>,
    /// Documents in the chunks merged so far.
    offset: usize,
    /// Bundle objects generated by an earlier run.
    existing: Vec<Generated>,
    /// The chart's own objects of the kind and name of the generated bundle.
    bundle_like: Vec<(String, DocRef)>,
    /// The objects of the stream that the injected workloads read the bundle from.
    sources: Vec<crate::reach::SourceObject>,
    /// The first injected workload of each namespace, named when a generated bundle would
    /// collide with the chart's own object there, or the source object lacks the key.
    first_in_ns: BTreeMap<String, (DocRef, ObjectRef)>,
}

impl Merged {
    /// Adds the result of the next chunk, numbering its documents after those merged so
    /// far; an error of the chunk is returned with its document renumbered the same way.
    fn absorb(&mut self, result: Result<ChunkOut, Error>) -> Result<(), Error> {
        let offset = self.offset;
        let mut c = match result {
            Ok(c) => c,
            Err(mut e) => {
                if let Some(d) = doc_of(&mut e) {
                    d.index += offset;
                }
                return Err(e);
            }
        };
        for d in c.findings.iter_mut().filter_map(|f| f.doc.as_mut()) {
            d.index += offset;
        }
        for w in &mut c.workloads {
            w.doc.index += offset;
        }
        // Counted per chunk, so the reports need not be kept.
        let s = &mut self.out.summary;
        s.workloads += c.injected;
        s.containers += c.containers;
        for (reason, n) in c.skipped {
            *s.skipped.entry(reason).or_default() += n;
        }
        for (ns, mut doc, object) in c.first_in_ns {
            if !s.namespaces.contains(&ns) {
                s.namespaces.insert(ns.clone());
            }
            self.first_in_ns.entry(ns).or_insert_with(|| {
                doc.index += offset;
                (doc, object)
            });
        }
        self.offset += c.documents;
        s.documents += c.documents;
        s.objects += c.objects;
        s.changed += c.changed;
        self.out.findings.append(&mut c.findings);
        self.out.workloads.append(&mut c.workloads);
        self.splices.append(&mut c.splices);
        self.existing.append(&mut c.generated);
        for (_, d) in &mut c.bundle_like {
            d.index += offset;
        }
        self.bundle_like.append(&mut c.bundle_like);
        for s in &mut c.sources {
            s.doc.index += offset;
        }
        self.sources.append(&mut c.sources);
        Ok(())
    }
}

/// Counts the warnings into the summary; under `strict`, any warning is an error.
fn count_warnings(opts: &Options, out: &mut Processed) -> Result<(), Error> {
    out.summary.warnings = out
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    if opts.strict && out.summary.warnings > 0 {
        return Err(Error::Strict {
            warnings: out
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Warning)
                .cloned()
                .collect(),
        });
    }
    Ok(())
}

/// Adds to `splices` the edits that bring the generated bundle objects up to date: one per
/// namespace of `namespaces`, replacing the one an earlier run generated there when it
/// differs, appended at the end of the stream otherwise; and those of namespaces without
/// an injected workload any more removed. `splices` is left sorted.
fn generated_splices(
    input: &str,
    opts: &Options,
    loaded: &crate::config::Loaded,
    namespaces: &BTreeSet<String>,
    existing: &[Generated],
    splices: &mut Vec<(usize, usize, Arc<str>)>,
) {
    let crlf = memmem::find(input.as_bytes(), b"\r\n").is_some();
    let mut tail = String::new();
    // Generated earlier for a namespace that no longer has an injected workload.
    for (ns, _, whole) in existing {
        if !namespaces.contains(ns) {
            splices.push((whole.0, whole.1, Arc::from("")));
        }
    }
    for ns in namespaces {
        let text = crate::generate::render(opts, loaded, ns, &[], if crlf { "\r\n" } else { "\n" });
        match existing.iter().find(|(n, _, _)| n == ns) {
            Some((_, (start, end), _)) => {
                if input[*start..*end] != text {
                    splices.push((*start, *end, text.into()));
                }
            }
            None => {
                tail.push_str("---");
                tail.push_str(if crlf { "\r\n" } else { "\n" });
                tail.push_str(&text);
            }
        }
    }
    splices.sort_by_key(|s| s.0);
    if !tail.is_empty() {
        if !input.is_empty() && !input.ends_with('\n') {
            tail.insert_str(0, if crlf { "\r\n" } else { "\n" });
        }
        splices.push((input.len(), input.len(), tail.into()));
    }
}

/// Refuses edits that overlap: they would cut the output apart, so refuse them rather than
/// write a broken stream (or panic while writing it).
fn refuse_overlaps(input: &str, splices: &[(usize, usize, Arc<str>)]) -> Result<(), Error> {
    if let Some(w) = splices
        .windows(2)
        .find(|w| w[1].0 < w[0].1 || w[0].1 < w[0].0)
    {
        return Err(Error::inject(
            DocRef {
                index: 0,
                first_line: count_lines(&input[..w[1].0.min(input.len())]) + 1,
                last_line: count_lines(&input[..w[0].1.min(input.len())]) + 1,
                object: None,
                source: None,
            },
            None,
            "(document)",
            "two changes overlap (internal error: please report it with the input)",
        ));
    }
    Ok(())
}

/// The error for a generated bundle object that would overwrite the chart's own; `first`
/// is the first workload injected in namespace `ns`.
fn collision(opts: &Options, ns: &str, chart: &DocRef, first: Option<&DocRef>) -> Error {
    let kind = bundle_kind(opts);
    let first = first
        .map(|doc| format!(" (first: {doc})"))
        .unwrap_or_default();
    let where_ = if ns.is_empty() {
        "without a namespace".to_owned()
    } else {
        format!("in namespace {ns:?}")
    };
    Error::inject(
        chart.clone(),
        None,
        "metadata.name",
        format!(
            "the stream already has this {kind} {name:?}, and --ca-file would generate another {kind} {name:?} for the workloads {where_}{first}, which would overwrite it on apply; name the generated one differently with --bundle-name (spec.source.bundleName), or inject the chart's own with --{flag} {name}",
            name = opts.source.name,
            flag = kind.to_ascii_lowercase(),
        ),
    )
}

/// Inputs larger than this are parsed on every core.
const PARALLEL_THRESHOLD: usize = 128 * 1024;

/// Bytes of small chunks processed as one task, with one result: a stream of small
/// documents is not merged one document at a time.
const RUN_BYTES: usize = 16 * 1024;

/// Searchers built once: a searcher is costly to build, and runs on every chunk.
static CONTAINERS: std::sync::LazyLock<memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memmem::Finder::new(b"containers"));
static GENERATED: std::sync::LazyLock<memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memmem::Finder::new(wk::GENERATED_ANNOTATION.as_bytes()));

fn doc_of(e: &mut Error) -> Option<&mut DocRef> {
    match e {
        Error::Yaml { doc, .. } => Some(doc),
        Error::Inject(f) => f.doc.as_mut(),
        Error::Limit { doc, .. } | Error::LineBreak { doc, .. } | Error::BadMerge { doc, .. } => {
            Some(&mut **doc)
        }
        _ => None,
    }
}

/// A bundle object generated by an earlier run: its namespace, the span of the object and
/// the span to remove when it is no longer wanted.
type Generated = (String, (usize, usize), (usize, usize));

#[derive(Default)]
struct ChunkOut {
    documents: usize,
    objects: usize,
    changed: usize,
    splices: Vec<(usize, usize, Arc<str>)>,
    findings: Vec<Finding>,
    /// Per workload, when `keep_reports`.
    workloads: Vec<WorkloadReport>,
    keep_reports: bool,
    /// Workloads injected, and their containers.
    injected: usize,
    containers: usize,
    /// Workloads left alone, by reason.
    skipped: Vec<(SkipReason, usize)>,
    /// The namespaces of injected workloads, each with the first one injected there.
    first_in_ns: Vec<(String, DocRef, ObjectRef)>,
    /// Bundle objects generated earlier: namespace, span of the object, span to remove.
    generated: Vec<Generated>,
    /// The chart's own objects of the kind and name of the generated bundle: namespace and
    /// document.
    bundle_like: Vec<(String, DocRef)>,
    /// The objects of the stream that the injected workloads read the bundle from.
    sources: Vec<crate::reach::SourceObject>,
}

/// The namespace of a bundle object this tool generated earlier under the current name.
fn generated_here(root: &Node, opts: &Options) -> Option<String> {
    crate::object::generated_bundle(root, &opts.source.name)
}

/// Where a chunk sits in the input's lines.
#[derive(Clone, Copy)]
struct ChunkLines {
    /// The number of its first line.
    first: usize,
    /// Its line breaks.
    breaks: usize,
}

/// Processes one chunk into `out`, numbering its documents after those `out` holds.
fn process_chunk(
    input: &str,
    chunk: Chunk,
    lines: ChunkLines,
    opts: &Options,
    wanted: &Wanted,
    out: &mut ChunkOut,
) -> Result<(), Error> {
    process_chunk_as(input, chunk, lines, opts, wanted, out, false)
}

/// `e`, raised about a chunk's documents before they were numbered, numbered after the
/// `before` documents of the run.
fn numbered_after(mut e: Error, before: usize) -> Error {
    if let Some(d) = doc_of(&mut e) {
        d.index += before;
    }
    e
}

/// [`process_chunk`], with a tree built for every document when `force_build`.
fn process_chunk_as(
    input: &str,
    chunk: Chunk,
    lines: ChunkLines,
    opts: &Options,
    wanted: &Wanted,
    out: &mut ChunkOut,
    force_build: bool,
) -> Result<(), Error> {
    let base_line = lines.first;
    let text = &input[chunk.start..chunk.end];
    let need = Need::of(text, opts, force_build);
    let before = out.documents;
    if need.build {
        check_before_tree(text, base_line, opts).map_err(|e| numbered_after(e, before))?;
    }
    let build_tree = need.build || need.named_like_bundle;
    let (docs, repaired) = read_documents(text, chunk, lines, opts, build_tree)
        .map_err(|e| numbered_after(e, before))?;
    // The top-level `kind:` line that let the tree be skipped may sit in a scalar that
    // only go-yaml v2's leniency continues at column 0: read the tree to be sure.
    if repaired && !build_tree && need.maybe_workload {
        return process_chunk_as(input, chunk, lines, opts, wanted, out, true);
    }
    out.documents += docs.len();
    let crlf = memchr::memchr(b'\r', text.as_bytes()).is_some()
        && memmem::find(text.as_bytes(), b"\r\n").is_some();
    let source = helm_source(text);
    for (i, doc) in docs.iter().enumerate() {
        if doc.root_is_map {
            out.objects += 1;
        }
        let Some(root) = &doc.root else { continue };
        if root.entries().is_none() {
            continue;
        }
        if let Some(ns) = generated_here(root, opts) {
            // The whole chunk goes when the object is no longer wanted.
            let whole = if docs.len() == 1 {
                (chunk.start, chunk.end)
            } else {
                root_span(input, doc, root)
            };
            out.generated.push((ns, root_span(input, doc, root), whole));
            continue;
        }
        let docref = DocRef {
            index: before + i + 1,
            first_line: doc.first_line,
            // The last line with content (the parser's document end sits on the next token).
            last_line: {
                let content = input[chunk.start..root.end.max(chunk.start)].trim_end();
                (base_line + count_lines(content)).max(doc.first_line)
            },
            object: None,
            source: source.clone(),
        };
        if need.named_like_bundle {
            note_bundle_object(root, opts, &docref, out);
        }
        process_doc(input, doc, root, docref, crlf, opts, wanted, out)?;
    }
    // The trees' lists serve the next chunks this thread reads.
    for root in docs.into_iter().filter_map(|d| d.root) {
        recycle(root);
    }
    Ok(())
}

/// How much of a chunk must be read, judged from its text alone.
struct Need {
    /// The text spells `containers` (or could, through an escape): it may hold a workload.
    maybe_workload: bool,
    /// A tree must be built: the chunk may hold a workload, or a bundle generated earlier.
    build: bool,
    /// The text names the bundle object: it may be the chart's own object of that name, or
    /// the existing object the workloads read (whose keys are checked).
    named_like_bundle: bool,
}

impl Need {
    /// What `text` needs; a tree is always built when `force_build`.
    fn of(text: &str, opts: &Options, force_build: bool) -> Need {
        // Only a document that spells `containers` (or could, through an escape) can hold a
        // workload; the others are validated without building a tree.
        // A kind that is never a workload (a CRD, a ConfigMap, ...), read from the document's
        // top-level `kind:` line, needs no tree either, even when its text mentions containers.
        let maybe_workload = CONTAINERS.find(text.as_bytes()).is_some()
            || memchr::memchr(b'\\', text.as_bytes()).is_some();
        let never = || {
            top_level_kind(text).is_some_and(|(api, kind)| {
                NEVER_WORKLOADS
                    .iter()
                    .any(|(g, k)| *k == kind && *g == crate::workload::group_of(api))
            })
        };
        let build = force_build
            || (maybe_workload && !never())
            || GENERATED.find(text.as_bytes()).is_some();
        // A document that may be an object named like the bundle this run generates: read it
        // to tell a collision with the chart's own object.
        // Or the existing object the workloads read (its keys are checked).
        let named_like_bundle =
            (!opts.generated || opts.append_generated) && contains_name(text, &opts.source.name);
        Need {
            maybe_workload,
            build,
            named_like_bundle,
        }
    }
}

/// Whether `text` contains `name`, with a searcher built once per thread for the run's
/// bundle name (building one costs more than searching a small document).
fn contains_name(text: &str, name: &str) -> bool {
    thread_local! {
        static NAME: std::cell::RefCell<Option<(String, memmem::Finder<'static>)>> =
            const { std::cell::RefCell::new(None) };
    }
    NAME.with_borrow_mut(|cached| {
        let finder = match cached {
            Some((n, f)) if n == name => f,
            _ => {
                let f = memmem::Finder::new(name.as_bytes()).into_owned();
                &cached.insert((name.to_owned(), f)).1
            }
        };
        finder.find(text.as_bytes()).is_some()
    })
}

/// The whole chunk as a document, for errors raised before it is parsed.
fn chunk_ref(text: &str, base_line: usize) -> Box<DocRef> {
    Box::new(DocRef {
        index: 1,
        first_line: base_line,
        last_line: base_line + count_lines(text.trim_end()),
        object: guess_object(text),
        source: helm_source(text),
    })
}

/// Refuses, before a tree is built, a chunk with a line break Kubernetes reads differently,
/// or one larger than a workload may be (unless it holds a bundle generated earlier).
fn check_before_tree(text: &str, base_line: usize, opts: &Options) -> Result<(), Error> {
    if let Some(found) = odd_line_break(text) {
        return Err(Error::LineBreak {
            doc: chunk_ref(text, base_line),
            found,
        });
    }
    if text.len() as u64 > opts.max_workload_bytes && GENERATED.find(text.as_bytes()).is_none() {
        return Err(Error::Limit {
            doc: chunk_ref(text, base_line),
            over: OverLimit::WorkloadBytes {
                bytes: text.len(),
                limit: opts.max_workload_bytes,
            },
        });
    }
    Ok(())
}

/// The documents of a chunk, each with its tree when `build_tree`, and whether the text
/// had to be repaired (read as go-yaml v2 reads what the YAML 1.2 parser refuses).
fn read_documents(
    text: &str,
    chunk: Chunk,
    lines: ChunkLines,
    opts: &Options,
    build_tree: bool,
) -> Result<(Vec<Document>, bool), Error> {
    let base_line = lines.first;
    // Most documents that need no tree are plain block style, which a line scan proves
    // valid far faster than the parser; anything it cannot vouch for goes to the parser.
    let fast = if build_tree {
        crate::yaml::fast::parse(text, chunk.start, base_line, opts.limits.max_depth)
    } else {
        crate::yaml::fast::check_within(text, opts.limits.max_depth).map(|s| (s, None))
    };
    let Some((shape, root)) = fast else {
        // What the YAML 1.2 parser refuses but go-yaml v2 reads unambiguously is read too.
        return parse_chunk_lenient(text, chunk.start, base_line, &opts.limits, build_tree)
            .map_err(|e| yaml_error(text, base_line, e));
    };
    let has_marker = text.starts_with("---");
    if shape.is_empty && !has_marker {
        return Ok((Vec::new(), false));
    }
    let doc = Document {
        start: chunk.start,
        end: chunk.end,
        first_line: base_line,
        // The chunk's line breaks were counted once for the whole input: only those after
        // its last content are counted here.
        last_line: base_line + lines.breaks - count_lines(&text[text.trim_end().len()..]),
        root,
        root_is_map: shape.root_is_map,
        is_empty: shape.is_empty,
        simple: true,
    };
    Ok((vec![doc], false))
}

/// The error for a chunk the parser refuses: where, and what.
fn yaml_error(text: &str, base_line: usize, e: crate::yaml::ParseError) -> Error {
    let last_line = base_line + count_lines(text.trim_end_matches(['\n', '\r']));
    Error::Yaml {
        doc: DocRef {
            index: e.docs_before + 1,
            first_line: if e.docs_before == 0 {
                base_line
            } else {
                e.line
            },
            last_line: last_line.max(e.line),
            object: guess_object(text),
            source: helm_source(text),
        },
        line: e.line,
        column: e.col,
        problem: e.message,
    }
}

/// Records an object named like the bundle: when the bundle is not generated, as the
/// object the workloads read it from; when it is, and the object has its kind, as the
/// chart's own that the generated one would collide with.
fn note_bundle_object(root: &Node, opts: &Options, docref: &DocRef, out: &mut ChunkOut) {
    let Some(o) = ObjectRef::of(root) else { return };
    if !opts.generated {
        out.sources
            .extend(crate::reach::source_object(root, opts, docref));
    } else if o.api_version == "v1" && o.kind == bundle_kind(opts) && o.name == opts.source.name {
        out.bundle_like.push((
            o.namespace.clone().unwrap_or_default(),
            DocRef {
                object: Some(o.to_string()),
                ..docref.clone()
            },
        ));
    }
}

/// The kind of the bundle object: `ConfigMap`, `Secret` or `ClusterTrustBundle`.
fn bundle_kind(opts: &Options) -> &'static str {
    match opts.source.kind {
        crate::config::SourceKind::ConfigMap => "ConfigMap",
        crate::config::SourceKind::Secret => "Secret",
        crate::config::SourceKind::ClusterTrustBundle { .. } => "ClusterTrustBundle",
    }
}

/// One document of a chunk: the whole input, where the document sits in it, its tree as
/// written, and whether the input's line breaks are CRLF.
struct DocText<'a> {
    input: &'a str,
    doc: &'a Document,
    root: &'a Node,
    crlf: bool,
}

#[expect(
    clippy::too_many_arguments,
    reason = "the document, its context and the run's prepared values"
)]
fn process_doc(
    input: &str,
    doc: &Document,
    root: &Node,
    mut docref: DocRef,
    crlf: bool,
    opts: &Options,
    wanted: &Wanted,
    out: &mut ChunkOut,
) -> Result<(), Error> {
    let d = DocText {
        input,
        doc,
        root,
        crlf,
    };
    // The fast reader accepts no anchor, alias or merge key: no need to look.
    let has_alias_or_merge = !doc.simple && root.has_alias_or_merge();
    let resolved = has_alias_or_merge
        .then(|| resolve_doc(&d, &docref, opts))
        .transpose()?;
    let view = resolved.as_ref().unwrap_or(root);
    let (mut found, mut not_found) = (Vec::new(), Vec::new());
    let top = Path::default();
    find_pod_specs(view, &top, &opts.rules, &mut found, &mut not_found);
    // The object at the root, as found with its PodSpec (or read now).
    let object = found
        .iter()
        .find(|f| f.object_path.0.is_empty())
        .map(|f| f.object)
        .or_else(|| ObjectView::of(view))
        .unwrap_or_default();
    docref.object = Some(object_label(&object));
    if docref.source.is_none() {
        // Helm 4 names each document's template in an annotation instead of a comment.
        docref.source = crate::object::annotation(view, wk::HELM_FILENAME_ANNOTATION)
            .and_then(Node::as_str)
            .map(str::to_owned);
    }
    doc_findings(root, &not_found, !found.is_empty(), &docref, &object, out);
    if found.is_empty() {
        return Ok(());
    }
    let mut intents: Vec<Intent> = Vec::new();
    let first_workload = out.workloads.len();
    for f in &found {
        intents.extend(plan_workload(view, f, &docref, opts, wanted, out)?);
    }
    if intents.is_empty() {
        return Ok(());
    }
    out.changed += 1;
    for w in &mut out.workloads[first_workload..] {
        w.changed = true;
    }
    let why = match edit_in_place(&d, &intents, has_alias_or_merge) {
        Ok(edits) => {
            out.splices.extend(edits);
            return Ok(());
        }
        Err(why) => why,
    };
    // Owned before the tree it borrows from is taken for the re-emit.
    let object = object.to_ref();
    let tree = match resolved {
        Some(r) => r,
        None => resolve_doc(&d, &docref, opts)?,
    };
    out.splices
        .push(re_emit(&d, tree, intents, &docref, &object)?);
    // Losing every comment of a document is worth knowing about without --verbose.
    let message = format!(
        "re-emitted whole ({why}): its data was kept, its comments and formatting were not"
    );
    out.findings.push(Finding {
        doc: Some(docref),
        object: Some(object),
        ..Finding::new(Severity::Warning, message)
    });
    Ok(())
}

/// `object` as messages name it (its `Display`), written without the formatting machinery:
/// every workload document needs it.
fn object_label(object: &ObjectView<'_>) -> String {
    use std::fmt::Write;
    let ns = object.namespace.unwrap_or_default();
    let mut label = String::with_capacity(object.kind.len() + ns.len() + object.name.len() + 12);
    let _ = write!(label, "{object}");
    label
}

/// The findings about the document itself: Rollouts left to their Deployment and, when it
/// holds a workload, duplicate keys.
fn doc_findings(
    root: &Node,
    not_found: &[NotFound],
    has_workload: bool,
    docref: &DocRef,
    object: &ObjectView<'_>,
    out: &mut ChunkOut,
) {
    let finding = |severity, object: &ObjectRef, path: Option<String>, message: String| Finding {
        doc: Some(docref.clone()),
        object: Some(object.clone()),
        path,
        ..Finding::new(severity, message)
    };
    for nf in not_found {
        let NotFound::WorkloadRef(o) = nf;
        out.findings.push(finding(
            Severity::Info,
            o,
            None,
            "left alone: the Rollout uses workloadRef; its Deployment is injected instead".into(),
        ));
    }
    if !has_workload {
        return;
    }
    for (path, key) in duplicate_keys(root) {
        out.findings.push(finding(
            Severity::Warning,
            &object.to_ref(),
            Some(path),
            format!("duplicate key {key:?}: Kubernetes keeps the last one, and so does this tool; fix the template"),
        ));
    }
}

/// The document as Kubernetes reads it (aliases expanded, merge keys applied), or the
/// error that names it.
fn resolve_doc(d: &DocText<'_>, docref: &DocRef, opts: &Options) -> Result<Node, Error> {
    d.root.resolve(&opts.limits).map_err(|e| {
        let text = &d.input[d.doc.start.min(d.input.len())..d.doc.end.min(d.input.len())];
        let doc = Box::new(DocRef {
            object: docref.object.clone().or_else(|| guess_object(text)),
            ..docref.clone()
        });
        match e {
            ResolveError::TooManyAliasNodes { limit } => Error::Limit {
                doc,
                over: OverLimit::AliasNodes { limit },
            },
            ResolveError::BadMerge { line } => Error::BadMerge { doc, line },
            ResolveError::AliasInItsAnchor { line, start } => {
                let before = d.input.get(..start).unwrap_or_default();
                let line_text = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
                Error::Yaml {
                    doc: *doc,
                    line,
                    column: line_text.chars().count() + 1,
                    problem: crate::yaml::ALIAS_IN_ITS_ANCHOR.to_owned(),
                }
            }
        }
    })
}

/// Plans the injection into the PodSpec `f` of the document (read as `view`), records its
/// findings, counts and report in `out`, and returns its intents.
fn plan_workload(
    view: &Node,
    f: &Found,
    docref: &DocRef,
    opts: &Options,
    wanted: &Wanted,
    out: &mut ChunkOut,
) -> Result<Vec<Intent>, Error> {
    let p = plan(view, f, opts, wanted).map_err(|c| {
        Error::Inject(Box::new(Finding {
            object: Some(f.object.to_ref()),
            doc: Some(DocRef {
                object: Some(f.object.to_string()),
                ..docref.clone()
            }),
            ..*c
        }))
    })?;
    for n in p.notes {
        out.findings.push(Finding {
            doc: Some(docref.clone()),
            object: Some(f.object.to_ref()),
            ..n
        });
    }
    match &p.skipped {
        Some(s) => {
            let reason = s.reason();
            match out.skipped.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, n)) => *n += 1,
                None => out.skipped.push((reason, 1)),
            }
        }
        None => {
            out.injected += 1;
            out.containers += p.containers.len();
            let ns = f.object.namespace.unwrap_or_default();
            if !out.first_in_ns.iter().any(|(n, _, _)| n == ns) {
                out.first_in_ns
                    .push((ns.to_owned(), docref.clone(), f.object.to_ref()));
            }
        }
    }
    if out.keep_reports {
        out.workloads.push(WorkloadReport {
            doc: docref.clone(),
            object: f.object.to_ref(),
            spec_path: f.spec_path.to_string(),
            skipped: p.skipped.clone(),
            containers: p.containers,
            changed: false,
            volume_added: p.volume_added,
            annotation_changed: p.annotation_changed,
            merge_changes: p.merge_changes,
        });
    }
    Ok(p.intents)
}

/// The edits that make `intents` in the document's text, or why they cannot be made in
/// place. With aliases or merge keys (`shared`), only what no alias or merge reaches is
/// edited in place.
fn edit_in_place(
    d: &DocText<'_>,
    intents: &[Intent],
    shared: bool,
) -> Result<Vec<(usize, usize, Arc<str>)>, String> {
    if shared && !intents.iter().all(|i| d.root.path_is_unshared(&i.path)) {
        return Err("aliases or merge keys reach where the change goes".to_owned());
    }
    let mut editor = TextEditor::new(d.input, d.root, d.crlf);
    editor.note_removals(intents);
    intents
        .iter()
        .try_for_each(|i| editor.apply(i))
        .map_err(|e| e.to_string())?;
    let edits = editor.finish();
    // Edits that overlap would garble the text: never write them.
    if !edits.windows(2).all(|w| w[0].1 <= w[1].0) {
        return Err("the in-place edits overlap".to_owned());
    }
    // Commas, brackets and comments share lines in flow style: an edit there must leave a
    // document that still reads as YAML, or the document is emitted whole instead.
    if intents.iter().any(|i| touches_flow(d.root, &i.path)) && !reads_back(d, &edits) {
        return Err("the in-place edits of a flow collection do not read back as YAML".to_owned());
    }
    Ok(edits)
}

/// Whether any node on the way from `root` along `path` (the target included) is written
/// in flow style.
fn touches_flow(root: &Node, path: &Path) -> bool {
    let mut n = root;
    for seg in &path.0 {
        if n.flow {
            return true;
        }
        let next = match seg {
            crate::yaml::PathSeg::Key(k) => n.get(k),
            crate::yaml::PathSeg::Index(i) => n.items().and_then(|items| items.get(*i)),
        };
        match next {
            Some(c) => n = c,
            None => return false,
        }
    }
    n.flow
}

/// Whether the document `d` with `edits` applied still parses (by the full parser), when
/// it parsed unedited: a garbled edit never reaches the output.
fn reads_back(d: &DocText<'_>, edits: &[(usize, usize, Arc<str>)]) -> bool {
    let (start, end) = (d.doc.start.min(d.input.len()), d.doc.end.min(d.input.len()));
    let Some(original) = d.input.get(start..end) else {
        return false;
    };
    let limits = crate::yaml::Limits::default();
    let parses = |text: &str| crate::yaml::parse_chunk(text, 0, 1, &limits, false).is_ok();
    let mut text = String::with_capacity(original.len() + 256);
    let mut at = start;
    for (s, e, piece) in edits {
        let (Some(before), true) = (d.input.get(at..*s), *s >= start && *e <= end) else {
            return false;
        };
        text.push_str(before);
        text.push_str(piece);
        at = *e;
    }
    text.push_str(d.input.get(at..end).unwrap_or_default());
    // A document only the lenient reader takes cannot be checked this way; its edits are
    // the ones the tests cover.
    parses(&text) || !parses(original)
}

/// The splice that replaces the document with its resolved form `tree`, `intents`
/// applied, emitted whole.
fn re_emit(
    d: &DocText<'_>,
    mut tree: Node,
    mut intents: Vec<Intent>,
    docref: &DocRef,
    object: &ObjectRef,
) -> Result<(usize, usize, Arc<str>), Error> {
    // Items are removed last, from the highest index down, so the indices of the other
    // intents (all counted in the unedited document) still hold.
    // An item put first goes in after the removals, which count in the unedited list.
    let removal = |i: &Intent| match i.op {
        Op::RemoveItem(n) => (1, Some(std::cmp::Reverse(n))),
        Op::Prepend(_) => (2, None),
        _ => (0, None),
    };
    intents.sort_by_key(removal);
    for i in &intents {
        apply_to_tree(&mut tree, i).map_err(|path| Error::inject(
            docref.clone(),
            Some(object.clone()),
            path,
            "cannot apply the change to this document (internal error: please report it with the document)",
        ))?;
    }
    let newline = if d.crlf { "\r\n" } else { "\n" };
    let text = emit_document(&tree, newline).map_err(|e| {
        Error::inject(
            docref.clone(),
            Some(object.clone()),
            "(document)",
            e.to_string(),
        )
    })?;
    let (start, end) = root_span(d.input, d.doc, d.root);
    let lead = if needs_newline_before(d.input, start) {
        newline
    } else {
        ""
    };
    Ok((start, end, format!("{lead}{text}").into()))
}

fn needs_newline_before(input: &str, start: usize) -> bool {
    let ls = input.as_bytes()[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    !input.as_bytes()[ls..start]
        .iter()
        .all(|&b| b == b' ' || b == b'\t')
}

/// The bytes a re-emitted root replaces: from its first token to the end of its last line.
fn root_span(input: &str, doc: &Document, root: &Node) -> (usize, usize) {
    let start = root.start.max(doc.start);
    let ls = input.as_bytes()[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let start = if input.as_bytes()[ls..start].iter().all(|&b| b == b' ') {
        ls
    } else {
        start
    };
    let end = root.end;
    let end = match memchr::memchr(b'\n', &input.as_bytes()[end..]) {
        Some(i)
            if !input.as_bytes()[line_start(input, end)..end]
                .iter()
                .all(|&b| b == b' ') =>
        {
            end + i + 1
        }
        Some(_) => line_start(input, end),
        None => input.len(),
    };
    (start, end.max(start))
}

fn line_start(input: &str, pos: usize) -> usize {
    input.as_bytes()[..pos]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream of `n` small Pods (each `(at, odd)` of `odds` replaces the document at `at`,
    /// 1-based, with `odd`), large enough to be processed on every core in many runs, and
    /// the first line of each document.
    fn many_pods(n: usize, odds: &[(usize, &str)]) -> (String, Vec<usize>) {
        let mut input = String::new();
        let mut firsts = Vec::new();
        let mut line = 1;
        for i in 1..=n {
            firsts.push(line);
            let from = input.len();
            if let Some((_, odd)) = odds.iter().find(|(at, _)| *at == i) {
                input.push_str(odd);
            } else {
                input.push_str(&format!(
                    "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: ns{}\n  labels: {{a: b, a: c}}\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/app:{i}\n",
                    i % 3
                ));
            }
            line += input[from..].matches('\n').count();
        }
        assert!(input.len() > PARALLEL_THRESHOLD);
        (input, firsts)
    }

    /// Documents are numbered across the whole stream, whichever run and batch holds
    /// them: in findings, reports, and errors raised before and after a tree is read.
    #[test]
    fn documents_are_numbered_across_runs() {
        let opts = Options::from_configmap("corp-ca", "ca.crt");
        let n = 4000;
        let (input, firsts) = many_pods(n, &[]);
        let run = plan_edits_reporting(&input, &opts, Reports::PerWorkload).expect("valid");
        let docs: Vec<(usize, usize)> = run
            .workloads
            .iter()
            .map(|w| (w.doc.index, w.doc.first_line))
            .collect();
        let want: Vec<(usize, usize)> = (1..=n).zip(firsts.iter().copied()).collect();
        assert_eq!(docs, want);
        let warned: Vec<usize> = run
            .findings
            .iter()
            .filter_map(|f| f.doc.as_ref().map(|d| d.index))
            .collect();
        assert_eq!(warned, (1..=n).collect::<Vec<_>>());
        let bad_yaml = "---\napiVersion: v1\nkind: Pod\nspec: {containers: [\n";
        let bad_spec = "---\napiVersion: v1\nkind: Pod\nspec:\n  containers: 5\n";
        let bad_break = "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\u{2028}b\nspec:\n  containers: []\n";
        for (at, odd) in [
            (3921, bad_yaml),
            (2999, bad_spec),
            (1234, bad_break),
            (1, bad_yaml),
        ] {
            let (input, firsts) = many_pods(n, &[(at, odd)]);
            let mut e = plan_edits_reporting(&input, &opts, Reports::SummaryOnly)
                .expect_err("the odd document is refused");
            let d = doc_of(&mut e).expect("the error names its document");
            assert_eq!((d.index, d.first_line), (at, firsts[at - 1]), "{e}");
        }
    }

    /// Of several refused documents in a stream processed on every core, the error names
    /// the first in the stream, whichever run ends first.
    #[test]
    fn the_first_error_in_the_stream_is_returned() {
        let opts = Options::from_configmap("corp-ca", "ca.crt");
        let bad_yaml = "---\napiVersion: v1\nkind: Pod\nspec: {containers: [\n";
        let bad_spec = "---\napiVersion: v1\nkind: Pod\nspec:\n  containers: 5\n";
        for odds in [
            [(3990, bad_yaml), (17, bad_spec)],
            [(18, bad_spec), (3991, bad_yaml)],
            [(2000, bad_yaml), (2001, bad_spec)],
        ] {
            let (input, firsts) = many_pods(4000, &odds);
            let first = odds.iter().map(|(at, _)| *at).min().unwrap_or(0);
            let mut e = plan_edits_reporting(&input, &opts, Reports::SummaryOnly)
                .expect_err("the odd documents are refused");
            let d = doc_of(&mut e).expect("the error names its document");
            assert_eq!((d.index, d.first_line), (first, firsts[first - 1]), "{e}");
        }
    }

    /// One run per index, for [`process_in_order`].
    fn single_runs(n: usize) -> Vec<std::ops::Range<usize>> {
        (0..n).map(|i| i..i + 1).collect()
    }

    /// The run that fails first in the stream is the one whose error is returned, even when
    /// it ends after a later run has failed, and the runs behind it are not merged.
    #[test]
    fn an_early_run_that_fails_last_is_the_error_returned() {
        let runs = single_runs(64);
        let work = |r: &std::ops::Range<usize>| match r.start {
            2 => {
                std::thread::sleep(std::time::Duration::from_millis(200));
                Err(Error::TooLarge { limit: 2 })
            }
            40 => Err(Error::TooLarge { limit: 40 }),
            _ => Ok(ChunkOut {
                documents: 1,
                ..ChunkOut::default()
            }),
        };
        let mut merged = Merged::default();
        let got = process_in_order(&runs, &work, &mut merged);
        assert!(matches!(got, Err(Error::TooLarge { limit: 2 })), "{got:?}");
        assert_eq!(merged.out.summary.documents, 2, "only the runs before it");
    }

    /// A run that panics (a bug) stops the runs behind it as an error does: the panic
    /// reaches the caller once the runs already under way end, and no later run is
    /// processed (each would take time, and report the same bug again).
    #[test]
    fn a_panicking_run_stops_the_runs_behind_it() {
        /// Says that the first run's panic is under way (dropped while it unwinds).
        struct Unwinding<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Unwinding<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let runs = single_runs(64);
        let worked = AtomicUsize::new(0);
        let unwinding = std::sync::atomic::AtomicBool::new(false);
        let work = |r: &std::ops::Range<usize>| {
            worked.fetch_add(1, Ordering::Relaxed);
            if r.start == 0 {
                let _unwinding = Unwinding(&unwinding);
                panic!("a bug met in the first run");
            }
            // The runs under way end after the panic has begun (the first run is taken
            // first), and take a while.
            let start = std::time::Instant::now();
            while !unwinding.load(Ordering::SeqCst) && start.elapsed().as_secs() < 10 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            Ok(ChunkOut::default())
        };
        let mut merged = Merged::default();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            process_in_order(&runs, &work, &mut merged)
        }));
        assert!(caught.is_err(), "the panic reaches the caller");
        let worked = worked.load(Ordering::Relaxed);
        let cores = rayon::current_num_threads();
        assert!(
            worked <= 2 * cores + 2,
            "{worked} of {} runs processed after a panic in the first (on {cores} cores)",
            runs.len()
        );
    }

    #[test]
    fn summary_only_runs_count_the_same_and_edit_the_same() {
        let opts = Options::from_configmap("corp-ca", "ca.crt");
        let input = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\nspec:\n  containers:\n  - name: c\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  annotations:\n    trust-inject.dev/skip: \"true\"\nspec:\n  containers:\n  - name: c\n---\nkind: Service\n";
        let full = plan_edits_reporting(input, &opts, Reports::PerWorkload).expect("valid");
        let lean = plan_edits_reporting(input, &opts, Reports::SummaryOnly).expect("valid");
        assert_eq!(full.workloads.len(), 2);
        assert!(lean.workloads.is_empty());
        assert_eq!(lean.summary, full.summary);
        assert_eq!(lean.summary.workloads, 1);
        assert_eq!(lean.summary.skipped.get(&SkipReason::Annotation), Some(&1));
        assert_eq!(lean.splices, full.splices);
        assert_eq!(lean.findings, full.findings);
    }

    /// Each workload's report keeps why it was left alone with the detail (which rule
    /// excluded it, what pins it to Windows), and the summary counts it by reason.
    #[test]
    fn skip_reasons_keep_their_detail() {
        let mut opts = Options::from_configmap("corp-ca", "ca.crt");
        opts.exclude.names = vec!["b*".into()];
        let input = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  os:\n    name: windows\n  containers:\n  - name: c\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n  - name: c\n";
        let p = plan_edits_reporting(input, &opts, Reports::PerWorkload).expect("valid");
        let skips: Vec<_> = p.workloads.iter().map(|w| w.skipped.clone()).collect();
        assert_eq!(
            skips,
            [
                Some(Skip::Windows("spec.os.name is windows".into())),
                Some(Skip::Excluded("name b is excluded".into())),
            ]
        );
        let counts: Vec<_> = p.summary.skipped.into_iter().collect();
        assert_eq!(
            counts,
            [(SkipReason::Excluded, 1), (SkipReason::Windows, 1)]
        );
        let notes: Vec<_> = p.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            notes,
            [
                "left alone: a Windows pod (spec.os.name is windows); its containers read trust from the Windows certificate store, not from files",
                "left alone: name b is excluded",
            ]
        );
    }

    /// A writer that takes at most a few bytes per call and is interrupted now and then, as a
    /// slow pipe can be.
    struct Trickle {
        out: Vec<u8>,
        calls: usize,
    }

    impl std::io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(7) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.calls % 5 + 1);
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn output_written_in_pieces_is_the_assembled_output() {
        let opts = Options::from_configmap("corp-ca", "ca.crt");
        // Enough edited workloads for more than one batch of vectored pieces.
        let pod = |i: usize| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n  - name: c\n---\nkind: Service\n"
            )
        };
        let input = (0..WRITE_SLICES).map(pod).collect::<Vec<_>>().join("---\n");
        let assembled = process(&input, &opts).expect("valid").output;
        assert_ne!(assembled, input);
        let planned = plan_edits(&input, &opts).expect("valid");
        let mut slow = Trickle {
            out: Vec::new(),
            calls: 0,
        };
        planned
            .write_output(&input, &mut slow)
            .expect("written whole");
        assert_eq!(String::from_utf8(slow.out).expect("UTF-8"), assembled);
        let mut whole = Vec::new();
        planned.write_output(&input, &mut whole).expect("written");
        assert_eq!(String::from_utf8(whole).expect("UTF-8"), assembled);
    }

    #[test]
    fn reads_top_level_kinds_only_when_certain() {
        assert_eq!(
            top_level_kind("---\napiVersion: v1\nkind: ConfigMap # x\ndata:\n  kind: Pod\n"),
            Some(("v1", "ConfigMap"))
        );
        assert_eq!(
            top_level_kind("apiVersion: v1\nkind: \"Config\\x4dap\"\n"),
            None
        );
        assert_eq!(top_level_kind("apiVersion: v1\nkind: A\nkind: B\n"), None);
        assert_eq!(top_level_kind("{\"kind\": \"Pod\"}\n"), None);
        assert_eq!(
            top_level_kind("apiVersion: v1\nkind: A\n...\nkind: B\n"),
            None
        );
        // CRLF, no final line break, keys in either order.
        assert_eq!(
            top_level_kind("kind: Pod\r\napiVersion: v1\r\nmetadata: {}"),
            Some(("v1", "Pod"))
        );
        assert_eq!(
            top_level_kind("apiVersion: v1\nkind: Pod"),
            Some(("v1", "Pod"))
        );
        // Directives, a second document, a key missing, one written twice.
        assert_eq!(top_level_kind("apiVersion: v1\n%YAML 1.1\nkind: A\n"), None);
        assert_eq!(top_level_kind("...\napiVersion: v1\nkind: A\n"), None);
        assert_eq!(top_level_kind("apiVersion: v1\nx: 1\n"), None);
        assert_eq!(
            top_level_kind("apiVersion: v1\napiVersion: v2\nkind: A\n"),
            None
        );
        // Indented or mid-line keys are not top-level.
        assert_eq!(
            top_level_kind("apiVersion: v1\nkind: A\nspec:\n kind: B\n x: {kind: C}\n"),
            Some(("v1", "A"))
        );
    }

    #[test]
    fn warns_only_of_duplicates_kubernetes_sees() {
        let text = "spec:\n  labels: {a: 1, a: 2}\n  labels:\n    b: 1\n    <<: {c: 1}\n    <<: {d: 1}\n    '<<': x\n  x: [{y: 1, y: 2}]\n";
        assert_eq!(duplicates_in(text), ["spec labels", "spec.x[0] y"]);
    }

    /// The duplicate keys of the one document `text`, each as `path key`.
    fn duplicates_in(text: &str) -> Vec<String> {
        let docs = crate::yaml::parse_chunk(text, 0, 1, &crate::yaml::Limits::default(), true)
            .expect("valid");
        duplicate_keys(docs[0].root.as_ref().expect("a root"))
            .into_iter()
            .map(|(path, key)| format!("{path} {key}"))
            .collect()
    }

    /// A large mapping (more than the 32 keys scanned without hashing) is checked the same
    /// way: each duplicate once, and only the value Kubernetes keeps is looked into.
    #[test]
    fn warns_of_duplicates_in_large_mappings() {
        let mut text = String::from("spec:\n");
        for i in 0..40 {
            text.push_str(&format!("  k{i}: {i}\n"));
        }
        text.push_str("  k7: {gone: 1, gone: 2}\n  k3: [a]\n  k7:\n    kept: 1\n    kept: 2\n");
        assert_eq!(duplicates_in(&text), ["spec k3", "spec k7", "spec.k7 kept"]);
        let small = "a:\n  b: {x: 1}\n  c: 1\n  b:\n    d: [{e: 1, e: 2}]\n    d: 2\n";
        assert_eq!(duplicates_in(small), ["a b", "a.b d"]);
    }

    #[test]
    fn guesses_objects_of_broken_documents() {
        assert_eq!(
            guess_object("kind: Pod\nmetadata:\n  name: a\n  namespace: b\nspec: [\n").as_deref(),
            Some("Pod b/a")
        );
        assert_eq!(
            helm_source("---\n# Source: c/templates/x.yaml\nkind: Pod\n").as_deref(),
            Some("c/templates/x.yaml")
        );
    }
}
