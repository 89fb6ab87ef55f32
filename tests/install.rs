//! Tests of `install.sh` (and `scripts/make-release.sh`, whose archive layout it consumes).
//!
//! Every test runs the real script with `sh`, with a temporary HOME, prefix and Helm plugin
//! folder under Cargo's per-target temporary folder. Release downloads come from local folders of
//! fake release archives (a `trust-inject` shell script that prints a version) — as a plain
//! folder, a `file://` URL, and over HTTP from a small server inside the test — so no network is
//! needed. Checkout mode is tested with `--binary`/`TRUST_INJECT_INSTALL_BINARY` (an already-built
//! binary, no cargo) and once for real with `cargo install --locked`, reusing the repository's
//! `target` folder. `shellcheck` must be installed (`apt-get install -y shellcheck`).

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};

mod util;
use util::{dump as text, run};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn install_sh() -> PathBuf {
    Path::new(ROOT).join("install.sh")
}

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("install")
        .join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir).unwrap();
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The platform name install.sh detects on this machine.
fn host_platform() -> String {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "darwin",
        other => panic!("install.sh has no releases for {other}"),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        other => panic!("install.sh has no releases for {other}"),
    };
    format!("{os}-{arch}")
}

fn other_platform() -> String {
    if host_platform() == "linux-x86_64" {
        "linux-aarch64"
    } else {
        "linux-x86_64"
    }
    .to_string()
}

fn archive_name(version: &str, platform: &str) -> String {
    format!("trust-inject-{version}-{platform}.tar.gz")
}

fn sha256_hex(path: &Path) -> String {
    let bytes = fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_executable(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A stand-in for the real binary: prints its version.
fn fake_binary(path: &Path, version: &str) {
    write_executable(
        path,
        &format!("#!/bin/sh\necho \"trust-inject {version}\"\n"),
    );
}

/// Writes `<dir>/trust-inject-<version>-<platform>.tar.gz` holding the fake binary (and, with
/// `plugin`, the checkout's `helm-plugin/` folder), and returns its path. SHA256SUMS is not
/// touched.
fn make_archive(dir: &Path, version: &str, platform: &str, plugin: bool) -> PathBuf {
    let stage = dir.join(format!(".stage-{version}-{platform}"));
    fs::create_dir_all(&stage).unwrap();
    fake_binary(&stage.join("trust-inject"), version);
    let mut entries = vec!["trust-inject"];
    if plugin {
        copy_tree(&plugin_dir(), &stage.join("helm-plugin"));
        entries.push("helm-plugin");
    }
    let archive = dir.join(archive_name(version, platform));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&stage)
        .args(&entries)
        .status()
        .unwrap();
    assert!(status.success(), "tar failed");
    fs::remove_dir_all(&stage).unwrap();
    archive
}

/// Writes SHA256SUMS in `dir` for the given archives (sha256sum format).
fn write_sums(dir: &Path, archives: &[&Path]) {
    let mut text = String::new();
    for archive in archives {
        let name = archive.file_name().unwrap().to_str().unwrap();
        text.push_str(&format!("{}  {name}\n", sha256_hex(archive)));
    }
    fs::write(dir.join("SHA256SUMS"), text).unwrap();
}

/// A release folder with archives for this platform and one other, and a correct SHA256SUMS.
fn good_release(dir: &Path, version: &str) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let host = make_archive(dir, version, &host_platform(), false);
    let other = make_archive(dir, version, &other_platform(), false);
    write_sums(dir, &[&other, &host]);
    host
}

/// `install.sh --download <options> --base-url <base> --prefix <prefix>` from the checkout,
/// with HOME `<dir>/home`; more arguments may be added.
fn download(dir: &Path, options: &[&str], base: impl AsRef<OsStr>, prefix: &Path) -> Command {
    let mut cmd = installer(&install_sh(), &dir.join("home"));
    cmd.arg("--download")
        .args(options)
        .arg("--base-url")
        .arg(base)
        .arg("--prefix")
        .arg(prefix);
    cmd
}

