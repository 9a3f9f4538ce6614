//! Snapshots of one-shot `nemo chat`: a text reply, a silent edit and its
//! change report, GUI talk with its hints, an agent error.

use super::{Shot, snap};
use crate::common::Env;

#[test]
fn chat_text_reply_first_use() {
    let env = Env::fast();
    snap!(
        "chat_text_reply",
        Shot::of(&env, env.nemo().args(["chat", "hello"]))
    );
}

#[test]
fn chat_generation() {
    let env = Env::fast();
    env.session();
    snap!(
        "chat_generation",
        Shot::of(
            &env,
            env.nemo()
                .args(["chat", "generate a 10-second video of a panda"])
        )
    );
}

#[test]
fn chat_silent_edits_report_changes() {
    let env = Env::fast();
    env.session();
    snap!(
        "chat_silent_added",
        Shot::of(
            &env,
            env.nemo().args(["chat", "add a title \"Paradise Found\""])
        )
    );
    snap!(
        "chat_silent_changed",
        Shot::of(
            &env,
            env.nemo().args(["chat", "change the title to \"Lost\""])
        )
    );
    snap!(
        "chat_silent_no_change",
        Shot::of(&env, env.nemo().args(["chat", "do nothing"]))
    );
}

#[test]
fn chat_gui_talk_gets_hints() {
    let env = Env::fast();
    env.session();
    snap!(
        "chat_gui_hint",
        Shot::of(&env, env.nemo().args(["chat", "how do I export?"]))
    );
}

#[test]
fn chat_agent_error_and_usage_errors() {
    let env = Env::fast();
    env.session();
    snap!(
        "chat_agent_error",
        Shot::of(&env, env.nemo().args(["chat", "[[sandbox:error]] please"]))
    );
    snap!(
        "chat_no_message_no_terminal",
        Shot::of(&env, env.nemo().arg("chat").write_stdin(""))
    );
    snap!(
        "chat_empty_stdin",
        Shot::of(&env, env.nemo().args(["chat", "-"]).write_stdin("  \n"))
    );
}
