//! Golden cases: `testdata/stream/<case>/` holds `input.yaml`, optional `args` (one CLI
//! argument per line; default `--configmap` `corp-ca`), optional `config.yaml` (passed as
//! `--config <path>`), then either `expected.yaml` (the exact standard output) or
//! `errors.txt` (each line a regex standard error must match; standard output must be
//! empty), optional `exit-code` (default 0) and optional `stderr.txt` (regex lines for the
//! warnings of a successful run; without it a successful run must print no warning).
//!
//! Every successful case runs a second time on its own output and must give the same
//! bytes, and its input and output must read the same to Kubernetes once what was injected
//! is removed (the `k8s-yaml2json` oracle, `scripts/build-oracle.sh`).
//!
//! When the input is the output of an earlier run (under other options), `original.yaml`
//! holds the chart before any injection, and the oracle compares the output with it.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites `expected.yaml`; review the diff.

mod util;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use util::{Injected, line_diff, oracle_check, read, run_bin};

fn cases_dir() -> PathBuf {
    util::repo_root().join("testdata").join("stream")
}

fn read_opt(path: &Path) -> Option<String> {
    path.exists()
        .then(|| String::from_utf8(read(path)).expect("UTF-8 test file"))
}

fn regex_lines(text: &str) -> Vec<regex_lite::Regex> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| regex_lite::Regex::new(l).unwrap_or_else(|e| panic!("bad regex {l:?}: {e}")))
        .collect()
}

fn show_bytes(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.is_empty() {
        "(empty)".into()
    } else {
        s.into_owned()
    }
}

