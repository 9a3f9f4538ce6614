//! Ids the server issues (session, task and render ids), checked where they
//! are read (`../shared/spec/cli.md` "Streams"): the id rule (1 to 64 of
//! `A-Z a-z 0-9 _ -`), and an id sent as a JSON number keeps its exact
//! digits. An id that breaks the rule is an unreadable answer (exit 9):
//! it is never stored, sent on or printed.
//!
//! Exact digits need the number's text, which a `serde_json::Value` has
//! already lost (a 27-digit number becomes a float): answers with ids are
//! read from their body bytes with [`data_of`], where the id fields see the
//! raw text ([`RawValue`]). Read from a `Value`, a number that a float
//! rounded is refused, never turned into another session's id.
//!
//! It does not decide what an answer's envelope means (`envelope`).

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// The longest id nemo accepts.
pub const MAX_ID_LEN: usize = 64;

/// Whether `id` satisfies the id rule: 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn is_valid_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The text of an id as the server wrote it: a string's content, or an
/// integer's exact digits. `None` for anything else (a float, an object).
fn id_text(raw: &RawValue) -> Option<String> {
    let text = raw.get().trim();
    if text.starts_with('"') {
        return serde_json::from_str::<String>(text).ok();
    }
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.to_string())
}

/// An id read from its raw text, or why it is refused (never the id itself).
fn checked(raw: &RawValue) -> std::result::Result<String, &'static str> {
    match id_text(raw) {
        Some(id) if is_valid_id(&id) => Ok(id),
        Some(_) => Err("an id that breaks the id rule (1 to 64 of A-Z a-z 0-9 _ -)"),
        None => Err("an id that is neither a string nor an integer"),
    }
}

/// Reads a server-issued id: a string or an integer (exact digits), which
/// must satisfy the id rule. The id itself is never put in the error.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    checked(&Box::<RawValue>::deserialize(d)?).map_err(D::Error::custom)
}

/// [`id`] for a field that may be absent, `null` or `""`.
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    match Option::<Box<RawValue>>::deserialize(d)? {
        None => Ok(None),
        Some(raw) if matches!(raw.get().trim(), "null" | "\"\"") => Ok(None),
        Some(raw) => checked(&raw).map(Some).map_err(D::Error::custom),
    }
}

/// An id the server only echoes (a render submit's `id`): taken when it
/// is a string that satisfies the id rule, else `None` — the id nemo sent
/// stays the id. nemo's ids are strings (`render_<unix ms>`), so a number
/// echoed is the server's rendering of it, never a new id.
pub fn echoed_id<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    Ok(raw
        .as_deref()
        .filter(|raw| raw.get().trim_start().starts_with('"'))
        .and_then(id_text)
        .filter(|id| is_valid_id(id)))
}

/// An id given for information (a state answer's `task_id`): a string or
/// an integer (exact digits) that satisfies the id rule, else `None`, so
/// that an odd one is neither stored nor printed, and the answer still read.
pub fn informative_id<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    Ok(raw
        .as_deref()
        .and_then(id_text)
        .filter(|id| is_valid_id(id)))
}

/// The `data` of a `{code,message,data}` or `{success,data}` answer read
/// as `T` straight from the body's bytes, so that id fields see the text
/// of their numbers. The envelope must have been checked before.
pub fn data_of<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    #[derive(Deserialize)]
    struct Data<T> {
        data: T,
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice::<Data<T>>(body)
        .map(|d| d.data)
        .map_err(|e| {
            Error::bad_answer(format!("{what} is not in the documented form")).with_source(e)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Deserialize)]
    struct Ids {
        #[serde(deserialize_with = "id")]
        session_id: String,
        #[serde(default, deserialize_with = "opt_id")]
        task_id: Option<String>,
        #[serde(default, deserialize_with = "echoed_id")]
        echo: Option<String>,
        #[serde(default, deserialize_with = "informative_id")]
        info: Option<String>,
    }

    fn read(json: &str) -> std::result::Result<Ids, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn the_id_rule() {
        assert!(is_valid_id("5529798706024415232"));
        assert!(is_valid_id("task_a-B9"));
        assert!(is_valid_id(&"a".repeat(64)));
        for bad in [
            "",
            "../../x y;z",
            "a b",
            "a/b",
            "é",
            "a\u{1b}[2J",
            &"a".repeat(65),
        ] {
            assert!(!is_valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_numeric_id_keeps_its_exact_digits() {
        let ids =
            read(r#"{"session_id":123456789012345678901234567,"task_id":98765432109876543210}"#)
                .unwrap();
        assert_eq!(ids.session_id, "123456789012345678901234567");
        assert_eq!(ids.task_id.as_deref(), Some("98765432109876543210"));
        // Through the envelope reader too.
        let data: Ids = data_of(
            br#"{"code":0,"data":{"session_id":123456789012345678901234567}}"#,
            "x",
        )
        .unwrap();
        assert_eq!(data.session_id, "123456789012345678901234567");
    }

    #[test]
    fn ids_that_break_the_rule_are_unreadable() {
        for bad in [
            r#"{"session_id":"../../x y;z"}"#,
            r#"{"session_id":"5529\u001b]52;c;eA==\u0007"}"#,
            r#"{"session_id":1.5e3}"#,
            r#"{"session_id":-3}"#,
            r#"{"session_id":""}"#,
            r#"{"session_id":{}}"#,
            r#"{"session_id":"1","task_id":"t\u009b2J"}"#,
        ] {
            let err = read(bad).expect_err(bad);
            assert!(!err.to_string().contains("x y;z"), "{err}");
        }
        let long = format!(r#"{{"session_id":"{}"}}"#, "a".repeat(70));
        assert!(read(&long).is_err());
        let err =
            data_of::<Ids>(br#"{"code":0,"data":{"session_id":"a b"}}"#, "the answer").unwrap_err();
        assert_eq!(err.exit_code(), 9);
    }

    #[test]
    fn an_echoed_id_is_taken_only_when_it_is_one() {
        let echo = |v: &str| {
            read(&format!(r#"{{"session_id":"s","echo":{v}}}"#))
                .unwrap()
                .echo
        };
        assert_eq!(echo(r#""render_1""#).as_deref(), Some("render_1"));
        assert_eq!(echo("1712345678901"), None);
        assert_eq!(echo(r#""a;b""#), None);
        assert_eq!(echo("1.5"), None);
        assert_eq!(echo("null"), None);
        assert_eq!(read(r#"{"session_id":"s"}"#).unwrap().echo, None);
        let info = |v: &str| {
            read(&format!(r#"{{"session_id":"s","info":{v}}}"#))
                .unwrap()
                .info
        };
        assert_eq!(
            info("98765432109876543210").as_deref(),
            Some("98765432109876543210")
        );
        assert_eq!(info(r#""task_1""#).as_deref(), Some("task_1"));
        assert_eq!(info(r#""t\u001b[2J""#), None);
        assert_eq!(info("{}"), None);
    }

    proptest! {
        /// Whatever string the server sends as an id, what is accepted
        /// holds nothing but the id rule's characters.
        #[test]
        fn an_accepted_id_is_always_clean(s in any::<String>()) {
            let json = serde_json::json!({ "session_id": s }).to_string();
            if let Ok(ids) = read(&json) {
                prop_assert!(is_valid_id(&ids.session_id));
                prop_assert_eq!(ids.session_id, s);
            }
        }
    }
}
