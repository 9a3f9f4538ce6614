//! The render options `export`, `generate` and `batch` share: the typed
//! `--format` and `--quality` (clap lists and checks their values, so a bad
//! one is a usage error before anything runs) and how long and how often a
//! render is waited for.
//!
//! Only definitions live here; the commands decide what the values do.

use std::fmt;

/// `--format`: the container of the rendered file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Mp4,
    Mov,
    Webm,
    Gif,
}

impl Format {
    /// The name the API and file names use.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Mp4 => "mp4",
            Format::Mov => "mov",
            Format::Webm => "webm",
            Format::Gif => "gif",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `--quality`: the render's quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Quality {
    Low,
    Medium,
    #[default]
    High,
}

impl Quality {
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Low => "low",
            Quality::Medium => "medium",
            Quality::High => "high",
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to render and how to wait for it: flattened into `export`,
/// `generate` and `batch`, so the three spell, check and document it alike.
/// A command whose `--timeout` bounds more than the wait says so with
/// `mut_arg("timeout", …)` on its own `Args`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RenderArgs {
    /// Output format
    #[arg(
        long,
        value_enum,
        default_value_t,
        ignore_case = true,
        value_name = "FORMAT"
    )]
    pub format: Format,

    /// Render quality
    #[arg(
        long,
        value_enum,
        default_value_t,
        ignore_case = true,
        value_name = "QUALITY"
    )]
    pub quality: Quality,

    #[command(flatten)]
    pub wait: WaitArgs,
}

/// How long and how often to wait for a render (also `export resume`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WaitArgs {
    /// Seconds between status checks, fixed [default: widening ×1.5 from two seconds up to fifteen]
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub poll_interval: Option<f64>,

    /// Give up waiting after SECS (exit 8; the render goes on and can be resumed) [default: 1800]
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<f64>,
}

/// A number of seconds above 0, at most a week.
pub fn parse_secs(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 7.0 * 86_400.0 => Ok(secs),
        _ => Err("expected a number of seconds above 0 (such as 30 or 0.5)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn secs_flags() {
        assert_eq!(parse_secs("0.5"), Ok(0.5));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-3").is_err());
        assert!(parse_secs("NaN").is_err());
        assert!(parse_secs("inf").is_err());
    }

    #[test]
    fn names_are_the_api_s() {
        for format in Format::value_variants() {
            let name = format.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(name.as_deref(), Some(format.as_str()));
        }
        for quality in Quality::value_variants() {
            let name = quality
                .to_possible_value()
                .map(|v| v.get_name().to_string());
            assert_eq!(name.as_deref(), Some(quality.as_str()));
        }
    }
}
