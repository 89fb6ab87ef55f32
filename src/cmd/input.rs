//! Reading the input FILEs (or standard input) into one stream, and placing messages in
//! the files they came from.

use std::ffi::OsString;
use std::io::{self, Read, Write};

use trust_inject::{Error, Options};

/// Where each input file sits in the joined stream, so that messages give the file and
/// the line in it. Empty when the input is standard input alone.
#[derive(Default)]
pub struct Origins(Vec<Origin>);

/// One input file in the joined stream.
struct Origin {
    /// As given on the command line (`<stdin>` for `-`).
    name: String,
    /// The first stream line of its part (the `---` put before it, if any).
    start_line: usize,
    /// The stream line of its own line 1.
    first_line: usize,
    /// Its bytes in the stream (without a line break added after it).
    bytes: std::ops::Range<usize>,
}

impl Origins {
    /// The file holding stream line `line`, and that line in the file.
    fn at(&self, line: usize) -> Option<(&Origin, usize)> {
        let o = self.0.iter().rev().find(|o| o.start_line <= line)?;
        Some((o, (line + 1).saturating_sub(o.first_line).max(1)))
    }

    /// `doc` with lines in its file, prefixed by the file name (unchanged for stdin alone).
    /// With several files the document number is left out: the library counts documents
    /// across the joined stream, and the lines in the file say where it is.
    pub fn locate_doc(&self, doc: &trust_inject::DocRef) -> String {
        let Some((o, first)) = self.at(doc.first_line) else {
            return doc.to_string();
        };
        let last = (doc.last_line + 1).saturating_sub(o.first_line).max(first);
        if self.0.len() == 1 {
            return format!("{}: {doc}", o.name);
        }
        let mut out = if first == last {
            format!("{}: line {first}", o.name)
        } else {
            format!("{}: lines {first}-{last}", o.name)
        };
        match (&doc.object, &doc.source) {
            (Some(obj), Some(src)) => out.push_str(&format!(" ({obj}, from {src})")),
            (Some(obj), None) => out.push_str(&format!(" ({obj})")),
            (None, Some(src)) => out.push_str(&format!(" (from {src})")),
            (None, None) => {}
        }
        out
    }

    pub fn locate_finding(&self, f: &trust_inject::Finding) -> String {
        let (false, Some(doc)) = (self.0.is_empty(), &f.doc) else {
            return f.to_string();
        };
        let path = f
            .path
            .as_ref()
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        format!("{}: {path}{}", self.locate_doc(doc), f.message)
    }

    /// The error, placed in its file. With several files, the file is processed again on
    /// its own: errors are about one document, so it fails the same way, and the error then
    /// carries the document's number, lines and columns in that file.
    pub fn locate_error(&self, e: &Error, input: &str, opts: &Options) -> String {
        let Some((o, _)) = e.doc().and_then(|d| self.at(d.first_line)) else {
            return e.to_string();
        };
        if self.0.len() > 1
            && let Some(text) = input.get(o.bytes.clone())
            && let Err(alone) = trust_inject::plan_edits(text, opts)
            && alone.doc().is_some()
        {
            return format!("{}: {alone}", o.name);
        }
        match e {
            Error::Yaml {
                doc,
                line,
                column,
                problem,
            } => format!(
                "{}: invalid YAML: line {} column {column}: {problem}",
                self.locate_doc(doc),
                self.at(*line).map_or(*line, |(_, local)| local),
            ),
            _ => match e.doc() {
                Some(doc) => {
                    let whole = e.to_string();
                    let rest = whole.strip_prefix(&doc.to_string()).unwrap_or(&whole);
                    format!("{}{rest}", self.locate_doc(doc))
                }
                None => e.to_string(),
            },
        }
    }
}

/// Refuses an input whose size is known (a regular file) to be over what is left of the
/// `limit` once `total` bytes were read, before reading it; returns that size.
fn check_size(
    meta: Option<std::fs::Metadata>,
    name: &str,
    total: u64,
    limit: u64,
) -> Result<Option<u64>, Error> {
    let Some(meta) = meta.filter(std::fs::Metadata::is_file) else {
        return Ok(None);
    };
    if total.saturating_add(meta.len()) > limit {
        let name = name.to_owned();
        return Err(Error::InputTooLarge { name, limit });
    }
    Ok(Some(meta.len()))
}

/// Regular files at least this large are read in two halves at once: most of a large read
/// is the page faults of the fresh buffer and the copy from the page cache, which the second
/// core then shares.
const PARALLEL_READ: u64 = 4 << 20;

/// Checks the size of the input `file` (when it is a regular file) against what is left of
/// the `limit`, and reads a large one in halves ([`read_halves`]); otherwise returns an empty
/// buffer with room for the size known, for the ordinary read to fill.
fn start_reading(
    file: Option<&std::fs::File>,
    name: &str,
    total: u64,
    limit: u64,
) -> Result<Vec<u8>, Error> {
    let meta = file.and_then(|f| f.metadata().ok());
    let Some(size) = check_size(meta, name, total, limit)? else {
        return Ok(Vec::new());
    };
    if let Some(read) = file.and_then(|f| read_halves(f, size)) {
        return Ok(read);
    }
    let mut buf = Vec::new();
    buf.reserve_exact(usize::try_from(size).unwrap_or(0).saturating_add(1));
    Ok(buf)
}

