//! The command line: a clap [`Command`] built from [`crate::config::FIELDS`], so every
//! option has exactly one definition; [`resolve`], which turns the arguments, the
//! environment and the config document into an [`Invocation`] (a pure function: the
//! caller passes the environment and reads the files); and the documented exit codes.
//!
//! Options are layered, each over the one before: defaults, the config document (or the
//! kustomize plugin config), Argo CD parameters and plugin env, `TRUST_INJECT_*`
//! variables, flags. The `TRUST_INJECT_*` layer is parsed by the same clap arguments as
//! the flags (same spellings, same errors), from the [`Env`] given, not from the process.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, ValueHint};

use crate::config::{FIELDS, FieldKind, Hint, Opt, Setting, Settings, settings_from_text};
use crate::{Error, Options};

/// The exit code table, for `--help` and docs/usage.md.
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

/// The whole command, with the environment variables each option reads (shown in
/// `--help`; clap reads them from the process when parsing with it).
///
/// # Examples
/// ```
/// let help = trust_inject::command().render_long_help().to_string();
/// assert!(help.contains("--configmap <NAME>") && help.contains("TRUST_INJECT_CONFIGMAP"));
/// assert!(help.contains("Exit codes:"));
/// ```
#[must_use]
pub fn command() -> Command {
    command_with(true)
}

/// The whole command; `env`: whether options read (and `--help` shows) their environment
/// variables. [`resolve`] parses without, and lays the [`Env`] it is given over the
/// defaults itself.
fn command_with(env: bool) -> Command {
    let env_of = |name: &str| env_var(env, name.to_owned());
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
                .env(env_of("TRUST_INJECT_REPORT"))
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
            // Its arguments are added only when it is used (parsed, or its help, completions
            // or man page printed): building them costs as much as the main command's.
            Command::new("check")
                .defer(if env { check_args_env } else { check_args })
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
    common_args(main, env)
}

/// The arguments of `check`, added when it is built.
fn check_args(cmd: Command) -> Command {
    common_args(cmd, false)
}

/// The arguments of `check`, reading their environment variables.
fn check_args_env(cmd: Command) -> Command {
    common_args(cmd, true)
}

/// The inputs and every option, shared by the main command and `check`.
fn common_args(cmd: Command, env: bool) -> Command {
    let env_of = |name: &str| env_var(env, name.to_owned());
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
                .env(env_of("TRUST_INJECT_CONFIG"))
                .value_parser(clap::value_parser!(OsString))
                .value_hint(ValueHint::FilePath)
                .help("Read options from a TrustInjection document (flags override it)"),
        )
        .arg(
            Arg::new("quiet")
                .short('q')
                .long("quiet")
                .env(env_of("TRUST_INJECT_QUIET"))
                .action(ArgAction::SetTrue)
                // Only TRUST_INJECT_QUIET gives it a value.
                .value_parser(quiet_parser)
                .help("Do not print the summary line and notes (warnings are still printed)"),
        );
    for f in FIELDS {
        cmd = cmd.arg(field_arg(f, env));
    }
    cmd
}

/// The environment variable an argument reads, when `on`.
fn env_var(on: bool, name: String) -> clap::builder::Resettable<clap::builder::OsStr> {
    if on {
        clap::builder::Resettable::Value(name.into())
    } else {
        clap::builder::Resettable::Reset
    }
}

/// The value of `TRUST_INJECT_QUIET`.
fn quiet_parser(v: &str) -> Result<bool, &'static str> {
    bool_word(v).ok_or("[possible values: true, false] (or yes/no, on/off, 1/0)")
}

