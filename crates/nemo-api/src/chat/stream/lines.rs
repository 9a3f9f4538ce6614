//! The agent's byte stream cut into whole SSE lines, in time linear in its
//! size, for eventsource-stream to read one line at a time.
//!
//! eventsource-stream re-parses its whole buffer on every network chunk
//! (upstream issue #11): one 16 MB `data:` line took 23 s. Handed one
//! complete line at a time it does constant work per byte, so this module
//! owns everything that depends on where lines end:
//!
//! - finding line ends (LF, CRLF, lone CR) with `memchr`, each byte looked
//!   at once: a line's start is kept, never rescanned, while its end is
//!   awaited; a CR ends its line at once (a following LF is skipped), so a
//!   line never waits for the next chunk to be known;
//! - every line is handed on ending in a single LF, valid UTF-8 (a byte
//!   sequence that is not UTF-8 becomes U+FFFD, as the server-sent events
//!   standard decodes it, and the stream goes on), without a leading BOM;
//! - the cap: one event (its lines up to the blank line) over [`MAX_EVENT`]
//!   ends the stream with an error, so memory is bounded whatever is sent;
//! - keep-alives: a `: comment` line between events becomes an empty
//!   `data:` line, which the parser reads as a heartbeat (eventsource-stream
//!   would drop it, but the caller must see the agent is alive); a comment
//!   inside an event, and blank lines between events, are dropped here;
//! - staying responsive: after [`BUDGET`] lines or chunks in one go it yields
//!   (wakes itself and returns `Pending`), so timers and Ctrl-C get their
//!   turn even when a server sends megabytes of lines that make no event.
//!
//! It does not read fields or JSON (eventsource-stream and the event parser
//! do), and it does not time out.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;

use crate::error::{Error, Kind, Result};

/// The most one event may take: its lines, up to the blank line that ends
/// it (`../shared/spec/cli.md` "Retries": one event over 16 MiB is exit 9).
pub const MAX_EVENT: usize = 16 * 1024 * 1024;

/// Lines handed on or dropped, and chunks taken, before the stream lets
/// other work run.
pub const BUDGET: u32 = 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A stream of whole lines, each ending in one `\n`, from a stream of
/// network chunks split anywhere. An error is its last item.
pub struct Lines<S> {
    inner: S,
    cutter: Cutter,
    budget: u32,
    done: bool,
}

impl<S> Lines<S> {
    pub fn new(inner: S) -> Self {
        Lines {
            inner,
            cutter: Cutter::default(),
            budget: BUDGET,
            done: false,
        }
    }
}

impl<S> Stream for Lines<S>
where
    S: Stream<Item = Result<Bytes>> + Unpin,
{
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if this.budget == 0 {
                this.budget = BUDGET;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            match this.cutter.next_line() {
                Some(Ok(Some(line))) => {
                    this.budget -= 1;
                    return Poll::Ready(Some(Ok(line)));
                }
                Some(Ok(None)) => this.budget -= 1,
                Some(Err(err)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(err)));
                }
                None => match Pin::new(&mut this.inner).poll_next(cx) {
                    Poll::Ready(Some(Ok(chunk))) => {
                        this.budget -= 1;
                        this.cutter.chunk = chunk;
                    }
                    Poll::Ready(Some(Err(err))) => {
                        this.done = true;
                        return Poll::Ready(Some(Err(err)));
                    }
                    // An unfinished line at the end belongs to an event
                    // that never ended: SSE drops it.
                    Poll::Ready(None) => this.done = true,
                    Poll::Pending => {
                        this.budget = BUDGET;
                        return Poll::Pending;
                    }
                },
            }
        }
    }
}

/// The line cutter itself, fed one chunk at a time.
#[derive(Debug)]
struct Cutter {
    /// The part of the last chunk not cut yet.
    chunk: Bytes,
    /// The start of a line whose end has not come yet (already scanned).
    partial: Vec<u8>,
    /// The last line ended with a CR: an LF right after it belongs to it.
    skip_lf: bool,
    /// Nothing was cut yet (a BOM may come first).
    at_start: bool,
    /// A line other than a blank one came since the last blank line.
    in_event: bool,
    /// The bytes of the current event so far.
    event_size: usize,
}

