//! GUI talk mapped to commands: the backend talks as if the user had the
//! web app (`api.md`), so "click the Export button" becomes the hint
//! `to export the video here → nemo export`.
//!
//! It only finds hints in text; it must not print them.

/// A GUI action the agent talks about, and the command that does it here.
struct GuiRule {
    targets: &'static [&'static str],
    command: &'static str,
    what: &'static str,
}

/// Words that say "do this in the app" (`api.md`: the backend talks as if
/// the user had a GUI).
const GUI_VERBS: &[&str] = &[
    "click",
    "tap ",
    "press ",
    "open ",
    "drag",
    "preview",
    "check your",
    "go to",
    "select the",
    "button",
    "panel",
    "点击",
    "打开",
    "拖拽",
    "拖动",
    "预览",
    "查看",
    "按钮",
    "面板",
    "前往",
];

const GUI_RULES: &[GuiRule] = &[
    GuiRule {
        targets: &["export", "download", "导出", "下载"],
        command: "nemo export",
        what: "to export the video here",
    },
    GuiRule {
        targets: &["balance", "credits", "余额", "积分"],
        command: "nemo credits",
        what: "to check your credits here",
    },
    GuiRule {
        targets: &[
            "timeline",
            "preview",
            "track",
            "时间线",
            "时间轴",
            "预览",
            "轨道",
        ],
        command: "nemo state",
        what: "to see the timeline here",
    },
    GuiRule {
        targets: &[
            "upload",
            "drag",
            "drop ",
            "media library",
            "上传",
            "拖拽",
            "拖动",
            "素材",
        ],
        command: "nemo upload FILE",
        what: "to add your own media here",
    },
];

/// When none of the rules matched an "open the … panel/editor" sentence.
const OPEN_RULE: GuiRule = GuiRule {
    targets: &[
        "open",
        "panel",
        "editor",
        "workspace",
        "打开",
        "面板",
        "编辑器",
    ],
    command: "nemo session open",
    what: "to open the project in the web app",
};

/// GUI talk comes in short sentences; longer ones are not looked at, so
/// a long reply costs no copy of itself.
const LONGEST_SENTENCE: usize = 1024;

/// The hints for GUI talk in `text`: `to export the video here → nemo export`.
/// Linear in `text`, and holds one short sentence at a time.
pub fn gui_hints(text: &str) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    let mut add = |rule: &GuiRule| {
        let hint = format!("{} → {}", rule.what, rule.command);
        if !hints.contains(&hint) {
            hints.push(hint);
        }
    };
    // The sentence, lowercased, then a space (targets may end in one).
    let mut sentence = String::new();
    for original in text.split(['.', '!', '?', '\n', '。', '！', '？', ';', '；']) {
        if original.len() > LONGEST_SENTENCE {
            continue;
        }
        sentence.clear();
        sentence.extend(original.chars().flat_map(char::to_lowercase));
        sentence.push(' ');
        if !GUI_VERBS.iter().any(|v| sentence.contains(v)) {
            continue;
        }
        let mut matched = false;
        for rule in GUI_RULES {
            if rule.targets.iter().any(|t| sentence.contains(t)) {
                matched = true;
                add(rule);
            }
        }
        if !matched && OPEN_RULE.targets.iter().any(|t| sentence.contains(t)) {
            add(&OPEN_RULE);
        }
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gui_talk_in_english_and_chinese() {
        assert_eq!(
            gui_hints(
                "Preview it in the timeline panel, then click the Export button in the top right corner."
            ),
            vec![
                "to export the video here → nemo export",
                "to see the timeline here → nemo state"
            ]
        );
        assert_eq!(
            gui_hints("请点击右上角的「导出」按钮下载视频。"),
            vec!["to export the video here → nemo export"]
        );
        assert_eq!(
            gui_hints("You can check your balance in settings."),
            vec!["to check your credits here → nemo credits"]
        );
        assert_eq!(
            gui_hints("Drag your clip onto the media library."),
            vec!["to add your own media here → nemo upload FILE"]
        );
        assert_eq!(
            gui_hints("打开编辑器看看。"),
            vec!["to open the project in the web app → nemo session open"]
        );
        assert!(gui_hints("Your video of a panda is ready; the export will be free.").is_empty());
        assert!(gui_hints("I added a title.").is_empty());
    }

    #[test]
    fn a_long_reply_is_read_sentence_by_sentence() {
        let long = "word ".repeat(LONGEST_SENTENCE);
        let text = format!("{long}. Click the Export button. {long}");
        assert_eq!(
            gui_hints(&text),
            vec!["to export the video here → nemo export"]
        );
        // One sentence past the limit is not looked at.
        assert!(gui_hints(&format!("{long} click the Export button")).is_empty());
    }
}
