//! What the scripted agent does with a message: the reply for its intent
//! ([`super::intent`]) in the session's language ([`super::lang`]), given
//! what the session's draft holds; whether the run costs credits (a
//! generation, an edit) or not (questions, plain answers); and what the
//! message's markers change (`[[sandbox:crash]]` …). Silence is decided
//! here too, by the kind of edit: title edits and analyses answer with tool
//! calls only. The events themselves are built by [`super::wire`].

use serde_json::{Value, json};

use super::ChatFaults;
use super::edits::Edit;
use super::intent::{End, Intent, Marker, Volume, intent_of, markers};
use super::lang::{Lang, title_for};
use super::wire::{Script, Step, eol, sse_bytes};

/// What a run costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// A generation: `chat_generate_cost` credits.
    Generate,
    /// An edit: `chat_edit_cost` credits.
    Edit,
    /// A question or a plain answer: nothing.
    Free,
}

/// The reply to one message.
pub(super) struct Decision {
    pub script: Script,
    pub plan: Plan,
    /// The connection drops after the first event (`[[sandbox:drop]]`).
    pub drop: bool,
    /// Only keep-alives (`[[sandbox:heartbeats]]`).
    pub heartbeats: bool,
}

/// What the draft holds, as the agent sees it before acting.
struct Draft<'a>(&'a Value);

impl Draft<'_> {
    fn tracks(&self) -> impl Iterator<Item = &Value> {
        self.0["draft"]["t"].as_array().into_iter().flatten()
    }

    fn has(&self, tt: i64) -> bool {
        self.tracks()
            .any(|t| t["tt"] == tt && t["sg"].as_array().is_some_and(|s| !s.is_empty()))
    }

    fn volume(&self) -> f64 {
        self.tracks()
            .filter(|t| t["tt"] == 1)
            .find_map(|t| t["sg"][0]["m"]["volume"].as_f64())
            .unwrap_or(0.35)
    }

    fn duration_ms(&self) -> i64 {
        self.0["draft"]["d"].as_i64().unwrap_or(0)
    }
}

/// The reply to `message` in a session of `language` whose state is
/// `state`.
pub(super) fn script_for(
    message: &str,
    language: &str,
    state: &Value,
    faults: &ChatFaults,
) -> Decision {
    let (found, text) = markers(message);
    let lang = Lang::of(language, &text);
    let mut s = Script::new(faults);
    let is = |m: Marker| found.contains(&m);
    let mut plan = Plan::Free;
    if is(Marker::Quota) {
        s.stream(&["Let me ", "look at "]);
        let mut event = s.event("model", json!([]), None);
        event["errorCode"] = json!("RESOURCE_EXHAUSTED");
        event["errorMessage"] = json!("The model is overloaded. Please try again later.");
        if let Some(fields) = event.as_object_mut() {
            fields.remove("content");
        }
        s.push(event);
    } else if is(Marker::Crash) {
        s.say("Working on it…");
        s.push(json!({"error": "Internal server error: the agent crashed"}));
    } else if is(Marker::Garbled) {
        s.say("Before ");
        s.steps.push(Step::Sleep(s.pace));
        s.steps
            .push(Step::Raw(eol("data: {\"content\": oops\n\n", s.crlf)));
        s.say("after.");
    } else if is(Marker::Escape) {
        s.say("Here is \u{1b}[31mred\u{1b}[0m text\u{7} and a \u{1b}]0;pwned\u{7}title.");
    } else {
        plan = act(&mut s, intent_of(&text), lang, &Draft(state), &text);
        if is(Marker::Silent) {
            s.steps.retain(|step| !is_text(step));
        }
        if is(Marker::Temporary) {
            s.say(match lang {
                Lang::En => "I encountered a temporary issue. Please try again later.",
                Lang::Zh => "I encountered a temporary issue. 请稍后再试。",
            });
        }
    }
    Decision {
        script: s,
        plan,
        drop: is(Marker::Drop),
        heartbeats: is(Marker::Heartbeats),
    }
}