/// Runs `cmd` (a [`download`]) and asserts that it fails with each of `needles` in its error
/// and leaves nothing at `prefix`.
#[track_caller]
fn assert_download_refused(mut cmd: Command, needles: &[&str], prefix: &Path) {
    let out = run(&mut cmd);
    for needle in needles {
        assert_failed_with(&out, needle);
    }
    assert_nothing_installed(prefix);
}

/// `sh <script> args...` with HOME set to `home` and none of the installer's variables inherited.
fn installer(script: &Path, home: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg(script)
        .env("HOME", home)
        .env_remove("HELM_PLUGINS")
        .env_remove("XDG_DATA_HOME")
        .env_remove("TRUST_INJECT_BASE_URL")
        .env_remove("TRUST_INJECT_INSTALL_BINARY")
        .stdin(Stdio::null());
    cmd
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "install.sh failed:\n{}",
        text(output)
    );
}

#[track_caller]
fn assert_failed_with(output: &Output, needle: &str) {
    assert!(
        !output.status.success(),
        "install.sh should have failed:\n{}",
        text(output)
    );
    assert!(
        stderr(output).contains(needle),
        "the error message should contain {needle:?}:\n{}",
        text(output)
    );
}

/// Runs an installed binary and returns its first output line.
#[track_caller]
fn run_installed(binary: &Path) -> String {
    assert!(binary.is_file(), "{} was not installed", binary.display());
    let mode = fs::metadata(binary).unwrap().permissions().mode();
    assert!(mode & 0o111 != 0, "{} is not executable", binary.display());
    let out = Command::new(binary).arg("--version").output().unwrap();
    assert!(out.status.success(), "{} failed", binary.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// Asserts that a failed install left nothing behind: no binary, no half-written temporary
/// file, not even the prefix folder.
#[track_caller]
fn assert_nothing_installed(prefix: &Path) {
    assert!(
        !prefix.exists(),
        "{} was created by a failed install",
        prefix.display()
    );
}

// ---------------------------------------------------------------------------------------------
// The script itself

#[test]
fn shellcheck_is_clean() {
    let probe = Command::new("shellcheck").arg("--version").output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "shellcheck is not installed; install it with `apt-get install -y shellcheck` \
         (Debian/Ubuntu) or `brew install shellcheck` (macOS)"
    );
    for script in ["install.sh", "scripts/make-release.sh"] {
        let out = Command::new("shellcheck")
            .args(["-s", "sh", script])
            .current_dir(ROOT)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "shellcheck -s sh {script}:\n{}",
            text(&out)
        );
    }
}

#[test]
fn help_documents_every_option() {
    let dir = scratch("help");
    let out = run(installer(&install_sh(), &dir).arg("--help"));
    assert_ok(&out);
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    // Every option the script parses (its `--name)` case labels) appears in the help.
    let source = fs::read_to_string(install_sh()).unwrap();
    let mut parsed = Vec::new();
    for line in source.lines() {
        let label = line.trim();
        for part in label.trim_end_matches(')').split('|') {
            let part = part.trim();
            if label.ends_with(')')
                && part.starts_with("--")
                && part.len() > 2
                && part
                    .chars()
                    .skip(2)
                    .all(|c| c.is_ascii_lowercase() || c == '-')
            {
                parsed.push(part.to_string());
            }
        }
    }
    for option in [
        "--prefix",
        "--download",
        "--version",
        "--base-url",
        "--platform",
        "--binary",
        "--helm-plugin",
        "--helm-plugins",
        "--help",
    ] {
        assert!(
            parsed.iter().any(|p| p == option),
            "install.sh does not parse {option}"
        );
    }
    for option in &parsed {
        assert!(
            help.contains(&format!("{option} ")),
            "--help does not document {option}:\n{help}"
        );
    }
    for needle in [
        "TRUST_INJECT_BASE_URL",
        "TRUST_INJECT_INSTALL_BINARY",
        "HELM_PLUGINS",
        "cargo install --locked --path",
        "SHA256SUMS",
        "file://",
        "Helm 3",
        "linux-x86_64",
        "darwin-aarch64",
    ] {
        assert!(
            help.contains(needle),
            "--help does not mention {needle}:\n{help}"
        );
    }
}

