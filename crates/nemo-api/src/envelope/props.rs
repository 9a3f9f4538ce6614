//! Property tests of the envelope decoder (issue 9, "fuzzing on stable
//! Rust"): any JSON or bytes under any status never panic, a status of
//! 400 or more never yields a value, and HTTP 429 is always a rate limit,
//! whatever its body says. `fuzz/long.sh` runs them with more cases.

use bytes::Bytes;
use proptest::prelude::*;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};
use serde_json::Value;

use super::*;

/// Arbitrary JSON, biased toward the envelope's own keys.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just(0i64),
            Just(429),
            Just(1001),
            Just(1002),
            Just(2001),
            Just(4001),
            Just(4002)
        ]
        .prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("code".to_string()),
                        Just("message".to_string()),
                        Just("data".to_string()),
                        Just("success".to_string()),
                        Just("error".to_string()),
                        Just("detail".to_string()),
                        "[a-z]{1,6}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn answer(status: u16, body: Vec<u8>, json_type: bool) -> Answer {
    let mut headers = HeaderMap::new();
    if json_type {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Answer {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        headers,
        url: Url::parse("http://127.0.0.1:9/api").unwrap(),
        body: Bytes::from(body),
    }
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![Just(200u16), Just(429), 100u16..600]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(status in status(), body in prop::collection::vec(any::<u8>(), 0..256), json_type: bool) {
        let result = decode(answer(status, body, json_type));
        if status >= 400 {
            prop_assert!(result.is_err());
        }
        if status == 429 {
            prop_assert!(result.is_err_and(|e| e.is(Kind::RateLimited)));
        }
    }

    #[test]
    fn arbitrary_json_never_panics_and_errors_follow_the_status(status in status(), value in json(), json_type: bool) {
        let body = serde_json::to_vec(&value).unwrap();
        let result = decode(answer(status, body, json_type));
        match status {
            429 => prop_assert!(result.is_err_and(|e| e.is(Kind::RateLimited))),
            402 => prop_assert!(result.is_err_and(|e| e.is(Kind::Plan))),
            500.. => prop_assert!(result.is_err_and(|e| e.is(Kind::Server))),
            300..=399 => prop_assert!(result.is_err_and(|e| e.is(Kind::Network))),
            400..=499 => prop_assert!(result.is_err()),
            200..=299 => {
                let value = result.unwrap();
                // Whatever the envelope, taking it apart never panics.
                let _ = unwrap_envelope(value.clone());
                let _ = check_envelope(&value);
            }
            _ => {}
        }
    }

    #[test]
    fn status_error_never_says_success(status in 400u16..600, value in json()) {
        let err = status_error(StatusCode::from_u16(status).unwrap(), Some(&value));
        prop_assert!(!err.message().is_empty());
        prop_assert!(!err.message().contains('\n'));
        if status == 429 {
            prop_assert!(err.is(Kind::RateLimited));
        }
    }
}
