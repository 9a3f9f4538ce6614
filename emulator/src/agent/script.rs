//! What the scripted agent decides to do with a message: the script picked
//! by keywords (see the table in [`super`]), the subject and title it takes
//! from the request, and whether the run is a generation (which costs
//! credits). The events themselves are built by [`super::wire`].

use serde_json::json;

use super::ChatFaults;
use super::edits::Edit;
use super::wire::{Script, Step, eol, sse_bytes};

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The subject of a generation request: what follows "of", else the
/// message after its first word.
fn subject_of(message: &str) -> String {
    let lower = message.to_lowercase();
    let subject = match lower.find(" of ") {
        Some(i) => &message[i + 4..],
        None => message
            .split_once(char::is_whitespace)
            .map(|(_, rest)| rest)
            .unwrap_or(message),
    };
    let subject: String = subject.trim().chars().take(48).collect();
    if subject.is_empty() {
        "a short clip".into()
    } else {
        subject
    }
}

fn title_case(subject: &str) -> String {
    subject
        .split_whitespace()
        .filter(|w| !matches!(w.to_lowercase().as_str(), "a" | "an" | "the"))
        .take(3)
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The title asked for: quoted text, else what follows "title"/标题.
fn title_of(message: &str) -> String {
    for (open, close) in [('"', '"'), ('“', '”'), ('「', '」'), ('\'', '\'')] {
        if let Some(start) = message.find(open) {
            let rest = &message[start + open.len_utf8()..];
            if let Some(end) = rest.find(close)
                && end > 0
            {
                return rest[..end].trim().to_string();
            }
        }
    }
    let lower = message.to_lowercase();
    let after = lower
        .find("title")
        .map(|i| &message[i + "title".len()..])
        .or_else(|| message.find("标题").map(|i| &message[i + "标题".len()..]));
    let text = after
        .unwrap_or("")
        .trim_start_matches([':', '：'])
        .trim()
        .trim_start_matches("saying")
        .trim();
    if text.is_empty() {
        "Untitled".into()
    } else {
        text.chars().take(40).collect()
    }
}

pub(super) enum Plan {
    Generate,
    Other,
}

pub(super) fn script_for(message: &str, faults: &ChatFaults) -> (Script, Plan) {
    let lower = message.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    let mut s = Script::new(faults);
    let mut plan = Plan::Other;
    if has(&["error"]) {
        s.stream(&["Let me ", "look at "]);
        let mut event = s.event("model", json!([]), None);
        event["errorCode"] = json!("RESOURCE_EXHAUSTED");
        event["errorMessage"] = json!("The model is overloaded. Please try again later.");
        if let Some(fields) = event.as_object_mut() {
            fields.remove("content");
        }
        s.push(event);
    } else if has(&["garbled"]) {
        s.say("Before ");
        s.steps.push(Step::Sleep(s.pace));
        s.steps
            .push(Step::Raw(eol("data: {\"content\": oops\n\n", s.crlf)));
        s.say("after.");
    } else if has(&["crash"]) {
        s.say("Working on it…");
        s.push(json!({"error": "Internal server error: the agent crashed"}));
    } else if has(&["generate", "create", "make", "生成"]) {
        plan = Plan::Generate;
        let subject = subject_of(message);
        let title = title_case(&subject);
        s.stream(&["I'll generate ", "a 10-second video of ", &subject, " now…"]);
        s.tool(
            "generate_video",
            json!({"prompt": message, "duration": 10}),
            json!({"status": "success", "duration": 10}),
            Some(faults.chat_tool_ms),
            Some(Edit::Generate {
                prompt: message.into(),
                subject: subject.clone(),
                title: title.clone(),
            }),
        );
        s.tool(
            "add_background_music",
            json!({"style": "lo-fi", "volume": 0.35}),
            json!({"status": "success"}),
            None,
            None,
        );
        s.tool(
            "add_title",
            json!({"text": title}),
            json!({"status": "success"}),
            None,
            None,
        );
        s.stream(&[
            "Your video is ready: ",
            &format!("a 10-second clip of {subject}, "),
            &format!("with lo-fi music and the title \"{title}\"."),
        ]);
    } else if has(&["title", "标题"]) {
        let text = title_of(message);
        s.tool(
            "add_title",
            json!({"text": text, "duration": 3}),
            json!({"status": "success"}),
            None,
            Some(Edit::SetTitle { text }),
        );
    } else if has(&["nothing"]) {
        s.tool(
            "check_timeline",
            json!({}),
            json!({"status": "success", "changed": false}),
            None,
            None,
        );
    } else if has(&["silent"]) {
        s.tool(
            "analyze_video",
            json!({}),
            json!({"status": "success"}),
            None,
            Some(Edit::Analyse),
        );
    } else if has(&["export", "download", "gui", "导出"]) {
        if has_cjk(message) {
            s.stream(&[
                "视频已经在时间线上了。",
                "请点击右上角的「导出」按钮下载视频。",
            ]);
        } else {
            s.stream(&[
                "Your video is on the timeline. ",
                "Preview it in the timeline panel, ",
                "then click the Export button in the top right corner to download the MP4.",
            ]);
        }
    } else if has(&["temporary"]) {
        s.stream(&["Done! ", "I trimmed the intro to 3 seconds."]);
        s.say("I encountered a temporary issue. Please try again later.");
    } else if has(&["think"]) {
        let event = s.event(
            "model",
            json!([{"text": "The user wants ideas. SECRET-THOUGHT", "thought": true}, {"text": "Here are three ideas: a sunrise, a panda, a city at night."}]),
            Some(false),
        );
        s.push(event);
    } else if has(&["escape"]) {
        s.say("Here is \u{1b}[31mred\u{1b}[0m text\u{7} and a \u{1b}]0;pwned\u{7}title.");
    } else if has(&["chinese", "中文"]) || has_cjk(message) {
        for piece in ["你好！", "我是视频助手 🐼，", "告诉我你想做什么视频。"]
        {
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
        s.say("你好！我是视频助手 🐼，告诉我你想做什么视频。");
    } else {
        s.stream(&[
            "Hi! I'm ",
            "NemoVideo's agent. ",
            "Tell me what video to make — ",
            "for example \"a panda in a bamboo forest\".",
        ]);
    }
    (s, plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_subjects_from_messages() {
        assert_eq!(title_of("add a title \"Paradise Found\""), "Paradise Found");
        assert_eq!(title_of("add a title: Paradise Found"), "Paradise Found");
        assert_eq!(title_of("添加标题「天堂」"), "天堂");
        assert_eq!(
            subject_of("generate a video of a panda eating"),
            "a panda eating"
        );
        assert_eq!(title_case("a panda eating bamboo"), "Panda Eating Bamboo");
    }
}