#[test]
fn unknown_option_is_an_error() {
    let dir = scratch("unknown-option");
    let out = run(installer(&install_sh(), &dir).arg("--frobnicate"));
    assert_failed_with(&out, "unknown option: --frobnicate");
    let out = run(installer(&install_sh(), &dir).arg("--prefix"));
    assert_failed_with(&out, "--prefix needs a value");
}

// ---------------------------------------------------------------------------------------------
// Downloading a release

#[test]
fn download_from_local_folder_installs_a_working_binary() {
    let dir = scratch("download-folder");
    let release = dir.join("release");
    good_release(&release, "1.2.3");
    let prefix = dir.join("prefix");
    let out = run(&mut download(
        &dir,
        &["--version", "1.2.3"],
        &release,
        &prefix,
    ));
    assert_ok(&out);
    assert_eq!(
        run_installed(&prefix.join("bin/trust-inject")),
        "trust-inject 1.2.3"
    );
    assert!(stderr(&out).contains("Verified SHA-256"), "{}", text(&out));
    // Only the binary: no leftovers from the atomic install.
    let names: Vec<_> = fs::read_dir(prefix.join("bin"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["trust-inject"]);

    // Installing another version replaces it.
    good_release(&release, "1.2.4");
    let out = run(&mut download(
        &dir,
        &["--version", "v1.2.4"],
        format!("{}/", release.display()),
        &prefix,
    ));
    assert_ok(&out);
    assert_eq!(
        run_installed(&prefix.join("bin/trust-inject")),
        "trust-inject 1.2.4"
    );
}

#[test]
fn script_outside_a_checkout_downloads_by_itself_from_a_file_url() {
    // A copy of install.sh in a folder without Cargo.toml, as after `curl -O`; the base URL
    // comes from TRUST_INJECT_BASE_URL as a file:// URL, the prefix is the default ~/.local.
    let dir = scratch("file-url");
    let script = dir.join("install.sh");
    fs::copy(install_sh(), &script).unwrap();
    let release = dir.join("release");
    good_release(&release, "2.0.0");
    let home = dir.join("home");
    let out = run(installer(&script, &home).args(["--version", "2.0.0"]).env(
        "TRUST_INJECT_BASE_URL",
        format!("file://{}", release.display()),
    ));
    assert_ok(&out);
    assert_eq!(
        run_installed(&home.join(".local/bin/trust-inject")),
        "trust-inject 2.0.0"
    );
}

#[test]
fn piped_into_sh_installs_the_pinned_version() {
    // `curl -fsSL .../install.sh | sh -s -- OPTIONS`, run from a folder that is no checkout,
    // without --version: the version pinned in the script is downloaded.
    let source = fs::read_to_string(install_sh()).unwrap();
    let pinned = source
        .lines()
        .find_map(|l| l.strip_prefix("PINNED_VERSION="))
        .expect("install.sh pins a version in PINNED_VERSION=")
        .trim()
        .to_string();
    let dir = scratch("piped");
    let release = dir.join("release");
    good_release(&release, &pinned);
    let home = dir.join("home");
    let mut child = Command::new("sh")
        .args(["-s", "--", "--base-url"])
        .arg(&release)
        .current_dir(&dir)
        .env("HOME", &home)
        .env_remove("HELM_PLUGINS")
        .env_remove("XDG_DATA_HOME")
        .env_remove("TRUST_INJECT_BASE_URL")
        .env_remove("TRUST_INJECT_INSTALL_BINARY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(source.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ok(&out);
    assert_eq!(
        run_installed(&home.join(".local/bin/trust-inject")),
        format!("trust-inject {pinned}")
    );
}

/// Serves the files of `dir` over HTTP/1.0 on a free loopback port; returns the base URL.
fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if header.trim().is_empty() => break,
                    Ok(_) => {}
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let file = dir.join(path.trim_start_matches('/'));
            let response = match fs::read(&file) {
                Ok(body) if !path.contains("..") => {
                    let mut r = format!(
                        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend(body);
                    r
                }
                _ => b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn download_over_http() {
    let dir = scratch("http");
    let release = dir.join("release");
    good_release(&release, "3.1.0");
    let url = serve(release);
    let prefix = dir.join("prefix");
    let out = run(&mut download(&dir, &["--version", "3.1.0"], &url, &prefix));
    assert_ok(&out);
    assert_eq!(
        run_installed(&prefix.join("bin/trust-inject")),
        "trust-inject 3.1.0"
    );

    // A version the server does not have: the download fails, nothing is installed.
    let prefix = dir.join("prefix-missing");
    assert_download_refused(
        download(&dir, &["--version", "9.9.9"], &url, &prefix),
        &["download failed"],
        &prefix,
    );
}

#[test]
fn unreachable_server_is_a_download_failure() {
    let dir = scratch("unreachable");
    // Bind and drop a listener to get a loopback port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let prefix = dir.join("prefix");
    assert_download_refused(
        download(&dir, &[], format!("http://127.0.0.1:{port}/v1"), &prefix),
        &["download failed"],
        &prefix,
    );
}

#[test]
fn wrong_checksum_installs_nothing() {
    let dir = scratch("wrong-checksum");
    let release = dir.join("release");
    let host = good_release(&release, "1.0.0");
    // The archive changes after SHA256SUMS was written.
    let mut bytes = fs::read(&host).unwrap();
    bytes.extend_from_slice(b"tampered");
    fs::write(&host, bytes).unwrap();

    let prefix = dir.join("prefix");
    assert_download_refused(
        download(&dir, &["--version", "1.0.0"], &release, &prefix),
        &["checksum mismatch"],
        &prefix,
    );

    // An existing installation is left exactly as it was.
    let older = dir.join("older");
    good_release(&older, "0.9.0");
    let out = run(&mut download(
        &dir,
        &["--version", "0.9.0"],
        &older,
        &prefix,
    ));
    assert_ok(&out);
    let out = run(&mut download(
        &dir,
        &["--version", "1.0.0"],
        &release,
        &prefix,
    ));
    assert_failed_with(&out, "checksum mismatch");
    assert_eq!(
        run_installed(&prefix.join("bin/trust-inject")),
        "trust-inject 0.9.0"
    );
    let names: Vec<_> = fs::read_dir(prefix.join("bin"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        ["trust-inject"],
        "a failed install left files behind"
    );
}

#[test]
fn missing_platform_archive_installs_nothing() {
    let dir = scratch("missing-archive");
    let release = dir.join("release");
    fs::create_dir_all(&release).unwrap();
    // Only the other platform is released (with a correct checksum).
    let other = make_archive(&release, "1.0.0", &other_platform(), false);
    write_sums(&release, &[&other]);
    let prefix = dir.join("prefix");
    assert_download_refused(
        download(&dir, &["--version", "1.0.0"], &release, &prefix),
        &[&archive_name("1.0.0", &host_platform()), "download failed"],
        &prefix,
    );
}

#[test]
fn missing_checksum_entry_installs_nothing() {
    let dir = scratch("missing-entry");
    let release = dir.join("release");
    fs::create_dir_all(&release).unwrap();
    make_archive(&release, "1.0.0", &host_platform(), false);
    let other = make_archive(&release, "1.0.0", &other_platform(), false);
    write_sums(&release, &[&other]);
    let prefix = dir.join("prefix");
    assert_download_refused(
        download(&dir, &["--version", "1.0.0"], &release, &prefix),
        &["SHA256SUMS has no entry for"],
        &prefix,
    );
}

#[test]
fn missing_checksums_file_installs_nothing() {
    let dir = scratch("missing-sums");
    let release = dir.join("release");
    fs::create_dir_all(&release).unwrap();
    make_archive(&release, "1.0.0", &host_platform(), false);
    let prefix = dir.join("prefix");
    assert_download_refused(
        download(
            &dir,
            &["--version", "1.0.0"],
            format!("file://{}", release.display()),
            &prefix,
        ),
        &["SHA256SUMS", "download failed"],
        &prefix,
    );
}

#[test]
fn archive_without_binary_installs_nothing() {
    let dir = scratch("no-binary");
    let release = dir.join("release");
    let stage = dir.join("stage");
    fs::create_dir_all(&stage).unwrap();
    fs::create_dir_all(&release).unwrap();
    fs::write(stage.join("README.md"), "no binary here\n").unwrap();
    let archive = release.join(archive_name("1.0.0", &host_platform()));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&stage)
        .arg("README.md")
        .status()
        .unwrap();
    assert!(status.success());
    write_sums(&release, &[&archive]);
    let prefix = dir.join("prefix");
    assert_download_refused(
        download(&dir, &["--version", "1.0.0"], &release, &prefix),
        &["holds no trust-inject binary"],
        &prefix,
    );
}

#[test]
fn platform_override_and_unknown_platform() {
    let dir = scratch("platform");
    let release = dir.join("release");
    fs::create_dir_all(&release).unwrap();
    let other = make_archive(&release, "1.0.0", &other_platform(), false);
    write_sums(&release, &[&other]);
    let prefix = dir.join("prefix");
    let out = run(&mut download(
        &dir,
        &["--version", "1.0.0", "--platform", &other_platform()],
        &release,
        &prefix,
    ));
    assert_ok(&out);
    assert!(prefix.join("bin/trust-inject").is_file());

    let prefix = dir.join("prefix-windows");
    assert_download_refused(
        download(&dir, &["--platform", "windows-x86_64"], &release, &prefix),
        &["unknown platform windows-x86_64"],
        &prefix,
    );
}

#[test]
fn helm_plugin_from_a_release_archive() {
    let dir = scratch("download-plugin");
    let release = dir.join("release");
    fs::create_dir_all(&release).unwrap();
    let host = make_archive(&release, "1.5.0", &host_platform(), true);
    write_sums(&release, &[&host]);
    let prefix = dir.join("prefix");
    let plugins = dir.join("helm4-plugins");
    let out = run(download(
        &dir,
        &["--version", "1.5.0", "--helm-plugin"],
        &release,
        &prefix,
    )
    .arg("--helm-plugins")
    .arg(&plugins));
    assert_ok(&out);
    assert_eq!(
        run_installed(&prefix.join("bin/trust-inject")),
        "trust-inject 1.5.0"
    );
    assert_plugin_installed(&plugins.join("trust-inject"), "trust-inject 1.5.0");

    // A release archive without the plugin: --helm-plugin fails before anything is installed.
    let bare = dir.join("bare");
    good_release(&bare, "1.5.0");
    let prefix = dir.join("prefix-bare");
    let out = run(download(
        &dir,
        &["--version", "1.5.0", "--helm-plugin"],
        &bare,
        &prefix,
    )
    .arg("--helm-plugins")
    .arg(dir.join("other-plugins")));
    assert_failed_with(&out, "has no helm-plugin/plugin.yaml");
    assert_nothing_installed(&prefix);
    assert!(!dir.join("other-plugins").exists());
}

/// Runs `scripts/make-release.sh` on the binary `fake` into `out_dir`, and checks it succeeded.
fn make_release(fake: &Path, version: &str, platform: &str, out_dir: &Path) {
    let out = Command::new("sh")
        .arg(Path::new(ROOT).join("scripts/make-release.sh"))
        .args(["--version", version, "--platform", platform, "--binary"])
        .arg(fake)
        .arg("--out")
        .arg(out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make-release.sh failed:\n{}",
        text(&out)
    );
}

#[test]
fn make_release_output_is_what_install_sh_consumes() {
    let dir = scratch("make-release");
    let fake = dir.join("fake-trust-inject");
    fake_binary(&fake, "4.0.0");
    let out_dir = dir.join("dist");
    for platform in [host_platform(), other_platform()] {
        make_release(&fake, "4.0.0", &platform, &out_dir);
    }
    let sums = fs::read_to_string(out_dir.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 2, "{sums}");
    for platform in [host_platform(), other_platform()] {
        let archive = out_dir.join(archive_name("4.0.0", &platform));
        let line = format!(
            "{}  {}",
            sha256_hex(&archive),
            archive_name("4.0.0", &platform)
        );
        assert!(
            sums.lines().any(|l| l == line),
            "SHA256SUMS lacks {line:?}:\n{sums}"
        );
    }
    let prefix = dir.join("prefix");
    let out = run(&mut download(
        &dir,
        &["--version", "4.0.0"],
        format!("file://{}", out_dir.display()),
        &prefix,
    ));
    assert_ok(&out);
    assert_eq!(
        run_installed(&prefix.join("bin/trust-inject")),
        "trust-inject 4.0.0"
    );
}

// ---------------------------------------------------------------------------------------------
// Checkout mode

/// The checkout's Helm 4 plugin folder, `helm-plugin/`.
fn plugin_dir() -> PathBuf {
    let dir = Path::new(ROOT).join("helm-plugin");
    let yaml = fs::read_to_string(dir.join("plugin.yaml"))
        .unwrap_or_else(|e| panic!("{}/plugin.yaml: {e}", dir.display()));
    for needle in [
        "apiVersion: v1",
        "type: postrenderer/v1",
        "name: trust-inject",
        "HELM_PLUGIN_DIR",
    ] {
        assert!(
            yaml.contains(needle),
            "helm-plugin/plugin.yaml lacks {needle:?}"
        );
    }
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file of `from` is in `to` with the same content and the same executable bit.
#[track_caller]
fn assert_tree_copied(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            assert_tree_copied(&entry.path(), &target);
            continue;
        }
        assert_eq!(
            fs::read(entry.path()).unwrap(),
            fs::read(&target).unwrap_or_default(),
            "{} was not copied to {}",
            entry.path().display(),
            target.display()
        );
        let exec = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o111 != 0;
        assert_eq!(
            exec(&entry.path()),
            exec(&target),
            "mode of {}",
            target.display()
        );
    }
}

/// The plugin installed in `installed` (`<plugins>/trust-inject`) is the checkout's
/// `helm-plugin/` plus `bin/trust-inject`, and the command its plugin.yaml names, started the
/// way Helm 4 starts it (HELM_PLUGIN_DIR set, no trust-inject on PATH), runs that binary.
#[track_caller]
fn assert_plugin_installed(installed: &Path, version_line: &str) {
    assert_tree_copied(&plugin_dir(), installed);
    assert_eq!(
        run_installed(&installed.join("bin/trust-inject")),
        version_line
    );
    let yaml = fs::read_to_string(installed.join("plugin.yaml")).unwrap();
    let command = yaml
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("command:"))
        .map(|c| c.trim().trim_matches(|q| q == '"' || q == '\''))
        .next()
        .expect("plugin.yaml names a command");
    let dir = installed.to_str().unwrap();
    let command = command
        .replace("${HELM_PLUGIN_DIR}", dir)
        .replace("$HELM_PLUGIN_DIR", dir);
    let out = Command::new(&command)
        .arg("--version")
        .env("HELM_PLUGIN_DIR", installed)
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run the plugin command {command}: {e}"));
    assert!(
        out.status.success(),
        "the plugin command {command} failed:\n{}",
        text(&out)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), version_line);
}

/// A minimal trust-inject checkout in `dir`: install.sh, a Cargo.toml naming the package, and
/// the checkout's `helm-plugin/` folder. Returns the copied install.sh.
fn fake_checkout(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"trust-inject\"\nversion = \"0.0.0\"\n",
    )
    .unwrap();
    copy_tree(&plugin_dir(), &dir.join("helm-plugin"));
    let script = dir.join("install.sh");
    fs::copy(install_sh(), &script).unwrap();
    script
}

