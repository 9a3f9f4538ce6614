//! The defaults that depend on the machine or on who runs nemo: the skill
//! version a seed skill announces, the platform guessed from the install
//! path, and a new session's language from the locale.

use std::path::Path;

/// The five skills of `shared/seeds/`, which all announce version 1.0.0.
pub const SEED_SKILLS: [&str; 5] = [
    "free-video-generation-gemini",
    "free-video-generation-model-api",
    "create-ai-video-free",
    "how-to-create-an-ai-video",
    "free-chinese-video-generation-model",
];

/// `1.0.0` for the seed skills, else this CLI's own version.
pub fn default_skill_version(skill: &str) -> &'static str {
    if SEED_SKILLS.contains(&skill) {
        "1.0.0"
    } else {
        env!("CARGO_PKG_VERSION")
    }
}

/// `SKILL_SOURCE`, else from the executable's install path, else `unknown`.
pub fn detect_platform(skill_source: Option<String>, exe: Option<&Path>) -> String {
    if let Some(source) = skill_source {
        return source.trim().to_string();
    }
    let path = exe
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    if path.contains("/.clawhub/") {
        "clawhub".into()
    } else if path.contains("/.cursor/skills/") {
        "cursor".into()
    } else {
        "unknown".into()
    }
}

/// `en_US.UTF-8` → `en`, `zh_CN.UTF-8` → `zh-CN`, `zh_TW` → `zh-TW`,
/// `C`/`POSIX`/unset → `en`.
pub fn language_from_locale(locale: Option<&str>) -> String {
    let Some(locale) = locale else {
        return "en".into();
    };
    let base = locale.split(['.', '@']).next().unwrap_or("").trim();
    if base.is_empty() || base == "C" || base == "POSIX" {
        return "en".into();
    }
    let mut parts = base.split(['_', '-']);
    let lang = parts.next().unwrap_or("").to_ascii_lowercase();
    let region = parts.next().map(|r| r.to_ascii_uppercase());
    if lang.is_empty() || !lang.chars().all(|c| c.is_ascii_alphabetic()) {
        return "en".into();
    }
    match (lang.as_str(), region) {
        ("zh", Some(region)) => format!("zh-{region}"),
        _ => lang,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_languages() {
        assert_eq!(language_from_locale(Some("en_US.UTF-8")), "en");
        assert_eq!(language_from_locale(Some("zh_CN.UTF-8")), "zh-CN");
        assert_eq!(language_from_locale(Some("zh_TW")), "zh-TW");
        assert_eq!(language_from_locale(Some("ja_JP.eucJP")), "ja");
        assert_eq!(language_from_locale(Some("de_DE@euro")), "de");
        assert_eq!(language_from_locale(Some("C")), "en");
        assert_eq!(language_from_locale(Some("POSIX")), "en");
        assert_eq!(language_from_locale(Some("C.UTF-8")), "en");
        assert_eq!(language_from_locale(None), "en");
    }

    #[test]
    fn platform_detection() {
        assert_eq!(detect_platform(Some("cursor".into()), None), "cursor");
        let claw = Path::new("/home/u/.clawhub/skills/x/nemo");
        assert_eq!(detect_platform(None, Some(claw)), "clawhub");
        let cursor = Path::new("/home/u/.cursor/skills/x/nemo");
        assert_eq!(detect_platform(None, Some(cursor)), "cursor");
        assert_eq!(
            detect_platform(None, Some(Path::new("/usr/bin/nemo"))),
            "unknown"
        );
        assert_eq!(detect_platform(None, None), "unknown");
    }

    #[test]
    fn seed_skills_get_version_one() {
        assert_eq!(default_skill_version("create-ai-video-free"), "1.0.0");
        assert_eq!(default_skill_version("nemo-cli"), env!("CARGO_PKG_VERSION"));
    }
}
