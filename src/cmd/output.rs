//! Writing the output whole or not at all.

use std::ffi::OsString;
use std::io::{self, Write};

use trust_inject::Error;

/// The termination signal (SIGINT, SIGTERM, SIGHUP) that arrived while an output file was
/// being written, or 0.
pub static SIGNALLED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Set by SIGXFSZ (a write past `ulimit -f`).
pub static FILE_TOO_LARGE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

pub fn write_output(path: Option<&OsString>, text: &str) -> Result<(), Error> {
    write_with(path, |w| w.write_all(text.as_bytes()))
}

/// The buffer in front of standard output.
const STDOUT_BUFFER: usize = 256 * 1024;

/// Writes the result to `-o FILE` or standard output, so that it arrives whole or not at
/// all.
///
/// `write` runs twice: first into a counter, so that anything that could fail or panic
/// while assembling the result does so before a byte is written; then for real. A file is
/// written to a temporary file in its folder and renamed over the target, so a failed
/// write (disk full, `ulimit -f`, a crash) leaves the target as it was, even when it is
/// the input. Devices and pipes named by `-o` (`/dev/stdout`) are written in place. A
/// closed pipe on standard output is the reader's choice, not a failure (the Unix
/// convention).
pub fn write_with(
    path: Option<&OsString>,
    write: impl Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Error> {
    write(&mut io::sink()).map_err(|io| Error::Internal {
        what: "cannot assemble the output",
        io,
    })?;
    match path {
        Some(p) if p != "-" => write_file(std::path::Path::new(p), &write).map_err(|io| {
            // Stopped by a signal: the temporary file is gone; end the way the signal would
            // have ended the process (the Unix convention, so callers see the signal).
            let signal = SIGNALLED.load(std::sync::atomic::Ordering::SeqCst);
            if let Ok(signal) = i32::try_from(signal)
                && signal != 0
            {
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
            // A failed write never touches the target, so whether it exists now is whether
            // it existed before.
            let kept = if std::path::Path::new(p).exists() {
                "the file was left as it was"
            } else {
                "nothing was written"
            };
            Error::Write {
                target: p.to_string_lossy().into_owned(),
                io,
                kept,
            }
        }),
        _ => {
            // Pieces smaller than the buffer are gathered into it (the kernel copies a few
            // large buffers into a pipe faster than a thousand small pieces of one vectored
            // write: about a quarter less system time on a stream of small workloads); larger
            // ones, such as the untouched documents of a chart, go straight from the input.
            let mut w = io::BufWriter::with_capacity(STDOUT_BUFFER, io::stdout().lock());
            match write(&mut w).and_then(|()| w.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                Err(io) => Err(Error::Write {
                    target: "<stdout>".to_owned(),
                    io,
                    kept: "what was written is incomplete",
                }),
            }
        }
    }
}

/// Writes `target` through a temporary file renamed over it (see [`write_with`]).
fn write_file(
    target: &std::path::Path,
    write: &dyn Fn(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let existing = std::fs::metadata(target).ok();
    if let Some(meta) = &existing
        && !meta.is_file()
    {
        // A device or a pipe cannot be replaced; the output is complete before this.
        let file = std::fs::OpenOptions::new().write(true).open(target)?;
        let mut w = io::BufWriter::with_capacity(1 << 20, file);
        write(&mut w)?;
        return w.flush();
    }
    // Through a symbolic link, replace the file it points to, not the link.
    // A termination signal stops the writing so that the temporary file is removed.
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        if let Ok(n) = usize::try_from(signal) {
            let _ = signal_hook::flag::register_usize(signal, &SIGNALLED, n);
        }
    }
    let real = std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
    let dir = real
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        // A new file gets the usual 0666 less the umask, as the shell's `>` would.
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    if let Some(meta) = &existing {
        // Keep the target's mode and, where allowed, its owner.
        std::fs::set_permissions(tmp.path(), meta.permissions())?;
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
    }
    {
        let mut w = io::BufWriter::with_capacity(1 << 20, StopOnSignal::new(tmp.as_file_mut()));
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) != 0 {
        return Err(io::Error::other("interrupted by a signal"));
    }
    tmp.persist(&real).map_err(|e| e.error)?;
    Ok(())
}

/// A writer that fails once a termination signal has arrived (see [`SIGNALLED`]).
struct StopOnSignal<W> {
    inner: W,
    /// Debug builds: raise this signal after the first write (`TRUST_INJECT_DEBUG_SIGNAL`).
    #[cfg(debug_assertions)]
    raise: Option<i32>,
}

impl<W> StopOnSignal<W> {
    fn new(inner: W) -> Self {
        StopOnSignal {
            inner,
            #[cfg(debug_assertions)]
            raise: debug::signal_while_writing(),
        }
    }

    fn check() -> io::Result<()> {
        if SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            Ok(())
        } else {
            Err(io::Error::other("interrupted by a signal"))
        }
    }
}

impl<W: Write> Write for StopOnSignal<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Self::check()?;
        let n = self.inner.write(buf)?;
        #[cfg(debug_assertions)]
        if let Some(signal) = self.raise.take() {
            let _ = signal_hook::low_level::raise(signal);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Self::check()?;
        self.inner.flush()
    }
}

/// Test hooks compiled into debug builds only: a release build has no way to trigger them.
#[cfg(debug_assertions)]
pub mod debug {
    use std::io::{self, Write};

    /// Panics before the input is processed when `TRUST_INJECT_DEBUG_PANIC=plan`.
    pub fn panic_before_processing() {
        if std::env::var_os("TRUST_INJECT_DEBUG_PANIC").is_some_and(|v| v == "plan") {
            panic!("forced panic before processing (TRUST_INJECT_DEBUG_PANIC=plan)");
        }
    }

    /// With `TRUST_INJECT_DEBUG_SIGNAL=term`, SIGTERM arrives while an output file is
    /// being written.
    pub fn signal_while_writing() -> Option<i32> {
        std::env::var_os("TRUST_INJECT_DEBUG_SIGNAL")
            .is_some_and(|v| v == "term")
            .then_some(signal_hook::consts::SIGTERM)
    }

    /// With `TRUST_INJECT_DEBUG_PANIC=write`, a writer that panics once 100 bytes have
    /// gone through it: a crash in the middle of writing the output.
    pub fn panic_while_writing(w: &mut dyn Write) -> Option<PanicAfter<'_>> {
        std::env::var_os("TRUST_INJECT_DEBUG_PANIC")
            .is_some_and(|v| v == "write")
            .then_some(PanicAfter {
                inner: w,
                left: 100,
            })
    }

    pub struct PanicAfter<'a> {
        inner: &'a mut dyn Write,
        left: usize,
    }

    impl Write for PanicAfter<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() >= self.left {
                panic!("forced panic while writing (TRUST_INJECT_DEBUG_PANIC=write)");
            }
            self.left -= buf.len();
            self.inner.write(buf)
        }

        fn flush(&mut self) -> io::Result<()> {
            self.inner.flush()
        }
    }
}
