//! Reading an English request: a verb and its object ("generate a video
//! of …", "make the music quieter", "remove the title", "trim the first 2
//! seconds"), the subject of a generation, the text of a title. Word by
//! word, never a substring of the whole message ("crashing" is not
//! "crash"). Nothing about what to answer.

use super::intent::{End, Intent, Question, Volume, percent_in, quoted, seconds_in, words};

const VIDEO_NOUNS: [&str; 10] = [
    "video",
    "videos",
    "clip",
    "clips",
    "movie",
    "film",
    "animation",
    "timelapse",
    "short",
    "scene",
];
const MUSIC_NOUNS: [&str; 7] = [
    "music",
    "bgm",
    "soundtrack",
    "song",
    "audio",
    "volume",
    "tune",
];

/// The intent of a request in English (or anything not recognised as
/// Chinese).
pub(super) fn english_intent(message: &str) -> Intent {
    let w = words(message);
    let has = |list: &[&str]| w.iter().any(|x| list.contains(&x.as_str()));
    let phrase = |p: &str| format!(" {} ", w.join(" ")).contains(&format!(" {p} "));
    if has(&["title", "titles", "caption", "heading"]) {
        return title_intent(message, &w);
    }
    if has(&MUSIC_NOUNS) && !generation_phrase(&w) {
        return music_intent(message, &w);
    }
    let cutting = has(&["trim", "cut", "remove", "drop", "chop", "delete", "shave"]);
    let which_end = if has(&["first", "start", "beginning", "opening", "intro"]) {
        Some(End::Start)
    } else if has(&["last", "end", "ending", "outro", "final"]) {
        Some(End::End)
    } else {
        None
    };
    // "trim it to 6 seconds" is a length, not a cut.
    let lower = message.to_lowercase();
    let to_length = lower
        .find(" to ")
        .and_then(|i| seconds_in(&lower[i..]))
        .filter(|_| which_end.is_none());
    if let (true, Some(seconds)) = (cutting && !generation_phrase(&w), to_length) {
        return Intent::SetDuration { seconds };
    }
    if cutting && !generation_phrase(&w) && (which_end.is_some() || has(&["trim"])) {
        return match (which_end, seconds_in(message)) {
            (Some(end), Some(seconds)) => Intent::Trim { end, seconds },
            _ => Intent::Ask(Question::TrimHowMuch),
        };
    }
    let about_length = has(&[
        "duration", "length", "long", "longer", "shorter", "shorten", "extend",
    ]) || phrase("make it")
        || phrase("make the video")
        || phrase("make the clip")
        || phrase("change it to");
    if about_length && !generation_phrase(&w) {
        return match seconds_in(message) {
            Some(seconds) => Intent::SetDuration { seconds },
            None => Intent::Ask(Question::HowLong),
        };
    }
    if is_generation(&w) {
        return Intent::Generate {
            subject: english_subject(message),
            seconds: seconds_in(message).unwrap_or(10),
        };
    }
    if has(&[
        "analyse", "analyze", "analysis", "check", "review", "inspect",
    ]) {
        return Intent::Analyse;
    }
    if phrase("do nothing")
        || phrase("leave it")
        || phrase("keep it as it is")
        || phrase("don't change anything")
    {
        return Intent::NoChange;
    }
    if has(&["export", "download", "save", "gui", "mp4"]) {
        return Intent::Export;
    }
    if has(&[
        "idea",
        "ideas",
        "suggest",
        "suggestions",
        "brainstorm",
        "inspire",
    ]) {
        return Intent::Ideas;
    }
    if phrase("what can you do") || phrase("how does this work") || has(&["help", "capabilities"]) {
        return Intent::Help;
    }
    if has(&["chinese", "mandarin"]) || is_greeting(&w) {
        return Intent::Greeting;
    }
    Intent::Ask(Question::Unclear)
}

fn is_greeting(w: &[String]) -> bool {
    let greetings = [
        "hello",
        "hi",
        "hey",
        "hiya",
        "howdy",
        "greetings",
        "morning",
    ];
    w.first().is_some_and(|f| greetings.contains(&f.as_str())) && w.len() <= 6
}

/// "a video", "an 8-second clip", "another short": a new video asked for.
fn generation_phrase(w: &[String]) -> bool {
    w.iter().enumerate().any(|(i, word)| {
        matches!(word.as_str(), "a" | "an" | "another" | "one" | "new")
            && w[i + 1..]
                .iter()
                .take(4)
                .any(|x| VIDEO_NOUNS.contains(&x.as_str()))
    }) || w
        .windows(2)
        .any(|p| VIDEO_NOUNS.contains(&p[0].as_str()) && matches!(p[1].as_str(), "of" | "about"))
}

