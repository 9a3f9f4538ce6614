//! The draft a job's prompt is judged by: a stable fingerprint of the
//! session's draft as it was before the prompt ([`fingerprint`], written
//! ahead in the journal with the prompt's intent), and whether the draft
//! now holds this prompt's work ([`made_a_video`]: changed, and something
//! to render). In a session that already held a video, content alone
//! proves nothing: only a change does.
//!
//! Pure functions of JSON values; nothing here reads or writes anything.

use serde_json::Value;

use crate::timeline::Timeline;

/// A fingerprint of `draft` (none: the session has no draft): the same on
/// every run, platform and key order, so a re-run compares it with the
/// one its journal recorded.
pub(crate) fn fingerprint(draft: Option<&Value>) -> String {
    let mut text = String::new();
    canonical(draft.unwrap_or(&Value::Null), &mut text);
    format!(
        "fnv1a64:{:016x}",
        crate::flow::journal::fnv1a(text.as_bytes())
    )
}

/// The draft changed from the one before the prompt and has something to
/// render: the agent made or changed a video in this job. `before` is the
/// draft itself when at hand, else its recorded fingerprint; with neither
/// (a journal written before fingerprints), content alone is taken.
pub(crate) fn made_a_video(before: Before<'_>, after: Option<&Value>) -> bool {
    let null = Value::Null;
    let after_value = after.unwrap_or(&null);
    let changed = match before {
        Before::Draft(draft) => draft.unwrap_or(&null) != after_value,
        Before::Recorded(recorded) => recorded != fingerprint(after),
        Before::Unknown => true,
    };
    changed && Timeline::from_draft(after_value).has_content()
}

/// What is known of the draft before the prompt.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Before<'a> {
    /// Read in this run.
    Draft(Option<&'a Value>),
    /// Its fingerprint, from the journal.
    Recorded(&'a str),
    /// Not recorded (a journal written before fingerprints).
    Unknown,
}

impl<'a> Before<'a> {
    pub(crate) fn recorded(fingerprint: Option<&'a str>) -> Before<'a> {
        fingerprint.map_or(Before::Unknown, Before::Recorded)
    }
}

/// JSON with object keys sorted, whatever order they came in.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn clip(name: &str) -> Value {
        json!({"t":[{"tt":0,"sg":[{"d":10000,"m":{"name":name}}]}]})
    }

    #[test]
    fn the_fingerprint_ignores_key_order_and_tells_drafts_apart() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":{"x":[1,2],"y":"z"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":{"y":"z","x":[1,2]},"a":1}"#).unwrap();
        assert_eq!(fingerprint(Some(&a)), fingerprint(Some(&b)));
        assert_ne!(fingerprint(Some(&clip("a"))), fingerprint(Some(&clip("b"))));
        assert_eq!(fingerprint(None), fingerprint(Some(&Value::Null)));
        assert!(fingerprint(None).starts_with("fnv1a64:"));
    }

    #[test]
    fn only_a_changed_draft_with_content_is_the_prompt_s_work() {
        let old = clip("old");
        let new = clip("new");
        let recorded = fingerprint(Some(&old));
        // A session that already held a video: unchanged is not made.
        assert!(!made_a_video(Before::Draft(Some(&old)), Some(&old)));
        assert!(!made_a_video(Before::Recorded(&recorded), Some(&old)));
        assert!(made_a_video(Before::Draft(Some(&old)), Some(&new)));
        assert!(made_a_video(Before::Recorded(&recorded), Some(&new)));
        // Changed to nothing to render is not a video either.
        assert!(!made_a_video(Before::Recorded(&recorded), Some(&json!({}))));
        // An empty session before: any content is the prompt's.
        assert!(made_a_video(Before::Draft(None), Some(&new)));
        assert!(made_a_video(Before::Unknown, Some(&old)));
        assert!(!made_a_video(Before::Unknown, None));
    }
}