#[test]
fn checkout_with_prebuilt_binary_installs_the_helm_plugin() {
    let dir = scratch("checkout-plugin");
    let script = fake_checkout(&dir.join("checkout"));
    let binary = dir.join("built/trust-inject");
    fake_binary(&binary, "0.7.0");
    let home = dir.join("home");
    let plugins = dir.join("helm4-plugins");
    let out = run(installer(&script, &home)
        .args(["--helm-plugin", "--binary"])
        .arg(&binary)
        .env("HELM_PLUGINS", &plugins));
    assert_ok(&out);
    assert_eq!(
        run_installed(&home.join(".local/bin/trust-inject")),
        "trust-inject 0.7.0"
    );
    assert_plugin_installed(&plugins.join("trust-inject"), "trust-inject 0.7.0");
    // An explicit HELM_PLUGINS is the recommended setup: no shared-folder warning.
    assert!(!stderr(&out).contains("warning"), "{}", text(&out));
    // Nothing but the plugin in the plugin folder (no staging leftovers).
    let names: Vec<_> = fs::read_dir(&plugins)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["trust-inject"]);

    // Reinstalling (binary from TRUST_INJECT_INSTALL_BINARY, folder from --helm-plugins, which
    // wins over HELM_PLUGINS) replaces the plugin's binary.
    fake_binary(&binary, "0.8.0");
    let out = run(installer(&script, &home)
        .arg("--helm-plugin")
        .arg("--helm-plugins")
        .arg(&plugins)
        .env("HELM_PLUGINS", dir.join("not-this-one"))
        .env("TRUST_INJECT_INSTALL_BINARY", &binary));
    assert_ok(&out);
    assert!(!dir.join("not-this-one").exists());
    assert_eq!(
        run_installed(&home.join(".local/bin/trust-inject")),
        "trust-inject 0.8.0"
    );
    assert_plugin_installed(&plugins.join("trust-inject"), "trust-inject 0.8.0");
    let names: Vec<_> = fs::read_dir(&plugins)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["trust-inject"]);
}