/// Is this step a model event with text?
fn is_text(step: &Step) -> bool {
    match step {
        Step::Event(event) => {
            event["content"]["role"] == "model"
                && event["content"]["parts"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p.get("text").is_some()))
        }
        _ => false,
    }
}

fn say_all(s: &mut Script, pieces: &[String]) {
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    s.stream(&pieces);
}

fn success() -> Value {
    json!({"status": "success"})
}

/// The reply for an intent; returns what it costs.
fn act(s: &mut Script, intent: Intent, lang: Lang, draft: &Draft, message: &str) -> Plan {
    let needs_video = matches!(
        intent,
        Intent::MusicVolume(_)
            | Intent::AddMusic { .. }
            | Intent::SetDuration { .. }
            | Intent::Trim { .. }
    );
    if needs_video && !draft.has(0) {
        s.stream(&[lang.nothing_to_edit()]);
        return Plan::Free;
    }
    match intent {
        Intent::Generate { subject, seconds } => {
            let seconds = seconds.clamp(1, 60);
            let title = title_for(&subject);
            say_all(s, &lang.generating(&subject, seconds));
            let faults_tool_ms = s.tool_ms;
            s.tool(
                "generate_video",
                json!({"prompt": message, "duration": seconds}),
                json!({"status": "success", "duration": seconds}),
                Some(faults_tool_ms),
                Some(Edit::Generate {
                    prompt: message.into(),
                    subject: subject.clone(),
                    title: title.clone(),
                    seconds,
                }),
            );
            s.tool(
                "add_background_music",
                json!({"style": "lo-fi", "volume": 0.35}),
                success(),
                None,
                None,
            );
            s.tool("add_title", json!({"text": title}), success(), None, None);
            say_all(s, &lang.generated(&subject, seconds, &title));
            Plan::Generate
        }
        Intent::MusicVolume(volume) => {
            if !draft.has(1) {
                s.stream(&[lang.no_music()]);
                return Plan::Free;
            }
            let current = draft.volume();
            let level = match volume {
                Volume::Quieter => (current - 0.15).max(0.05),
                Volume::Louder => (current + 0.15).min(1.0),
                Volume::Mute => 0.0,
                Volume::Set(level) => level,
            };
            let level = (level * 100.0).round() / 100.0;
            s.tool(
                "set_music_volume",
                json!({"volume": level}),
                success(),
                None,
                Some(Edit::SetVolume { level }),
            );
            s.stream(&[&lang.volume(volume, level)]);
            Plan::Edit
        }
        Intent::AddMusic { style } => {
            let replaced = draft.has(1);
            s.tool(
                "add_background_music",
                json!({"style": style, "volume": 0.35}),
                success(),
                None,
                Some(Edit::AddMusic {
                    style: style.clone(),
                }),
            );
            s.stream(&[&lang.music(&style, replaced)]);
            Plan::Edit
        }
        Intent::SetTitle { text } => {
            // Title edits answer with tool calls only.
            s.tool(
                "add_title",
                json!({"text": text, "duration": 3}),
                success(),
                None,
                Some(Edit::SetTitle { text }),
            );
            Plan::Edit
        }
        Intent::RemoveTitle => {
            if !draft.has(7) {
                s.stream(&[lang.no_title()]);
                return Plan::Free;
            }
            s.tool(
                "remove_title",
                json!({}),
                success(),
                None,
                Some(Edit::RemoveTitle),
            );
            s.stream(&[lang.title_removed()]);
            Plan::Edit
        }
        Intent::SetDuration { seconds } => {
            let seconds = seconds.clamp(1, 600);
            let ms = i64::from(seconds) * 1000;
            s.tool(
                "set_duration",
                json!({"duration": seconds}),
                success(),
                None,
                Some(Edit::SetDuration { ms }),
            );
            s.stream(&[&lang.duration(seconds)]);
            Plan::Edit
        }
        Intent::Trim { end, seconds } => {
            let total = draft.duration_ms();
            let ms = (i64::from(seconds) * 1000).min((total - 1000).max(0));
            if ms <= 0 {
                s.stream(&[lang.question(super::intent::Question::TrimHowMuch)]);
                return Plan::Free;
            }
            let (from_ms, to_ms) = match end {
                End::Start => (0, ms),
                End::End => (total - ms, total),
            };
            s.tool(
                "trim",
                json!({"from": from_ms as f64 / 1000.0, "to": to_ms as f64 / 1000.0}),
                success(),
                None,
                Some(Edit::Cut { from_ms, to_ms }),
            );
            s.stream(&[&lang.trimmed(end, (ms / 1000) as u32)]);
            Plan::Edit
        }
        Intent::Analyse => {
            s.tool(
                "analyze_video",
                json!({}),
                success(),
                None,
                Some(Edit::Analyse),
            );
            Plan::Free
        }
        Intent::NoChange => {
            s.tool(
                "check_timeline",
                json!({}),
                json!({"status": "success", "changed": false}),
                None,
                None,
            );
            Plan::Free
        }
        Intent::Export => {
            s.stream(&lang.export());
            Plan::Free
        }
        Intent::Ideas => {
            let event = s.event(
                "model",
                json!([{"text": "The user wants ideas. SECRET-THOUGHT", "thought": true}, {"text": lang.ideas()}]),
                Some(false),
            );
            s.push(event);
            Plan::Free
        }
        Intent::Help => {
            s.stream(&lang.help());
            Plan::Free
        }
        Intent::Greeting => {
            match lang {
                Lang::En => s.stream(&lang.greeting()),
                Lang::Zh => split_greeting(s, &lang.greeting()),
            }
            Plan::Free
        }
        Intent::Ask(question) => {
            s.stream(&[lang.question(question)]);
            Plan::Free
        }
    }
}

