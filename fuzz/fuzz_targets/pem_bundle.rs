//! Arbitrary bytes as a CA file: reading it never panics; it is either refused with an
//! error or gives at least one certificate.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("trust-inject-fuzz-pem-{}.pem", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("write the scratch CA file");
    if let Ok(read) = trust_inject::internals::read_ca_files(std::slice::from_ref(path)) {
        assert!(
            !read.certificates.is_empty(),
            "accepted a file without certificates"
        );
    }
});