#[test]
fn default_plugin_folder_warns_about_helm_3() {
    let dir = scratch("checkout-default-plugins");
    let script = fake_checkout(&dir.join("checkout"));
    let binary = dir.join("built/trust-inject");
    fake_binary(&binary, "0.7.0");

    // ~/.local/share/helm/plugins
    let home = dir.join("home");
    let out = run(installer(&script, &home)
        .args(["--helm-plugin", "--binary"])
        .arg(&binary));
    assert_ok(&out);
    assert_plugin_installed(
        &home.join(".local/share/helm/plugins/trust-inject"),
        "trust-inject 0.7.0",
    );
    let err = stderr(&out);
    for needle in ["warning", "Helm 3 and Helm 4 share", "HELM_PLUGINS"] {
        assert!(
            err.contains(needle),
            "the warning should mention {needle:?}:\n{}",
            text(&out)
        );
    }

    // $XDG_DATA_HOME/helm/plugins
    let data = dir.join("xdg-data");
    let out = run(installer(&script, &home)
        .args(["--helm-plugin", "--binary"])
        .arg(&binary)
        .env("XDG_DATA_HOME", &data));
    assert_ok(&out);
    assert_plugin_installed(
        &data.join("helm/plugins/trust-inject"),
        "trust-inject 0.7.0",
    );
    assert!(
        stderr(&out).contains("Helm 3 and Helm 4 share"),
        "{}",
        text(&out)
    );
}

