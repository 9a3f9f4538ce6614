//! A look at the raw command line for what must be known when clap could
//! not parse it (or before it does): the colour switches, and whether a
//! usage error is to be reported as JSON (`--json`, `--jq EXPR`).
//!
//! Only the entry point ([`crate::main_entry`]) uses this; everything else reads settings.

use std::ffi::OsString;

use crate::cli::ColorWhen;
use crate::printer::{Options, Printer};
use crate::settings;

fn args() -> Vec<OsString> {
    // Up to `--`, after which nothing is an option.
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .collect()
}

/// Whether a flag without a value is present.
pub fn has(flag: &str) -> bool {
    args().iter().any(|a| a == flag)
}

/// The value of `--name VALUE` or `--name=VALUE` (the last one given).
fn value(name: &str) -> Option<String> {
    let args = args();
    let prefix = format!("{name}=");
    let mut found = None;
    for (i, arg) in args.iter().enumerate() {
        let Some(arg) = arg.to_str() else { continue };
        if arg == name {
            found = args.get(i + 1).and_then(|v| v.to_str()).map(str::to_string);
        } else if let Some(v) = arg.strip_prefix(&prefix) {
            found = Some(v.to_string());
        }
    }
    found
}

/// `--color WHEN`, when it names a known choice.
pub fn color() -> Option<ColorWhen> {
    match value("--color")?.as_str() {
        "auto" => Some(ColorWhen::Auto),
        "always" => Some(ColorWhen::Always),
        "never" => Some(ColorWhen::Never),
        _ => None,
    }
}

/// A printer for errors found before the settings: colours and the JSON
/// form as the command line asks, `--jq` applied when it compiles.
pub fn printer() -> Printer {
    let expr = value("--jq");
    let jq = expr
        .as_deref()
        .and_then(|expr| crate::jq::Jq::compile(expr).ok());
    // A --jq that does not compile cannot filter: the error document goes
    // out as it is, the one JSON document stdout promises.
    let json = expr.is_some() || has("--json");
    Printer::new(Options {
        json,
        jq,
        color: settings::color_choice(color(), has("--no-color")),
        ..Options::default()
    })
}
