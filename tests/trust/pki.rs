//! The test's certificates, made with the openssl CLI: a stand-in "public" root with a server
//! certificate of its own, and a corporate root that signs an intermediate that signs the
//! corporate server's certificate. Server certificates name `localhost` (DNS and 127.0.0.1), and
//! for the proxy test `corp.example.test`, `direct.example.test` and the addresses 192.0.2.11
//! to 192.0.2.17 (one a client, reached by address for a CIDR in `NO_PROXY`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Extensions for the certificates a root signs.
const EXTENSIONS: &str = "\
[intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, DNS:corp.example.test, DNS:direct.example.test, IP:192.0.2.11, IP:192.0.2.12, IP:192.0.2.13, IP:192.0.2.14, IP:192.0.2.15, IP:192.0.2.16, IP:192.0.2.17
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
";

/// A server's certificate chain (leaf first, then intermediates) and its key.
pub struct ServerCert {
    pub chain: PathBuf,
    pub key: PathBuf,
}

pub struct Pki {
    /// The stand-in for the public roots an image ships.
    pub public_root: PathBuf,
    /// The corporate root: what `--ca-file` and the corp-ca ConfigMap carry.
    pub corp_root: PathBuf,
    /// Issued by `public_root` directly.
    pub public_server: ServerCert,
    /// Issued by the corporate intermediate; the chain holds the intermediate too.
    pub corp_server: ServerCert,
}

pub fn openssl(openssl: &Path, args: &[&str]) -> String {
    let out = Command::new(openssl)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", openssl.display()));
    assert!(
        out.status.success(),
        "openssl {} failed: {}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("openssl prints UTF-8")
}

impl Pki {
    pub fn generate(openssl_bin: &Path, dir: &Path) -> Pki {
        fs::create_dir_all(dir).expect("PKI directory");
        let p = |name: &str| dir.join(name).to_str().expect("UTF-8 path").to_owned();
        let ssl = |args: &[&str]| openssl(openssl_bin, args);
        let ext = p("extensions.cnf");
        fs::write(&ext, EXTENSIONS).expect("extensions file");

        let key = |name: &str| {
            ssl(&[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &p(name),
            ]);
        };
        let root = |name: &str, cn: &str| {
            key(&format!("{name}.key"));
            ssl(&[
                "req",
                "-x509",
                "-new",
                "-sha256",
                "-days",
                "2",
                "-key",
                &p(&format!("{name}.key")),
                "-subj",
                &format!("/O=trust-inject test/CN={cn}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
                &p(&format!("{name}.pem")),
            ]);
        };
        let mut serial = 0x7e57_0000_u32;
        let mut issue = |name: &str, cn: &str, issuer: &str, section: &str| {
            serial += 1;
            key(&format!("{name}.key"));
            ssl(&[
                "req",
                "-new",
                "-key",
                &p(&format!("{name}.key")),
                "-subj",
                &format!("/O=trust-inject test/CN={cn}"),
                "-out",
                &p(&format!("{name}.csr")),
            ]);
            ssl(&[
                "x509",
                "-req",
                "-sha256",
                "-days",
                "2",
                "-in",
                &p(&format!("{name}.csr")),
                "-CA",
                &p(&format!("{issuer}.pem")),
                "-CAkey",
                &p(&format!("{issuer}.key")),
                "-set_serial",
                &serial.to_string(),
                "-extfile",
                &ext,
                "-extensions",
                section,
                "-out",
                &p(&format!("{name}.pem")),
            ]);
        };

        root("public-root", "Test Public Root");
        issue("public-server", "localhost", "public-root", "server");
        root("corp-root", "Test Corporate Root");
        issue(
            "corp-intermediate",
            "Test Corporate Issuing CA",
            "corp-root",
            "intermediate",
        );
        issue("corp-server", "localhost", "corp-intermediate", "server");

        let read = |name: &str| fs::read_to_string(dir.join(name)).expect("certificate");
        fs::write(
            dir.join("public-server.chain.pem"),
            read("public-server.pem"),
        )
        .expect("chain");
        fs::write(
            dir.join("corp-server.chain.pem"),
            read("corp-server.pem") + &read("corp-intermediate.pem"),
        )
        .expect("chain");

        Pki {
            public_root: dir.join("public-root.pem"),
            corp_root: dir.join("corp-root.pem"),
            public_server: ServerCert {
                chain: dir.join("public-server.chain.pem"),
                key: dir.join("public-server.key"),
            },
            corp_server: ServerCert {
                chain: dir.join("corp-server.chain.pem"),
                key: dir.join("corp-server.key"),
            },
        }
    }
}
