//! The jobs file of `nemo batch`: one job a line, a JSON object
//! `{"prompt", "output"?, "files"?, "name"?}` or a plain line that is the
//! prompt; blank lines and lines starting with `#` are skipped.
//!
//! [`parse`] reads bytes in one pass (time linear in their size, never a
//! panic), with a cap on a line's length and on the number of jobs;
//! [`check`] then checks every job as `generate` would (uploads, the output
//! path) and names the line of the first problem (exit 7). Nothing here
//! touches the network or writes a file.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::flow::upload::{self, Item};

/// The longest line read (64 KiB).
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;
/// The most jobs one file may hold.
pub(crate) const MAX_JOBS: usize = 10_000;
/// The most bytes read from a jobs file.
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A job as written in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawJob {
    /// 1-based line number.
    pub line: usize,
    pub prompt: String,
    pub output: Option<String>,
    pub files: Vec<String>,
    pub name: Option<String>,
}

/// A line that cannot be a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineError {
    pub line: usize,
    pub problem: String,
}

impl LineError {
    pub(crate) fn into_error(self, file: &str) -> Error {
        Error::bad_input(
            format!("{file} line {}: {}; nothing was sent", self.line, self.problem),
            Some(
                "a line is a prompt, or {\"prompt\":\"…\",\"output\":\"…\",\"files\":[…],\"name\":\"…\"}; blank and # lines are skipped"
                    .into(),
            ),
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonJob {
    prompt: String,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Reads the jobs from the bytes of a file.
pub(crate) fn parse(bytes: &[u8]) -> std::result::Result<Vec<RawJob>, LineError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut jobs = Vec::new();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        let fail = |problem: String| LineError { line, problem };
        if raw.len() > MAX_LINE_BYTES {
            return Err(fail(format!(
                "the line is longer than {} KiB",
                MAX_LINE_BYTES / 1024
            )));
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text =
            std::str::from_utf8(raw).map_err(|_| fail("the line is not valid UTF-8".into()))?;
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if jobs.len() == MAX_JOBS {
            return Err(fail(format!("a file holds at most {MAX_JOBS} jobs")));
        }
        let job = if text.starts_with('{') {
            let json: JsonJob = serde_json::from_str(text)
                .map_err(|e| fail(format!("not a job object ({})", short(&e.to_string()))))?;
            RawJob {
                line,
                prompt: json.prompt.trim().to_string(),
                output: json.output,
                files: json.files,
                name: json.name,
            }
        } else {
            RawJob {
                line,
                prompt: text.to_string(),
                output: None,
                files: Vec::new(),
                name: None,
            }
        };
        if job.prompt.is_empty() {
            return Err(fail("the prompt is empty".into()));
        }
        if job
            .prompt
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(fail("the prompt holds control characters".into()));
        }
        jobs.push(job);
    }
    Ok(jobs)
}

/// A serde message cut to a sane length, control characters removed.
fn short(text: &str) -> String {
    let text = crate::sanitize::strip_controls(text);
    let mut out: String = text.chars().take(160).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// A job that passed every check.
#[derive(Debug)]
pub(crate) struct Job {
    pub line: usize,
    pub prompt: String,
    pub uploads: Vec<Item>,
    pub name: String,
    /// Where the file goes (inside the output folder).
    pub output: PathBuf,
    /// The job's identity in the journal (its content, not its line).
    pub key: String,
}

/// Checks every job: its uploads (as `upload` does), its output (inside
/// `dir`, one job per file; a folder in its path is made before the run);
/// names the line of the first problem.
pub(crate) fn check(raw: Vec<RawJob>, dir: &Path, format: &str, file: &str) -> Result<Vec<Job>> {
    let mut seen = HashSet::new();
    let mut jobs = Vec::with_capacity(raw.len());
    for job in raw {
        let fail = |problem: String| {
            LineError {
                line: job.line,
                problem,
            }
            .into_error(file)
        };
        let relative = match &job.output {
            Some(output) => checked_output(output).map_err(fail)?,
            None => PathBuf::from(format!("{}-{}.{format}", job.line, slug(&job.prompt))),
        };
        let output = dir.join(&relative);
        if !seen.insert(output.clone()) {
            return Err(fail(format!(
                "another line already writes {}",
                relative.display()
            )));
        }
        if let Some(parent) = relative.parent().filter(|p| !p.as_os_str().is_empty())
            && dir.join(parent).exists()
            && !dir.join(parent).is_dir()
        {
            return Err(fail(format!(
                "{} is not a folder",
                dir.join(parent).display()
            )));
        }
        let uploads = if job.files.is_empty() {
            Vec::new()
        } else {
            let args: Vec<std::ffi::OsString> = job.files.iter().map(Into::into).collect();
            upload::check_all(&args).map_err(|err| {
                let message = format!("{file} line {}: {}", job.line, err.message());
                match err.hint() {
                    Some(hint) => err.with_message(message).with_hint(hint),
                    None => err.with_message(message),
                }
            })?
        };
        let key = crate::flow::journal::job_key(
            &job.prompt,
            &job.files,
            job.output.as_deref(),
            job.name.as_deref(),
        );
        let name = match job.name.as_deref().map(str::trim) {
            Some("") => return Err(fail("the name is empty".into())),
            Some(name) => name.to_string(),
            None => format!("batch-{}", job.line),
        };
        jobs.push(Job {
            line: job.line,
            prompt: job.prompt,
            uploads,
            name,
            output,
            key,
        });
    }
    Ok(jobs)
}

/// `output` as a path inside the output folder: relative, no `..`.
fn checked_output(output: &str) -> std::result::Result<PathBuf, String> {
    let path = PathBuf::from(output.trim());
    if path.as_os_str().is_empty() {
        return Err("the output is empty".into());
    }
    let inside = path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !inside || output.ends_with('/') {
        return Err(format!(
            "the output {:?} must be a file name inside the output folder (-o), without ..",
            crate::sanitize::strip_controls(output)
        ));
    }
    Ok(path)
}

/// The prompt's first words as a file name: lowercase ASCII letters and
/// digits joined by `-`, at most 40 characters; `video` when none is left.
pub(crate) fn slug(prompt: &str) -> String {
    let mut slug = String::new();
    for word in prompt
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let extra = usize::from(!slug.is_empty()) + word.len();
        if slug.len() + extra > 40 {
            if slug.is_empty() {
                slug = word[..40].to_ascii_lowercase();
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() {
        slug.push_str("video");
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_json_and_skips() {
        let text = "# jobs\n\na panda\r\n{\"prompt\":\" a cat \",\"output\":\"cat.mp4\",\"files\":[\"a.png\"],\"name\":\"c\"}\n  # indented comment\n";
        let jobs = parse(text.as_bytes()).unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].line, 3);
        assert_eq!(jobs[0].prompt, "a panda");
        assert_eq!(jobs[1].line, 4);
        assert_eq!(jobs[1].prompt, "a cat");
        assert_eq!(jobs[1].output.as_deref(), Some("cat.mp4"));
        assert_eq!(jobs[1].files, ["a.png"]);
    }

    #[test]
    fn bad_lines_are_named() {
        let err = parse(b"ok\n{\"promt\":\"x\"}\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.problem.contains("unknown field"), "{}", err.problem);
        assert_eq!(parse(b"a\n\xff\n").unwrap_err().line, 2);
        assert_eq!(parse(b"{\"prompt\":\"  \"}").unwrap_err().line, 1);
        let long = vec![b'a'; MAX_LINE_BYTES + 1];
        assert!(parse(&long).unwrap_err().problem.contains("longer"));
    }

    #[test]
    fn outputs_stay_inside_the_folder() {
        assert!(checked_output("a.mp4").is_ok());
        assert!(checked_output("sub/a.mp4").is_ok());
        assert!(checked_output("../a.mp4").is_err());
        assert!(checked_output("/etc/a.mp4").is_err());
        assert!(checked_output("").is_err());
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("A panda, in a bamboo forest!"),
            "a-panda-in-a-bamboo-forest"
        );
        assert_eq!(slug("熊猫"), "video");
        assert_eq!(slug(&"x".repeat(100)).len(), 40);
        assert!(slug("one two three four five six seven eight nine ten").len() <= 40);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any bytes: no panic, every job within the caps, line numbers
        /// rising, each prompt from a line of its own.
        #[test]
        fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            if let Ok(jobs) = parse(&bytes) {
                prop_assert!(jobs.len() <= MAX_JOBS);
                let lines = bytes.split(|b| *b == b'\n').count();
                prop_assert!(jobs.len() <= lines);
                for pair in jobs.windows(2) {
                    prop_assert!(pair[0].line < pair[1].line);
                }
                for job in &jobs {
                    prop_assert!(!job.prompt.is_empty());
                    prop_assert!(job.prompt.len() <= MAX_LINE_BYTES);
                }
            }
        }

        /// Lines made of job-like pieces: parsed or refused with a line
        /// number inside the file.
        #[test]
        fn job_like_lines(lines in proptest::collection::vec(
            prop_oneof![
                Just("a panda".to_string()),
                Just("# c".to_string()),
                Just(String::new()),
                Just("{\"prompt\":\"x\"}".to_string()),
                Just("{\"prompt\":".to_string()),
                "[ -~]{0,40}",
            ], 0..50)) {
            let text = lines.join("\n");
            match parse(text.as_bytes()) {
                Ok(jobs) => prop_assert!(jobs.len() <= lines.len()),
                Err(err) => prop_assert!(err.line >= 1 && err.line <= lines.len().max(1)),
            }
        }
    }

    /// The job cap holds, and a file at the cap is read whole (one pass
    /// over the bytes: each line is split once and parsed once).
    #[test]
    fn many_jobs_are_capped() {
        let text = "a\n".repeat(MAX_JOBS + 1);
        let err = parse(text.as_bytes()).unwrap_err();
        assert_eq!(err.line, MAX_JOBS + 1);
        let ok = "a\n".repeat(MAX_JOBS);
        assert_eq!(parse(ok.as_bytes()).unwrap().len(), MAX_JOBS);
    }
}