#[test]
fn checkout_without_plugin_manifest_fails_before_installing() {
    let dir = scratch("checkout-no-manifest");
    let checkout = dir.join("checkout");
    let script = fake_checkout(&checkout);
    fs::remove_dir_all(checkout.join("helm-plugin")).unwrap();
    let binary = dir.join("built/trust-inject");
    fake_binary(&binary, "0.7.0");
    let home = dir.join("home");
    let out = run(installer(&script, &home)
        .args(["--helm-plugin", "--binary"])
        .arg(&binary)
        .env("HELM_PLUGINS", dir.join("plugins")));
    assert_failed_with(&out, "helm-plugin/plugin.yaml");
    assert_nothing_installed(&home);
    assert!(!dir.join("plugins").exists());
}

#[test]
fn cargo_install_from_the_checkout() {
    // The real build: `cargo install --locked --path <repo> --root <prefix>`, reusing the
    // repository's target folder so only changed crates are compiled.
    let dir = scratch("cargo-install");
    let prefix = dir.join("prefix");
    let plugins = dir.join("helm4-plugins");
    let mut cmd = Command::new("sh");
    cmd.arg(install_sh())
        .arg("--helm-plugin")
        .arg("--prefix")
        .arg(&prefix)
        .env("CARGO_TARGET_DIR", Path::new(ROOT).join("target"))
        .env("HELM_PLUGINS", &plugins)
        .env_remove("TRUST_INJECT_INSTALL_BINARY")
        .env_remove("TRUST_INJECT_BASE_URL")
        .stdin(Stdio::null());
    let out = run(&mut cmd);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("cargo install --locked"),
        "{}",
        text(&out)
    );
    let version = run_installed(&prefix.join("bin/trust-inject"));
    assert!(
        version.contains(env!("CARGO_PKG_VERSION")),
        "unexpected --version output: {version}"
    );
    assert_plugin_installed(&plugins.join("trust-inject"), &version);
}