fn field_arg(f: &'static crate::config::Field, env: bool) -> Arg {
    let default = if f.default.is_empty() {
        String::new()
    } else {
        format!(" [default: {}]", f.default)
    };
    let arg = Arg::new(f.flag)
        .long(f.flag)
        .help_heading(f.heading.title())
        .value_name(f.value_name)
        .value_hint(match f.hint {
            Hint::Other => ValueHint::Other,
            Hint::File => ValueHint::FilePath,
            Hint::AnyPath => ValueHint::AnyPath,
        })
        .env(if env {
            clap::builder::Resettable::Value(f.env().into())
        } else {
            clap::builder::Resettable::Reset
        })
        .help(format!("{}{default}", f.help));
    match f.kind {
        // A fixed set: a wrong value is refused with the list, and completes to it.
        FieldKind::Str if !f.values.is_empty() => arg
            .action(ArgAction::Set)
            .value_parser(PossibleValuesParser::new(f.values)),
        FieldKind::Str => arg.action(ArgAction::Set),
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

/// The process environment, as [`resolve`] reads it: taken from the process by the
/// binary, built from pairs by tests.
///
/// # Examples
/// ```
/// use trust_inject::{Env, Options, resolve};
/// let env: Env = [("TRUST_INJECT_CONFIGMAP", "corp-ca")].into_iter().collect();
/// let inv = resolve(&["trust-inject".into()], &env, &mut |_| unreachable!()).expect("valid");
/// let opts = Options::from_settings(&inv.settings).expect("valid");
/// assert_eq!(opts.source_name(), "corp-ca");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Env(BTreeMap<OsString, OsString>);

impl Env {
    /// The environment of this process.
    ///
    /// # Examples
    /// ```
    /// let copied: trust_inject::Env = std::env::vars_os().collect();
    /// assert_eq!(trust_inject::Env::from_process(), copied);
    /// ```
    #[must_use]
    pub fn from_process() -> Env {
        Env(std::env::vars_os().collect())
    }

    /// A variable's value, whatever its bytes.
    #[must_use]
    pub(crate) fn get(&self, name: &str) -> Option<&OsStr> {
        self.0.get(OsStr::new(name)).map(OsString::as_os_str)
    }

    /// A variable's value when it is set and UTF-8 (as [`std::env::var`]).
    #[must_use]
    pub(crate) fn var(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(OsStr::to_str)
    }
}

impl<K: Into<OsString>, V: Into<OsString>> FromIterator<(K, V)> for Env {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Env(iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect())
    }
}

/// What the run does.
///
/// # Examples
/// ```
/// use trust_inject::{Action, Env, resolve};
/// let action = |argv: &[&str]| {
///     let argv: Vec<std::ffi::OsString> = argv.iter().map(Into::into).collect();
///     resolve(&argv, &Env::default(), &mut |_| unreachable!()).expect("valid").action
/// };
/// assert_eq!(action(&["trust-inject", "--configmap", "corp-ca"]), Action::Inject);
/// assert_eq!(action(&["trust-inject", "check", "--configmap", "corp-ca"]), Action::Check);
/// assert_eq!(action(&["trust-inject", "man"]), Action::Man);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Inject and write the manifests.
    Inject,
    /// Only say whether every workload already trusts the bundle.
    Check,
    /// Print a shell completion script.
    Completions(clap_complete::Shell),
    /// Print the man page.
    Man,
    /// Merge CA certificates with the public roots (`trust-inject merge`, in the
    /// start-up merge init container); what to merge is in [`Invocation::merge`].
    Merge,
}

/// Everything a run needs to know before it reads its input: what [`resolve`] returns.
///
/// # Examples
/// ```
/// use trust_inject::{Env, resolve};
/// let argv = ["trust-inject", "--configmap", "corp-ca", "-o", "out.yaml", "a.yaml", "b.yaml"];
/// let argv: Vec<std::ffi::OsString> = argv.iter().map(Into::into).collect();
/// let inv = resolve(&argv, &Env::default(), &mut |_| unreachable!()).expect("valid");
/// assert_eq!(inv.files, ["a.yaml", "b.yaml"]);
/// assert_eq!(inv.output.as_deref(), Some("out.yaml".as_ref()));
/// assert!(!inv.diff && !inv.quiet && inv.error_log.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// What the run does.
    pub action: Action,
    /// Input files in order (empty: standard input; `-` is standard input).
    pub files: Vec<OsString>,
    /// `-o FILE` (`-`: standard output).
    pub output: Option<OsString>,
    /// `--report FILE` (`-`: standard error).
    pub report: Option<OsString>,
    /// `--diff`.
    pub diff: bool,
    /// `-q`.
    pub quiet: bool,
    /// `TRUST_INJECT_VERBOSE`: print notes too.
    pub verbose: bool,
    /// Run as kustomize's legacy exec plugin (config file as the only argument).
    pub legacy: bool,
    /// Every layer of options, the command line on top; [`Options::from_settings`] or the
    /// KRM function resolves them.
    pub settings: Settings,
    /// Where errors are also logged (`--error-log`, or the default under Helm).
    pub error_log: Option<PathBuf>,
    /// Fail on an input with no object (`--fail-on-empty`, on by default under Argo CD).
    pub fail_on_empty: bool,
    /// The largest input read, in bytes.
    pub max_input_bytes: u64,
    /// What `trust-inject merge` merges, and where to.
    pub merge: Option<crate::MergeArgs>,
}

