//! `trust-inject merge`: what the start-up merge init container runs.
//!
//! Reads the CA PEMs of the mounted source (a ConfigMap, a Secret or a ClusterTrustBundle
//! projection), checks them with the rules of `--ca-file`, merges them with the public roots
//! compiled into the binary, and writes the generated layout into the output directory (an
//! emptyDir): `ca.crt` (the private CAs), `ca-bundle.crt` (complete), `<subject-hash>.N` and
//! `truststore.p12` (readable by Java without a password: its certificate bags are not
//! encrypted). Everything is checked and built before the first file is written, so a bad
//! source leaves the directory as it was and the pod does not start. Never prints: the caller
//! reports the warnings and errors.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::bundle::{
    BundleError, BundleWarning, PublicRoots, build_bundle_data, public_roots, read_ca_files_at,
};
use crate::well_known as wk;

/// What to merge, and where to.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let out = std::env::temp_dir().join(format!("trust-inject-doc-merge-args-{}", std::process::id()));
/// std::fs::create_dir_all(&out)?;
/// let args = trust_inject::MergeArgs {
///     sources: vec!["testdata/pki/corp-root.pem".into()],
///     output_dir: out.clone(),
///     public_roots: trust_inject::PublicRoots::None,
/// };
/// let merged = trust_inject::merge(&args).map_err(|e| e.to_string())?;
/// assert_eq!(merged.private, 1);
/// std::fs::remove_dir_all(out).ok();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeArgs {
    /// The source files or directories (a mounted ConfigMap key, or the volume's directory).
    pub sources: Vec<PathBuf>,
    /// The directory the files are written into.
    pub output_dir: PathBuf,
    /// The public roots added: the compiled-in Mozilla store, or none (a complete source).
    pub public_roots: PublicRoots,
}

/// What a merge wrote.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let out = std::env::temp_dir().join(format!("trust-inject-doc-merged-{}", std::process::id()));
/// std::fs::create_dir_all(&out)?;
/// let args = trust_inject::MergeArgs {
///     sources: vec!["testdata/pki/corp-root.pem".into()],
///     output_dir: out.clone(),
///     public_roots: trust_inject::PublicRoots::None,
/// };
/// let merged: trust_inject::Merged = trust_inject::merge(&args).map_err(|e| e.to_string())?;
/// assert_eq!((merged.private, merged.total), (1, 1));
/// assert!(merged.files.iter().all(|f| out.join(f).is_file()));
/// std::fs::remove_dir_all(out).ok();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Merged {
    /// The names of the files written, in order.
    pub files: Vec<String>,
    /// How many private CAs the source held.
    pub private: usize,
    /// How many certificates the complete bundle holds.
    pub total: usize,
    /// Expired, not-yet-valid, non-CA or weak certificates of the source.
    pub warnings: Vec<BundleWarning>,
}

/// Why a merge failed; nothing was written.
///
/// # Examples
/// ```
/// let args = trust_inject::MergeArgs {
///     sources: vec!["testdata/pki/no-such-file.pem".into()],
///     output_dir: std::env::temp_dir().join("trust-inject-doc-merge-error"),
///     public_roots: trust_inject::PublicRoots::None,
/// };
/// let err = trust_inject::merge(&args).expect_err("an absent source");
/// assert!(matches!(err, trust_inject::MergeError::Absent { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// A source path does not exist (the volume or key is not mounted).
    #[error(
        "the source {} does not exist: is the ConfigMap, Secret or ClusterTrustBundle key mounted there? Nothing was written, so the pod will not start until the source holds the CA certificates",
        path.display()
    )]
    Absent {
        /// The path.
        path: PathBuf,
    },
    /// A source file is empty.
    #[error(
        "the source {} is empty: the ConfigMap, Secret or ClusterTrustBundle holds no CA certificate under this key. Nothing was written, so the pod will not start until it does",
        path.display()
    )]
    Empty {
        /// The path.
        path: PathBuf,
    },
    /// The source holds something that is not a CA certificate (a private key, say).
    #[error("{0}. Nothing was written, so the pod will not start")]
    Bundle(#[from] BundleError),
    /// The output could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Runs the merge at time `now` (for the validity warnings).
///
/// # Errors
/// [`MergeError`] when a source is absent, empty or holds anything but certificates, or an
/// output file cannot be written. Nothing is written unless every source was valid.
pub fn merge_at(args: &MergeArgs, now: SystemTime) -> Result<Merged, MergeError> {
    if args.sources.is_empty() {
        return Err(MergeError::Absent {
            path: PathBuf::new(),
        });
    }
    for path in &args.sources {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(MergeError::Absent { path: path.clone() });
            }
            Ok(m) if m.is_file() && m.len() == 0 => {
                return Err(MergeError::Empty { path: path.clone() });
            }
            Ok(m) if m.is_file() => {
                let text = std::fs::read(path).map_err(|source| BundleError::Io {
                    path: path.clone(),
                    source,
                })?;
                if text.iter().all(u8::is_ascii_whitespace) {
                    return Err(MergeError::Empty { path: path.clone() });
                }
            }
            _ => {}
        }
    }
    let read = read_ca_files_at(&args.sources, now)?;
    let public = public_roots(&args.public_roots)?;
    let data = build_bundle_data(&read.certificates, &public)?;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            wk::GENERATED_PRIVATE_KEY.to_owned(),
            data.ca_crt.clone().into_bytes(),
        ),
        (
            wk::GENERATED_COMPLETE_KEY.to_owned(),
            data.ca_bundle_crt.clone().into_bytes(),
        ),
    ];
    files.extend(
        data.hashed
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into_bytes())),
    );
    files.push((
        wk::GENERATED_TRUSTSTORE_KEY.to_owned(),
        data.truststore_p12.clone(),
    ));
    for (name, bytes) in &files {
        write_file(&args.output_dir, name, bytes)?;
    }
    let total = data
        .ca_bundle_crt
        .matches("-----BEGIN CERTIFICATE-----")
        .count();
    Ok(Merged {
        files: files.into_iter().map(|(n, _)| n).collect(),
        private: read.certificates.len(),
        total,
        warnings: read.warnings,
    })
}

/// Writes `dir/name` through a temporary file renamed over it, so a reader never sees half
/// a file (a restarted init container rewrites the same names).
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), MergeError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let err = |source| MergeError::Write {
        path: path.clone(),
        source,
    };
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)
}

/// Runs the merge now.
///
/// # Errors
/// [`MergeError`] when a source is absent, empty or holds anything but certificates, or an
/// output file cannot be written. Nothing is written unless every source was valid.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let out = std::env::temp_dir().join(format!("trust-inject-doc-merge-{}", std::process::id()));
/// std::fs::create_dir_all(&out)?;
/// let args = trust_inject::MergeArgs {
///     sources: vec!["testdata/pki/corp-root.pem".into()],
///     output_dir: out.clone(),
///     public_roots: trust_inject::PublicRoots::None,
/// };
/// let merged = trust_inject::merge(&args).map_err(|e| e.to_string())?;
/// assert!(merged.warnings.is_empty());
/// std::fs::remove_dir_all(out).ok();
/// # Ok(()) }
/// ```
pub fn merge(args: &MergeArgs) -> Result<Merged, MergeError> {
    merge_at(args, SystemTime::now())
}
