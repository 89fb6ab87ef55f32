//! The baseline `scripts/bench.sh` compares trust-inject with: a parse-and-emit of every
//! document of the YAML stream on standard input through serde_yaml, written to standard
//! output as a stream again. What a tool that re-serializes manifests pays at least.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use serde::Deserialize;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roundtrip: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut input = String::new();
    io::stdin().lock().read_to_string(&mut input)?;
    let mut out = String::with_capacity(input.len());
    for (i, doc) in serde_yaml::Deserializer::from_str(&input).enumerate() {
        let value =
            serde_yaml::Value::deserialize(doc).map_err(|e| format!("document {}: {e}", i + 1))?;
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&value)?);
    }
    let mut stdout = io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}
