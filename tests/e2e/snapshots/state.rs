//! Snapshots of `nemo state`: a new session, an empty draft, a timeline.

use serde_json::json;

use super::{Shot, snap};
use crate::common::{Env, city_draft};

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
        state["draft"] = city_draft();
        state["video_infos"] =
            json!([{"filename": "a.mp4", "file_type": "video", "duration": 10.0}]);
    });
    snap!("state_tracks", Shot::of(&env, env.nemo().arg("state")));
}
