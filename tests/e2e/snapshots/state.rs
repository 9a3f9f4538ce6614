//! Snapshots of `nemo state`: a new session, an empty draft, a timeline.

use serde_json::json;

use super::{Shot, snap};
use crate::common::Env;

#[test]
fn state_empty_and_with_tracks() {
    let env = Env::new();
    snap!("state_new_session", Shot::of(&env, env.nemo().arg("state")));
    snap!("state_empty", Shot::of(&env, env.nemo().arg("state")));
    let sid = env.config()["current_session"]
        .as_str()
        .expect("a current session")
        .to_string();
    env.emu.with_state(|s| {
        let state = &mut s.sessions.get_mut(&sid).expect("the session").state;
        state["draft"] = json!({
            "t": [
                {"tt": 0, "sg": [{"d": 10000, "m": {"name": "city timelapse"}}]},
                {"tt": 1, "m": {"type": "music"}, "sg": [{"d": 10000, "m": {"name": "Lo-fi", "volume": 0.35}}]},
                {"tt": 7, "sg": [{"d": 3000, "m": {"text": "Urban Dreams", "type": "title"}}]}
            ],
            "d": 10000,
            "m": {"title": "Urban Dreams", "width": 1920, "height": 1080}
        });
        state["video_infos"] = json!([{"filename": "a.mp4", "file_type": "video", "duration": 10.0}]);
    });
    snap!("state_tracks", Shot::of(&env, env.nemo().arg("state")));
}
