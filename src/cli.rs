//! The command line: a clap [`Command`] built from [`trust_inject::config::FIELDS`], so
//! every option has exactly one definition; the layering of config file, environment and
//! flags into [`Settings`]; and the documented exit codes.

use std::ffi::OsString;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, ValueHint};
use trust_inject::config::{FIELDS, FieldKind, Setting, Settings};

/// Exit codes. Listed in `--help` and the README; never reuse a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// A workload could not be injected (a conflict, or warnings under --strict).
    InjectFailed = 1,
    /// Bad command line.
    Usage = 2,
    /// Unreadable or invalid input (I/O, invalid YAML, over a limit, empty under --fail-on-empty).
    BadInput = 3,
    /// Invalid configuration (config file, functionConfig, option values).
    BadConfig = 4,
    /// The output could not be written (disk full, file size limit, unwritable place).
    WriteFailed = 5,
    /// A bug: the run crashed (nothing was written).
    Internal = 6,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        Self::from(e as u8)
    }
}

/// The exit code table, for `--help` and the README.
pub const EXIT_CODES: &str = "Exit codes:
  0  success (the whole input was processed and written)
  1  a workload could not be injected (conflict, or a warning under --strict)
  2  usage error (unknown flag, bad flag value)
  3  input error (unreadable file, invalid YAML, over a limit, empty under --fail-on-empty)
  4  configuration error (--config file, functionConfig, option values, CA files)
  5  the output could not be written (disk full, file size limit); an -o FILE is left as it was
  6  internal error, a bug: nothing was written (please report it)";

/// Examples, shown before the exit codes in `--help`.
const EXAMPLES: &str = "Examples:
  helm template web ./chart | trust-inject --configmap corp-ca | kubectl apply -f -
  trust-inject --ca-file corp-root.pem -o injected.yaml rendered.yaml
  kustomize build . | trust-inject check --configmap corp-ca
  trust-inject completions bash > ~/.local/share/bash-completion/completions/trust-inject";

const ABOUT: &str = "Injects a CA bundle into every workload of rendered Kubernetes manifests";

const LONG_ABOUT: &str = "Injects a CA bundle into every workload of rendered Kubernetes manifests.

Reads a multi-document YAML stream (FILEs in order, or standard input), finds every \
PodSpec (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Pods, Lists, common CRDs) \
and adds the bundle volume, its mounts and the environment variables each runtime reads. \
Documents it does not edit come out byte for byte; edited documents only gain lines. \
Nothing is written unless the whole input succeeded.

Every option can also be set in a TrustInjection document (--config) and through a \
TRUST_INJECT_* environment variable; flags win over the environment, which wins over the \
file. The bundle source counts as one option: --configmap, --secret or --ca-file given on the \
command line replaces a source of any type from the environment or the file.";

/// The whole command.
#[must_use]
pub fn command() -> Command {
    let main = Command::new("trust-inject")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .long_about(LONG_ABOUT)
        .after_help(format!("{EXAMPLES}\n\n{EXIT_CODES}"))
        .args_conflicts_with_subcommands(true)
        .arg(
            Arg::new("report")
                .long("report")
                .value_name("FILE")
                .env("TRUST_INJECT_REPORT")
                .value_parser(clap::value_parser!(OsString))
                .value_hint(ValueHint::FilePath)
                .help("Write a JSON report (per workload: what was mounted and set, what was skipped or kept, and why) to FILE, or `-` for standard error"),
        )
        .arg(
            Arg::new("diff")
                .long("diff")
                .action(ArgAction::SetTrue)
                .help("Print a unified diff of the change instead of the manifests (for reviews)"),
        )
        .subcommand(
            common_args(Command::new("check"))
                .about("Exit non-zero if any workload of the stream would not trust the bundle")
                .long_about(
                    "Reads a stream (the output of `helm template` or `kustomize build`, injected or not) and \
                     exits 1 if any workload would not trust the bundle: a missing volume, mount or variable, or a \
                     chart's own setting that overrides it. Each is printed with the reason. Takes the same options \
                     as the main command, which say what is expected; -o/--output is refused, as check writes no \
                     manifests. An input with no workload is a warning (an error under --strict).",
                )
                .after_help(EXIT_CODES),
        )
        .subcommand(
            Command::new("completions")
                .about("Print a shell completion script")
                .arg(
                    Arg::new("shell")
                        .value_name("SHELL")
                        .required(true)
                        .value_parser(clap::value_parser!(clap_complete::Shell))
                        .help("bash, zsh, fish, elvish or powershell"),
                ),
        )
        .subcommand(Command::new("man").about("Print the man page (roff)"))
        .subcommand(merge_command());
    common_args(main)
}