fn run_case(name: &str) {
    let dir = cases_dir().join(name);
    assert!(dir.is_dir(), "case directory {} is missing", dir.display());
    let input = read(&dir.join("input.yaml"));
    let mut args: Vec<String> = match read_opt(&dir.join("args")) {
        Some(a) => a.lines().map(str::to_owned).collect(),
        None => vec!["--configmap".into(), "corp-ca".into()],
    };
    if dir.join("config.yaml").exists() {
        args.push("--config".into());
        args.push(dir.join("config.yaml").display().to_string());
    }
    let want_code: i32 = read_opt(&dir.join("exit-code"))
        .map(|c| c.trim().parse().expect("exit-code holds a number"))
        .unwrap_or(0);
    let expected_path = dir.join("expected.yaml");
    let errors = read_opt(&dir.join("errors.txt"));
    let stderr_re = read_opt(&dir.join("stderr.txt"));
    assert!(
        errors.is_some() != expected_path.exists() || std::env::var_os("UPDATE_GOLDEN").is_some(),
        "case {name}: give exactly one of expected.yaml and errors.txt"
    );

    let out = run_bin(&args, &input);
    let stdout = out.stdout.clone();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    let mut failures = Vec::new();

    if code != want_code {
        failures.push(format!("exit code {code}, expected {want_code}"));
    }
    // The same case in process, through the library API: the same output, or an error
    // with the same exit code.
    match util::run_lib(&args, &input) {
        Some(Ok(text)) if code == 0 && text.as_bytes() != stdout.as_slice() => {
            failures.push(format!(
                "in process, the library's output differs from the binary's:\n{}",
                line_diff(&String::from_utf8_lossy(&stdout), &text)
            ));
        }
        Some(Err(e)) if e.exit() as i32 != code => failures.push(format!(
            "in process, the library fails with exit {} ({e}); the binary exited {code}",
            e.exit() as i32
        )),
        None if code == 0 => failures.push("the case did not run in process".into()),
        _ => {}
    }
    if let Some(errors) = &errors {
        if !stdout.is_empty() {
            failures.push("standard output must be empty when the run fails".into());
        }
        for re in regex_lines(errors) {
            if !re.is_match(&stderr) {
                failures.push(format!("stderr does not match /{}/", re.as_str()));
            }
        }
    } else {
        match &stderr_re {
            Some(lines) => {
                for re in regex_lines(lines) {
                    if !re.is_match(&stderr) {
                        failures.push(format!("stderr does not match /{}/", re.as_str()));
                    }
                }
            }
            None => {
                if stderr.contains("warning:") {
                    failures.push(
                        "unexpected warning on stderr (add stderr.txt if it is wanted)".into(),
                    );
                }
            }
        }
        if std::env::var_os("UPDATE_GOLDEN").is_some() && code == want_code {
            std::fs::write(&expected_path, &stdout).expect("write expected.yaml");
        }
        let expected = read(&expected_path);
        if stdout != expected {
            failures.push(format!(
                "stdout differs from expected.yaml:\n{}",
                line_diff(
                    &String::from_utf8_lossy(&expected),
                    &String::from_utf8_lossy(&stdout)
                )
            ));
        }
        if code == 0 && failures.is_empty() {
            // Idempotence: the output is a fixed point.
            let again = run_bin(&args, &stdout);
            if again.status.code() != Some(0) || again.stdout != stdout {
                failures.push(format!(
                    "second run on the output is not identical (exit {:?}):\n{}\nstderr:\n{}",
                    again.status.code(),
                    line_diff(
                        &String::from_utf8_lossy(&stdout),
                        &String::from_utf8_lossy(&again.stdout)
                    ),
                    String::from_utf8_lossy(&again.stderr)
                ));
            }
            // What Kubernetes reads.
            let mut inj = Injected::default();
            if dir.join("config.yaml").exists() {
                inj.apply_config(&read(&dir.join("config.yaml")));
            }
            inj = inj.overlay_args(&args);
            // A case whose input is an earlier run's output names the chart before any
            // injection in `original.yaml`: the output must read as that plus this run's
            // injection alone.
            let before = read_opt(&dir.join("original.yaml"))
                .map_or_else(|| input.clone(), String::into_bytes);
            for p in oracle_check(&before, &stdout, &inj) {
                failures.push(format!("oracle: {p}"));
            }
        }
    }

    if !failures.is_empty() {
        let mut msg = format!(
            "golden case {name} failed\n  args: {args:?}\n  status: {}\n",
            out.status
        );
        for f in &failures {
            let _ = writeln!(msg, "- {f}");
        }
        let _ = write!(
            msg,
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            show_bytes(&stdout),
            show_bytes(&out.stderr)
        );
        panic!("{msg}");
    }
}

/// One test per case. The file may hold several invocations (one per area, for easier
/// merges); `every_case_is_listed` reads the cases of all of them from this file's text.
macro_rules! golden {
    ($($test:ident => $dir:literal,)*) => {
        $(
            #[test]
            fn $test() {
                run_case($dir);
            }
        )*
    };
}

