//! How long to wait after HTTP 429 (`../shared/spec/cli.md` "Retries"):
//! the `Retry-After` header in seconds or as an HTTP date, else the
//! configured default; a wait over [`MAX_WAIT`] is not waited for but
//! becomes a rate-limit error at once that says when to try again.
//! Nothing here sends or sleeps.

use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap};

use crate::error::{Error, Kind, Result};

/// The longest `Retry-After` nemo waits for before its one retry.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// What the server asked for in `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// A wait that fits in a `Duration` and a `SystemTime` from `now`.
    Wait(Duration),
    /// A wait too long to even express (more digits than a u64 holds, or
    /// past the end of the clock).
    Forever,
}

/// Reads `Retry-After` as of `now`. Missing, negative or unreadable values
/// are `None` (the caller uses its default); a date in the past is no wait.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<RetryAfter> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(match value.parse::<u64>() {
            Ok(secs) if now.checked_add(Duration::from_secs(secs)).is_some() => {
                RetryAfter::Wait(Duration::from_secs(secs))
            }
            _ => RetryAfter::Forever,
        });
    }
    let when = httpdate(value)?;
    Some(RetryAfter::Wait(
        when.duration_since(now).unwrap_or_default(),
    ))
}

/// The wait before the one retry after a 429, or the error to stop with at
/// once when the server asks for more than [`MAX_WAIT`].
pub fn wait_before_retry(
    headers: &HeaderMap,
    default: Duration,
    now: SystemTime,
) -> Result<Duration> {
    match retry_after(headers, now) {
        None => Ok(default),
        Some(RetryAfter::Wait(wait)) if wait <= MAX_WAIT => Ok(wait),
        Some(RetryAfter::Wait(wait)) => {
            let when = now.checked_add(wait);
            Err(too_long(when, Some(wait)))
        }
        Some(RetryAfter::Forever) => Err(too_long(None, None)),
    }
}

fn too_long(when: Option<SystemTime>, wait: Option<Duration>) -> Error {
    // Whole seconds in UTC, e.g. 2026-11-22T09:40:00Z; years past 9999
    // cannot be written that way and are said in words.
    let at = when
        .filter(|w| {
            w.duration_since(SystemTime::UNIX_EPOCH)
                .is_ok_and(|d| d.as_secs() < 253_402_300_800)
        })
        .map(|w| humantime::format_rfc3339_seconds(w).to_string());
    let how_long = wait.map(|w| humantime::format_duration(Duration::from_secs(w.as_secs())));
    let message = match (&at, how_long) {
        (Some(at), Some(long)) => format!(
            "the server is rate limiting requests (HTTP 429) and asks to wait until {at} ({long}), longer than nemo waits"
        ),
        _ => "the server is rate limiting requests (HTTP 429) and asks to wait longer than nemo waits".to_string(),
    };
    let hint = match at {
        Some(at) => format!("try again after {at}"),
        None => "try again much later".to_string(),
    };
    Error::new(Kind::RateLimited, message)
        .with_hint(hint)
        .with_status(429)
        .with_retry_after(wait)
}

/// An RFC 7231 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
fn httpdate(value: &str) -> Option<SystemTime> {
    let mut parts = value.split_whitespace();
    let _weekday = parts.next()?;
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    let time = parts.next()?;
    if !matches!(parts.next(), Some("GMT") | Some("UTC") | None) || parts.next().is_some() {
        return None;
    }
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == month)? + 1;
    if day.len() > 2 || year.len() != 4 || !day.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    humantime::parse_rfc3339(&format!("{year}-{month:02}-{day:0>2}T{time}Z")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static(value));
        h
    }

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    const DEFAULT: Duration = Duration::from_secs(30);

    #[test]
    fn seconds_and_dates_within_five_minutes_are_waited_for() {
        let now = at("2026-11-22T08:00:00Z");
        assert_eq!(
            wait_before_retry(&headers("7"), DEFAULT, now).unwrap(),
            Duration::from_secs(7)
        );
        assert_eq!(
            wait_before_retry(&headers("300"), DEFAULT, now).unwrap(),
            MAX_WAIT
        );
        assert_eq!(
            wait_before_retry(&headers("Sun, 22 Nov 2026 08:02:00 GMT"), DEFAULT, now).unwrap(),
            Duration::from_secs(120)
        );
        // A date in the past: no wait.
        assert_eq!(
            wait_before_retry(&headers("Sun, 06 Nov 1994 08:49:37 GMT"), DEFAULT, now).unwrap(),
            Duration::ZERO
        );
    }

    #[test]
    fn negative_or_garbage_values_get_the_default_wait() {
        let now = at("2026-11-22T08:00:00Z");
        for value in [
            "-5",
            "soon",
            "",
            "1.5",
            "Sun, 99 Foo 2026 08:02:00 GMT",
            "+3",
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            assert_eq!(
                wait_before_retry(&h, DEFAULT, now).unwrap(),
                DEFAULT,
                "{value:?}"
            );
        }
        assert_eq!(
            wait_before_retry(&HeaderMap::new(), DEFAULT, now).unwrap(),
            DEFAULT
        );
    }

    /// Issue 9 #6: a date 73 years away was waited for ("waiting
    /// 2300922537.7 s"); anything over five minutes is exit 6 at once,
    /// saying when.
    #[test]
    fn over_five_minutes_is_an_error_that_says_when() {
        let now = at("2026-11-22T08:00:00Z");
        let err = wait_before_retry(&headers("301"), DEFAULT, now).unwrap_err();
        assert!(err.is(Kind::RateLimited));
        assert_eq!(
            err.message(),
            "the server is rate limiting requests (HTTP 429) and asks to wait until 2026-11-22T08:05:01Z (5m 1s), longer than nemo waits"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("try again after 2026-11-22T08:05:01Z")
        );
        let err =
            wait_before_retry(&headers("Wed, 01 Jan 2099 00:00:00 GMT"), DEFAULT, now).unwrap_err();
        assert!(err.is(Kind::RateLimited));
        assert!(
            err.message().contains("until 2099-01-01T00:00:00Z"),
            "{err}"
        );
        for huge in ["99999999999999999999999", "18446744073709551615"] {
            let mut h = HeaderMap::new();
            h.insert(header::RETRY_AFTER, HeaderValue::from_str(huge).unwrap());
            let err = wait_before_retry(&h, DEFAULT, now).unwrap_err();
            assert!(err.is(Kind::RateLimited), "{huge}");
            assert!(err.message().contains("longer than nemo waits"), "{err}");
        }
    }
}
