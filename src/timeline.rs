//! The timeline model: a session draft (`t` tracks, `tt` track type, `sg`
//! segments, `d` duration in ms, `m` metadata) read tolerantly into typed
//! tracks and segments, its one-line-per-track summary, and the diff of two
//! drafts. `nemo state`, `nemo chat` (silent edits) and `nemo export` (is
//! there anything to render?) all use it.
//!
//! Fields beyond `t`/`tt`/`sg`/`d`/`m` are undocumented (`api.md` "State"),
//! so each is looked up under the names seen in the wild and skipped when
//! absent or of the wrong type. Reading never fails and never panics.

mod diff;
pub mod draw;
mod form;

pub use diff::{Change, ChangeOp, diff};
pub use form::{DraftForm, is_known_empty};

use serde::Serialize;
use serde_json::Value;

/// What a track holds, from `tt` (0 video, 1 audio, 7 text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackKind {
    Video,
    Audio,
    Text,
    /// A type this client does not know, by number.
    #[serde(untagged)]
    Other(i64),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// An id the server gave the segment, used to match it across drafts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name (clips, music) or text (titles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub start_ms: i64,
    pub duration_ms: i64,
    /// Volume in percent, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<i64>,
}

impl Segment {
    pub fn end_ms(&self) -> i64 {
        self.start_ms.saturating_add(self.duration_ms)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Track {
    pub kind: TrackKind,
    /// `Video`, `BGM`, `Audio`, `Title`, `Text`, `Track type 3`…
    pub label: String,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timeline {
    pub tracks: Vec<Track>,
}

/// The draft and media counts of a session's `state` object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateSummary {
    pub timeline: Timeline,
    pub uploaded: usize,
    pub generated: usize,
}

impl StateSummary {
    pub fn from_state(state: &Value) -> Self {
        let count = |key: &str| match state.get(key) {
            Some(Value::Array(items)) => items.len(),
            Some(Value::Object(items)) => items.len(),
            _ => 0,
        };
        StateSummary {
            timeline: Timeline::from_draft(state.get("draft").unwrap_or(&Value::Null)),
            uploaded: count("video_infos"),
            generated: count("generated_media"),
        }
    }
}

fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f as i64),
        _ => None,
    }
}

fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        Value::String(s) => s
            .trim()
            .trim_end_matches('%')
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite()),
        _ => None,
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(crate::sanitize::strip_controls(s.trim())),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first key of `keys` present in `object` (then in its `m`).
fn lookup<'a>(object: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    let meta = object.get("m");
    keys.iter()
        .find_map(|k| object.get(*k).filter(|v| !v.is_null()))
        .or_else(|| meta.and_then(|m| keys.iter().find_map(|k| m.get(*k).filter(|v| !v.is_null()))))
}

fn says_music(value: &Value) -> bool {
    ["type", "kind", "category", "role", "usage", "source_type"]
        .iter()
        .any(|k| {
            lookup(value, &[k])
                .and_then(Value::as_str)
                .is_some_and(|s| {
                    matches!(
                        s.to_ascii_lowercase().as_str(),
                        "music" | "bgm" | "background_music"
                    )
                })
        })
        || lookup(value, &["is_bgm", "bgm", "isMusic"]).and_then(Value::as_bool) == Some(true)
}

fn says_title(value: &Value) -> bool {
    ["type", "kind", "role", "style"].iter().any(|k| {
        lookup(value, &[k])
            .and_then(Value::as_str)
            .is_some_and(|s| {
                matches!(
                    s.to_ascii_lowercase().as_str(),
                    "title" | "heading" | "headline"
                )
            })
    })
}

impl Timeline {
    /// Reads a draft; anything unreadable is skipped, never an error.
    pub fn from_draft(draft: &Value) -> Timeline {
        if let Value::String(text) = draft {
            // Some backends keep the draft as a JSON string: read inside it
            // (once; a string inside a string is not a draft).
            return match serde_json::from_str::<Value>(text) {
                Ok(inner) if inner.is_object() => Timeline::from_draft(&inner),
                _ => Timeline { tracks: Vec::new() },
            };
        }
        let tracks = match draft.get("t") {
            Some(Value::Array(tracks)) => tracks
                .iter()
                .filter(|t| t.is_object())
                .map(read_track)
                .collect(),
            _ => Vec::new(),
        };
        Timeline { tracks }
    }

    /// A draft is ready to export when a track has a segment.
    pub fn has_content(&self) -> bool {
        self.tracks.iter().any(|t| !t.segments.is_empty())
    }

