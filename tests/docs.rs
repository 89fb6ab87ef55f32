//! Keeps the README's configuration reference equal to the option table it is generated
//! from (`trust_inject::config::FIELDS`). `UPDATE_DOCS=1 cargo test --test docs` rewrites it.

const BEGIN: &str = "<!-- BEGIN GENERATED: options -->\n";
const END: &str = "<!-- END GENERATED: options -->";

#[test]
fn readme_option_reference_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md is readable");
    let start = readme
        .find(BEGIN)
        .expect("README.md has the BEGIN GENERATED: options marker")
        + BEGIN.len();
    let end = readme
        .find(END)
        .expect("README.md has the END GENERATED: options marker");
    let want = trust_inject::config::reference_markdown();
    if readme[start..end] != want {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{}{}", &readme[..start], want, &readme[end..]);
            std::fs::write(path, updated).expect("README.md is writable");
            return;
        }
        panic!(
            "the README's option reference is out of date: run `UPDATE_DOCS=1 cargo test --test docs`\n--- README\n{}\n--- generated\n{want}",
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
    for f in trust_inject::config::FIELDS {
        assert!(
            text.contains(&format!("--{}", f.flag)),
            "--help lacks --{}",
            f.flag
        );
        assert!(text.contains(&f.env()), "--help lacks {}", f.env());
    }
    assert!(text.contains("Exit codes:"), "--help lacks the exit codes");
}
