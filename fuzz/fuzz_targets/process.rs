//! Arbitrary UTF-8 through the whole pipeline: never a panic, and whenever a stream is
//! accepted, processing the output again gives the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trust_inject::{Limits, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first byte (if any) picks a variant so both bundle layouts are exercised.
    let mut opts = Options::from_configmap("corp-ca", "ca.crt")
        .with_complete_bundle(data.first().is_some_and(|b| b & 1 == 1));
    opts.limits = Limits {
        max_depth: 200,
        max_alias_nodes: 10_000,
    };
    let Ok(first) = trust_inject::process(text, &opts) else {
        return;
    };
    match trust_inject::process(&first.output, &opts) {
        Ok(second) => assert_eq!(
            first.output, second.output,
            "a second run changed the output of {text:?}"
        ),
        Err(e) => panic!(
            "the output of {text:?} is rejected on a second run: {e}\noutput: {:?}",
            first.output
        ),
    }
});
