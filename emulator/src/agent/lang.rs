//! The agent's two languages: reading the intent of a Chinese request
//! ([`zh_intent`], a verb with its object: 生成…视频, 标题…删除, 音乐…小一点)
//! and every sentence the agent says, in English and Chinese ([`Lang`]).
//! Nothing about the wire or the draft.

use super::intent::{End, Intent, Question, Volume, percent_in, quoted, seconds_in};

/// The language of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// Chinese for a `zh…` session, for a request in Chinese, or when asked
    /// to speak Chinese; English otherwise.
    pub fn of(session_language: &str, message: &str) -> Lang {
        let asked = super::intent::words(message)
            .iter()
            .any(|w| matches!(w.as_str(), "chinese" | "mandarin"));
        if session_language.to_lowercase().starts_with("zh")
            || super::intent::has_cjk(message)
            || asked
        {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    /// The plan before a generation, in streamed pieces.
    pub fn generating(self, subject: &str, seconds: u32) -> Vec<String> {
        match self {
            Lang::En => vec![
                "I'll generate ".into(),
                format!("a {seconds}-second video of "),
                subject.into(),
                " now…".into(),
            ],
            Lang::Zh => vec![
                "好的，".into(),
                format!("我来生成一段{seconds}秒的视频："),
                subject.into(),
                "……".into(),
            ],
        }
    }

    /// The report after a generation, in streamed pieces.
    pub fn generated(self, subject: &str, seconds: u32, title: &str) -> Vec<String> {
        match self {
            Lang::En => vec![
                "Your video is ready: ".into(),
                format!("a {seconds}-second clip of {subject}, "),
                format!("with lo-fi music and the title \"{title}\"."),
            ],
            Lang::Zh => vec![
                "视频做好了：".into(),
                format!("一段{seconds}秒的视频（{subject}），"),
                format!("配上了轻音乐和标题「{title}」。"),
            ],
        }
    }

    pub fn volume(self, volume: Volume, level: f64) -> String {
        let pct = (level * 100.0).round() as i64;
        match (self, volume) {
            (Lang::En, Volume::Quieter) => format!("I turned the music down to {pct}%."),
            (Lang::En, Volume::Louder) => format!("I turned the music up to {pct}%."),
            (Lang::En, Volume::Mute) => "I muted the music.".into(),
            (Lang::En, Volume::Set(_)) => format!("I set the music to {pct}%."),
            (Lang::Zh, Volume::Quieter) => format!("已把背景音乐调低到{pct}%。"),
            (Lang::Zh, Volume::Louder) => format!("已把背景音乐调高到{pct}%。"),
            (Lang::Zh, Volume::Mute) => "已将背景音乐静音。".into(),
            (Lang::Zh, Volume::Set(_)) => format!("已把背景音乐音量设为{pct}%。"),
        }
    }

    pub fn music(self, style: &str, replaced: bool) -> String {
        match (self, replaced) {
            (Lang::En, false) => format!("I added {style} background music at 35%."),
            (Lang::En, true) => format!("I changed the background music to {style}."),
            (Lang::Zh, false) => format!("已添加{style}背景音乐，音量35%。"),
            (Lang::Zh, true) => format!("已把背景音乐换成{style}。"),
        }
    }

    pub fn title_removed(self) -> &'static str {
        self.pick("I removed the title.", "已删除标题。")
    }

    pub fn no_title(self) -> &'static str {
        self.pick("There is no title to remove.", "现在没有标题，不需要删除。")
    }

    pub fn duration(self, seconds: u32) -> String {
        match self {
            Lang::En => format!("The video is now {seconds} seconds long."),
            Lang::Zh => format!("视频时长已改为{seconds}秒。"),
        }
    }

    pub fn trimmed(self, end: End, seconds: u32) -> String {
        match (self, end) {
            (Lang::En, End::Start) => format!("I trimmed the first {seconds} seconds."),
            (Lang::En, End::End) => format!("I trimmed the last {seconds} seconds."),
            (Lang::Zh, End::Start) => format!("已剪掉开头{seconds}秒。"),
            (Lang::Zh, End::End) => format!("已剪掉最后{seconds}秒。"),
        }
    }

    pub fn nothing_to_edit(self) -> &'static str {
        self.pick(
            "There's nothing to edit yet: this session has no video. Ask me to generate one first, for example \"generate a 10-second video of a panda\".",
            "这个会话里还没有视频，没有可以编辑的内容。先让我生成一个吧，比如「生成一个10秒的熊猫视频」。",
        )
    }

    pub fn no_music(self) -> &'static str {
        self.pick(
            "This video has no background music yet. Say \"add background music\" and I'll add some.",
            "这个视频还没有背景音乐。说「添加背景音乐」我就加上。",
        )
    }

    pub fn question(self, question: Question) -> &'static str {
        match question {
            Question::TitleText => self.pick(
                "Which text should the title have? Tell me the exact words, for example: change the title to \"Paradise Found\".",
                "标题要改成什么文字？请告诉我准确的内容，比如：把标题改成「天堂」。",
            ),
            Question::TrimHowMuch => self.pick(
                "How many seconds should I trim, and from the start or the end? For example: trim the first 2 seconds.",
                "要剪掉几秒，从开头还是结尾？比如：剪掉前2秒。",
            ),
            Question::HowLong => self.pick(
                "How long should the video be? For example: make it 5 seconds.",
                "视频要多长？比如：改成5秒。",
            ),
            Question::Unclear => self.pick(
                "I'm not sure what you'd like me to do. I can generate a video (\"generate a 10-second video of …\") or edit this one: the music volume, the title, background music, the duration, or a trim. What should I do?",
                "我不太确定你想让我做什么。我可以生成视频（比如「生成一个10秒的熊猫视频」），也可以编辑当前的视频：音乐音量、标题、背景音乐、时长或剪掉片段。你想怎么做？",
            ),
        }
    }

    pub fn help(self) -> Vec<&'static str> {
        match self {
            Lang::En => vec![
                "I can generate a video from a description ",
                "(\"generate a 10-second video of a panda walking through a bamboo forest\") ",
                "and edit it: make the music quieter or louder, add, change or remove the title, ",
                "add background music, change the duration, or trim the start or the end. ",
                "A generation costs about 100 credits, an edit about 50; questions are free.",
            ],
            Lang::Zh => vec![
                "我可以根据描述生成视频（比如「生成一个10秒的熊猫视频」），",
                "也可以编辑它：调大或调小音乐、添加、修改或删除标题、",
                "添加背景音乐、修改时长、剪掉开头或结尾。",
                "生成一次约100积分，编辑一次约50积分，提问免费。",
            ],
        }
    }

    pub fn export(self) -> Vec<&'static str> {
        match self {
            Lang::En => vec![
                "Your video is on the timeline. ",
                "Preview it in the timeline panel, ",
                "then click the Export button in the top right corner to download the MP4.",
            ],
            Lang::Zh => vec![
                "视频已经在时间线上了。",
                "请点击右上角的「导出」按钮下载视频。",
            ],
        }
    }

    pub fn ideas(self) -> &'static str {
        self.pick(
            "Here are three ideas: a sunrise, a panda, a city at night.",
            "这里有三个点子：日出、熊猫、夜晚的城市。",
        )
    }

    pub fn greeting(self) -> Vec<&'static str> {
        match self {
            Lang::En => vec![
                "Hi! I'm ",
                "NemoVideo's agent. ",
                "Tell me what video to make — ",
                "for example \"a panda in a bamboo forest\".",
            ],
            Lang::Zh => vec!["你好！", "我是视频助手 🐼，", "告诉我你想做什么视频。"],
        }
    }
}