/// The absolute path of `tool` on PATH.
fn which(tool: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{tool} is not on PATH"))
}

#[test]
fn wget_and_shasum_are_used_without_curl_and_sha256sum() {
    // A PATH holding only the tools install.sh needs, with no curl and no sha256sum; `wget` and
    // `shasum` are shims that log their arguments and do the work with curl and sha256sum.
    let dir = scratch("fallbacks");
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    for tool in [
        "sh", "uname", "mktemp", "grep", "awk", "tar", "gzip", "cp", "mv", "rm", "mkdir", "chmod",
        "cat",
    ] {
        std::os::unix::fs::symlink(which(tool), bin.join(tool)).unwrap();
    }
    let log = dir.join("calls.log");
    let curl = which("curl");
    let sha256sum = which("sha256sum");
    write_executable(
        &bin.join("wget"),
        &format!(
            "#!/bin/sh\necho \"wget $*\" >>'{log}'\n[ \"$1\" = -q ] && [ \"$2\" = -O ] || exit 2\n\
             exec '{curl}' -fsS -o \"$3\" \"$4\"\n",
            log = log.display(),
            curl = curl.display()
        ),
    );
    write_executable(
        &bin.join("shasum"),
        &format!(
            "#!/bin/sh\necho \"shasum $*\" >>'{log}'\n[ \"$1\" = -a ] && [ \"$2\" = 256 ] || exit 2\n\
             exec '{sha}' \"$3\"\n",
            log = log.display(),
            sha = sha256sum.display()
        ),
    );
    let release = dir.join("release");
    good_release(&release, "6.0.0");
    let url = serve(release);
    let prefix = dir.join("prefix");
    let out = run(download(&dir, &["--version", "6.0.0"], &url, &prefix).env("PATH", &bin));
    assert_ok(&out);
    assert_eq!(
        run_installed(&prefix.join("bin/trust-inject")),
        "trust-inject 6.0.0"
    );
    let calls = fs::read_to_string(&log).unwrap();
    assert!(calls.contains("wget -q -O"), "wget was not used:\n{calls}");
    assert!(
        calls.contains("shasum -a 256"),
        "shasum was not used:\n{calls}"
    );
}