    /// `Timeline (N tracks):` then one numbered line per track.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Timeline ({} track{}):",
            self.tracks.len(),
            if self.tracks.len() == 1 { "" } else { "s" }
        )];
        for (i, track) in self.tracks.iter().enumerate() {
            lines.push(format!("{}. {}", i + 1, track_line(track)));
        }
        lines
    }

    /// The seed's one-line form: `Timeline (3 tracks): 1. Video: … 2. …`.
    pub fn one_line(&self) -> String {
        self.summary_lines().join(" ")
    }
}

fn read_track(track: &Value) -> Track {
    let kind = match track.get("tt").and_then(as_i64) {
        Some(0) | None => TrackKind::Video,
        Some(1) => TrackKind::Audio,
        Some(7) => TrackKind::Text,
        Some(n) => TrackKind::Other(n),
    };
    let raw_segments: &[Value] = match track.get("sg") {
        Some(Value::Array(s)) => s,
        _ => &[],
    };
    let mut segments = Vec::new();
    let mut cursor = 0i64;
    for seg in raw_segments.iter().filter(|s| s.is_object()) {
        let start = lookup(
            seg,
            &[
                "st",
                "s",
                "start",
                "start_ms",
                "startTime",
                "o",
                "offset",
                "ts",
            ],
        )
        .and_then(as_i64)
        .unwrap_or(cursor)
        .max(0);
        let duration = seg.get("d").and_then(as_i64).unwrap_or(0).max(0);
        cursor = start.saturating_add(duration);
        let name = lookup(
            seg,
            &[
                "text",
                "content",
                "name",
                "title",
                "label",
                "filename",
                "file_name",
                "n",
            ],
        )
        .and_then(text_of);
        let volume = lookup(seg, &["volume", "vol", "v"])
            .and_then(as_f64)
            .map(|v| {
                if v <= 1.0 {
                    (v * 100.0).round() as i64
                } else {
                    v.round() as i64
                }
            });
        let id = lookup(seg, &["id", "sid", "segment_id"]).and_then(text_of);
        segments.push(Segment {
            id,
            name,
            start_ms: start,
            duration_ms: duration,
            volume,
        });
    }
    let label = match kind {
        TrackKind::Video => "Video".to_string(),
        TrackKind::Audio if says_music(track) || raw_segments.iter().any(says_music) => {
            "BGM".into()
        }
        TrackKind::Audio => "Audio".into(),
        TrackKind::Text if says_title(track) || raw_segments.iter().any(says_title) => {
            "Title".into()
        }
        TrackKind::Text => "Text".into(),
        TrackKind::Other(n) => format!("Track type {n}"),
    };
    Track {
        kind,
        label,
        segments,
    }
}

/// Seconds as `10`, `2.5`.
pub(crate) fn secs(ms: i64) -> String {
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        let s = format!("{:.1}", ms as f64 / 1000.0);
        s.trim_end_matches(".0").to_string()
    }
}

pub(crate) fn range(seg: &Segment) -> String {
    format!("{}-{}s", secs(seg.start_ms), secs(seg.end_ms()))
}

/// `city timelapse (0-10s)`, `Lo-fi (0-10s, 35%)`, `"Urban Dreams" (0-3s)`.
pub(crate) fn segment_text(kind: TrackKind, seg: &Segment) -> String {
    let name = match (&seg.name, kind) {
        (Some(name), TrackKind::Text) => format!("\"{name}\""),
        (Some(name), _) => name.clone(),
        (None, TrackKind::Text) => "(text)".into(),
        (None, _) => "(unnamed)".into(),
    };
    match (kind, seg.volume) {
        (TrackKind::Audio, Some(volume)) => format!("{name} ({}, {volume}%)", range(seg)),
        _ => format!("{name} ({})", range(seg)),
    }
}