/// `lo-fi` → `Lo-fi`.
pub fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A title from a subject: its first three words that are not articles,
/// capitalised (English), or its first eight characters (Chinese).
pub fn title_for(subject: &str) -> String {
    if super::intent::has_cjk(subject) {
        return subject.chars().take(8).collect();
    }
    subject
        .split_whitespace()
        .filter(|w| !matches!(w.to_lowercase().as_str(), "a" | "an" | "the"))
        .take(3)
        .map(capitalise)
        .collect::<Vec<_>>()
        .join(" ")
}

const ZH_VIDEO: [&str; 6] = ["短视频", "视频", "短片", "片子", "影片", "动画"];

/// The intent of a request in Chinese, when one is recognised.
pub fn zh_intent(m: &str) -> Option<Intent> {
    let has = |list: &[&str]| list.iter().any(|w| m.contains(w));
    if has(&["标题"]) {
        if has(&["删除", "删掉", "去掉", "移除", "不要", "拿掉"]) {
            return Some(Intent::RemoveTitle);
        }
        let text = quoted(m).or_else(|| after_any(m, &["改成", "改为", "换成", "设为", "：", ":"]));
        return Some(match text {
            Some(text) => Intent::SetTitle { text },
            None => Intent::Ask(Question::TitleText),
        });
    }
    if has(&["音乐", "配乐", "音量", "声音", "BGM", "bgm"]) {
        if let Some(level) = percent_in(m) {
            return Some(Intent::MusicVolume(Volume::Set(level)));
        }
        let volume = if has(&["静音", "关掉", "关闭", "去掉", "删除"]) {
            Some(Volume::Mute)
        } else if has(&["小", "低", "轻", "降"]) {
            Some(Volume::Quieter)
        } else if has(&["大", "高", "响", "提"]) {
            Some(Volume::Louder)
        } else {
            None
        };
        return Some(match volume {
            Some(v) => Intent::MusicVolume(v),
            None if has(&["加", "添", "配", "换", "用"]) => Intent::AddMusic {
                style: "Lo-fi".into(),
            },
            None => Intent::Ask(Question::Unclear),
        });
    }
    if has(&["剪", "裁", "切掉", "去掉", "删掉"]) {
        let end = if has(&["前", "开头", "开始"]) {
            Some(End::Start)
        } else if has(&["最后", "结尾", "末尾", "后"]) {
            Some(End::End)
        } else {
            None
        };
        return Some(match (end, seconds_in(m)) {
            (Some(end), Some(seconds)) => Intent::Trim { end, seconds },
            _ => Intent::Ask(Question::TrimHowMuch),
        });
    }
    let generate = has(&["生成", "制作", "创建", "创作"])
        || (has(&["做", "拍", "来", "要"]) && has(&ZH_VIDEO) && !has(&["把", "改"]));
    if !generate && has(&["时长", "改成", "变成", "缩短", "延长", "长度"]) {
        return Some(match seconds_in(m) {
            Some(seconds) => Intent::SetDuration { seconds },
            None => Intent::Ask(Question::HowLong),
        });
    }
    if generate {
        return Some(Intent::Generate {
            subject: zh_subject(m),
            seconds: seconds_in(m).unwrap_or(10),
        });
    }
    if has(&["检查", "分析"]) {
        return Some(Intent::Analyse);
    }
    if has(&["导出", "下载", "保存"]) {
        return Some(Intent::Export);
    }
    if has(&["点子", "创意", "想法", "灵感"]) {
        return Some(Intent::Ideas);
    }
    if has(&["能做什么", "帮助", "怎么用", "功能"]) {
        return Some(Intent::Help);
    }
    if has(&["你好", "您好", "嗨", "哈喽", "中文"]) {
        return Some(Intent::Greeting);
    }
    None
}

