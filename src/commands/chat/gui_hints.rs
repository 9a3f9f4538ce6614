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

/// The hints for GUI talk in `text`: `to export the video here → nemo export`.
pub fn gui_hints(text: &str) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    let lower = text.to_lowercase();
    for sentence in lower.split(['.', '!', '?', '\n', '。', '！', '？', ';', '；']) {
        let sentence = format!("{sentence} ");
        if !GUI_VERBS.iter().any(|v| sentence.contains(v)) {
            continue;
        }
        let mut matched = false;
        for rule in GUI_RULES {
            if rule.targets.iter().any(|t| sentence.contains(t)) {
                matched = true;
                let hint = format!("{} → {}", rule.what, rule.command);
                if !hints.contains(&hint) {
                    hints.push(hint);
                }
            }
        }
        if !matched && OPEN_RULE.targets.iter().any(|t| sentence.contains(t)) {
            let hint = format!("{} → {}", OPEN_RULE.what, OPEN_RULE.command);
            if !hints.contains(&hint) {
                hints.push(hint);
            }
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
}