impl Invocation {
    /// An invocation that injects, with nothing set yet.
    fn new(legacy: bool, verbose: bool) -> Invocation {
        Invocation {
            action: Action::Inject,
            files: Vec::new(),
            output: None,
            report: None,
            diff: false,
            quiet: false,
            verbose,
            legacy,
            settings: Settings::default(),
            error_log: None,
            fail_on_empty: false,
            max_input_bytes: 0,
            merge: None,
        }
    }
}

/// Why [`resolve`] stopped.
///
/// # Examples
/// ```
/// use trust_inject::{Env, Exit, Stop, resolve};
/// let stop = |argv: &[&str]| {
///     let argv: Vec<std::ffi::OsString> = argv.iter().map(Into::into).collect();
///     let missing = |_: &std::path::Path| Err(std::io::ErrorKind::NotFound.into());
///     resolve(&argv, &Env::default(), &mut { missing }).expect_err("stops")
/// };
/// assert!(matches!(stop(&["trust-inject", "--help"]), Stop::Clap(_)));
/// assert!(matches!(stop(&["trust-inject", "--no-such-flag"]), Stop::Clap(_)));
/// let Stop::Failed { error, .. } = stop(&["trust-inject", "--config", "absent.yaml"]) else {
///     panic!("a missing config file is an error");
/// };
/// assert_eq!(error.exit(), Exit::BadConfig);
/// ```
#[derive(Debug)]
pub enum Stop {
    /// Help, the version, or a usage error, as clap renders it (print it; exit 0 for help
    /// and version, 2 otherwise).
    Clap(Box<clap::Error>),
    /// An error, and the error log known when it happened.
    Failed {
        /// What went wrong.
        error: Box<Error>,
        /// Where it is also logged.
        error_log: Option<PathBuf>,
    },
}

