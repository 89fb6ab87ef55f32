//! Typed reads of a Kubernetes object's tree: its annotations, and the marker on the
//! bundle objects this tool generates. Everything that asks "did we generate this" asks
//! here.

use crate::well_known as wk;
use crate::yaml::Node;

/// The object's `metadata.annotations` mapping, when it has one.
pub(crate) fn annotations(obj: &Node) -> Option<&Node> {
    obj.get("metadata").and_then(|m| m.get("annotations"))
}

/// One annotation of the object.
pub(crate) fn annotation<'a>(obj: &'a Node, key: &str) -> Option<&'a Node> {
    annotations(obj).and_then(|a| a.get(key))
}

/// Whether the object carries the marker of the bundle objects this tool generates.
pub(crate) fn is_generated(obj: &Node) -> bool {
    annotation(obj, wk::GENERATED_ANNOTATION).and_then(Node::as_str) == Some("true")
}

/// The namespace of a bundle object (a v1 ConfigMap or Secret named `name`) that this
/// tool generated, when `obj` is one.
/// Read as [`crate::workload::ObjectRef::of`] reads an object, without copying its fields: this is asked of
/// every document.
pub(crate) fn generated_bundle(obj: &Node, name: &str) -> Option<String> {
    let api_version = obj.get("apiVersion")?.as_str()?;
    let kind = obj.get("kind")?.as_str()?;
    let meta = |key: &str| {
        obj.get("metadata")
            .and_then(|m| m.get(key))
            .and_then(Node::as_str)
    };
    let kind_ok = matches!(kind, "ConfigMap" | "Secret") && api_version == "v1";
    (kind_ok && is_generated(obj) && meta("name").unwrap_or("") == name)
        .then(|| meta("namespace").unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_chunk};

    fn root(text: &str) -> Node {
        let docs = parse_chunk(text, 0, 1, &Limits::default(), true).expect("valid YAML");
        docs.into_iter().find_map(|d| d.root).expect("one document")
    }

    #[test]
    fn the_generated_marker_and_bundle() {
        let cm = |api: &str, kind: &str, marker: &str| {
            root(&format!(
                "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: b\n  namespace: ns\n  annotations:\n    trust-inject.dev/generated: {marker}\n"
            ))
        };
        assert_eq!(
            generated_bundle(&cm("v1", "ConfigMap", "\"true\""), "b").as_deref(),
            Some("ns")
        );
        assert_eq!(
            generated_bundle(&cm("v1", "Secret", "'true'"), "b").as_deref(),
            Some("ns")
        );
        assert!(!is_generated(&cm("v1", "ConfigMap", "\"false\"")));
        assert_eq!(
            generated_bundle(&cm("v1", "ConfigMap", "\"true\""), "other"),
            None
        );
        assert_eq!(
            generated_bundle(&cm("v2", "ConfigMap", "\"true\""), "b"),
            None
        );
        assert_eq!(generated_bundle(&cm("v1", "Pod", "\"true\""), "b"), None);
        assert!(annotation(&root("kind: Pod\nmetadata: {}\n"), "a").is_none());
    }
}