/// Reads what is left of the regular file `file` of `size` bytes (from its current offset to
/// that size) in two halves at once, and moves the offset past it; `None` (the offset
/// unmoved) when that is small or a read fails (the file shrank): the ordinary read then
/// reads it, and also takes whatever was added meanwhile.
fn read_halves(file: &std::fs::File, size: u64) -> Option<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::FileExt;
    let mut handle = file;
    let start = handle.stream_position().ok()?;
    let len = size.checked_sub(start)?;
    if len < PARALLEL_READ {
        return None;
    }
    let n = usize::try_from(len).ok()?;
    // Zeroed by the allocator's fresh pages, not by a write: each page is first touched by
    // the read that fills it.
    let mut buf = vec![0u8; n];
    let (first, second) = buf.split_at_mut(n / 2);
    let middle = start + first.len() as u64;
    let (a, b) = rayon::join(
        || file.read_exact_at(first, start),
        || file.read_exact_at(second, middle),
    );
    a.and(b).ok()?;
    handle.seek(SeekFrom::Start(start + len)).ok()?;
    Some(buf)
}

/// Reads the FILEs (or standard input) into one stream. Files are joined so that each
/// starts a new document: a missing final newline is added and a `---` line put between
/// files that do not start with one. A byte order mark is kept at the start of the stream
/// only: one at the start of a later file would fall inside the stream, where YAML forbids it.
///
/// When standard input is a terminal and `hint` is set, a line on standard error says what
/// is awaited before reading it, so that a bare `trust-inject` does not seem to hang.
pub fn read_input(files: &[OsString], limit: u64, hint: bool) -> Result<(String, Origins), Error> {
    let mut sources: Vec<(String, Vec<u8>)> = Vec::new();
    let mut total = 0u64;
    let files: Vec<OsString> = if files.is_empty() {
        vec![OsString::from("-")]
    } else {
        files.to_vec()
    };
    for f in &files {
        let name = if f == "-" {
            "<stdin>".to_owned()
        } else {
            f.to_string_lossy().into_owned()
        };
        let buf = read_one(f, &name, total, limit, hint)?;
        total += buf.len() as u64;
        if total > limit {
            return Err(Error::TooLarge { limit });
        }
        sources.push((name, buf));
    }
    let from_files = !(files.len() == 1 && files.iter().all(|f| f == "-"));
    if sources.len() == 1
        && let Some((name, bytes)) = sources.pop()
    {
        let text = utf8(&name, bytes)?;
        let origins = if from_files {
            Origins(vec![Origin {
                name,
                start_line: 1,
                first_line: 1,
                bytes: 0..text.len(),
            }])
        } else {
            Origins::default()
        };
        return Ok((text, origins));
    }
    join(sources, total, utf8)
}

/// Reads the input `f` (`-`: standard input), named `name` in errors, when `total` bytes
/// were read before it: at most one byte over what is left of `limit`.
fn read_one(
    f: &OsString,
    name: &str,
    total: u64,
    limit: u64,
    hint: bool,
) -> Result<Vec<u8>, Error> {
    let (reader, mut buf): (Box<dyn Read>, _) = if f == "-" {
        // When standard input is a file (`< big.yaml`), its size is known too.
        use std::os::fd::AsFd;
        let file = io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from)
            .ok();
        let buf = start_reading(file.as_ref(), name, total, limit)?;
        if hint && io::IsTerminal::is_terminal(&io::stdin()) {
            say!(
                "trust-inject: reading manifests from standard input (the terminal): paste or type them, then press Ctrl-D; or pass FILEs (`trust-inject --help` for more)"
            );
        }
        (Box::new(io::stdin().lock()), buf)
    } else {
        let file = std::fs::File::open(f).map_err(|io| Error::Open {
            name: name.to_owned(),
            io,
        })?;
        let buf = start_reading(Some(&file), name, total, limit)?;
        (Box::new(file), buf)
    };
    // What is left: all of it, or what was added to a file read in halves; at most one
    // byte over the limit.
    let room = limit.saturating_sub(total).saturating_add(1);
    reader
        .take(room.saturating_sub(buf.len() as u64))
        .read_to_end(&mut buf)
        .map_err(|io| Error::Read {
            name: name.to_owned(),
            io,
        })?;
    Ok(buf)
}

/// The text of the input `name`, or where it stops being UTF-8.
fn utf8(name: &str, bytes: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e
            .as_bytes()
            .get(..at)
            .map_or(0, |b| memchr::memchr_iter(b'\n', b).count())
            + 1;
        Error::NotUtf8 {
            name: name.to_owned(),
            line,
            offset: at,
        }
    })
}

/// Several inputs joined into one stream (see [`read_input`]), with where each one sits.
fn join(
    sources: Vec<(String, Vec<u8>)>,
    total: u64,
    utf8: impl Fn(&str, Vec<u8>) -> Result<String, Error>,
) -> Result<(String, Origins), Error> {
    let mut out = String::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut origins = Vec::with_capacity(sources.len());
    let mut line = 1usize;
    for (i, (name, bytes)) in sources.into_iter().enumerate() {
        let full = utf8(&name, bytes)?;
        let text = if out.is_empty() {
            &full
        } else {
            full.strip_prefix('\u{feff}').unwrap_or(&full)
        };
        if text.is_empty() {
            continue;
        }
        if i > 0 && !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
            line += 1;
        }
        let start_line = line;
        if i > 0 && !text.starts_with("---") {
            out.push_str("---\n");
            line += 1;
        }
        let start = out.len();
        out.push_str(text);
        origins.push(Origin {
            name,
            start_line,
            first_line: line,
            bytes: start..out.len(),
        });
        line += memchr::memchr_iter(b'\n', text.as_bytes()).count();
    }
    Ok((out, Origins(origins)))
}