/// What follows the first of `leads`, trimmed; none when empty.
fn after_any(m: &str, leads: &[&str]) -> Option<String> {
    let (i, lead) = leads
        .iter()
        .filter_map(|l| m.find(l).map(|i| (i, *l)))
        .min_by_key(|(i, _)| *i)?;
    let text = m[i + lead.len()..]
        .trim()
        .trim_end_matches(['。', '！', '.', '!']);
    (!text.is_empty()).then(|| text.chars().take(40).collect())
}

/// The subject of a Chinese generation request: 生成一个10秒的熊猫视频 → 熊猫.
fn zh_subject(m: &str) -> String {
    let verbs = ["生成", "制作", "创建", "创作", "做", "拍", "来"];
    let from = verbs
        .iter()
        .filter_map(|v| m.find(v).map(|i| i + v.len()))
        .min()
        .unwrap_or(0);
    let mut s = m[from..].trim().to_string();
    let strip_prefix = |s: &mut String, list: &[&str]| {
        for p in list {
            if let Some(rest) = s.strip_prefix(p) {
                *s = rest.trim().to_string();
            }
        }
    };
    strip_prefix(
        &mut s,
        &[
            "一个", "一段", "一条", "一支", "一部", "个", "段", "条", "支", "部",
        ],
    );
    // A duration: digits, then 秒 or 秒钟, then 的.
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 {
        let rest = &s[digits..];
        let rest = rest
            .strip_prefix("秒钟")
            .or_else(|| rest.strip_prefix("秒"))
            .unwrap_or(rest);
        s = rest.trim_start_matches('的').trim().to_string();
    }
    strip_prefix(&mut s, &["关于", "有关"]);
    let mut s = s
        .trim_end_matches(['。', '！', '？', '.', '!', '?', '吧', '呢'])
        .to_string();
    for noun in ZH_VIDEO {
        if let Some(rest) = s.strip_suffix(noun) {
            s = rest.to_string();
            break;
        }
    }
    let s = s.trim_end_matches('的').trim();
    if s.is_empty() {
        "一个短片".into()
    } else {
        s.chars().take(40).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_subjects() {
        assert_eq!(zh_subject("生成一个10秒的熊猫视频"), "熊猫");
        assert_eq!(
            zh_subject("帮我生成一段熊猫在竹林里散步的视频。"),
            "熊猫在竹林里散步"
        );
        assert_eq!(zh_subject("制作一个关于海浪的短片"), "海浪");
    }

    #[test]
    fn languages() {
        assert_eq!(Lang::of("zh-CN", "make the music quieter"), Lang::Zh);
        assert_eq!(Lang::of("en", "生成一个熊猫视频"), Lang::Zh);
        assert_eq!(Lang::of("en", "please speak Chinese"), Lang::Zh);
        assert_eq!(Lang::of("", "hello"), Lang::En);
        assert_eq!(
            title_for("a panda walking through a bamboo forest"),
            "Panda Walking Through"
        );
    }
}