/// The inputs and every option, shared by the main command and `check`.
fn common_args(cmd: Command) -> Command {
    let mut cmd = cmd
        .arg(
            Arg::new("files")
                .value_name("FILE")
                .num_args(0..)
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(OsString))
                .value_hint(ValueHint::FilePath)
                .help(
                    "Input files, read in order (default: standard input; `-` is standard input)",
                ),
        )
        .arg(
            Arg::new("output")
                .short('o')
                .long("output")
                .value_name("FILE")
                .value_parser(clap::value_parser!(OsString))
                .value_hint(ValueHint::FilePath)
                .help("Write the result to FILE instead of standard output (replaced whole once the result is complete; left as it was on failure)"),
        )
        .arg(
            Arg::new("config")
                .long("config")
                .value_name("FILE")
                .env("TRUST_INJECT_CONFIG")
                .value_parser(clap::value_parser!(OsString))
                .value_hint(ValueHint::FilePath)
                .help("Read options from a TrustInjection document (flags override it)"),
        )
        .arg(
            Arg::new("quiet")
                .short('q')
                .long("quiet")
                .env("TRUST_INJECT_QUIET")
                .action(ArgAction::SetTrue)
                // Only TRUST_INJECT_QUIET gives it a value.
                .value_parser(|v: &str| {
                    bool_word(v).ok_or("[possible values: true, false] (or yes/no, on/off, 1/0)")
                })
                .help("Do not print the summary line and notes (warnings are still printed)"),
        );
    for f in FIELDS {
        cmd = cmd.arg(field_arg(f));
    }
    cmd
}

fn field_arg(f: &'static trust_inject::config::Field) -> Arg {
    let default = if f.default.is_empty() {
        String::new()
    } else {
        format!(" [default: {}]", f.default)
    };
    let heading = match f.flag {
        "configmap" | "secret" | "key" | "complete-bundle" | "ca-file" | "public-roots"
        | "bundle-name" | "generate" => "Bundle source",
        "volume-name" | "mount-path" | "additive-file" | "system-bundle-path" | "additive-env"
        | "replacing-env" | "override-env" | "java-truststore" | "hashed-certs" => {
            "What is injected"
        }
        "exclude-container"
        | "skip-init-containers"
        | "exclude-kind"
        | "exclude-namespace"
        | "exclude-name"
        | "exclude-selector"
        | "generic-workloads"
        | "workload-kind" => "Which workloads",
        "max-depth" | "max-alias-nodes" | "max-workload-bytes" | "max-input-bytes" => "Limits",
        _ => "Behaviour",
    };
    let arg = Arg::new(f.flag)
        .long(f.flag)
        .help_heading(heading)
        .value_name(f.value_name)
        .value_hint(value_hint(f.flag))
        .env(f.env())
        .help(format!("{}{default}", f.help));
    match f.kind {
        FieldKind::Str => match fixed_values(f.flag) {
            // A fixed set: a wrong value is refused with the list, and completes to it.
            Some(values) => arg
                .action(ArgAction::Set)
                .value_parser(PossibleValuesParser::new(values)),
            None => arg.action(ArgAction::Set),
        },
        FieldKind::Int => arg
            .action(ArgAction::Set)
            .value_parser(clap::value_parser!(u64)),
        FieldKind::Bool => arg
            .action(ArgAction::Set)
            .num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
            .ignore_case(true)
            .value_parser(bool_parser()),
        FieldKind::List => arg.action(ArgAction::Append).value_delimiter(','),
    }
}

/// The values of an option that takes one of a fixed set (the config file checks the same).
fn fixed_values(flag: &str) -> Option<&'static [&'static str]> {
    match flag {
        "generate" => Some(&["configmap", "secret"]),
        _ => None,
    }
}

/// What shell completion offers for an option's value: local files only where the value
/// names one. Paths inside the container (`--mount-path`, `--additive-file`,
/// `--system-bundle-path`) and names complete nothing.
fn value_hint(flag: &str) -> ValueHint {
    match flag {
        "ca-file" => ValueHint::AnyPath,
        "error-log" | "public-roots" => ValueHint::FilePath,
        _ => ValueHint::Other,
    }
}

