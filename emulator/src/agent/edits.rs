//! How the scripted agent edits a session's `state`: the [`Edit`]s it
//! knows (a generation, a title, the music, the duration, a cut, an
//! analysis) applied to the draft in the
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
        #[serde(default = "ten")]
        seconds: u32,
    },
    /// Adds the title track, or renames its first title.
    SetTitle { text: String },
    /// Deletes the title track.
    RemoveTitle,
    /// Sets the volume (0–1) of every BGM segment.
    SetVolume { level: f64 },
    /// Adds a BGM track over the whole draft, or renames the music.
    AddMusic { style: String },
    /// Makes the draft `ms` long: the last video segment and the music
    /// stretch or shrink, what starts later goes.
    SetDuration { ms: i64 },
    /// Cuts `[from_ms, to_ms)` out of the timeline; what follows moves up.
    Cut { from_ms: i64, to_ms: i64 },
    /// Changes the state but nothing visible on the timeline.
    Analyse,
}

fn ten() -> u32 {
    10
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
            seconds,
        } => {
            let len = i64::from(*seconds) * 1000;
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
                    "id": format!("seg_v{seq}"), "st": start, "d": len,
                    "m": {"name": subject, "url": url, "type": "video"}
                }));
            }
            if !tracks.iter().any(|t| t["tt"] == 1) {
                tracks.push(json!({"tt": 1, "m": {"type": "music"}, "sg": [{
                    "id": format!("seg_a{seq}"), "st": 0, "d": start + len,
                    "m": {"name": "Lo-fi", "type": "music", "volume": 0.35}
                }]}));
            }
            if !tracks.iter().any(|t| t["tt"] == 7) {
                tracks.push(json!({"tt": 7, "sg": [{
                    "id": format!("seg_t{seq}"), "st": 0, "d": 3000,
                    "m": {"text": title, "type": "title"}
                }]}));
            }
            let end = start + len;
            if state["draft"]["d"].as_i64().unwrap_or(0) < end {
                state["draft"]["d"] = json!(end);
            }
            let media = json!({"id": format!("gen_{seq}"), "type": "video", "url": url, "duration": seconds, "prompt": prompt});
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
        Edit::RemoveTitle => {
            if let Some(tracks) = tracks_mut(state) {
                tracks.retain(|t| t["tt"] != 7);
            }
        }
        Edit::SetVolume { level } => {
            for segment in segments_mut(state, 1) {
                segment["m"]["volume"] = json!(level);
            }
        }
        Edit::AddMusic { style } => {
            let end = state["draft"]["d"].as_i64().unwrap_or(0);
            let Some(tracks) = tracks_mut(state) else {
                return;
            };
            match tracks.iter_mut().find(|t| t["tt"] == 1) {
                Some(track) => {
                    if let Some(segments) = track["sg"].as_array_mut() {
                        for segment in segments {
                            segment["m"]["name"] = json!(style);
                        }
                    }
                }
                None => tracks.push(json!({"tt": 1, "m": {"type": "music"}, "sg": [{
                    "id": format!("seg_a{seq}"), "st": 0, "d": end,
                    "m": {"name": style, "type": "music", "volume": 0.35}
                }]})),
            }
        }
        Edit::SetDuration { ms } => set_duration(state, *ms),
        Edit::Cut { from_ms, to_ms } => cut(state, *from_ms, *to_ms),
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

/// Every segment of the tracks of type `tt`.
fn segments_mut(state: &mut Value, tt: i64) -> Vec<&mut Value> {
    let Some(tracks) = tracks_mut(state) else {
        return Vec::new();
    };
    tracks
        .iter_mut()
        .filter(|t| t["tt"] == tt)
        .filter_map(|t| t["sg"].as_array_mut())
        .flat_map(|s| s.iter_mut())
        .collect()
}

/// A segment's start and length in ms.
fn span(segment: &Value) -> (i64, i64) {
    (
        segment["st"].as_i64().unwrap_or(0),
        segment["d"].as_i64().unwrap_or(0),
    )
}

