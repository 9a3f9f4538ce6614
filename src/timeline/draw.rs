//! A picture of the timeline for a terminal: one row per track, each
//! segment a labelled bar on a time axis fitted to a width
//! (`../shared/spec/cli.md` "nemo state").
//!
//! ```text
//!       0s      2s       4s       6s       8s    10s
//! Video [clip one────────────][clip two────────────]
//! Title [Paradise F…]
//! BGM   [music 80%─────────────────────────────────]
//! ```
//!
//! Pure text in, lines out: it does not know where the lines go, and it
//! never panics nor draws a line wider than the width it was given (at
//! most [`MAX_WIDTH`]; narrower than [`MIN_WIDTH`] there is no picture, the
//! summary below it says it all), whatever the draft holds:
//! labels are cut with `…` by display width (wide CJK characters count
//! two), control characters dropped.

use unicode_width::UnicodeWidthChar;

use super::{Segment, Timeline};

/// Below this, no picture: the bars would say nothing.
pub const MIN_WIDTH: usize = 20;
pub const MAX_WIDTH: usize = 200;
/// The widest the track names column gets.
const LABEL_MAX: usize = 12;

/// The picture, `width` columns at most (and at most 200); no lines for a
/// timeline without tracks or a width under [`MIN_WIDTH`].
pub fn draw(timeline: &Timeline, width: usize) -> Vec<String> {
    if timeline.tracks.is_empty() || width < MIN_WIDTH {
        return Vec::new();
    }
    let width = width.min(MAX_WIDTH);
    // Narrow screens give the names a third of the width at most.
    let label_width = timeline
        .tracks
        .iter()
        .map(|t| text_width(&clean(&t.label)))
        .max()
        .unwrap_or(0)
        .clamp(1, LABEL_MAX.min(width / 3));
    // Track names, a space, the bars.
    let bars = width - label_width - 1;
    let total = timeline
        .tracks
        .iter()
        .flat_map(|t| t.segments.iter())
        .map(Segment::end_ms)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut lines = vec![format!("{} {}", " ".repeat(label_width), axis(total, bars))];
    for track in &timeline.tracks {
        let mut row = Row::new(bars);
        for segment in &track.segments {
            let from = column(segment.start_ms, total, bars);
            let to = column(segment.end_ms(), total, bars)
                .max(from + 1)
                .min(bars);
            if from < bars {
                row.put(from, &bar(&segment_label(segment), to - from));
            }
        }
        let name = fit(&clean(&track.label), label_width);
        let pad = label_width - text_width(&name);
        lines.push(
            format!("{name}{} {}", " ".repeat(pad), row.render())
                .trim_end()
                .to_string(),
        );
    }
    lines
}

/// A segment's label: its name or text, and its volume when known.
fn segment_label(segment: &Segment) -> String {
    let name = segment.name.as_deref().map(clean).unwrap_or_default();
    match (name.is_empty(), segment.volume) {
        (false, Some(v)) => format!("{name} {v}%"),
        (true, Some(v)) => format!("{v}%"),
        (_, None) => name,
    }
}

/// The column of a time, 0..=bars (in i128: any i64 fits).
fn column(ms: i64, total: i64, bars: usize) -> usize {
    let ms = i128::from(ms.clamp(0, total));
    let col = ms * bars as i128 / i128::from(total);
    usize::try_from(col).unwrap_or(bars).min(bars)
}

/// A bar exactly `n` columns wide: `[label───]`, the label cut with `…`.
fn bar(label: &str, n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "▮".into(),
        2 => "[]".into(),
        _ => {
            let inner = fit(label, n - 2);
            let fill = n - 2 - text_width(&inner);
            format!("[{inner}{}]", "─".repeat(fill))
        }
    }
}

/// The time axis: labels at round steps, as many as fit.
fn axis(total_ms: i64, bars: usize) -> String {
    let most = (bars / 8).max(1) as i128;
    let total = i128::from(total_ms);
    let mut step: i128 = 500;
    let steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
    let mut i = 0;
    while total / step > most {
        step = match steps.get(i) {
            Some(s) => s * 1000,
            None => step.saturating_mul(10),
        };
        i += 1;
    }
    let mut row = Row::new(bars);
    let mut next_free = 0;
    let mut t: i128 = 0;
    while t <= total {
        let col = usize::try_from(t * bars as i128 / total).unwrap_or(bars);
        let label = time_label(t);
        // The last label may lean left to fit.
        let col = col.min(bars.saturating_sub(label.len()));
        if col >= next_free && col + label.len() <= bars {
            row.put(col, &label);
            next_free = col + label.len() + 1;
        }
        t = t.saturating_add(step);
    }
    row.render().trim_end().to_string()
}

/// `0s`, `1.5s`, `45s`, `2m`, `2m30s`, `3h`.
fn time_label(ms: i128) -> String {
    if ms % 1000 != 0 {
        return format!("{}.{}s", ms / 1000, (ms % 1000) / 100);
    }
    let s = ms / 1000;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

/// Printable characters only (controls and zero-width ones dropped, line
/// breaks as spaces).
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|c| c.width().is_some_and(|w| w > 0))
        .collect()
}

