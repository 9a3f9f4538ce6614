//! How the scripted agent edits a session's `state`: the [`Edit`]s it
//! knows (a generation, a title, an analysis) applied to the draft in the
//! documented short keys (`t` tracks, `tt` type, `sg` segments, `d`
//! duration in ms, `m` metadata). Nothing about what to say or the wire.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::now_millis;

/// The edits the scripted agent knows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Edit {
    /// A generated clip, with BGM and a title when the draft has none.
    Generate {
        prompt: String,
        subject: String,
        title: String,
    },
    /// Adds the title track, or renames its first title.
    SetTitle { text: String },
    /// Changes the state but nothing visible on the timeline.
    Analyse,
}

/// Where generated clips pretend to live (never fetched).
const MEDIA_BASE: &str = "https://cdn.nemo.test/media";

pub(super) fn apply(state: &mut Value, edit: &Edit, seq: u64) {
    if !state.is_object() {
        *state = json!({});
    }
    if !state.get("draft").is_some_and(Value::is_object) {
        state["draft"] = json!({"t": [], "d": 0, "m": {}});
    }
    if !state["draft"].get("t").is_some_and(Value::is_array) {
        state["draft"]["t"] = json!([]);
    }
    match edit {
        Edit::Generate {
            prompt,
            subject,
            title,
        } => {
            let url = format!("{MEDIA_BASE}/gen_{seq}.mp4");
            let Some(tracks) = tracks_mut(state) else {
                return;
            };
            let video = match tracks.iter().position(|t| t["tt"] == 0) {
                Some(i) => i,
                None => {
                    tracks.insert(0, json!({"tt": 0, "sg": []}));
                    0
                }
            };
            let start: i64 = tracks[video]["sg"]
                .as_array()
                .map(|s| s.iter().filter_map(|s| s["d"].as_i64()).sum())
                .unwrap_or(0);
            if let Some(segments) = tracks[video]["sg"].as_array_mut() {
                segments.push(json!({
                    "id": format!("seg_v{seq}"), "st": start, "d": 10000,
                    "m": {"name": subject, "url": url, "type": "video"}
                }));
            }
            if !tracks.iter().any(|t| t["tt"] == 1) {
                tracks.push(json!({"tt": 1, "m": {"type": "music"}, "sg": [{
                    "id": format!("seg_a{seq}"), "st": 0, "d": 10000,
                    "m": {"name": "Lo-fi", "type": "music", "volume": 0.35}
                }]}));
            }
            if !tracks.iter().any(|t| t["tt"] == 7) {
                tracks.push(json!({"tt": 7, "sg": [{
                    "id": format!("seg_t{seq}"), "st": 0, "d": 3000,
                    "m": {"text": title, "type": "title"}
                }]}));
            }
            let end = start + 10000;
            if state["draft"]["d"].as_i64().unwrap_or(0) < end {
                state["draft"]["d"] = json!(end);
            }
            let media = json!({"id": format!("gen_{seq}"), "type": "video", "url": url, "duration": 10, "prompt": prompt});
            match state
                .get_mut("generated_media")
                .and_then(Value::as_array_mut)
            {
                Some(list) => list.push(media),
                None => state["generated_media"] = json!([media]),
            }
        }
        Edit::SetTitle { text } => {
            let Some(tracks) = tracks_mut(state) else {
                return;
            };
            let existing = tracks
                .iter_mut()
                .find(|t| t["tt"] == 7)
                .and_then(|t| t["sg"].as_array_mut())
                .and_then(|s| s.first_mut());
            match existing {
                Some(segment) => segment["m"]["text"] = json!(text),
                None => tracks.push(json!({"tt": 7, "sg": [{
                    "id": format!("seg_t{seq}"), "st": 0, "d": 3000,
                    "m": {"text": text, "type": "title"}
                }]})),
            }
        }
        Edit::Analyse => {
            if !state.get("video_analyses").is_some_and(Value::is_object) {
                state["video_analyses"] = json!({});
            }
            state["video_analyses"][format!("analysis_{seq}")] =
                json!({"summary": "pacing looks fine", "at": now_millis()});
        }
    }
}

fn tracks_mut(state: &mut Value) -> Option<&mut Vec<Value>> {
    state.get_mut("draft")?.get_mut("t")?.as_array_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generation_adds_video_bgm_and_title() {
        let mut state = crate::accounts::empty_state("p");
        apply(
            &mut state,
            &Edit::Generate {
                prompt: "generate a panda".into(),
                subject: "a panda".into(),
                title: "Panda".into(),
            },
            1,
        );
        let url = format!("{MEDIA_BASE}/gen_1.mp4");
        assert_eq!(
            state["draft"]["t"],
            json!([
                {"tt": 0, "sg": [{"id": "seg_v1", "st": 0, "d": 10000,
                    "m": {"name": "a panda", "url": url, "type": "video"}}]},
                {"tt": 1, "m": {"type": "music"}, "sg": [{"id": "seg_a1", "st": 0, "d": 10000,
                    "m": {"name": "Lo-fi", "type": "music", "volume": 0.35}}]},
                {"tt": 7, "sg": [{"id": "seg_t1", "st": 0, "d": 3000,
                    "m": {"text": "Panda", "type": "title"}}]},
            ])
        );
        assert_eq!(state["draft"]["d"], 10000);
        assert_eq!(state["generated_media"].as_array().map(Vec::len), Some(1));
        apply(&mut state, &Edit::SetTitle { text: "New".into() }, 2);
        assert_eq!(state["draft"]["t"][2]["sg"][0]["m"]["text"], "New");
        assert_eq!(state["draft"]["t"].as_array().map(Vec::len), Some(3));
    }
}