/// Every relative link in the archive's Markdown files (README.md, docs/, examples/) names a
/// file or folder that the archive holds, so the documentation reads whole offline.
#[test]
fn release_archive_holds_what_its_docs_link_to() {
    let dir = scratch("release-links");
    let fake = dir.join("fake-trust-inject");
    fake_binary(&fake, "4.1.0");
    let out_dir = dir.join("dist");
    make_release(&fake, "4.1.0", &host_platform(), &out_dir);
    let unpacked = dir.join("unpacked");
    fs::create_dir_all(&unpacked).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(out_dir.join(archive_name("4.1.0", &host_platform())))
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(status.success(), "tar -x failed");
    let mut pages = vec![unpacked.join("README.md")];
    let mut folders = vec![unpacked.join("docs"), unpacked.join("examples")];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    assert!(
        pages.len() > 5,
        "the archive holds too few pages: {pages:?}"
    );
    let mut broken = Vec::new();
    for page in &pages {
        let body = fs::read_to_string(page).unwrap();
        for (at, _) in body.match_indices("](") {
            let rest = &body[at + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = rest[..end].split('#').next().unwrap_or("");
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let base = page.parent().unwrap();
            if !base.join(target).exists() {
                broken.push(format!(
                    "{}: {target}",
                    page.strip_prefix(&unpacked).unwrap().display()
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to what the archive lacks:\n{}",
        broken.join("\n")
    );
}
