//! Property tests of the render-status reader (issue 9, "fuzzing on stable
//! Rust"): both documented shapes with arbitrary fields never panic, a
//! status that is there is always read, progress stays within 0–100 and
//! server text comes out single-line and control-free.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::String),
        "[\\x00-\\x1f\\x7f a-z%0-9.]{0,30}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::hash_map("[a-z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A status body with each documented field either absent, plausible or
/// arbitrary.
fn status_body() -> impl Strategy<Value = Value> {
    let field = |plausible: BoxedStrategy<Value>| {
        prop_oneof![
            Just(None),
            plausible.prop_map(Some),
            any_json().prop_map(Some)
        ]
    };
    (
        field(
            prop_oneof![
                Just(json!("pending")),
                Just(json!("completed")),
                Just(json!("failed")),
                "[A-Za-z_]{0,12}".prop_map(Value::String),
            ]
            .boxed(),
        ),
        field(
            prop_oneof![
                any::<f64>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                "[0-9.%-]{0,8}".prop_map(Value::String),
            ]
            .boxed(),
        ),
        field(
            "https://[a-z]{1,8}/[a-z]{0,8}"
                .prop_map(Value::String)
                .boxed(),
        ),
        field(
            (any::<u64>(), "\\PC{0,20}")
                .prop_map(|(size, url)| json!({"url": url, "size": size}))
                .boxed(),
        ),
        field("\\PC{0,40}".prop_map(Value::String).boxed()),
    )
        .prop_map(|(status, progress, url, output, error)| {
            let mut body = serde_json::Map::new();
            for (key, value) in [
                ("status", status),
                ("progress", progress),
                ("outputUrl", url),
                ("output", output),
                ("error", error),
            ] {
                if let Some(value) = value {
                    body.insert(key.into(), value);
                }
            }
            Value::Object(body)
        })
}

proptest! {
    #[test]
    fn both_shapes_with_arbitrary_fields_never_panic(body in status_body(), wrapped: bool) {
        let answer = if wrapped { json!({"success": true, "data": body.clone()}) } else { body.clone() };
        match RenderStatus::from_answer(&answer) {
            Ok(status) => {
                prop_assert!(status.progress.is_none_or(|p| p <= 100));
                if let Some(error) = &status.error {
                    prop_assert!(!error.chars().any(char::is_control), "{:?}", error);
                }
                if let RenderState::Other(name) = &status.state {
                    prop_assert!(!name.chars().any(char::is_control));
                }
            }
            Err(err) => {
                prop_assert!(err.is(Kind::BadAnswer));
                // Only an unreadable or missing status is an error.
                prop_assert!(!body.get("status").is_some_and(Value::is_string) || !body.get("outputUrl").is_none_or(Value::is_string));
            }
        }
    }

    #[test]
    fn arbitrary_json_never_panics(answer in any_json()) {
        let _ = RenderStatus::from_answer(&answer);
    }
}
