//! Writes the ConfigMap (or Secret) that carries a bundle read from `--ca-file`, one per
//! namespace with an injected workload.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::config::{Loaded, Options, SourceKind};
use crate::well_known as wk;
use crate::yaml::{Val, is_plain_string, render_json};

fn key_text(k: &str) -> String {
    if is_plain_string(k) {
        k.to_owned()
    } else {
        render_json(&Val::str(k))
    }
}

/// The generated object for namespace `ns` (`""`: none, so it lands in the release
/// namespace), with extra `annotations`, without a leading `---`.
#[must_use]
pub fn render(
    opts: &Options,
    loaded: &Loaded,
    ns: &str,
    annotations: &[(String, String)],
    nl: &str,
) -> String {
    let data = &loaded.data;
    let secret = opts.source.kind == SourceKind::Secret;
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push_str(nl);
    };
    line("apiVersion: v1");
    line(if secret {
        "kind: Secret"
    } else {
        "kind: ConfigMap"
    });
    line("metadata:");
    line(&format!("  name: {}", key_text(&opts.source.name)));
    if !ns.is_empty() {
        line(&format!("  namespace: {}", key_text(ns)));
    }
    line("  labels:");
    line("    app.kubernetes.io/managed-by: trust-inject");
    line("  annotations:");
    line(&format!("    {}: \"true\"", wk::GENERATED_ANNOTATION));
    line(&format!(
        "    {}: {}",
        wk::BUNDLE_HASH_ANNOTATION,
        render_json(&Val::str(&data.sha256))
    ));
    if let Some(v) = loaded.mozilla_version {
        line(&format!(
            "    {}: {}",
            wk::MOZILLA_VERSION_ANNOTATION,
            render_json(&Val::str(v))
        ));
    }
    for (k, v) in annotations {
        line(&format!(
            "    {}: {}",
            key_text(k),
            render_json(&Val::str(v))
        ));
    }
    if secret {
        line("type: Opaque");
    }
    let mut texts: Vec<(&str, &str)> = vec![
        (wk::GENERATED_PRIVATE_KEY, &data.ca_crt),
        (wk::GENERATED_COMPLETE_KEY, &data.ca_bundle_crt),
    ];
    texts.extend(data.hashed.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    line("data:");
    for (k, v) in &texts {
        if secret {
            line(&format!(
                "  {}: {}",
                key_text(k),
                STANDARD.encode(v.as_bytes())
            ));
        } else {
            line(&format!("  {}: |", key_text(k)));
            for l in v.lines() {
                line(&format!("    {l}"));
            }
        }
    }
    let p12 = STANDARD.encode(&data.truststore_p12);
    if !secret {
        line("binaryData:");
    }
    line(&format!("  {}: {p12}", wk::GENERATED_TRUSTSTORE_KEY));
    out
}
