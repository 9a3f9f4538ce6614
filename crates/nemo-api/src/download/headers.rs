//! Reading a download answer's headers: `Content-Length`, `Accept-Ranges`,
//! `Content-Range` (`bytes FIRST-LAST/TOTAL`, and `bytes */TOTAL` on a
//! 416) and the validator a resume sends back as `If-Range`. Pure
//! functions; anything malformed reads as absent.

use reqwest::header::{self, HeaderMap};

pub(super) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub(super) fn accepts_ranges(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_RANGES)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|u| u.trim().eq_ignore_ascii_case("bytes")))
}

/// What identifies this version of the file, for `If-Range` (RFC 9110
/// §13.1.5): a strong ETag, else `Last-Modified`. A weak ETag (`W/"…"`)
/// may not be used there.
pub(super) fn validator(headers: &HeaderMap) -> Option<String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    text(header::ETAG)
        .filter(|etag| etag.starts_with('"'))
        .or_else(|| text(header::LAST_MODIFIED))
}

/// `Content-Range: bytes FIRST-LAST/TOTAL` → (first, last, total when known).
pub(super) fn content_range(headers: &HeaderMap) -> Option<(u64, u64, Option<u64>)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    parse_content_range(value)
}

/// A range that cannot be true (last before first, last at or past the
/// total, last at `u64::MAX`) reads as absent: a lying server starts the
/// download over instead of overflowing `last + 1`.
pub fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = spec.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    if last < first || last == u64::MAX {
        return None;
    }
    let total: Option<u64> = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    if total.is_some_and(|t| last >= t) {
        return None;
    }
    Some((first, last, total))
}

/// The length in a 416's `Content-Range: bytes */TOTAL`.
pub(super) fn unsatisfied_total(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    value
        .trim()
        .strip_prefix("bytes")?
        .trim_start()
        .strip_prefix("*/")?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(
            parse_content_range("bytes 100-199/300"),
            Some((100, 199, Some(300)))
        );
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((0, 9, None)));
        assert_eq!(parse_content_range("bytes 9-0/10"), None);
        assert_eq!(parse_content_range("items 0-9/10"), None);
        assert_eq!(parse_content_range("bytes */10"), None);
        // Lies: past the total, and at the end of u64 (`last + 1`
        // overflowed in the caller).
        assert_eq!(parse_content_range("bytes 0-10/10"), None);
        assert_eq!(parse_content_range("bytes 5-18446744073709551615/*"), None);
    }

    use proptest::prelude::*;

    proptest! {
        /// Arbitrary strings (and near-misses of the form) never panic, and
        /// whatever is read is a possible range.
        #[test]
        fn arbitrary_content_ranges_never_panic(value in prop_oneof![
            ".{0,40}",
            "bytes [0-9*]{0,22}-[0-9]{0,22}/[0-9*]{0,22}",
            " ?bytes ?[0-9 ]{0,5}-[0-9 ]{0,5}/[0-9 *]{0,5}",
        ]) {
            if let Some((first, last, total)) = parse_content_range(&value) {
                prop_assert!(first <= last);
                prop_assert!(last < u64::MAX);
                prop_assert!(total.is_none_or(|t| last < t));
            }
            let mut h = HeaderMap::new();
            if let Ok(v) = header::HeaderValue::from_str(&value) {
                h.insert(header::CONTENT_RANGE, v);
                let _ = unsatisfied_total(&h);
                let _ = content_range(&h);
            }
        }

        /// Valid ranges read back as written.
        #[test]
        fn valid_content_ranges_round_trip(first in 0u64..u64::MAX / 2, len in 0u64..u64::MAX / 4, extra in 1u64..1000, known: bool) {
            let last = first + len;
            let total = known.then_some(last + extra);
            let text = match total {
                Some(t) => format!("bytes {first}-{last}/{t}"),
                None => format!("bytes {first}-{last}/*"),
            };
            prop_assert_eq!(parse_content_range(&text), Some((first, last, total)));
        }
    }

    #[test]
    fn validators_are_strong_etags_else_dates() {
        let mut h = HeaderMap::new();
        assert_eq!(validator(&h), None);
        h.insert(
            header::LAST_MODIFIED,
            header::HeaderValue::from_static("Mon, 07 Dec 2026 10:00:00 GMT"),
        );
        h.insert(header::ETAG, header::HeaderValue::from_static("W/\"weak\""));
        assert_eq!(
            validator(&h).as_deref(),
            Some("Mon, 07 Dec 2026 10:00:00 GMT")
        );
        h.insert(header::ETAG, header::HeaderValue::from_static("\"v1\""));
        assert_eq!(validator(&h).as_deref(), Some("\"v1\""));
    }

    #[test]
    fn unsatisfied_totals() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_RANGE,
            header::HeaderValue::from_static("bytes */300"),
        );
        assert_eq!(unsatisfied_total(&h), Some(300));
        h.insert(
            header::CONTENT_RANGE,
            header::HeaderValue::from_static("bytes 0-1/300"),
        );
        assert_eq!(unsatisfied_total(&h), None);
    }
}
