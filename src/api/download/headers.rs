//! Reading a download answer's headers: `Content-Length`, `Accept-Ranges`
//! and `Content-Range` (`bytes FIRST-LAST/TOTAL`, and `bytes */TOTAL` on a
//! 416). Pure functions; anything malformed reads as absent.

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

/// `Content-Range: bytes FIRST-LAST/TOTAL` → (first, last, total when known).
pub(super) fn content_range(headers: &HeaderMap) -> Option<(u64, u64, Option<u64>)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    parse_content_range(value)
}

pub fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = spec.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    if last < first {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
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