golden! {
    deployment_basic => "deployment-basic",
    all_pod_kinds => "all-pod-kinds",
    crds => "crds",
    crds_no_generic => "crds-no-generic",
    lists => "lists",
    init_and_sidecar_containers => "init-and-sidecar-containers",
    init_and_sidecar_containers_skip_init => "init-and-sidecar-containers-skip-init",
    complete_bundle => "complete-bundle",
    secret_source => "secret-source",
    already_injected => "already-injected",
    conflicting_volume_name => "conflicting-volume-name",
    user_env_wins => "user-env-wins",
    override_env => "override-env",
    mount_conflicts => "mount-conflicts",
    strict => "strict",
    skip_annotation => "skip-annotation",
    windows => "windows",
    exclude_selectors => "exclude-selectors",
    non_workloads_untouched => "non-workloads-untouched",
    comments_and_order_kept => "comments-and-order-kept",
    empty_docs_and_separators => "empty-docs-and-separators",
    block_scalar_with_dashes => "block-scalar-with-dashes",
    yaml11_scalars => "yaml11-scalars",
    duplicate_keys => "duplicate-keys",
    anchors_and_merge => "anchors-and-merge",
    flow_and_json => "flow-and-json",
    crlf_and_bom => "crlf-and-bom",
    helm_hooks => "helm-hooks",
    helm4_filename_annotation => "helm4-filename-annotation",
    invalid_yaml_doc_3 => "invalid-yaml-doc-3",
    config_file => "config-file",
    config_file_flag_overrides => "config-file-flag-overrides",
    config_errors => "config-errors",
    config_missing_source => "config-missing-source",
    empty_input => "empty-input",
    deep_edit_points => "deep-edit-points",
    ephemeral_containers => "ephemeral-containers",
    doc_line_ranges => "doc-line-ranges",
    generated_configmap => "generated-configmap",
    generated_complete_from_file => "generated-complete-from-file",
    generated_secret => "generated-secret",
    existing_configmap_with_hash => "existing-configmap-with-hash",
    ca_file_private_key => "ca-file-private-key",
    ca_file_not_a_ca => "ca-file-not-a-ca",
    ca_file_not_a_ca_strict => "ca-file-not-a-ca-strict",
    flow_edge_cases => "flow-edge-cases",
    cr_line_breaks => "cr-line-breaks",
}

