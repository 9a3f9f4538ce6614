//! What `nemo batch` shows while it runs: on a terminal, an indicatif
//! `MultiProgress` with one line per running job (its phase and elapsed
//! time); otherwise a stderr line per job and state change. Saved paths go
//! to stdout as they land (not with `--json`, whose one document comes at
//! the end). Every line is written through the live display so it never
//! tears it.
//!
//! It only shows; the journal and the jobs are not its business.

use std::cell::RefCell;
use std::collections::HashMap;

use indicatif::{MultiProgress, ProgressBar};

use crate::error::Result;
use crate::flow::job::Phase;
use crate::printer::Printer;
use crate::report::Shown;

pub(crate) struct Display {
    printer: Printer,
    multi: Option<MultiProgress>,
    bars: RefCell<HashMap<usize, ProgressBar>>,
}

impl Display {
    pub(crate) fn new(printer: &Printer) -> Display {
        Display {
            printer: printer.clone(),
            multi: printer.shows_progress().then(MultiProgress::new),
            bars: RefCell::new(HashMap::new()),
        }
    }

    /// Runs `write` without tearing the live display.
    fn above(&self, write: impl FnOnce()) {
        match &self.multi {
            Some(multi) => multi.suspend(write),
            None => write(),
        }
    }

    /// A job starts: its line on the terminal.
    pub(crate) fn start(&self, line: usize) {
        if let Some(multi) = &self.multi {
            let bar = multi.add(self.printer.spinner(format!("line {line}: starting")));
            self.bars.borrow_mut().insert(line, bar);
        }
    }

    /// The job's phase, on its terminal line.
    pub(crate) fn phase(&self, line: usize, phase: &Phase) {
        if let Some(bar) = self.bars.borrow().get(&line) {
            bar.set_message(format!("line {line}: {phase}"));
        }
    }

    /// A state change: a stderr line when there is no live display.
    pub(crate) fn state(&self, line: usize, text: &str) {
        if self.multi.is_none() {
            self.printer.status(format!("line {line}: {text}"));
        }
    }

    /// A line on stderr in any case (a failure, a skipped job).
    pub(crate) fn note(&self, line: usize, text: &str) {
        self.above(|| self.printer.status(format!("line {line}: {text}")));
    }

    /// A saved file: its path on stdout.
    pub(crate) fn saved(&self, line: usize, path: &str) -> Result<()> {
        self.state(line, &format!("saved {path}"));
        let mut result = Ok(());
        self.above(|| {
            result = self
                .printer
                .human(&Shown::new(serde_json::Value::Null).line(path))
        });
        result
    }

    /// The job ended: its terminal line goes.
    pub(crate) fn end(&self, line: usize) {
        if let Some(bar) = self.bars.borrow_mut().remove(&line) {
            bar.finish_and_clear();
            if let Some(multi) = &self.multi {
                multi.remove(&bar);
            }
        }
    }

    /// Clears whatever is still drawn.
    pub(crate) fn clear(&self) {
        let lines: Vec<usize> = self.bars.borrow().keys().copied().collect();
        for line in lines {
            self.end(line);
        }
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }
}