impl Default for Cutter {
    fn default() -> Self {
        Cutter {
            chunk: Bytes::new(),
            partial: Vec::new(),
            skip_lf: false,
            at_start: true,
            in_event: false,
            event_size: 0,
        }
    }
}

impl Cutter {
    /// The next line of the chunk: `None` when the chunk is used up (its
    /// tail kept as a partial line), `Some(Ok(None))` for a line dropped
    /// here.
    fn next_line(&mut self) -> Option<Result<Option<Bytes>>> {
        if self.skip_lf && !self.chunk.is_empty() {
            self.skip_lf = false;
            if self.chunk[0] == b'\n' {
                let _ = self.chunk.split_to(1);
            }
        }
        if self.chunk.is_empty() {
            return None;
        }
        let Some(end) = memchr::memchr2(b'\n', b'\r', &self.chunk) else {
            if self.event_size + self.partial.len() + self.chunk.len() > MAX_EVENT {
                return Some(Err(too_big()));
            }
            self.partial.extend_from_slice(&self.chunk);
            self.chunk = Bytes::new();
            return None;
        };
        let lf = self.chunk[end] == b'\n';
        self.skip_lf = !lf;
        let line = if self.partial.is_empty() && lf {
            // The common case: the whole line, with its LF, in one chunk.
            self.chunk.split_to(end + 1)
        } else {
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&self.chunk[..end]);
            line.push(b'\n');
            let _ = self.chunk.split_to(end + 1);
            Bytes::from(line)
        };
        Some(self.on_line(line))
    }

    /// Checks and classifies one whole line (ending in `\n`).
    fn on_line(&mut self, mut line: Bytes) -> Result<Option<Bytes>> {
        if std::mem::take(&mut self.at_start) && line.starts_with(BOM) {
            let _ = line.split_to(BOM.len());
        }
        if self.event_size + line.len() > MAX_EVENT {
            return Err(too_big());
        }
        if std::str::from_utf8(&line).is_err() {
            // Whole lines only reach here, so a character is never cut.
            line = Bytes::from(String::from_utf8_lossy(&line).into_owned());
        }
        if line.starts_with(BOM) {
            // A BOM past the start is part of a field name: an unknown
            // field, ignored. eventsource-stream would cut it off a line
            // it sees first, at byte 1 of 3: a panic (upstream bug).
            self.in_event = true;
            return Ok(None);
        }
        match line.first() {
            Some(b'\n') => {
                let ends_event = std::mem::take(&mut self.in_event);
                self.event_size = 0;
                Ok(ends_event.then_some(line))
            }
            Some(b':') if self.in_event => Ok(None),
            Some(b':') => {
                self.in_event = true;
                self.event_size = 6;
                Ok(Some(Bytes::from_static(b"data:\n")))
            }
            _ => {
                self.in_event = true;
                self.event_size += line.len();
                Ok(Some(line))
            }
        }
    }
}