fn set_duration(state: &mut Value, ms: i64) {
    let ms = ms.max(1000);
    let Some(tracks) = tracks_mut(state) else {
        return;
    };
    for track in tracks.iter_mut() {
        let tt = track["tt"].as_i64().unwrap_or(-1);
        let Some(segments) = track["sg"].as_array_mut() else {
            continue;
        };
        segments.retain(|s| span(s).0 < ms);
        let last = segments.len().saturating_sub(1);
        for (i, segment) in segments.iter_mut().enumerate() {
            let (st, d) = span(segment);
            // The last clip and the music fill the new length; a title
            // only shrinks.
            let d = if tt != 7 && (tt == 1 || i == last) {
                ms - st
            } else {
                d.min(ms - st)
            };
            segment["d"] = json!(d);
        }
    }
    tracks.retain(|t| t["sg"].as_array().is_none_or(|s| !s.is_empty()));
    state["draft"]["d"] = json!(ms);
}

fn cut(state: &mut Value, from: i64, to: i64) {
    let gap = (to - from).max(0);
    let map = |x: i64| {
        if x <= from {
            x
        } else if x <= to {
            from
        } else {
            x - gap
        }
    };
    let Some(tracks) = tracks_mut(state) else {
        return;
    };
    for track in tracks.iter_mut() {
        if let Some(segments) = track["sg"].as_array_mut() {
            for segment in segments.iter_mut() {
                let (st, d) = span(segment);
                segment["st"] = json!(map(st));
                segment["d"] = json!(map(st + d) - map(st));
            }
            segments.retain(|s| span(s).1 > 0);
        }
    }
    tracks.retain(|t| t["sg"].as_array().is_none_or(|s| !s.is_empty()));
    let d = state["draft"]["d"].as_i64().unwrap_or(0);
    state["draft"]["d"] = json!(map(d));
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
                seconds: 10,
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

#[cfg(test)]
mod more_tests {
    use super::*;

    fn generated() -> Value {
        let mut state = crate::accounts::empty_state("p");
        let edit = Edit::Generate {
            prompt: "p".into(),
            subject: "waves".into(),
            title: "Waves".into(),
            seconds: 10,
        };
        apply(&mut state, &edit, 1);
        state
    }

    #[test]
    fn volume_title_music_duration_and_cuts() {
        let mut state = generated();
        apply(&mut state, &Edit::SetVolume { level: 0.2 }, 2);
        assert_eq!(state["draft"]["t"][1]["sg"][0]["m"]["volume"], 0.2);
        apply(&mut state, &Edit::RemoveTitle, 3);
        assert!(
            state["draft"]["t"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["tt"] != 7)
        );
        apply(
            &mut state,
            &Edit::AddMusic {
                style: "Jazz".into(),
            },
            4,
        );
        assert_eq!(state["draft"]["t"][1]["sg"][0]["m"]["name"], "Jazz");
        apply(&mut state, &Edit::SetDuration { ms: 5000 }, 5);
        assert_eq!(state["draft"]["d"], 5000);
        assert_eq!(state["draft"]["t"][0]["sg"][0]["d"], 5000);
        assert_eq!(state["draft"]["t"][1]["sg"][0]["d"], 5000);
        apply(
            &mut state,
            &Edit::Cut {
                from_ms: 0,
                to_ms: 2000,
            },
            6,
        );
        assert_eq!(state["draft"]["d"], 3000);
        assert_eq!(state["draft"]["t"][0]["sg"][0]["st"], 0);
        assert_eq!(state["draft"]["t"][0]["sg"][0]["d"], 3000);
    }

    #[test]
    fn a_cut_drops_what_it_covers() {
        let mut state = generated();
        apply(
            &mut state,
            &Edit::Cut {
                from_ms: 0,
                to_ms: 4000,
            },
            2,
        );
        // The 3-second title was inside the cut.
        assert!(
            state["draft"]["t"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["tt"] != 7)
        );
        assert_eq!(state["draft"]["d"], 6000);
        apply(
            &mut state,
            &Edit::Cut {
                from_ms: 4000,
                to_ms: 6000,
            },
            3,
        );
        assert_eq!(state["draft"]["d"], 4000);
        assert_eq!(state["draft"]["t"][0]["sg"][0]["d"], 4000);
    }
}