/// Every case directory is listed above (a case that is not listed would never run), and
/// there is at least one.
#[test]
fn every_case_is_listed() {
    let dir = cases_dir();
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no golden cases under {}", dir.display());
    // The `name => "dir",` lines of every `golden!` invocation above.
    let listed: Vec<&str> = include_str!("golden.rs")
        .lines()
        .filter_map(|l| l.trim().split_once(" => \""))
        .filter_map(|(_, rest)| rest.strip_suffix("\","))
        .collect();
    let unlisted: Vec<&String> = found
        .iter()
        .filter(|f| !listed.contains(&f.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "case directories not listed in tests/golden.rs: {unlisted:?}"
    );
    let missing: Vec<&&str> = listed
        .iter()
        .filter(|c| !found.iter().any(|f| f == *c))
        .collect();
    assert!(
        missing.is_empty(),
        "listed cases without a directory: {missing:?}"
    );
    for case in &found {
        assert!(
            dir.join(case).join("input.yaml").is_file(),
            "case {case} has no input.yaml"
        );
    }
}

// Output integrity, option validation, several input files, source precedence.
golden! {
    option_mount_path_collisions => "option-mount-path-collisions",
    option_mount_path_is_additive_file => "option-mount-path-is-additive-file",
    option_mount_path_holds_other_mounts => "option-mount-path-holds-other-mounts",
    option_mount_path_is_system_bundle => "option-mount-path-is-system-bundle",
    option_hashed_certs_collisions => "option-hashed-certs-collisions",
    option_hashed_name_as_additive_file => "option-hashed-name-as-additive-file",
    option_bad_mount_paths => "option-bad-mount-paths",
    option_key_dotdot => "option-key-dotdot",
    option_key_dotdot_prefix => "option-key-dotdot-prefix",
    option_key_characters => "option-key-characters",
    option_env_names => "option-env-names",
    option_env_listed_twice => "option-env-listed-twice",
    option_workload_kind_builtin => "option-workload-kind-builtin",
    option_object_names => "option-object-names",
    option_secret_and_bundle_names => "option-secret-and-bundle-names",
    option_bundle_name_too_long => "option-bundle-name-too-long",
    option_workload_kind_blank => "option-workload-kind-blank",
    option_mount_inside_a_file_mount => "option-mount-inside-a-file-mount",
    eof_unclosed_flow_sequence => "eof-unclosed-flow-sequence",
    eof_unclosed_flow_no_final_newline => "eof-unclosed-flow-no-final-newline",
    eof_unclosed_flow_mapping_blank_lines => "eof-unclosed-flow-mapping-blank-lines",
    eof_unclosed_flow_before_next_document => "eof-unclosed-flow-before-next-document",
    eof_unclosed_flow_crlf => "eof-unclosed-flow-crlf",
    config_eof_unclosed_flow => "config-eof-unclosed-flow",
}

// The injection plan: variables only where a mount provides the file, re-runs under other
// options, generated objects, Windows pods.
golden! {
    windows_pinned => "windows-pinned",
    windows_strict => "windows-strict",
    env_needs_a_mount => "env-needs-a-mount",
    rerun_public_roots_none => "rerun-public-roots-none",
    rerun_rotated_ca => "rerun-rotated-ca",
    rerun_changed_key => "rerun-changed-key",
    rerun_complete_then_partial => "rerun-complete-then-partial",
    rerun_excluded => "rerun-excluded",
    rerun_other_source => "rerun-other-source",
    generated_collides => "generated-collides",
    generated_collides_secret => "generated-collides-secret",
    generated_no_collision => "generated-no-collision",
    chart_volume_named_like_ours => "chart-volume-named-like-ours",
    rerun_removal_next_to_insertion => "rerun-removal-next-to-insertion",
    rerun_chart_variable_into_our_directory => "rerun-chart-variable-into-our-directory",
    chart_mounts_our_volume => "chart-mounts-our-volume",
    rerun_chart_mounts_our_volume => "rerun-chart-mounts-our-volume",
    excluded_left_alone => "excluded-left-alone",
}

// The YAML text layer: scanners, in-place edits, what go-yaml v2 reads.
golden! {
    flow_quotes_in_plain_scalars => "flow-quotes-in-plain-scalars",
    flow_quotes_crlf => "flow-quotes-crlf",
    pretty_json_insert => "pretty-json-insert",
    pretty_json_crlf => "pretty-json-crlf",
    dash_comment_items => "dash-comment-items",
    java_options_block_scalar => "java-options-block-scalar",
    override_env_valuefrom_first => "override-env-valuefrom-first",
    merge_key_tags => "merge-key-tags",
    aliases_elsewhere_edited_in_place => "aliases-elsewhere-edited-in-place",
    go_yaml_leniency => "go-yaml-leniency",
    go_yaml_leniency_crlf => "go-yaml-leniency-crlf",
    go_yaml_flow_bracket_at_key => "go-yaml-flow-bracket-at-key",
    go_yaml_quoted_continuation => "go-yaml-quoted-continuation",
    go_yaml_tab_after_colon => "go-yaml-tab-after-colon",
    go_yaml_json_at_column_0 => "go-yaml-json-at-column-0",
    go_yaml_kind_in_continuation => "go-yaml-kind-in-continuation",
    dash_comment_items_crlf => "dash-comment-items-crlf",
    override_env_valuefrom_first_crlf => "override-env-valuefrom-first-crlf",
    quoted_keys_and_comments => "quoted-keys-and-comments",
    rerun_flow_lists => "rerun-flow-lists",
}

// The start-up merge (--merge-at-start), ClusterTrustBundle sources, the partial-trust
// notice, the source's key.
golden! {
    merge_basic => "merge-basic",
    merge_existing_init_containers => "merge-existing-init-containers",
    merge_json_flow => "merge-json-flow",
    merge_secret_pull_secret => "merge-secret-pull-secret",
    merge_init_name_conflict => "merge-init-name-conflict",
    merge_source_volume_conflict => "merge-source-volume-conflict",
    merge_windows => "merge-windows",
    merge_complete_source => "merge-complete-source",
    merge_with_generated_refused => "merge-with-generated-refused",
    merge_settings_without_merge_refused => "merge-settings-without-merge-refused",
    merge_rerun_off => "merge-rerun-off",
    merge_rerun_on => "merge-rerun-on",
    merge_rerun_changed_options => "merge-rerun-changed-options",
    merge_init_list_styles => "merge-init-list-styles",
    partial_trust_notice => "partial-trust-notice",
    missing_key => "missing-key",
    missing_key_secret => "missing-key-secret",
    missing_key_other_namespace => "missing-key-other-namespace",
    source_key_present => "source-key-present",
    missing_key_secret_plain => "missing-key-secret-plain",
    missing_key_empty_configmap => "missing-key-empty-configmap",
    ctb_name => "ctb-name",
    ctb_signer_selector => "ctb-signer-selector",
    ctb_signer_merge => "ctb-signer-merge",
    ctb_option_errors => "ctb-option-errors",
    ctb_rerun_from_configmap => "ctb-rerun-from-configmap",
}

// Performance: snippets rendered once and shared must still fit each layout.
golden! {
    shared_snippets_layouts => "shared-snippets-layouts",
    shared_snippets_layouts_crlf => "shared-snippets-layouts-crlf",
}

// The egress proxy (--proxy, --http-proxy, --https-proxy, --no-proxy, --proxy-secret).
golden! {
    proxy_basic => "proxy-basic",
    proxy_generated_java => "proxy-generated-java",
    proxy_chart_sets => "proxy-chart-sets",
    proxy_chart_sets_override => "proxy-chart-sets-override",
    proxy_secret => "proxy-secret",
    proxy_merge => "proxy-merge",
    proxy_credentials => "proxy-credentials",
    proxy_bad_port => "proxy-bad-port",
    proxy_malformed_url => "proxy-malformed-url",
    proxy_empty_no_proxy => "proxy-empty-no-proxy",
    proxy_config_file => "proxy-config-file",
    proxy_alone => "proxy-alone",
    proxy_alone_merge_refused => "proxy-alone-merge-refused",
    proxy_alone_over_ca => "proxy-alone-over-ca",
    rerun_ca_over_proxy => "rerun-ca-over-proxy",
}

// Re-runs: convergence cases found by the property tests.
golden! {
    rerun_after_every_mount_left_alone => "rerun-after-every-mount-left-alone",
    rerun_after_directory_hidden_above => "rerun-after-directory-hidden-above",
}

// Findings of the semantic fuzzer: re-runs after --override-env, documents named as YAML reads them.
golden! {
    override_env_rerun_keeps_order => "override-env-rerun-keeps-order",
    error_name_block_scalar_kind => "error-name-block-scalar-kind",
    error_name_quoted => "error-name-quoted",
    error_name_comment_and_block_name => "error-name-comment-and-block-name",
    error_name_anchor_continued => "error-name-anchor-continued",
    rerun_mangled_directory_mount => "rerun-mangled-directory-mount",
    rerun_lost_volume => "rerun-lost-volume",
    block_scalar_indentation_indicator => "block-scalar-indentation-indicator",
    rerun_volume_source_in_place => "rerun-volume-source-in-place",
}

// Egress proxy from a Secret: Java's proxy options through $(VAR) references to optional keys.
golden! {
    proxy_secret_java => "proxy-secret-java",
    proxy_secret_java_generated => "proxy-secret-java-generated",
    proxy_secret_java_chart_sets => "proxy-secret-java-chart-sets",
    proxy_secret_java_json => "proxy-secret-java-json",
    proxy_secret_java_cidr => "proxy-secret-java-cidr",
    proxy_secret_java_alone_over_ca => "proxy-secret-java-alone-over-ca",
    proxy_secret_java_rerun_over_ca => "proxy-secret-java-rerun-over-ca",
    proxy_secret_java_crlf => "proxy-secret-java-crlf",
    proxy_secret_java_chart_defines_first => "proxy-secret-java-chart-defines-first",
}

// Re-runs read the record of the earlier injection (trust-inject.dev/injected).
golden! {
    rerun_chart_variable_without_our_volume => "rerun-chart-variable-without-our-volume",
    rerun_proxy_off => "rerun-proxy-off",
    rerun_proxy_changed => "rerun-proxy-changed",
    rerun_proxy_secret_off => "rerun-proxy-secret-off",
    rerun_merge_off_pull_secret => "rerun-merge-off-pull-secret",
    rerun_merge_pull_secret_changed => "rerun-merge-pull-secret-changed",
    rerun_volume_name_changed => "rerun-volume-name-changed",
    rerun_env_names_dropped => "rerun-env-names-dropped",
    rerun_mount_path_changed => "rerun-mount-path-changed",
    rerun_exclude_container_added => "rerun-exclude-container-added",
    injected_record_unreadable => "injected-record-unreadable",
    injected_record_example => "injected-record-example",
    rerun_ca_over_proxy_only_java => "rerun-ca-over-proxy-only-java",
}

// Findings of the semantic fuzzer on the shape-based recognition: a chart's own volume named like ours.
golden! {
    chart_mount_of_our_volume_not_a_key => "chart-mount-of-our-volume-not-a-key",
    chart_volume_like_ours_merge => "chart-volume-like-ours-merge",
    chart_volume_like_ours_other_kind => "chart-volume-like-ours-other-kind",
    chart_mounts_our_volume_at_our_directory => "chart-mounts-our-volume-at-our-directory",
}

// Comments kept where the tool replaces or removes lines (--override-env, re-runs).
golden! {
    override_env_comments_kept => "override-env-comments-kept",
    override_env_comments_kept_crlf => "override-env-comments-kept-crlf",
    override_env_comments_flow => "override-env-comments-flow",
    override_env_comments_secret => "override-env-comments-secret",
    override_env_comments_proxy_secret => "override-env-comments-proxy-secret",
    override_env_comments_hostile => "override-env-comments-hostile",
    rerun_volume_source_comments => "rerun-volume-source-comments",
    rerun_removal_comments => "rerun-removal-comments",
    rerun_flow_removal_comments => "rerun-flow-removal-comments",
    rerun_removal_null_keys => "rerun-removal-null-keys",
    rerun_flow_removal_comments_crlf => "rerun-flow-removal-comments-crlf",
    rerun_volume_source_comments_crlf => "rerun-volume-source-comments-crlf",
}

// Semantic fuzzer findings: a chart's volume is never taken for an earlier run's, and
// neighbouring keys removed from one flow mapping are edited in place.
golden! {
    fuzzfix_rerun_excluded_flow_tail_keys => "fuzzfix-rerun-excluded-flow-tail-keys",
    fuzzfix_rerun_excluded_json_pretty_tail_keys => "fuzzfix-rerun-excluded-json-pretty-tail-keys",
    fuzzfix_rerun_excluded_flow_multiline_crlf_comments => "fuzzfix-rerun-excluded-flow-multiline-crlf-comments",
    fuzzfix_rerun_excluded_flow_duplicate_key_tail => "fuzzfix-rerun-excluded-flow-duplicate-key-tail",
    fuzzfix_rerun_excluded_flow_duplicate_keys_inside => "fuzzfix-rerun-excluded-flow-duplicate-keys-inside",
    fuzzfix_chart_unmounted_volume_same_source => "fuzzfix-chart-unmounted-volume-same-source",
    fuzzfix_chart_unmounted_volume_other_source => "fuzzfix-chart-unmounted-volume-other-source",
    fuzzfix_chart_unmounted_volume_above_our_directory => "fuzzfix-chart-unmounted-volume-above-our-directory",
    fuzzfix_chart_unmounted_volume_custom_mount_path => "fuzzfix-chart-unmounted-volume-custom-mount-path",
    fuzzfix_chart_mount_at_configured_additive_file => "fuzzfix-chart-mount-at-configured-additive-file",
    fuzzfix_chart_variable_configured_additive_env => "fuzzfix-chart-variable-configured-additive-env",
}

// In-place edits of flow collections are read back before they are written.
golden! {
    rerun_flow_edit_reads_back => "rerun-flow-edit-reads-back",
    chart_mounts_our_volume_name_without_volume => "chart-mounts-our-volume-name-without-volume",
    repeated_container_name => "repeated-container-name",
    repeated_container_name_long_list => "repeated-container-name-long-list",
    repeated_container_name_across_lists => "repeated-container-name-across-lists",
    repeated_container_name_ephemeral => "repeated-container-name-ephemeral",
    override_env_block_scalar_blank_line => "override-env-block-scalar-blank-line",
}

// Correctness issue, last fuzzer findings: re-runs that remove duplicated keys, removals and
// additions in one flow collection, and the chart's volume of our name.
golden! {
    fix4_rerun_removes_shadowed_duplicate_key => "fix4-rerun-removes-shadowed-duplicate-key",
    fix4_flow_rerun_lists => "fix4-flow-rerun-lists",
    fix4_flow_rerun_multiline_mounts => "fix4-flow-rerun-multiline-mounts",
    fix4_flow_rerun_crlf => "fix4-flow-rerun-crlf",
    fix4_chart_volume_mount_path_opt_certs => "fix4-chart-volume-mount-path-opt-certs",
    fix4_chart_volume_mount_path_other => "fix4-chart-volume-mount-path-other",
    fix4_chart_volume_rerun_other_then_opt_certs => "fix4-chart-volume-rerun-other-then-opt-certs",
    fix4_chart_volume_rerun_opt_certs_then_other => "fix4-chart-volume-rerun-opt-certs-then-other",
    fix4_chart_mounts_our_volume_at_our_directory => "fix4-chart-mounts-our-volume-at-our-directory",
    fix4_override_env_quoted_continuation => "fix4-override-env-quoted-continuation",
    fix4_alias_inside_its_anchor_1 => "fix4-alias-inside-its-anchor-1",
    fix4_alias_inside_its_anchor_2 => "fix4-alias-inside-its-anchor-2",
    fix4_unnamed_containers => "fix4-unnamed-containers",
}

// Corpus stream: plain scalars continued on lines that start with an indicator character.
golden! {
    corpus_plain_continuation_indicators => "corpus-plain-continuation-indicators",
}

// A record that lists none of what the pod holds of the chart's in our volume's name: the
// record stays, as `none`, so that a re-run does not claim those items by their shape.
golden! {
    fuzzfix_stale_record_keeps_chart_items => "fuzzfix-stale-record-keeps-chart-items",
    fuzzfix_stale_record_keeps_chart_items_excluded => "fuzzfix-stale-record-keeps-chart-items-excluded",
}

// The tree of a document: duplicate keys found while the fast reader reads each mapping.
golden! {
    reader_duplicate_keys_quoted => "reader-duplicate-keys-quoted",
    reader_duplicate_keys_compact_items => "reader-duplicate-keys-compact-items",
    reader_duplicate_keys_crlf_indent4 => "reader-duplicate-keys-crlf-indent4",
    reader_duplicate_keys_wide_mapping => "reader-duplicate-keys-wide-mapping",
    reader_similar_keys_not_duplicates => "reader-similar-keys-not-duplicates",
    reader_wide_mapping_no_duplicates => "reader-wide-mapping-no-duplicates",
}

// The planner and the text editor: values and paths shared from one workload to the next
// (more distinct records and container paths than are kept for sharing, then the first
// ones again), a re-run of that output under other options, and a record too long to keep.
golden! {
    plan_shared_across_workloads => "plan-shared-across-workloads",
    plan_shared_across_workloads_rerun => "plan-shared-across-workloads-rerun",
    plan_long_record => "plan-long-record",
}

// The document scans: a top-level `kind:` that a line scan would misread is left to the tree.
golden! {
    reader_kind_keys_a_line_scan_misses => "reader-kind-keys-a-line-scan-misses",
    reader_kind_value_continued => "reader-kind-value-continued",
    reader_kind_in_flow_root => "reader-kind-in-flow-root",
}
