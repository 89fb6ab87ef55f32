//! A loopback HTTPS server (`server.py`) that lives as long as its handle: it binds an
//! ephemeral port on 127.0.0.1 (or the address given), stops by itself after a timeout, and is
//! killed on drop.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::pki::ServerCert;

/// Long enough for every client run of the test; the server stops by itself after it.
const LIFETIME_SECONDS: &str = "900";

pub struct TlsServer {
    child: Child,
    pub port: u16,
}

impl TlsServer {
    pub fn start(python: &Path, cert: &ServerCert) -> TlsServer {
        TlsServer::start_on(python, cert, "127.0.0.1")
    }

    /// A server bound to `address` (`0.0.0.0`: every address of its network namespace).
    pub fn start_on(python: &Path, cert: &ServerCert, address: &str) -> TlsServer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/trust/server.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(&cert.chain)
            .arg(&cert.key)
            .arg(LIFETIME_SECONDS)
            .arg(address)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped"))
            .read_line(&mut line)
            .expect("the server prints its port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!(
                "the TLS server for {} did not start (printed {line:?})",
                cert.chain.display()
            )
        });
        TlsServer { child, port }
    }

    pub fn url(&self) -> String {
        format!("https://localhost:{}/", self.port)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
