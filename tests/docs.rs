//! Keeps the configuration reference of docs/usage.md equal to the option table it is generated
//! from (`trust_inject::internals::FIELDS`), and its exit-code table equal to the one `--help`
//! prints. `UPDATE_DOCS=1 cargo test --test docs` rewrites both.

mod util;

/// Checks that the block of docs/usage.md between the `BEGIN GENERATED: {name}` and
/// `END GENERATED: {name}` markers is `want`, or rewrites it under `UPDATE_DOCS`; `what` says
/// what is wrong when it differs, `source` where `want` comes from.
fn check_generated_block(name: &str, want: &str, what: &str, source: &str) {
    let begin = format!("<!-- BEGIN GENERATED: {name} -->\n");
    let end_marker = format!("<!-- END GENERATED: {name} -->");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/usage.md");
    let readme = std::fs::read_to_string(path).expect("docs/usage.md is readable");
    let start = readme
        .find(&begin)
        .unwrap_or_else(|| panic!("docs/usage.md has the BEGIN GENERATED: {name} marker"))
        + begin.len();
    let end = readme
        .find(&end_marker)
        .unwrap_or_else(|| panic!("docs/usage.md has the END GENERATED: {name} marker"));
    if readme[start..end] != *want {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{}{}", &readme[..start], want, &readme[end..]);
            std::fs::write(path, updated).expect("docs/usage.md is writable");
            return;
        }
        panic!(
            "{what}: run `UPDATE_DOCS=1 cargo test --test docs`\n--- docs/usage.md\n{}\n--- {source}\n{want}",
            &readme[start..end]
        );
    }
}

/// What `trust-inject --help` prints.
fn help_text() -> String {
    util::lossy(&util::run_bin(&["--help".to_owned()], b"").stdout)
}

#[test]
fn readme_option_reference_is_current() {
    check_generated_block(
        "options",
        &trust_inject::internals::reference_markdown(),
        "the option reference of docs/usage.md is out of date",
        "generated",
    );
}

#[test]
fn every_option_is_a_flag_and_an_environment_variable() {
    let text = help_text();
    for f in trust_inject::internals::FIELDS {
        assert!(
            text.contains(&format!("--{}", f.flag)),
            "--help lacks --{}",
            f.flag
        );
        assert!(text.contains(&f.env()), "--help lacks {}", f.env());
    }
    assert!(text.contains("Exit codes:"), "--help lacks the exit codes");
}

#[test]
fn readme_exit_codes_are_the_ones_help_prints() {
    let text = help_text();
    let block = text
        .split_once("Exit codes:\n")
        .expect("--help has the exit codes")
        .1;
    let mut want = String::from("| code | meaning |\n|---|---|\n");
    for line in block.lines().take_while(|l| l.starts_with("  ")) {
        let (code, meaning) = line
            .trim_start()
            .split_once("  ")
            .unwrap_or_else(|| panic!("exit code line {line:?} is not `  N  meaning`"));
        want.push_str(&format!("| {code} | {} |\n", meaning.replace('|', "\\|")));
    }
    assert!(
        want.lines().count() > 4,
        "too few exit codes in --help:\n{text}"
    );
    check_generated_block(
        "exit-codes",
        &want,
        "the exit codes of docs/usage.md differ from --help",
        "--help",
    );
}
