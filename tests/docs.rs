//! Keeps the configuration reference of docs/usage.md equal to the option table it is generated
//! from (`trust_inject::internals::FIELDS`), and its exit-code table equal to the one `--help`
//! prints. `UPDATE_DOCS=1 cargo test --test docs` rewrites both.

const BEGIN: &str = "<!-- BEGIN GENERATED: options -->\n";
const END: &str = "<!-- END GENERATED: options -->";

#[test]
fn readme_option_reference_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/usage.md");
    let readme = std::fs::read_to_string(path).expect("docs/usage.md is readable");
    let start = readme
        .find(BEGIN)
        .expect("docs/usage.md has the BEGIN GENERATED: options marker")
        + BEGIN.len();
    let end = readme
        .find(END)
        .expect("docs/usage.md has the END GENERATED: options marker");
    let want = trust_inject::internals::reference_markdown();
    if readme[start..end] != want {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{}{}", &readme[..start], want, &readme[end..]);
            std::fs::write(path, updated).expect("docs/usage.md is writable");
            return;
        }
        panic!(
            "the option reference of docs/usage.md is out of date: run `UPDATE_DOCS=1 cargo test --test docs`\n--- docs/usage.md\n{}\n--- generated\n{want}",
            &readme[start..end]
        );
    }
}

#[test]
fn every_option_is_a_flag_and_an_environment_variable() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_trust-inject"))
        .arg("--help")
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&help.stdout);
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
    const BEGIN: &str = "<!-- BEGIN GENERATED: exit-codes -->\n";
    const END: &str = "<!-- END GENERATED: exit-codes -->";
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_trust-inject"))
        .arg("--help")
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&help.stdout);
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
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/usage.md");
    let readme = std::fs::read_to_string(path).expect("docs/usage.md is readable");
    let start = readme
        .find(BEGIN)
        .expect("docs/usage.md has the BEGIN GENERATED: exit-codes marker")
        + BEGIN.len();
    let end = readme
        .find(END)
        .expect("docs/usage.md has the END GENERATED: exit-codes marker");
    if readme[start..end] != want {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{}{}", &readme[..start], want, &readme[end..]);
            std::fs::write(path, updated).expect("docs/usage.md is writable");
            return;
        }
        panic!(
            "the exit codes of docs/usage.md differ from --help: run `UPDATE_DOCS=1 cargo test --test docs`\n--- docs/usage.md\n{}\n--- --help\n{want}",
            &readme[start..end]
        );
    }
}
