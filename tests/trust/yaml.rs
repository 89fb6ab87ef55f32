//! Reads the tool's output into JSON values, the way the pod-view harness needs it: every
//! scalar is a string (paths, names and environment values are all the harness reads), and
//! aliases are expanded. Built on `saphyr-parser`, which the crate already depends on.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};
use serde_json::{Map, Value};

enum Frame {
    Seq(Vec<Value>, usize),
    Map(Map<String, Value>, Option<String>, usize),
}

/// Every non-empty document of a YAML stream, in order.
pub fn parse_stream(text: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Value> = HashMap::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.unwrap_or_else(|e| panic!("the output is not YAML: {e}"));
        let (value, anchor) = match event {
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(Map::new(), None, anchor));
                continue;
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), anchor));
                continue;
            }
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(map, _, anchor)) => (Value::Object(map), anchor),
                _ => panic!("unbalanced mapping at {span:?}"),
            },
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, anchor)) => (Value::Array(items), anchor),
                _ => panic!("unbalanced sequence at {span:?}"),
            },
            Event::Scalar(text, _, anchor, _) => (Value::String(text.into_owned()), anchor),
            Event::Alias(id) => (
                anchors.get(&id).cloned().expect("alias to a known anchor"),
                0,
            ),
            _ => continue,
        };
        if anchor != 0 {
            anchors.insert(anchor, value.clone());
        }
        match stack.last_mut() {
            None => docs.push(value),
            Some(Frame::Seq(items, _)) => items.push(value),
            Some(Frame::Map(map, key, _)) => match key.take() {
                None => {
                    *key = Some(
                        value
                            .as_str()
                            .map_or_else(|| value.to_string(), str::to_owned),
                    )
                }
                Some(k) => {
                    map.insert(k, value);
                }
            },
        }
    }
    docs.retain(Value::is_object);
    docs
}