/// Resolves the arguments (`argv[0]` first), the environment and the config document into
/// an [`Invocation`]. The only I/O is `read_config`, called with the `--config` path (or
/// the kustomize plugin's) when there is one.
///
/// # Errors
/// [`Stop::Clap`] for help, the version and usage errors; [`Stop::Failed`] for an invalid
/// config file, Argo CD parameters, or `check` with `-o`.
///
/// # Examples
/// ```
/// use trust_inject::{Action, Env, resolve};
/// let argv = ["trust-inject", "--secret", "corp-ca"].map(Into::into);
/// let env: Env = [("TRUST_INJECT_VOLUME_NAME", "corp")].into_iter().collect();
/// let inv = resolve(&argv, &env, &mut |_| unreachable!("no config file")).expect("valid");
/// assert_eq!(inv.action, Action::Inject);
/// let opts = trust_inject::Options::from_settings(&inv.settings).expect("valid");
/// assert_eq!((opts.source_name(), opts.volume_name.as_str()), ("corp-ca", "corp"));
/// ```
// Long on purpose: the order of the layers (environment, command line, config file, Argo CD
// parameters) reads top to bottom in one place.
pub fn resolve(
    argv: &[OsString],
    env: &Env,
    read_config: &mut dyn FnMut(&Path) -> std::io::Result<String>,
) -> Result<Invocation, Stop> {
    let legacy = is_legacy_plugin(argv, env);
    let cli_args = if legacy {
        argv.get(..1).unwrap_or(&[])
    } else {
        argv
    };
    let matches = parse(cli_args)?;
    let mut inv = Invocation::new(legacy, env.get("TRUST_INJECT_VERBOSE").is_some());
    let (action, sub, m) = action_of(&matches);
    inv.action = action;
    if action == Action::Merge {
        inv.merge = Some(merge_args(m));
    }
    if matches!(action, Action::Completions(_) | Action::Man | Action::Merge) {
        return Ok(inv);
    }
    let e = env_matches(sub, m, env)?;
    let on_line = |id: &str| {
        m.ids().any(|i| i.as_str() == id) && m.value_source(id) == Some(ValueSource::CommandLine)
    };
    inv.quiet = m.get_flag("quiet") || (!on_line("quiet") && env_quiet(sub, env)?);
    inv.output = m.get_one::<OsString>("output").cloned();
    let either = |id: &str| {
        let from = if on_line(id) { Some(m) } else { e.as_ref() };
        from?.try_get_one::<OsString>(id).ok().flatten().cloned()
    };
    inv.report = either("report");
    inv.diff = m
        .try_get_one::<bool>("diff")
        .ok()
        .flatten()
        .copied()
        .unwrap_or(false);
    let cli_settings = e
        .as_ref()
        .map_or_else(Settings::default, settings_from)
        .overlay(settings_from(m));
    inv.error_log = match cli_settings.0.get(&Opt::ErrorLog) {
        Some(Setting::Str(p)) if !p.is_empty() => Some(p.into()),
        _ => default_error_log(env),
    };
    let fail = |error: Error, error_log: &Option<PathBuf>| Stop::Failed {
        error: Box::new(error),
        error_log: error_log.clone(),
    };
    let config_path = either("config").or_else(|| legacy.then(|| argv.get(1).cloned()).flatten());
    let file_settings = config_settings(config_path.as_deref(), legacy, env, read_config)
        .map_err(|e| fail(e, &inv.error_log))?;
    let outer = argocd_settings(env)
        .map_err(|e| fail(Error::Config(e), &inv.error_log))?
        .overlay(cli_settings);
    if inv.error_log.is_none()
        && let Some(Setting::Str(p)) = file_settings.0.get(&Opt::ErrorLog)
        && !p.is_empty()
    {
        inv.error_log = Some(p.into());
    }
    if !legacy {
        inv.files = m
            .get_many::<OsString>("files")
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
    }
    inv.settings = file_settings.overlay(outer);
    // The limit applies before the options are checked; with options that do not resolve
    // yet (a KRM functionConfig may complete them), the default limit applies.
    inv.max_input_bytes = Options::from_settings(&inv.settings)
        .map_or_else(|_| Opt::MaxInputBytes.default_int(), |o| o.max_input_bytes);
    if inv.action == Action::Check
        && let Some(o) = &inv.output
    {
        let output = o.to_string_lossy().into_owned();
        return Err(fail(Error::CheckWithOutput { output }, &inv.error_log));
    }
    inv.fail_on_empty = match inv.settings.0.get(&Opt::FailOnEmpty) {
        Some(Setting::Bool(b)) => *b,
        _ => env.get("ARGOCD_APP_NAME").is_some(),
    };
    Ok(inv)
}

/// kustomize's legacy exec plugin: the executable is installed as
/// `$KUSTOMIZE_PLUGIN_HOME/trust-inject.dev/v1alpha1/trustinjection/TrustInjection` and
/// called with the path of its config file as the only argument and the stream on stdin.
fn is_legacy_plugin(argv: &[OsString], env: &Env) -> bool {
    env.get("KUSTOMIZE_PLUGIN_CONFIG_STRING").is_some()
        || argv
            .first()
            .and_then(|a| Path::new(a).file_name())
            .is_some_and(|n| n == "TrustInjection")
}

/// The action, the subcommand that takes the options (`check`, or none for the main
/// command), and the matches that hold them.
fn action_of(matches: &ArgMatches) -> (Action, Option<&'static str>, &ArgMatches) {
    match matches.subcommand() {
        Some(("completions", sm)) => {
            let shell = sm
                .get_one::<clap_complete::Shell>("shell")
                .copied()
                .unwrap_or(clap_complete::Shell::Bash);
            (Action::Completions(shell), None, sm)
        }
        Some(("man", sm)) => (Action::Man, None, sm),
        Some(("merge", sm)) => (Action::Merge, None, sm),
        Some(("check", sm)) => (Action::Check, Some("check"), sm),
        _ => (Action::Inject, None, matches),
    }
}

/// Parses the command line alone (no environment). Help is rendered by the command that
/// shows the environment variables.
fn parse(args: &[OsString]) -> Result<ArgMatches, Stop> {
    use clap::error::ErrorKind;
    command_with(false).try_get_matches_from(args).map_err(|e| {
        let e = match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                command().try_get_matches_from(args).err().unwrap_or(e)
            }
            _ => e,
        };
        Stop::Clap(Box::new(e))
    })
}