/// A Chinese greeting whose events are cut inside UTF-8 characters.
fn split_greeting(s: &mut Script, pieces: &[&str]) {
    for piece in pieces {
        let event = s.event("model", json!([{"text": piece}]), Some(true));
        let bytes = sse_bytes(&event, s.crlf);
        // Cut inside the first multi-byte character, with a pause so the
        // halves reach the client as separate reads.
        let cut = bytes.iter().position(|b| *b >= 0x80).map_or(1, |i| i + 1);
        if !s.steps.is_empty() {
            s.steps.push(Step::Sleep(s.pace));
        }
        s.steps.push(Step::Raw(bytes[..cut].to_vec()));
        s.steps.push(Step::Sleep(s.pace.max(5)));
        s.steps.push(Step::Raw(bytes[cut..].to_vec()));
    }
    s.say(&pieces.concat());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a reply does: its cost, its whole text (the final events),
    /// its edits, and whether it ends in a failure.
    struct Seen {
        plan: Plan,
        text: String,
        edits: Vec<Edit>,
        failed: bool,
    }

    fn decide(message: &str, language: &str, state: &Value) -> Seen {
        let d = script_for(message, language, state, &ChatFaults::default());
        let mut seen = Seen {
            plan: d.plan,
            text: String::new(),
            edits: Vec::new(),
            failed: false,
        };
        for step in &d.script.steps {
            match step {
                Step::Apply(edit) => seen.edits.push(edit.clone()),
                Step::Event(e) if e.get("error").is_some() || e.get("errorCode").is_some() => {
                    seen.failed = true
                }
                Step::Event(e) if e["partial"] != true && e["content"]["role"] == "model" => {
                    for part in e["content"]["parts"].as_array().into_iter().flatten() {
                        if part["thought"] != true
                            && let Some(t) = part["text"].as_str()
                        {
                            seen.text.push_str(t);
                        }
                    }
                }
                _ => {}
            }
        }
        seen
    }

    fn empty() -> Value {
        crate::accounts::empty_state("p")
    }

    /// A session with a 10-second generated clip, its BGM and its title.
    fn with_video() -> Value {
        let mut state = empty();
        let edit = Edit::Generate {
            prompt: "p".into(),
            subject: "waves".into(),
            title: "Waves".into(),
            seconds: 10,
        };
        super::super::edits::apply(&mut state, &edit, 1);
        state
    }

    #[test]
    fn make_the_music_quieter_lowers_the_bgm_and_does_not_generate() {
        let seen = decide("make the music quieter", "en", &with_video());
        assert_eq!(seen.plan, Plan::Edit);
        assert!(
            matches!(seen.edits[..], [Edit::SetVolume { level }] if level == 0.2),
            "{:?}",
            seen.edits
        );
        assert_eq!(seen.text, "I turned the music down to 20%.");
        let louder = decide("make the music louder", "en", &with_video());
        assert!(matches!(louder.edits[..], [Edit::SetVolume { level }] if level == 0.5));
        let set = decide("set the music to 20%", "en", &with_video());
        assert_eq!(set.text, "I set the music to 20%.");
        let mute = decide("把音乐静音", "en", &with_video());
        assert!(matches!(mute.edits[..], [Edit::SetVolume { level }] if level == 0.0));
        assert_eq!(mute.text, "已将背景音乐静音。");
    }

    #[test]
    fn an_edit_without_a_video_suggests_a_generation_for_free() {
        let seen = decide("make the music quieter", "en", &empty());
        assert_eq!(seen.plan, Plan::Free);
        assert!(seen.edits.is_empty());
        assert!(seen.text.contains("nothing to edit"), "{}", seen.text);
        assert!(seen.text.contains("generate"), "{}", seen.text);
        let zh = decide("剪掉前2秒", "zh-CN", &empty());
        assert_eq!(zh.plan, Plan::Free);
        assert!(zh.text.contains("还没有视频"), "{}", zh.text);
    }

    #[test]
    fn generations_take_their_subject_and_duration() {
        let seen = decide(
            "generate a 10-second video of a panda walking through a bamboo forest",
            "en",
            &empty(),
        );
        assert_eq!(seen.plan, Plan::Generate);
        assert!(
            matches!(&seen.edits[..], [Edit::Generate { subject, title, seconds: 10, .. }]
                if subject == "a panda walking through a bamboo forest" && title == "Panda Walking Through"),
            "{:?}",
            seen.edits
        );
        assert_eq!(
            seen.text,
            "I'll generate a 10-second video of a panda walking through a bamboo forest now…\
             Your video is ready: a 10-second clip of a panda walking through a bamboo forest, \
             with lo-fi music and the title \"Panda Walking Through\"."
        );
        for (message, subject, seconds) in [
            (
                "generate a video of waves crashing on rocks",
                "waves crashing on rocks",
                10,
            ),
            ("make a 5-second clip of waves", "waves", 5),
            (
                "generate a terror movie about a haunted house",
                "a haunted house",
                10,
            ),
            ("create a sunset timelapse", "a sunset timelapse", 10),
        ] {
            let seen = decide(message, "en", &empty());
            assert!(!seen.failed, "{message}");
            assert_eq!(seen.plan, Plan::Generate, "{message}");
            assert!(
                matches!(&seen.edits[..], [Edit::Generate { subject: s, seconds: n, .. }]
                    if s == subject && *n == seconds),
                "{message}: {:?}",
                seen.edits
            );
        }
    }

    #[test]
    fn a_chinese_request_gets_a_chinese_reply_with_a_proper_subject() {
        let seen = decide("生成一个10秒的熊猫视频", "en", &empty());
        assert_eq!(seen.plan, Plan::Generate);
        assert!(
            matches!(&seen.edits[..], [Edit::Generate { subject, seconds: 10, .. }] if subject == "熊猫"),
            "{:?}",
            seen.edits
        );
        assert_eq!(
            seen.text,
            "好的，我来生成一段10秒的视频：熊猫……视频做好了：一段10秒的视频（熊猫），配上了轻音乐和标题「熊猫」。"
        );
        // A zh-CN session gets Chinese whatever the request's language.
        let seen = decide("make it 5 seconds", "zh-CN", &with_video());
        assert_eq!(seen.text, "视频时长已改为5秒。");
    }

    #[test]
    fn titles_are_added_changed_removed_or_asked_about() {
        let add = decide("add a title: Paradise Found", "en", &empty());
        assert_eq!(add.plan, Plan::Edit);
        assert!(matches!(&add.edits[..], [Edit::SetTitle { text }] if text == "Paradise Found"));
        assert_eq!(add.text, "", "title edits are silent");
        let change = decide("change the title to Lost Coast", "en", &with_video());
        assert!(matches!(&change.edits[..], [Edit::SetTitle { text }] if text == "Lost Coast"));
        let remove = decide("remove the title", "en", &with_video());
        assert!(
            matches!(remove.edits[..], [Edit::RemoveTitle]),
            "{:?}",
            remove.edits
        );
        assert_eq!(remove.text, "I removed the title.");
        let zh = decide("删除标题", "en", &with_video());
        assert!(matches!(zh.edits[..], [Edit::RemoveTitle]));
        let typo = decide("fix the typo in the title", "en", &with_video());
        assert_eq!(typo.plan, Plan::Free);
        assert!(typo.edits.is_empty());
        assert!(typo.text.starts_with("Which text"), "{}", typo.text);
        let none = decide("remove the title", "en", &empty());
        assert_eq!(none.plan, Plan::Free);
        assert_eq!(none.text, "There is no title to remove.");
    }

    #[test]
    fn music_duration_and_trims() {
        let bgm = decide("add some jazz background music", "en", &with_video());
        assert!(matches!(&bgm.edits[..], [Edit::AddMusic { style }] if style == "Jazz"));
        let dur = decide("make it 5 seconds", "en", &with_video());
        assert!(matches!(dur.edits[..], [Edit::SetDuration { ms: 5000 }]));
        let trim = decide("trim the first 2 seconds", "en", &with_video());
        assert!(matches!(
            trim.edits[..],
            [Edit::Cut {
                from_ms: 0,
                to_ms: 2000
            }]
        ));
        assert_eq!(trim.text, "I trimmed the first 2 seconds.");
        let end = decide("cut the last 3 seconds", "en", &with_video());
        assert!(matches!(
            end.edits[..],
            [Edit::Cut {
                from_ms: 7000,
                to_ms: 10000
            }]
        ));
        let ask = decide("trim it a bit", "en", &with_video());
        assert_eq!(ask.plan, Plan::Free);
        assert!(ask.text.starts_with("How many seconds"), "{}", ask.text);
    }

    #[test]
    fn questions_and_plain_answers_are_free() {
        for message in ["what can you do?", "hello", "tell me a story", "你能做什么"] {
            let seen = decide(message, "en", &with_video());
            assert_eq!(seen.plan, Plan::Free, "{message}");
            assert!(seen.edits.is_empty(), "{message}");
            assert!(!seen.text.is_empty(), "{message}");
        }
        assert!(
            decide("tell me a story", "en", &empty())
                .text
                .starts_with("I'm not sure")
        );
    }

    #[test]
    fn failures_come_from_markers_only() {
        for message in [
            "generate a video of waves crashing on rocks",
            "generate a terror movie",
            "an error crept in",
            "make it garbled",
        ] {
            assert!(!decide(message, "en", &empty()).failed, "{message}");
        }
        assert!(decide("[[sandbox:crash]]", "en", &empty()).failed);
        assert!(decide("hello [[sandbox:quota]]", "en", &empty()).failed);
        let silent = decide(
            "make the music quieter [[sandbox:silent]]",
            "en",
            &with_video(),
        );
        assert_eq!(silent.text, "");
        assert_eq!(silent.edits.len(), 1);
        let drop = script_for(
            "[[sandbox:drop]] hello",
            "en",
            &empty(),
            &ChatFaults::default(),
        );
        assert!(drop.drop);
    }
}