/// A generation: "generate/create/produce …" (not of "it"), or "make/film/
/// shoot …" of a new video.
fn is_generation(w: &[String]) -> bool {
    let Some(i) = w.iter().position(|x| {
        matches!(
            x.as_str(),
            "generate" | "create" | "produce" | "make" | "film" | "shoot" | "animate"
        )
    }) else {
        // "I want a video of …", "show me a clip of …".
        let asking = ["want", "need", "like", "show", "give", "get", "see"];
        // A bare description is what to make: "a 10-second video of a
        // panda", "a sunrise over the sea" (as `nemo generate` sends it).
        let described = matches!(
            w.first().map(String::as_str),
            Some("a" | "an" | "some" | "another")
        );
        return described
            || (generation_phrase(w) && w.iter().any(|x| asking.contains(&x.as_str())));
    };
    let object = w.get(i + 1).map(String::as_str).unwrap_or("");
    if matches!(object, "it" | "this" | "that" | "the" | "") {
        return generation_phrase(w);
    }
    // "make a cat", "film some waves": a new thing to show is a new video
    // (edits name what they change: "make the music …", "make it …").
    let new_thing = matches!(object, "a" | "an" | "some" | "two" | "three");
    matches!(w[i].as_str(), "generate" | "create" | "produce" | "animate")
        || new_thing
        || generation_phrase(w)
}

/// The subject of an English generation request: what the video is "of"
/// or "about", else the object of the verb without the video noun.
fn english_subject(message: &str) -> String {
    let lower = message.to_lowercase();
    let verbs = [
        "generate", "create", "produce", "make", "film", "shoot", "animate",
    ];
    let from = verbs
        .iter()
        .filter_map(|v| lower.find(v).map(|i| i + v.len()))
        .min()
        .unwrap_or(0);
    let rest = &message[from..];
    let rest_lower = rest.to_lowercase();
    let linkers = [
        " of ",
        " about ",
        " showing ",
        " featuring ",
        " where ",
        " with ",
    ];
    let subject = match linkers
        .iter()
        .filter_map(|l| rest_lower.find(l).map(|i| i + l.len()))
        .min()
    {
        Some(i) => rest[i..].to_string(),
        None => {
            // "generate a panda video" → "a panda"; "create a sunset
            // timelapse" keeps its noun when nothing else is left.
            let kept: Vec<&str> = rest
                .split_whitespace()
                .filter(|x| {
                    let x = x.to_lowercase();
                    let x = x.trim_matches(|c: char| !c.is_alphanumeric());
                    seconds_in(x).is_none()
                        && !x.ends_with("-second")
                        && !matches!(x, "me" | "us" | "video" | "clip" | "movie" | "short")
                })
                .collect();
            kept.join(" ")
        }
    };
    let subject = subject
        .trim()
        .trim_end_matches(['.', '!', '?', '。', '！', '？'])
        .trim();
    let mut words: Vec<&str> = subject.split_whitespace().collect();
    while words
        .last()
        .is_some_and(|w| matches!(w.to_lowercase().as_str(), "a" | "an" | "the"))
    {
        words.pop();
    }
    let subject: String = words.join(" ").chars().take(80).collect();
    if subject.is_empty() {
        "a short scene".into()
    } else {
        subject
    }
}

fn title_intent(message: &str, w: &[String]) -> Intent {
    let has = |list: &[&str]| w.iter().any(|x| list.contains(&x.as_str()));
    let phrase = |p: &str| format!(" {} ", w.join(" ")).contains(&format!(" {p} "));
    if has(&[
        "remove", "delete", "drop", "clear", "erase", "without", "hide",
    ]) || phrase("get rid of")
        || phrase("take off")
        || phrase("no title")
    {
        return Intent::RemoveTitle;
    }
    match title_text(message) {
        Some(text) => Intent::SetTitle { text },
        None => Intent::Ask(Question::TitleText),
    }
}

/// The new text of a title: quoted, else after `title:`, `title to`,
/// `title saying`… ("fix the typo in the title" has none).
fn title_text(message: &str) -> Option<String> {
    if let Some(text) = quoted(message) {
        return Some(text);
    }
    let lower = message.to_lowercase();
    let at = lower.rfind("title")?;
    let after = &message[at + "title".len()..];
    let after = after.trim_start_matches(['s', 'd']);
    let after_lower = after.to_lowercase();
    let lead = [
        ":",
        "：",
        " to ",
        " as ",
        " saying ",
        " that says ",
        " reading ",
    ];
    let start = lead
        .iter()
        .filter_map(|l| {
            after_lower
                .find(l)
                .filter(|i| after_lower[..*i].trim().is_empty())
                .map(|i| i + l.len())
        })
        .min()?;
    let text = after[start..]
        .trim()
        .trim_end_matches(['.', '!', '?', '。'])
        .trim();
    (!text.is_empty()).then(|| text.chars().take(60).collect())
}