/// The `TRUST_INJECT_*` variables of the options not given on the command line, parsed by
/// the same arguments as flags (`--NAME=VALUE`), as clap parses them; `None` when none is
/// set.
fn env_matches(sub: Option<&str>, cli: &ArgMatches, env: &Env) -> Result<Option<ArgMatches>, Stop> {
    let mut args: Vec<OsString> = vec!["trust-inject".into()];
    args.extend(sub.map(OsString::from));
    let mut vars: Vec<(&str, String)> = FIELDS.iter().map(|f| (f.flag, f.env())).collect();
    vars.push(("config", "TRUST_INJECT_CONFIG".to_owned()));
    if sub.is_none() {
        vars.push(("report", "TRUST_INJECT_REPORT".to_owned()));
    }
    for (id, var) in vars {
        if cli.value_source(id) == Some(ValueSource::CommandLine) {
            continue;
        }
        if let Some(v) = env.get(&var) {
            let mut arg = OsString::from(format!("--{id}="));
            arg.push(v);
            args.push(arg);
        }
    }
    // No variable applies (the usual run): nothing to parse, and building the command
    // again would be most of the start-up time.
    if args.len() == 1 + usize::from(sub.is_some()) {
        return Ok(None);
    }
    let matches = parse_env(&args)?;
    Ok(Some(
        match sub.and_then(|s| matches.subcommand_matches(s)) {
            Some(sm) => sm.clone(),
            None => matches,
        },
    ))
}

fn parse_env(args: &[OsString]) -> Result<ArgMatches, Stop> {
    command_with(false)
        .try_get_matches_from(args)
        .map_err(|e| Stop::Clap(Box::new(e)))
}

/// `TRUST_INJECT_QUIET`, checked as clap checks an environment variable's value.
fn env_quiet(sub: Option<&str>, env: &Env) -> Result<bool, Stop> {
    let Some(v) = env.get("TRUST_INJECT_QUIET") else {
        return Ok(false);
    };
    let mut cmd = command_with(false);
    cmd.build();
    let cmd = match sub.and_then(|s| cmd.find_subcommand(s)) {
        Some(sc) => sc.clone(),
        None => cmd,
    };
    let arg = cmd.get_arguments().find(|a| a.get_id() == "quiet");
    quiet_parser
        .parse_ref(&cmd, arg, v)
        .map_err(|e| Stop::Clap(Box::new(e)))
}