fn text_width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text` cut to `n` columns, ending in `…` when cut.
fn fit(text: &str, n: usize) -> String {
    if text_width(text) <= n {
        return text.to_string();
    }
    if n == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > n - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// A row of fixed width; a wide character takes two cells.
struct Row {
    cells: Vec<Cell>,
}

#[derive(Clone, Copy)]
enum Cell {
    Char(char),
    /// The second half of the wide character before it.
    Rest,
}

impl Row {
    fn new(width: usize) -> Row {
        Row {
            cells: vec![Cell::Char(' '); width],
        }
    }

    /// Writes `text` from column `at`, over what was there, cut at the end.
    fn put(&mut self, at: usize, text: &str) {
        let mut col = at;
        for c in text.chars() {
            let w = c.width().unwrap_or(0);
            if w == 0 {
                continue;
            }
            if col + w > self.cells.len() {
                break;
            }
            for i in col..col + w {
                self.clear(i);
            }
            self.cells[col] = Cell::Char(c);
            if w == 2 {
                self.cells[col + 1] = Cell::Rest;
            }
            col += w;
        }
    }

    /// Blanks a cell, and the other half of a wide character it is part of.
    fn clear(&mut self, i: usize) {
        match self.cells[i] {
            Cell::Rest if i > 0 => self.cells[i - 1] = Cell::Char(' '),
            Cell::Char(c) if c.width() == Some(2) && i + 1 < self.cells.len() => {
                self.cells[i + 1] = Cell::Char(' ')
            }
            _ => {}
        }
        self.cells[i] = Cell::Char(' ');
    }

    fn render(&self) -> String {
        self.cells
            .iter()
            .filter_map(|c| match c {
                Cell::Char(c) => Some(*c),
                Cell::Rest => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{Track, TrackKind};
    use proptest::prelude::*;

    fn seg(name: Option<&str>, start_ms: i64, duration_ms: i64, volume: Option<i64>) -> Segment {
        Segment {
            id: None,
            name: name.map(str::to_string),
            start_ms,
            duration_ms,
            volume,
        }
    }

    fn track(label: &str, segments: Vec<Segment>) -> Track {
        Track {
            kind: TrackKind::Video,
            label: label.into(),
            segments,
        }
    }

    #[test]
    fn a_small_timeline() {
        let timeline = Timeline {
            tracks: vec![
                track(
                    "Video",
                    vec![
                        seg(Some("clip one"), 0, 5000, None),
                        seg(Some("clip two"), 5000, 5000, None),
                    ],
                ),
                track("Title", vec![seg(Some("Paradise Found"), 0, 3000, None)]),
                track("BGM", vec![seg(Some("music"), 0, 10000, Some(80))]),
            ],
        };
        let lines = draw(&timeline, 50);
        assert_eq!(
            lines,
            [
                "      0s      2s       4s       6s       8s    10s",
                "Video [clip one────────────][clip two────────────]",
                "Title [Paradise F…]",
                "BGM   [music 80%─────────────────────────────────]",
            ]
        );
        assert!(lines.iter().all(|l| text_width(l) <= 50), "{lines:#?}");
    }

    #[test]
    fn labels_are_cut_with_an_ellipsis_and_wide_characters_count_two() {
        assert_eq!(fit("Paradise Found", 6), "Parad…");
        assert_eq!(fit("天堂发现了", 5), "天堂…");
        assert_eq!(text_width(&fit("天堂发现了", 4)), 3);
        assert_eq!(bar("Paradise Found", 8), "[Parad…]");
        assert_eq!(bar("x", 2), "[]");
        assert_eq!(bar("x", 1), "▮");
        let long = track(
            "A very long track name",
            vec![seg(Some("x"), 0, 1000, None)],
        );
        let lines = draw(&Timeline { tracks: vec![long] }, 40);
        assert!(lines[1].starts_with("A very long… [x"), "{lines:#?}");
    }

    #[test]
    fn time_labels() {
        assert_eq!(time_label(0), "0s");
        assert_eq!(time_label(1500), "1.5s");
        assert_eq!(time_label(45_000), "45s");
        assert_eq!(time_label(150_000), "2m30s");
        assert_eq!(time_label(3_600_000), "1h");
    }

    #[test]
    fn nothing_for_no_tracks_and_empty_rows_for_empty_tracks() {
        assert!(draw(&Timeline::default(), 80).is_empty());
        let lines = draw(
            &Timeline {
                tracks: vec![track("Video", vec![])],
            },
            80,
        );
        assert_eq!(lines, ["      0s", "Video"]);
    }

    fn any_segment() -> impl Strategy<Value = Segment> {
        (
            proptest::option::of(".{0,40}"),
            prop_oneof![0i64..100_000, any::<i64>().prop_map(|v| v.max(0))],
            prop_oneof![0i64..100_000, any::<i64>().prop_map(|v| v.max(0))],
            proptest::option::of(any::<i64>()),
        )
            .prop_map(|(name, start, duration, volume)| Segment {
                id: None,
                name,
                start_ms: start,
                duration_ms: duration,
                volume,
            })
    }

    proptest! {
        #[test]
        fn never_wider_than_the_width_and_never_panics(
            tracks in proptest::collection::vec(
                (".{0,30}", proptest::collection::vec(any_segment(), 0..8)),
                0..6,
            ),
            width in 0usize..400,
        ) {
            let timeline = Timeline {
                tracks: tracks
                    .into_iter()
                    .map(|(label, segments)| track(&label, segments))
                    .collect(),
            };
            let lines = draw(&timeline, width);
            prop_assert!(width >= MIN_WIDTH || lines.is_empty());
            let limit = width.min(MAX_WIDTH);
            for line in &lines {
                prop_assert!(text_width(line) <= limit, "{} > {limit}: {line:?}", text_width(line));
                prop_assert!(!line.chars().any(char::is_control), "{line:?}");
            }
        }
    }
}