fn music_intent(message: &str, w: &[String]) -> Intent {
    let has = |list: &[&str]| w.iter().any(|x| list.contains(&x.as_str()));
    if let Some(level) = percent_in(message) {
        return Intent::MusicVolume(Volume::Set(level));
    }
    if has(&["mute", "silence", "off", "remove", "delete", "stop"]) {
        return Intent::MusicVolume(Volume::Mute);
    }
    if has(&[
        "quieter", "softer", "lower", "down", "reduce", "decrease", "quiet", "soft", "less",
    ]) {
        return Intent::MusicVolume(Volume::Quieter);
    }
    if has(&[
        "louder", "higher", "up", "raise", "increase", "boost", "loud", "more",
    ]) {
        return Intent::MusicVolume(Volume::Louder);
    }
    if has(&[
        "add", "put", "use", "include", "want", "change", "swap", "replace", "play",
    ]) {
        let styles = [
            "lo-fi",
            "lofi",
            "jazz",
            "piano",
            "rock",
            "epic",
            "calm",
            "upbeat",
            "classical",
            "ambient",
            "electronic",
            "acoustic",
        ];
        let lower = message.to_lowercase();
        let style = styles
            .iter()
            .find(|s| lower.contains(*s))
            .map_or("Lo-fi", |s| s);
        let style = match style {
            "lofi" | "lo-fi" => "Lo-fi".to_string(),
            other => super::lang::capitalise(other),
        };
        return Intent::AddMusic { style };
    }
    Intent::Ask(Question::Unclear)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_by_intent() {
        let cases: &[(&str, Intent)] = &[
            ("turn down the music", Intent::MusicVolume(Volume::Quieter)),
            (
                "turn the music up a bit",
                Intent::MusicVolume(Volume::Louder),
            ),
            ("mute the music", Intent::MusicVolume(Volume::Mute)),
            (
                "set the music to 20%",
                Intent::MusicVolume(Volume::Set(0.2)),
            ),
            (
                "add background music",
                Intent::AddMusic {
                    style: "Lo-fi".into(),
                },
            ),
            (
                "put a title saying Hello World",
                Intent::SetTitle {
                    text: "Hello World".into(),
                },
            ),
            (
                "rename the title to Sunrise",
                Intent::SetTitle {
                    text: "Sunrise".into(),
                },
            ),
            (
                "don't forget a title 'Dawn'",
                Intent::SetTitle {
                    text: "Dawn".into(),
                },
            ),
            ("delete the title", Intent::RemoveTitle),
            (
                "fix the typo in the title",
                Intent::Ask(Question::TitleText),
            ),
            (
                "make the video 5 seconds long",
                Intent::SetDuration { seconds: 5 },
            ),
            ("trim it to 6 seconds", Intent::SetDuration { seconds: 6 }),
            (
                "shorten it to 4 seconds",
                Intent::SetDuration { seconds: 4 },
            ),
            (
                "cut the intro by 2 seconds",
                Intent::Trim {
                    end: End::Start,
                    seconds: 2,
                },
            ),
            (
                "trim the last 3 seconds",
                Intent::Trim {
                    end: End::End,
                    seconds: 3,
                },
            ),
            ("make it longer", Intent::Ask(Question::HowLong)),
            ("what can you do?", Intent::Help),
            ("how do I download it?", Intent::Export),
            ("tell me a joke", Intent::Ask(Question::Unclear)),
        ];
        for (message, want) in cases {
            assert_eq!(&english_intent(message), want, "{message}");
        }
    }

    #[test]
    fn generations_and_their_subjects() {
        let cases = [
            ("can you make a video about cats?", "cats", 10),
            ("make a cat", "a cat", 10),
            (
                "a 10-second video of a panda in a bamboo forest",
                "a panda in a bamboo forest",
                10,
            ),
            ("a sunrise over the sea", "a sunrise over the sea", 10),
            ("film some waves on a beach", "some waves on a beach", 10),
            ("I want a 15 second video of the ocean", "the ocean", 15),
            (
                "make me a video of a fox in the snow",
                "a fox in the snow",
                10,
            ),
            ("generate a panda video", "a panda", 10),
            ("generate a video", "a short scene", 10),
        ];
        for (message, subject, seconds) in cases {
            assert_eq!(
                english_intent(message),
                Intent::Generate {
                    subject: subject.into(),
                    seconds
                },
                "{message}"
            );
        }
    }
}