fn too_big() -> Error {
    Error::new(
        Kind::TooLarge,
        format!(
            "the agent sent an event over {} MiB (more than nemo reads), so nemo stopped reading the reply",
            MAX_EVENT / (1024 * 1024)
        ),
    )
    .with_hint("the message was not sent again; `nemo state` shows what the agent did")
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn lines_of(chunks: &[&[u8]]) -> Vec<Result<String>> {
        let stream = futures::stream::iter(
            chunks
                .iter()
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        );
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(
                Lines::new(stream)
                    .map(|l| l.map(|b| String::from_utf8(b.to_vec()).expect("utf-8")))
                    .collect(),
            )
    }

    fn ok(chunks: &[&[u8]]) -> Vec<String> {
        lines_of(chunks)
            .into_iter()
            .map(|l| l.expect("a line"))
            .collect()
    }

    #[test]
    fn every_line_end_becomes_one_lf() {
        let want = ["a\n", "\n", "b\n", "\n", "c\n", "\n"];
        assert_eq!(ok(&[b"a\n\nb\r\n\r\nc\r\r"]), want);
        // A CRLF cut between its CR and its LF is one line end, not two.
        assert_eq!(ok(&[b"a\r", b"\n\r", b"\nb\r", b"\r\n", b"c\r\r"]), want);
        // An unfinished last line is dropped.
        assert_eq!(ok(&[b"a\n\nb"]), ["a\n", "\n"]);
    }

    #[test]
    fn a_bom_at_the_start_only() {
        assert_eq!(ok(&[b"\xEF\xBB", b"\xBFa\n"]), ["a\n"]);
        assert_eq!(ok(&[b"\xEF\xBB\xBF: hi\n\n"]), ["data:\n", "\n"]);
        // Later, it starts an unknown field: dropped, but it is in an event.
        assert_eq!(ok(&[b"\n\xEF\xBB\xBFb\n\n"]), ["\n"]);
        assert_eq!(ok(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"]), ["\n"]);
    }

    #[test]
    fn comments_and_blank_lines() {
        assert_eq!(
            ok(&[b"\n\n: ka\n\ndata: x\n: inside\nid: 1\n\n\n"]),
            ["data:\n", "\n", "data: x\n", "id: 1\n", "\n"]
        );
    }

    /// Issue 19 #11: one byte that is not UTF-8 was fatal; the SSE
    /// standard decodes it as U+FFFD and reads on.
    #[test]
    fn invalid_utf8_becomes_the_replacement_character() {
        let lines = ok(&[
            b"data: ok\n\ndata: a\xffb\xe4\xbd\n\n",
            b"data: \xc3",
            b"\xa9\n\n",
        ]);
        assert_eq!(
            lines,
            [
                "data: ok\n",
                "\n",
                "data: a\u{fffd}b\u{fffd}\n",
                "\n",
                "data: é\n",
                "\n"
            ]
        );
    }

    #[test]
    fn an_event_over_the_cap_ends_the_stream() {
        let line = vec![b'a'; MAX_EVENT];
        let lines = lines_of(&[b"data: ", &line, b"\n\ndata: after\n\n"]);
        assert_eq!(lines.len(), 1);
        assert!(
            matches!(&lines[0], Err(e) if e.is(Kind::TooLarge) && e.message().contains("16 MiB"))
        );
        // Many lines of one event count together; a blank line resets.
        let half = format!("data: {}\n", "a".repeat(MAX_EVENT / 2));
        let lines = lines_of(&[half.as_bytes(), b"\n", half.as_bytes(), b"\n"]);
        assert_eq!(lines.len(), 4);
        assert!(lines.iter().all(Result::is_ok));
        let lines = lines_of(&[half.as_bytes(), half.as_bytes(), b"\n"]);
        assert!(matches!(lines.last(), Some(Err(e)) if e.message().contains("16 MiB")));
        // Just under the cap is read.
        let fits = format!("data: {}\n", "a".repeat(MAX_EVENT - 7));
        assert_eq!(lines_of(&[fits.as_bytes(), b"\n"]).len(), 2);
    }

    /// `total` bytes of keep-alives of every shape, in odd-sized network
    /// chunks, through the cutter: it never holds more than one short line.
    fn keep_alives_stay_flat(total: usize) {
        let pattern: &[u8] = b"data:\n\n: keep-alive\n\n:\r\n\r\ndata: \r\r\n";
        let big = Bytes::from(pattern.repeat((1 << 20) / pattern.len()));
        let mut cutter = Cutter::default();
        let (mut fed, mut heartbeats) = (0, 0);
        while fed < total {
            let mut at = 0;
            while at < big.len() {
                let end = (at + 4093).min(big.len());
                cutter.chunk = big.slice(at..end);
                while let Some(line) = cutter.next_line() {
                    if line
                        .expect("a keep-alive")
                        .is_some_and(|l| l.starts_with(b"data:"))
                    {
                        heartbeats += 1;
                    }
                }
                assert!(
                    cutter.partial.capacity() <= 64,
                    "{}",
                    cutter.partial.capacity()
                );
                assert!(cutter.event_size <= 16, "{}", cutter.event_size);
                at = end;
            }
            fed += big.len();
        }
        assert_eq!(heartbeats, 4 * (fed / pattern.len()));
    }

    #[test]
    fn keep_alives_use_flat_memory() {
        keep_alives_stay_flat(4 << 20);
    }

    #[test]
    #[ignore = "long: run by fuzz/long.sh"]
    fn a_hundred_mb_of_keep_alives_use_flat_memory() {
        keep_alives_stay_flat(100 << 20);
    }
}
