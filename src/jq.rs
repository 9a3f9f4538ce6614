//! `--jq EXPR`: a jq filter built in (the jaq crates), compiled once while
//! the settings are resolved and run by the printer on every JSON value it
//! would print (`../shared/spec/cli.md` "Global options").
//!
//! Output is shaped like `gh --jq`: a string result prints raw, any other
//! result as compact JSON, one result a line. This module only compiles and
//! runs filters; it must not print.

use std::sync::Arc;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::Val;

use crate::error::{Error, Kind, Result};

type Filter = jaq_core::Filter<data::JustLut<Val>>;

/// A compiled `--jq` filter, cheap to clone.
#[derive(Clone)]
pub struct Jq {
    expr: Arc<str>,
    filter: Arc<Filter>,
}

impl std::fmt::Debug for Jq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jq").field("expr", &self.expr).finish()
    }
}

impl Jq {
    /// Parses and compiles `expr`; a bad expression is a usage error naming
    /// it and what is wrong.
    pub fn compile(expr: &str) -> Result<Jq> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let program = File {
            code: expr,
            path: (),
        };
        let modules = loader.load(&arena, program).map_err(|errs| {
            let what = errs
                .into_iter()
                .flat_map(|(_, e)| load_messages(e))
                .collect::<Vec<_>>();
            bad(expr, &what.join("; "))
        })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| {
                let what = errs
                    .into_iter()
                    .flat_map(|(_, es)| es)
                    .map(|(name, undefined)| format!("undefined {} `{name}`", undefined.as_str()))
                    .collect::<Vec<_>>();
                bad(expr, &what.join("; "))
            })?;
        Ok(Jq {
            expr: expr.into(),
            filter: Arc::new(filter),
        })
    }

    /// Runs the filter on `input` (JSON text): the lines to print, one per
    /// result. A runtime error (`.a` on a number, `error("x")`) is an error
    /// of kind usage that names the expression.
    pub fn lines(&self, input: &str) -> Result<Vec<String>> {
        let input = jaq_json::read::parse_single(input.as_bytes())
            .map_err(|e| Error::new(Kind::Io, format!("cannot read JSON for --jq: {e}")))?;
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut lines = Vec::new();
        for out in self.filter.id.run((ctx, input)) {
            // `halt` ends the output here (never the process, as jaq's own
            // unwrap_valr would); `halt_error` is a failure.
            let out = match out.map_err(|e| e.get_err().map_err(|e| e.get_halt())) {
                Ok(value) => Ok(value),
                Err(Ok(error)) => Err(error.to_string()),
                Err(Err(Ok(0))) => break,
                Err(Err(Ok(code))) => Err(format!("halt_error (exit status {code})")),
                Err(Err(Err(_))) => Err("stopped".to_string()),
            };
            match out {
                Ok(Val::TStr(s) | Val::BStr(s)) => {
                    lines.push(String::from_utf8_lossy(&s).into_owned())
                }
                Ok(value) => lines.push(value.to_string()),
                Err(e) => {
                    return Err(Error::usage(format!(
                        "--jq {:?} failed: {e}",
                        self.expr.as_ref()
                    )));
                }
            }
        }
        Ok(lines)
    }
}

fn bad(expr: &str, what: &str) -> Error {
    let what = if what.is_empty() {
        "it does not parse".to_string()
    } else {
        what.to_string()
    };
    Error::usage(format!(
        "--jq {expr:?} is not a valid jq expression: {what}"
    ))
    .with_hint("for example `--jq .available` or `--jq '.jobs[].path'`")
}

fn load_messages(err: jaq_core::load::Error<&str>) -> Vec<String> {
    use jaq_core::load::Error as E;
    match err {
        E::Io(errs) => errs
            .into_iter()
            .map(|(path, e)| format!("{path}: {e}"))
            .collect(),
        E::Lex(errs) => errs
            .into_iter()
            .map(|(expect, at)| found(expect.as_str(), at))
            .collect(),
        E::Parse(errs) => errs
            .into_iter()
            .map(|(expect, at)| found(expect.as_str(), at))
            .collect(),
    }
}

fn found(expected: &str, at: &str) -> String {
    let at: String = at.chars().take(20).collect();
    if at.is_empty() {
        format!("expected {expected} at the end")
    } else {
        format!("expected {expected} before `{at}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(expr: &str, input: &str) -> Vec<String> {
        Jq::compile(expr).unwrap().lines(input).unwrap()
    }

    #[test]
    fn strings_raw_others_compact_one_a_line() {
        assert_eq!(run(".available", r#"{"available":100}"#), ["100"]);
        assert_eq!(run(".a", r#"{"a":"x \"y\""}"#), ["x \"y\""]);
        assert_eq!(
            run(".a", r#"{"a":[1, {"b": null}]}"#),
            [r#"[1,{"b":null}]"#]
        );
        assert_eq!(run(".[]", r#"[1,"two",true]"#), ["1", "two", "true"]);
        assert_eq!(run("empty", "{}"), Vec::<String>::new());
        assert_eq!(run("map(. * 2) | add", "[1,2,3]"), ["12"]);
    }

    #[test]
    fn bad_expressions_are_usage_errors_naming_them() {
        for expr in [".[", "nosuchfilter", "$x", ".a |"] {
            let err = Jq::compile(expr).unwrap_err();
            assert!(err.is(Kind::Usage), "{expr}");
            assert!(err.to_string().contains(&format!("{expr:?}")), "{err}");
        }
        let err = Jq::compile(".a").unwrap().lines("3").unwrap_err();
        assert!(err.is(Kind::Usage));
        let err = Jq::compile("halt_error").unwrap().lines("1").unwrap_err();
        assert!(err.to_string().contains("halt_error"), "{err}");
    }

    #[test]
    fn halt_ends_the_output_without_ending_the_process() {
        assert_eq!(run("1, halt, 2", "null"), ["1"]);
    }
}
