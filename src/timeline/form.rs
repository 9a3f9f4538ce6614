//! Which form a session's draft is in (`../shared/spec/cli.md` "nemo
//! state", "nemo export"): the short-key JSON nemo reads (`t`, `tt`, `sg`…),
//! or another form — NemoVideo's newer tools keep "Draft Protocol V3"
//! markup (`<draft fps width height duration><track><clip …>`), and a JSON
//! shape nemo does not know may come too. A draft nemo does not read is
//! never called empty: `state` says what it is and how to print it, and
//! `export` submits it as it is ([`is_known_empty`]).
//!
//! It only classifies; reading the tracks is `Timeline::from_draft`'s job.

use serde_json::Value;

use super::Timeline;

/// The keys a draft in nemo's form may hold (`api.md` "State"): tracks,
/// duration, metadata.
const KNOWN_KEYS: [&str; 3] = ["t", "d", "m"];

/// The form of a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftForm {
    /// Nemo's short-key JSON, or no draft at all (absent, `null`, `{}`,
    /// an empty string).
    Known,
    /// Text that is not JSON, such as `<draft …>` markup; its size in bytes.
    Markup(usize),
    /// JSON of a shape nemo does not read; its size in bytes as JSON.
    Unknown(usize),
}

impl DraftForm {
    /// Classifies `draft` (a draft kept as a JSON string is looked into
    /// once, as [`Timeline::from_draft`] does).
    pub fn of(draft: &Value) -> DraftForm {
        match draft {
            Value::Null => DraftForm::Known,
            Value::String(text) if text.trim().is_empty() => DraftForm::Known,
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(inner @ Value::Object(_)) => match DraftForm::of(&inner) {
                    DraftForm::Known => DraftForm::Known,
                    _ => DraftForm::Unknown(text.len()),
                },
                Ok(_) => DraftForm::Unknown(text.len()),
                Err(_) => DraftForm::Markup(text.len()),
            },
            Value::Object(map) => {
                let tracks_ok = map.get("t").is_none_or(Value::is_array);
                let keys_ok =
                    map.contains_key("t") || map.keys().all(|k| KNOWN_KEYS.contains(&k.as_str()));
                if tracks_ok && keys_ok {
                    DraftForm::Known
                } else {
                    DraftForm::Unknown(draft.to_string().len())
                }
            }
            other => DraftForm::Unknown(other.to_string().len()),
        }
    }

    /// What `nemo state` says of a draft in another form; `None` for one
    /// nemo reads.
    pub fn describe(self) -> Option<String> {
        let (what, size) = match self {
            DraftForm::Known => return None,
            DraftForm::Markup(size) => ("markup, not the JSON nemo reads", size),
            DraftForm::Unknown(size) => ("JSON of a shape nemo does not read", size),
        };
        Some(format!(
            "the draft is in a form nemo does not draw ({what}; {})",
            crate::size::human(size as u64)
        ))
    }
}

/// Whether `draft` is one nemo reads and it holds nothing to export. A
/// draft in another form is not known to be empty: it is submitted as it
/// is.
pub fn is_known_empty(draft: &Value) -> bool {
    DraftForm::of(draft) == DraftForm::Known && !Timeline::from_draft(draft).has_content()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MARKUP: &str = r#"<draft fps="30" width="1920" height="1080" duration="10000"><track type="video"><clip src="a.mp4" start="0" duration="10000"/></track></draft>"#;

    #[test]
    fn forms() {
        assert_eq!(DraftForm::of(&Value::Null), DraftForm::Known);
        assert_eq!(DraftForm::of(&json!({})), DraftForm::Known);
        assert_eq!(DraftForm::of(&json!("")), DraftForm::Known);
        assert_eq!(
            DraftForm::of(&json!({"t": [], "m": {"title": "x"}})),
            DraftForm::Known
        );
        assert_eq!(
            DraftForm::of(&json!({"m": {"title": "x"}})),
            DraftForm::Known
        );
        assert_eq!(
            DraftForm::of(
                &json!({"t": [{"tt": 0, "sg": [{"d": 1}]}]})
                    .to_string()
                    .into()
            ),
            DraftForm::Known
        );
        assert_eq!(
            DraftForm::of(&json!(MARKUP)),
            DraftForm::Markup(MARKUP.len())
        );
        let other = json!({"tracks": [{"clips": [{"src": "a.mp4"}]}]});
        assert_eq!(
            DraftForm::of(&other),
            DraftForm::Unknown(other.to_string().len())
        );
        assert!(matches!(
            DraftForm::of(&json!({"t": "x"})),
            DraftForm::Unknown(_)
        ));
        assert!(matches!(DraftForm::of(&json!([1])), DraftForm::Unknown(_)));
        assert!(matches!(
            DraftForm::of(&json!(other.to_string())),
            DraftForm::Unknown(_)
        ));
    }

    #[test]
    fn only_a_draft_nemo_reads_is_known_to_be_empty() {
        assert!(is_known_empty(&Value::Null));
        assert!(is_known_empty(&json!({"t": []})));
        assert!(!is_known_empty(
            &json!({"t": [{"tt": 0, "sg": [{"d": 1}]}]})
        ));
        assert!(!is_known_empty(&json!(MARKUP)));
        assert!(!is_known_empty(&json!({"tracks": []})));
    }
}
