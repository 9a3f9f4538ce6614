//! What an upload shows: a line per uploaded file (name, type, duration,
//! WxH — the fields the server gave, made safe to print) as each answer
//! comes, and the result, `{"files":[…]}` as the server returned them.

use serde::Serialize;
use serde_json::Value;

use crate::api::upload::UploadedFile;
use crate::report::{Report, Text};

/// The files of one answer, shown as they are uploaded: a line each.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct Files<'a>(pub &'a [Value]);

impl Report for Files<'_> {
    fn human(&self, text: &mut Text) {
        for value in self.0 {
            text.line(file_line(&UploadedFile::from_value(value)));
        }
    }
}

/// The result of `nemo upload`: `{"files":[…]}` as the server returned
/// them. Its text form is empty: each file's line was shown as it was
/// uploaded ([`Files`]).
#[derive(Debug, Serialize)]
pub(crate) struct Uploaded {
    pub files: Vec<Value>,
}

impl Report for Uploaded {
    fn human(&self, _: &mut Text) {}
}

pub(crate) fn display_name(value: &Value) -> String {
    UploadedFile::from_value(value)
        .filename
        .map(|n| crate::sanitize::strip_controls(&n))
        .unwrap_or_else(|| "(unnamed)".into())
}

/// `name  type  duration  WxH`: always the four fields, `-` for one the
/// server did not give (an image has no duration), so that every line
/// splits alike (`cut`, `awk`).
fn file_line(file: &UploadedFile) -> String {
    let name = file
        .filename
        .as_deref()
        .map(|n| one_line(&crate::sanitize::strip_controls(n)))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "(unnamed)".into());
    let kind = file
        .file_type
        .as_deref()
        .map(|k| one_line(&crate::sanitize::strip_controls(k)))
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| MISSING.into());
    let duration = file
        .duration
        .map_or_else(|| MISSING.into(), |d| format!("{}s", trim_number(d)));
    let size = match (file.width, file.height) {
        (Some(w), Some(h)) => format!("{}x{}", trim_number(w), trim_number(h)),
        _ => MISSING.into(),
    };
    [name, kind, duration, size].join("  ")
}

/// A field the server did not give.
const MISSING: &str = "-";

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `30.5`, `12`, not `12.0`.
fn trim_number(n: f64) -> String {
    let text = format!("{:.2}", n);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_always_have_four_fields() {
        let full = UploadedFile::from_value(&json!({
            "filename": "a.mp4", "file_type": "video", "duration": 30.5, "width": 1920, "height": 1080
        }));
        assert_eq!(file_line(&full), "a.mp4  video  30.5s  1920x1080");
        let image = UploadedFile::from_value(
            &json!({"filename": "b.png", "file_type": "image", "width": 10, "height": 20}),
        );
        assert_eq!(file_line(&image), "b.png  image  -  10x20");
        let odd =
            UploadedFile::from_value(&json!({"filename": "c\u{1b}[31m.mp3\n", "duration": 12}));
        assert_eq!(file_line(&odd), "c.mp3  -  12s  -");
    }
}
