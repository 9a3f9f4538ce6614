//! The tools' arguments: one type per tool, read strictly (an unknown or
//! mistyped field is an error, as a bad flag is), whose doc comments are
//! the descriptions a model reads in the tool's input schema.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NoArgs {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SessionNewArgs {
    /// Project name (default: "project").
    pub(super) name: Option<String>,
    /// Language of the agent's replies, an ISO code such as en, zh-CN, ja (default: the locale's).
    pub(super) language: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ChatArgs {
    /// What to ask the agent, in plain words.
    pub(super) message: String,
    /// The session to work in (default: the current one; one is made when there is none).
    pub(super) session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadArgs {
    /// Local file paths or http(s):// URLs.
    pub(super) paths_or_urls: Vec<String>,
    /// The session to upload into (default: the current one).
    pub(super) session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StateArgs {
    /// The session to read (default: the current one).
    pub(super) session_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ExportArgs {
    /// Where to save the file: a file path, or an existing folder.
    pub(super) output: PathBuf,
    /// The session to render (default: the current one).
    pub(super) session_id: Option<String>,
    /// mp4 (default), mov, webm or gif.
    pub(super) format: Option<String>,
    /// low, medium or high (default).
    pub(super) quality: Option<String>,
    /// Overwrite the output file if it exists.
    #[serde(default)]
    pub(super) force: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ExportResumeArgs {
    /// The render to finish (default: the latest recorded).
    pub(super) render_id: Option<String>,
    /// Where to save the file (default: where its export meant to).
    pub(super) output: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[serde(default)]
    pub(super) force: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GenerateArgs {
    /// What video to make, in plain words.
    pub(super) prompt: String,
    /// Where to save the file: a file path, or an existing folder.
    pub(super) output: PathBuf,
    /// Files or http(s):// URLs to upload into the job's session first.
    #[serde(default)]
    pub(super) files: Vec<String>,
    /// mp4 (default), mov, webm or gif.
    pub(super) format: Option<String>,
    /// low, medium or high (default).
    pub(super) quality: Option<String>,
    /// Check everything and return the plan; send nothing, spend nothing.
    #[serde(default)]
    pub(super) dry_run: bool,
    /// Overwrite the output file if it exists.
    #[serde(default)]
    pub(super) force: bool,
}
