//! The printer's progress: spinners and bars on a terminal (indicatif, drawn
//! on stderr, hidden otherwise), and the [`Ticker`]'s log lines when stderr
//! is not a terminal. Part of the [`super::Printer`]: it decides nothing
//! about terminals itself. While a bar or spinner draws, typed text is not
//! echoed ([`crate::terminal::EchoOff`]).

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle, TermLike};

use super::Printer;

impl Printer {
    fn target(&self) -> ProgressDrawTarget {
        if self.shows_progress() {
            ProgressDrawTarget::term_like_with_hz(
                Box::new(NarrowStderr(
                    console::Term::buffered_stderr(),
                    crate::terminal::EchoOff::new(),
                )),
                20,
            )
        } else {
            ProgressDrawTarget::hidden()
        }
    }

    /// Progress as log lines for a stderr that is not a terminal.
    pub fn ticker(&self) -> Ticker {
        Ticker {
            printer: self.clone(),
            state: None,
            last: None,
        }
    }

    /// A spinner with elapsed time; hidden unless progress is shown.
    pub fn spinner(&self, message: impl Into<String>) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(None, self.target());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// A byte progress bar (bytes, rate, ETA); hidden unless progress is shown.
    pub fn bytes_bar(&self, total: Option<u64>, message: impl Into<String>) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(total, self.target());
        // Sizes as every other size nemo prints (`crate::size`), not
        // indicatif's own `KiB` spelling.
        let template = if total.is_some() {
            "{msg} [{bar:30}] {done}/{size} {rate} ETA {eta}"
        } else {
            "{spinner} {msg} {done} {rate}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            let style = style
                .with_key("done", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&crate::size::human(s.pos()));
                })
                .with_key("size", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&crate::size::human(s.len().unwrap_or(0)));
                })
                .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}/s", crate::size::human(s.per_sec() as u64));
                });
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.into());
        bar
    }

    /// A percent bar (0–100); hidden unless progress is shown.
    pub fn percent_bar(&self, message: impl Into<String>) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(100), self.target());
        if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}% ({elapsed})") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.into());
        bar
    }
}

/// Progress for a stderr that is not a terminal (a CI log): a line at each
/// change of state, and between them at most one line every
/// [`Ticker::EVERY`] while something else (a percentage) moves. Silent on a
/// terminal, where a bar shows it all, and with `--quiet`.
#[derive(Debug)]
pub struct Ticker {
    printer: Printer,
    state: Option<String>,
    last: Option<(Instant, String)>,
}

impl Ticker {
    /// The least time between two lines of the same state.
    pub const EVERY: Duration = Duration::from_secs(10);

    /// Reports `state` with its `line`: printed when the state is new, or
    /// when the line changed and [`Ticker::EVERY`] passed since the last one.
    pub fn update(&mut self, state: &str, line: impl FnOnce() -> String) {
        if self.printer.shows_progress() {
            return;
        }
        if let Some(line) = self.decide(state, line(), Instant::now()) {
            self.printer.status(line);
        }
    }

    /// The line to print at `now`, if any.
    fn decide(&mut self, state: &str, line: String, now: Instant) -> Option<String> {
        let new_state = self.state.as_deref() != Some(state);
        let due = match &self.last {
            None => true,
            Some((at, last)) => *last != line && now.duration_since(*at) >= Ticker::EVERY,
        };
        if !(new_state || due) {
            return None;
        }
        self.state = Some(state.to_string());
        self.last = Some((now, line.clone()));
        Some(line)
    }
}

/// stderr for indicatif, two columns narrower than the terminal. indicatif
/// pads a bar's line to the full width, which leaves the cursor in the last
/// column; the `^C` a terminal echoes on Ctrl-C then wraps onto a new line,
/// and clearing the bar afterwards would clear that line instead, leaving
/// the bar on screen. While it draws, what is typed is not echoed (it would
/// mix into the bar's line); the echo comes back when the bar is dropped.
#[derive(Debug)]
struct NarrowStderr(console::Term, crate::terminal::EchoOff);

impl TermLike for NarrowStderr {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(2).max(1)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::Options;

    #[test]
    fn the_ticker_prints_state_changes_and_at_most_a_line_every_ten_seconds() {
        let mut ticker = Printer::new(Options::default()).ticker();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut say = |state: &str, line: &str, s| ticker.decide(state, line.into(), at(s));
        assert_eq!(say("queued", "q 0%", 0).as_deref(), Some("q 0%"));
        assert_eq!(say("queued", "q 0%", 20), None, "nothing moved");
        assert_eq!(say("rendering", "r 5%", 21).as_deref(), Some("r 5%"));
        assert_eq!(say("rendering", "r 9%", 25), None, "too soon");
        assert_eq!(say("rendering", "r 40%", 31).as_deref(), Some("r 40%"));
        assert_eq!(say("rendering", "r 41%", 32), None);
        assert_eq!(say("completed", "c 100%", 33).as_deref(), Some("c 100%"));
    }
}