/// `true` or `false`, listed in errors and completions; `yes`/`no`, `on`/`off`, `1`/`0`,
/// `y`/`n` and `t`/`f` are accepted too (as for environment variables), in any case.
fn bool_parser() -> impl TypedValueParser<Value = bool> {
    PossibleValuesParser::new([
        PossibleValue::new("true").aliases(["t", "yes", "y", "on", "1"]),
        PossibleValue::new("false").aliases(["f", "no", "n", "off", "0"]),
    ])
    .map(|v| bool_word(&v).unwrap_or(false))
}

/// The boolean a word of [`bool_parser`] stands for, in any case.
fn bool_word(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// What the environment (`TRUST_INJECT_*`) and the command line set, as two layers of
/// [`Settings`]: the command line is laid over the environment.
#[must_use]
pub fn settings_from_matches(m: &ArgMatches) -> (Settings, Settings) {
    (
        settings_from(m, ValueSource::EnvVariable),
        settings_from(m, ValueSource::CommandLine),
    )
}

/// What came from `source`.
fn settings_from(m: &ArgMatches, source: ValueSource) -> Settings {
    let mut s = Settings::default();
    for f in FIELDS {
        if m.value_source(f.flag) != Some(source) {
            continue;
        }
        let v = match f.kind {
            FieldKind::Str => m.get_one::<String>(f.flag).map(|v| Setting::Str(v.clone())),
            FieldKind::Int => m
                .get_one::<u64>(f.flag)
                .map(|v| Setting::Str(v.to_string())),
            FieldKind::Bool => m.get_one::<bool>(f.flag).map(|v| Setting::Bool(*v)),
            FieldKind::List => m
                .get_many::<String>(f.flag)
                .map(|vs| Setting::List(vs.filter(|v| !v.is_empty()).cloned().collect())),
        };
        if let Some(v) = v {
            s.0.insert(f.flag, v);
        }
    }
    s
}

/// `trust-inject merge`, run by the start-up merge init container (`--merge-at-start`).
fn merge_command() -> Command {
    Command::new("merge")
        .about("Merge CA certificates with the public roots into a bundle directory (run by the --merge-at-start init container)")
        .long_about(
            "Reads the CA certificates of the mounted source (a ConfigMap or Secret key, a ClusterTrustBundle \
             projection, or a directory of *.pem/*.crt), checks them as --ca-file does (a private key or any \
             other block is an error; expired and non-CA certificates are warnings), merges them with the \
             public roots compiled into the binary, and writes ca.crt, ca-bundle.crt, the <subject-hash>.N \
             files and truststore.p12 into the output directory. Nothing is written unless every source is \
             valid; an absent or empty source is an error, so the pod does not start without its CAs.",
        )
        .arg(
            Arg::new("source")
                .long("source")
                .value_name("PATH")
                .required(true)
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(OsString))
                .help("A file or directory holding the CA certificates (repeatable)"),
        )
        .arg(
            Arg::new("output-dir")
                .long("output-dir")
                .value_name("DIR")
                .required(true)
                .value_parser(clap::value_parser!(OsString))
                .help("The directory the bundle files are written into (the emptyDir)"),
        )
        .arg(
            Arg::new("public-roots")
                .long("public-roots")
                .value_name("mozilla|none|FILE")
                .default_value("mozilla")
                .help("Public roots added: the built-in Mozilla store, none when the source is complete, or a PEM file such as a distribution's ca-certificates.crt"),
        )
        .after_help(
            "Exit codes:\n  0  the bundle was written\n  3  the source is absent or empty\n  4  the source holds something other than CA certificates (a private key, say)\n  5  the output could not be written",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn flags_become_settings() {
        let m = command()
            .try_get_matches_from([
                "trust-inject",
                "--configmap",
                "corp",
                "--complete-bundle",
                "--exclude-container",
                "a,b",
                "--max-depth",
                "12",
            ])
            .expect("parses");
        let (env, s) = settings_from_matches(&m);
        assert_eq!(env, Settings::default());
        assert_eq!(s.0.get("configmap"), Some(&Setting::Str("corp".into())));
        assert_eq!(s.0.get("complete-bundle"), Some(&Setting::Bool(true)));
        assert_eq!(
            s.0.get("exclude-container"),
            Some(&Setting::List(vec!["a".into(), "b".into()]))
        );
        assert_eq!(s.0.get("max-depth"), Some(&Setting::Str("12".into())));
        assert_eq!(s.0.get("key"), None);
    }

    #[test]
    fn booleans_can_be_turned_off() {
        let m = command()
            .try_get_matches_from(["trust-inject", "--generic-workloads=false"])
            .expect("parses");
        assert_eq!(
            settings_from_matches(&m).1.0.get("generic-workloads"),
            Some(&Setting::Bool(false))
        );
    }
}