/// Options from Argo CD's config management plugin: parameters arrive as `PARAM_<NAME>`
/// (`PARAM_CONFIGMAP`, `PARAM_COMPLETE_BUNDLE`) and the Application's plugin env as
/// `ARGOCD_ENV_TRUST_INJECT_<NAME>`; the plugin env is laid over the parameters.
fn argocd_settings(env: &Env) -> Result<Settings, crate::config::ConfigErrors> {
    let mut params: Vec<(&'static str, String)> = Vec::new();
    let mut plugin_env: Vec<(&'static str, String)> = Vec::new();
    for f in FIELDS {
        let upper = f.flag.to_ascii_uppercase().replace('-', "_");
        if let Some(v) = env.var(&format!("PARAM_{upper}")) {
            params.push((f.flag, v.to_owned()));
        }
        // Array parameters arrive one variable per item: PARAM_CA_FILE_0, PARAM_CA_FILE_1, ...
        let items: Vec<&str> = (0..)
            .map_while(|i| env.var(&format!("PARAM_{upper}_{i}")))
            .collect();
        if !items.is_empty() {
            params.push((f.flag, items.join(",")));
        }
        if let Some(v) = env.var(&format!("ARGOCD_ENV_{}", f.env())) {
            plugin_env.push((f.flag, v.to_owned()));
        }
    }
    let layer = |pairs: &[(&'static str, String)], origin: &str| {
        Settings::from_flat(pairs.iter().map(|(k, v)| (*k, v.as_str())), origin)
    };
    Ok(layer(&params, "Argo CD parameters")?.overlay(layer(&plugin_env, "Argo CD plugin env")?))
}

/// The options of the config document: the kustomize legacy plugin's config (in its
/// variable), or the file at `path`.
fn config_settings(
    path: Option<&OsStr>,
    legacy: bool,
    env: &Env,
    read_config: &mut dyn FnMut(&Path) -> std::io::Result<String>,
) -> Result<Settings, Error> {
    match (path, env.var("KUSTOMIZE_PLUGIN_CONFIG_STRING")) {
        (_, Some(text)) if legacy && !text.trim().is_empty() => {
            settings_from_text(text).map_err(|errors| Error::ConfigFile {
                origin: "kustomize plugin config".to_owned(),
                errors,
            })
        }
        (Some(path), _) => {
            let shown = path.to_string_lossy().into_owned();
            let text = read_config(Path::new(path)).map_err(|io| Error::ConfigUnreadable {
                path: shown.clone(),
                io,
            })?;
            settings_from_text(&text).map_err(|errors| Error::ConfigFile {
                origin: shown,
                errors,
            })
        }
        (None, _) => Ok(Settings::default()),
    }
}

/// Helm hides a post-renderer's standard error: under Helm, errors also go to a file in
/// the cache.
fn default_error_log(env: &Env) -> Option<PathBuf> {
    env.get("HELM_PLUGIN_NAME")?;
    let cache = env
        .get("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("trust-inject").join("helm-post-renderer.log"))
}

/// The options set in `m` on its command line.
fn settings_from(m: &ArgMatches) -> Settings {
    let mut s = Settings::default();
    for f in FIELDS {
        if m.value_source(f.flag) != Some(ValueSource::CommandLine) {
            continue;
        }
        let v = match f.kind {
            FieldKind::Str => m.get_one::<String>(f.flag).map(|v| Setting::Str(v.clone())),
            FieldKind::Int => m.get_one::<u64>(f.flag).map(|v| Setting::Int(*v)),
            FieldKind::Bool => m.get_one::<bool>(f.flag).map(|v| Setting::Bool(*v)),
            FieldKind::List => m
                .get_many::<String>(f.flag)
                .map(|vs| Setting::List(vs.filter(|v| !v.is_empty()).cloned().collect())),
        };
        if let Some(v) = v {
            s.0.insert(f.id, v);
        }
    }
    s
}

/// The arguments of `trust-inject merge`.
fn merge_args(m: &ArgMatches) -> crate::MergeArgs {
    crate::MergeArgs {
        sources: m
            .get_many::<OsString>("source")
            .into_iter()
            .flatten()
            .map(PathBuf::from)
            .collect(),
        output_dir: m
            .get_one::<OsString>("output-dir")
            .map(PathBuf::from)
            .unwrap_or_default(),
        public_roots: match m.get_one::<String>("public-roots").map(String::as_str) {
            Some("none") => crate::PublicRoots::None,
            Some("mozilla") | None => crate::PublicRoots::Mozilla,
            Some(file) => crate::PublicRoots::File(file.into()),
        },
    }
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
    use crate::Exit;

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("trust-inject")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs.iter().copied().collect()
    }

    /// Resolves with no config file to read.
    fn resolved(args: &[&str], vars: &[(&str, &str)]) -> Result<Invocation, Stop> {
        resolve(&argv(args), &env(vars), &mut |p| {
            Err(std::io::Error::other(format!(
                "{} was not expected",
                p.display()
            )))
        })
    }

    fn ok(args: &[&str], vars: &[(&str, &str)]) -> Invocation {
        match resolved(args, vars) {
            Ok(inv) => inv,
            Err(e) => panic!("{args:?} {vars:?}: {e:?}"),
        }
    }

    fn clap_error(args: &[&str], vars: &[(&str, &str)]) -> String {
        match resolved(args, vars) {
            Err(Stop::Clap(e)) => e.to_string(),
            other => panic!("{args:?} {vars:?}: expected a clap error, got {other:?}"),
        }
    }

    #[test]
    fn command_is_consistent() {
        command().debug_assert();
        command_with(false).debug_assert();
    }

    #[test]
    fn flags_become_settings() {
        let inv = ok(
            &[
                "--configmap",
                "corp",
                "--complete-bundle",
                "--exclude-container",
                "a,b",
                "--max-depth",
                "12",
            ],
            &[],
        );
        let s = &inv.settings.0;
        assert_eq!(s.get(&Opt::ConfigMap), Some(&Setting::Str("corp".into())));
        assert_eq!(s.get(&Opt::CompleteBundle), Some(&Setting::Bool(true)));
        assert_eq!(
            s.get(&Opt::ExcludeContainer),
            Some(&Setting::List(vec!["a".into(), "b".into()]))
        );
        assert_eq!(s.get(&Opt::MaxDepth), Some(&Setting::Int(12)));
        assert_eq!(s.get(&Opt::Key), None);
        assert_eq!(inv.action, Action::Inject);
        assert_eq!(inv.max_input_bytes, Opt::MaxInputBytes.default_int());
    }

    #[test]
    fn booleans_can_be_turned_off() {
        let inv = ok(&["--generic-workloads=false"], &[]);
        assert_eq!(
            inv.settings.0.get(&Opt::GenericWorkloads),
            Some(&Setting::Bool(false))
        );
    }

    #[test]
    fn the_environment_given_is_read_and_flags_win_over_it() {
        let vars = [
            ("TRUST_INJECT_SECRET", "from-env"),
            ("TRUST_INJECT_MAX_DEPTH", "7"),
            ("TRUST_INJECT_EXCLUDE_KIND", "Job,CronJob"),
            ("TRUST_INJECT_QUIET", "yes"),
            ("TRUST_INJECT_REPORT", "-"),
        ];
        let inv = ok(&["--max-depth", "9"], &vars);
        let s = &inv.settings.0;
        assert_eq!(s.get(&Opt::Secret), Some(&Setting::Str("from-env".into())));
        assert_eq!(s.get(&Opt::MaxDepth), Some(&Setting::Int(9)));
        assert_eq!(
            s.get(&Opt::ExcludeKind),
            Some(&Setting::List(vec!["Job".into(), "CronJob".into()]))
        );
        assert!(inv.quiet);
        assert_eq!(inv.report, Some("-".into()));
        // A bad value given on the command line hides the variable, as it does in clap.
        ok(
            &["--secret", "s", "--max-depth", "3"],
            &[("TRUST_INJECT_MAX_DEPTH", "x")],
        );
        ok(&["-q", "--secret", "s"], &[("TRUST_INJECT_QUIET", "maybe")]);
    }

    #[test]
    fn bad_environment_values_are_refused_as_clap_refuses_flags() {
        let e = clap_error(&[], &[("TRUST_INJECT_MAX_DEPTH", "abc")]);
        assert!(
            e.contains("invalid value 'abc' for '--max-depth <N>'"),
            "{e}"
        );
        for var in ["TRUST_INJECT_COMPLETE_BUNDLE", "TRUST_INJECT_QUIET"] {
            let e = clap_error(&["check"], &[(var, "maybe")]);
            assert!(e.contains("[possible values: true, false]"), "{var}: {e}");
        }
        let e = clap_error(&[], &[("TRUST_INJECT_GENERATE", "Secrets")]);
        assert!(e.contains("[possible values: configmap, secret]"), "{e}");
    }

    #[test]
    fn help_and_usage_errors_stop_with_clap() {
        use clap::error::ErrorKind;
        for (args, kind) in [
            (&["--help"][..], ErrorKind::DisplayHelp),
            (&["--version"][..], ErrorKind::DisplayVersion),
            (&["--no-such-flag"][..], ErrorKind::UnknownArgument),
        ] {
            match resolved(args, &[]) {
                Err(Stop::Clap(e)) => assert_eq!(e.kind(), kind, "{args:?}"),
                other => panic!("{args:?}: {other:?}"),
            }
        }
        // Help lists every option's environment variable.
        let help = clap_error(&["--help"], &[]);
        assert!(help.contains("[env: TRUST_INJECT_MOUNT_PATH="), "{help}");
    }

    #[test]
    fn config_document_is_read_through_the_callback() {
        let mut asked = Vec::new();
        let inv = resolve(
            &argv(&["--config", "ti.yaml", "--volume-name", "flag"]),
            &env(&[]),
            &mut |p| {
                asked.push(p.to_path_buf());
                Ok("apiVersion: trust-inject.dev/v1alpha1\nkind: TrustInjection\nspec:\n  source:\n    configMap:\n      name: corp\n  volumeName: file\n  errorLog: /tmp/e.log\n".to_owned())
            },
        )
        .expect("valid");
        assert_eq!(asked, [PathBuf::from("ti.yaml")]);
        let opts = Options::from_settings(&inv.settings).expect("valid");
        assert_eq!(opts.source.name, "corp");
        assert_eq!(opts.volume_name, "flag");
        assert_eq!(inv.error_log, Some(PathBuf::from("/tmp/e.log")));
    }

    fn failure(
        args: &[&str],
        vars: &[(&str, &str)],
        config: Option<&str>,
    ) -> (Error, Option<PathBuf>) {
        let result = resolve(&argv(args), &env(vars), &mut |_| match config {
            Some(text) => Ok(text.to_owned()),
            None => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
        });
        match result {
            Err(Stop::Failed { error, error_log }) => (*error, error_log),
            other => panic!("{args:?}: expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn failures_carry_their_exit_code_and_the_error_log_known_then() {
        let (e, log) = failure(
            &["--config", "missing.yaml", "--error-log", "/l"],
            &[],
            None,
        );
        assert!(matches!(e, Error::ConfigUnreadable { .. }), "{e}");
        assert_eq!(
            (e.exit(), log),
            (Exit::BadConfig, Some(PathBuf::from("/l")))
        );
        let (e, _) = failure(&["--config", "bad.yaml"], &[], Some("kind: Nope\n"));
        assert!(
            e.to_string()
                .starts_with("bad.yaml: kind: expected TrustInjection"),
            "{e}"
        );
        assert_eq!(e.exit(), Exit::BadConfig);
        let (e, _) = failure(&[], &[("PARAM_STRICT", "maybe")], None);
        assert_eq!(e.exit(), Exit::BadConfig, "{e}");
        let (e, _) = failure(&["check", "-o", "out.yaml", "--secret", "s"], &[], None);
        assert_eq!(e.exit(), Exit::Usage, "{e}");
        // Under Helm, errors also go to the cache.
        let (_, log) = failure(
            &["--config", "missing.yaml"],
            &[
                ("HELM_PLUGIN_NAME", "trust-inject"),
                ("XDG_CACHE_HOME", "/c"),
            ],
            None,
        );
        assert_eq!(
            log,
            Some(PathBuf::from("/c/trust-inject/helm-post-renderer.log"))
        );
    }

    #[test]
    fn argo_cd_parameters_plugin_env_and_app_name() {
        let inv = ok(
            &[],
            &[
                ("PARAM_CONFIGMAP", "from-param"),
                ("PARAM_EXCLUDE_KIND_0", "Job"),
                ("PARAM_EXCLUDE_KIND_1", "Pod"),
                ("ARGOCD_ENV_TRUST_INJECT_CONFIGMAP", "from-plugin-env"),
                ("ARGOCD_APP_NAME", "web"),
            ],
        );
        let opts = Options::from_settings(&inv.settings).expect("valid");
        assert_eq!(opts.source.name, "from-plugin-env");
        assert_eq!(opts.exclude.kinds, ["Job", "Pod"]);
        assert!(inv.fail_on_empty);
        assert!(!ok(&["--secret", "s"], &[]).fail_on_empty);
        let inv = ok(&["--fail-on-empty=false"], &[("ARGOCD_APP_NAME", "web")]);
        assert!(!inv.fail_on_empty);
    }

    #[test]
    fn legacy_kustomize_plugin_reads_its_config_and_ignores_other_arguments() {
        let config = "apiVersion: trust-inject.dev/v1alpha1\nkind: TrustInjection\nspec:\n  source:\n    secret:\n      name: corp\n";
        let inv = ok(&["whatever"], &[("KUSTOMIZE_PLUGIN_CONFIG_STRING", config)]);
        assert!(inv.legacy && inv.files.is_empty());
        let opts = Options::from_settings(&inv.settings).expect("valid");
        assert_eq!(opts.source.name, "corp");
    }

    #[test]
    fn subcommands() {
        assert_eq!(
            ok(&["completions", "zsh"], &[]).action,
            Action::Completions(clap_complete::Shell::Zsh)
        );
        assert_eq!(ok(&["man"], &[]).action, Action::Man);
        let inv = ok(&["check", "--secret", "s", "a.yaml", "b.yaml"], &[]);
        assert_eq!(inv.action, Action::Check);
        assert_eq!(
            inv.files,
            [OsString::from("a.yaml"), OsString::from("b.yaml")]
        );
    }
}