pub(crate) fn track_line(track: &Track) -> String {
    if track.segments.is_empty() {
        return format!("{}: (empty)", track.label);
    }
    let parts: Vec<String> = track
        .segments
        .iter()
        .map(|s| segment_text(track.kind, s))
        .collect();
    format!("{}: {}", track.label, parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn seed_draft() -> Value {
        json!({"t": [
            {"tt": 0, "sg": [{"d": 10000, "m": {"name": "city timelapse"}}]},
            {"tt": 1, "m": {"type": "music"}, "sg": [{"d": 10000, "m": {"name": "Lo-fi", "volume": 0.35}}]},
            {"tt": 7, "sg": [{"d": 3000, "m": {"text": "Urban Dreams", "type": "title"}}]}
        ], "m": {"title": "x"}})
    }

    #[test]
    fn the_seed_example() {
        let timeline = Timeline::from_draft(&seed_draft());
        assert_eq!(
            timeline.one_line(),
            "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: \"Urban Dreams\" (0-3s)"
        );
        assert!(timeline.has_content());
    }

    #[test]
    fn empty_and_odd_drafts() {
        assert!(!Timeline::from_draft(&json!({})).has_content());
        assert!(!Timeline::from_draft(&json!({"t": [{"tt": 0, "sg": []}]})).has_content());
        let odd = Timeline::from_draft(
            &json!({"t": [{"tt": 42, "sg": [{"d": "2500", "st": 500, "m": {"volume": 80}}]}, 5, null]}),
        );
        assert_eq!(
            odd.summary_lines()[1],
            "1. Track type 42: (unnamed) (0.5-3s)"
        );
        let audio = Timeline::from_draft(
            &json!({"t": [{"tt": 1, "sg": [{"d": 1000, "m": {"name": "v", "volume": 80}}]}]}),
        );
        assert_eq!(audio.summary_lines()[1], "1. Audio: v (0-1s, 80%)");
    }

    #[test]
    fn segments_without_start_follow_each_other() {
        let t = Timeline::from_draft(
            &json!({"t": [{"tt": 0, "sg": [{"d": 4000, "m": {"name": "a"}}, {"d": 6000, "m": {"name": "b"}}]}]}),
        );
        assert_eq!(t.summary_lines()[1], "1. Video: a (0-4s), b (4-10s)");
    }

    #[test]
    fn diff_reports_added_removed_and_retimed() {
        let before = Timeline::from_draft(
            &json!({"t": [{"tt": 0, "sg": [{"d": 10000, "m": {"name": "clip"}}]}]}),
        );
        let after = Timeline::from_draft(&json!({"t": [
            {"tt": 0, "sg": [{"d": 8000, "m": {"name": "clip"}}]},
            {"tt": 7, "sg": [{"d": 3000, "m": {"text": "Paradise Found", "type": "title"}}]}
        ]}));
        let changes: Vec<String> = diff(&before, &after)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            changes,
            vec![
                "~ Video: clip (0-10s) → clip (0-8s)".to_string(),
                "+ Title: \"Paradise Found\" (0-3s)".to_string(),
            ]
        );
        let back: Vec<String> = diff(&after, &before)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(back.contains(&"- Title: \"Paradise Found\" (0-3s)".to_string()));
        assert!(diff(&after, &after).is_empty());
    }

    #[test]
    fn diff_matches_segments_by_id() {
        let before = Timeline::from_draft(
            &json!({"t": [{"tt": 0, "sg": [{"id": "a", "d": 1000}, {"id": "b", "d": 1000, "st": 1000}]}]}),
        );
        let after = Timeline::from_draft(
            &json!({"t": [{"tt": 0, "sg": [{"id": "b", "d": 1000, "st": 1000}]}]}),
        );
        let changes = diff(&before, &after);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].op, ChangeOp::Removed);
        assert_eq!(changes[0].before.as_ref().unwrap().id.as_deref(), Some("a"));
    }

    #[test]
    fn a_draft_kept_as_a_json_string_is_read_inside() {
        let draft = json!({"t": [{"tt": 7, "sg": [{"d": 3000, "m": {"text": "Hi"}}]}]});
        let as_string = Value::String(draft.to_string());
        assert_eq!(
            Timeline::from_draft(&as_string).summary_lines(),
            Timeline::from_draft(&draft).summary_lines()
        );
        assert!(Timeline::from_draft(&as_string).has_content());
        // A string holding a string, or not JSON at all, is no draft.
        let nested = Value::String(as_string.to_string());
        assert!(!Timeline::from_draft(&nested).has_content());
        assert!(!Timeline::from_draft(&json!("{not json")).has_content());
    }

    #[test]
    fn media_counts() {
        let s = StateSummary::from_state(
            &json!({"draft": seed_draft(), "video_infos": [{}, {}], "generated_media": [{}]}),
        );
        assert_eq!(
            (s.uploaded, s.generated, s.timeline.tracks.len()),
            (2, 1, 3)
        );
        assert_eq!(
            StateSummary::from_state(&json!(null)),
            StateSummary::default()
        );
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            "[a-z]{0,3}|t|tt|sg|d|m|st|volume|name|text|id".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    "t|tt|sg|d|m|st|s|volume|name|text|id|type|[a-z]{1,2}",
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_reads_summarises_and_diffs_without_panicking(a in arb_json(), b in arb_json()) {
            let ta = Timeline::from_draft(&a);
            let tb = Timeline::from_draft(&b);
            let lines = ta.summary_lines();
            prop_assert_eq!(lines.len(), ta.tracks.len() + 1);
            let _ = diff(&ta, &tb);
            prop_assert!(diff(&ta, &ta).is_empty());
            let _ = StateSummary::from_state(&json!({"draft": a, "video_infos": b}));
        }
    }
}
