//! The protocol facts of `../shared/spec/api.md` that the emulator enforces,
//! written again here from the spec and never taken from the client: the
//! accepted upload formats and the size limit ("Upload"), the rule for a
//! draft that can be exported ("State"), how ids and names become URL path
//! segments, and the time format of the answers.
//!
//! A fact the client and the emulator both got wrong the same way could not
//! fail a test; keeping them apart (and the golden fixtures in
//! `tests/fixtures/api/`) is what makes the emulator a witness. This module
//! holds facts only: no handler, no state.

use serde_json::Value;

/// "At most 500 MB a file" (`api.md` "Upload"), in bytes: 500 × 1024 × 1024.
pub const UPLOAD_LIMIT_BYTES: u64 = 500 * 1024 * 1024;

/// A media kind, as the upload answer's `file_type` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Video,
    Image,
    Audio,
}

impl Kind {
    /// The `file_type` value.
    pub fn file_type(self) -> &'static str {
        match self {
            Kind::Video => "video",
            Kind::Image => "image",
            Kind::Audio => "audio",
        }
    }
}

/// "Accepted: mp4, mov, avi, webm, mkv (video), jpg, png, gif, webp (image),
/// mp3, wav, m4a, aac (audio)". `jpeg` is the same image format under its
/// long extension and is taken as such.
const ACCEPTED: [(&str, Kind); 14] = [
    ("mp4", Kind::Video),
    ("mov", Kind::Video),
    ("avi", Kind::Video),
    ("webm", Kind::Video),
    ("mkv", Kind::Video),
    ("jpg", Kind::Image),
    ("jpeg", Kind::Image),
    ("png", Kind::Image),
    ("gif", Kind::Image),
    ("webp", Kind::Image),
    ("mp3", Kind::Audio),
    ("wav", Kind::Audio),
    ("m4a", Kind::Audio),
    ("aac", Kind::Audio),
];

/// The accepted extension (lowercase) and kind of a file name, judged by
/// what follows its last dot, in any case; `None` when it is not accepted.
pub fn accepted(name: &str) -> Option<(&'static str, Kind)> {
    let (_, extension) = name.rsplit_once('.')?;
    ACCEPTED
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(extension))
        .copied()
}

/// "A draft is ready to export when `t` has a track with a non-empty `sg`."
/// Tracks and segments that are not JSON objects do not count.
pub fn draft_has_content(draft: &Value) -> bool {
    let Some(tracks) = draft.get("t").and_then(Value::as_array) else {
        return false;
    };
    tracks.iter().filter(|t| t.is_object()).any(|track| {
        track
            .get("sg")
            .and_then(Value::as_array)
            .is_some_and(|segments| segments.iter().any(Value::is_object))
    })
}

/// `value` as one URL path segment: RFC 3986 unreserved bytes as they are,
/// every other byte `%XX` (uppercase hex).
pub fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Unix seconds as the answers write times: RFC 3339 in UTC to the second,
/// e.g. `2026-03-18T00:00:00Z` (`api.md` "Anonymous token").
pub fn rfc3339_utc(unix_secs: u64) -> String {
    let days = unix_secs / 86_400;
    let in_day = unix_secs % 86_400;
    let (year, month, day) = civil_date(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// The Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_documented_formats_and_no_others() {
        for ext in [
            "mp4", "mov", "avi", "webm", "mkv", "jpg", "png", "gif", "webp", "mp3", "wav", "m4a",
            "aac",
        ] {
            assert!(accepted(&format!("f.{ext}")).is_some(), "{ext}");
        }
        assert_eq!(accepted("A.MOV"), Some(("mov", Kind::Video)));
        assert_eq!(accepted("x.jpeg"), Some(("jpeg", Kind::Image)));
        assert_eq!(accepted("song.m4a"), Some(("m4a", Kind::Audio)));
        for name in ["f.txt", "f.mp4.exe", "mp4", "f.", "f.heic", "f.flac"] {
            assert_eq!(accepted(name), None, "{name}");
        }
        assert_eq!(UPLOAD_LIMIT_BYTES, 524_288_000);
    }

    #[test]
    fn a_draft_needs_a_track_with_a_segment() {
        assert!(!draft_has_content(&json!({})));
        assert!(!draft_has_content(&json!({"t": []})));
        assert!(!draft_has_content(&json!({"t": [{"tt": 0, "sg": []}]})));
        assert!(!draft_has_content(&json!({"t": [{"tt": 0}, 5, null]})));
        assert!(!draft_has_content(&json!({"t": [{"tt": 0, "sg": [3]}]})));
        assert!(draft_has_content(
            &json!({"t": [{"tt": 0, "sg": []}, {"tt": 7, "sg": [{"d": 3000, "m": {}}]}]})
        ));
    }

    #[test]
    fn segments_escape_all_but_unreserved_bytes() {
        assert_eq!(path_segment("5529798706024415232"), "5529798706024415232");
        assert_eq!(path_segment("a b/ç.mp4"), "a%20b%2F%C3%A7.mp4");
        assert_eq!(path_segment("A-z_0.~"), "A-z_0.~");
    }

    #[test]
    fn times_are_utc_seconds() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_773_792_000), "2026-03-18T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
