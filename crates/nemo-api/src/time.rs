//! Timestamps as the API writes them (RFC 3339, sometimes with an offset or
//! as epoch numbers) and as nemo writes them (RFC 3339, UTC, seconds).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, as RFC 3339 in UTC with seconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

pub fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

/// Reads `2026-03-18T00:00:00Z`, `…+08:00`, `…` without a zone (UTC), or a
/// Unix time in seconds or milliseconds.
pub fn parse(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u64>() {
        // Past year 33658 in seconds means milliseconds.
        let secs = if n > 1_000_000_000_000 { n / 1000 } else { n };
        return UNIX_EPOCH.checked_add(Duration::from_secs(secs));
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(text.trim_end_matches(['Z', 'z'])) {
        return Some(t);
    }
    // A numeric offset: `±HH:MM` after the time.
    let split = text.len().checked_sub(6)?;
    let (local, offset) = text.split_at(split);
    let sign = match offset.as_bytes().first()? {
        b'+' => 1i64,
        b'-' => -1,
        _ => return None,
    };
    let hours: i64 = offset.get(1..3)?.parse().ok()?;
    let minutes: i64 = offset.get(4..6)?.parse().ok()?;
    let local = humantime::parse_rfc3339_weak(local).ok()?;
    let shift = Duration::from_secs((hours * 3600 + minutes * 60) as u64);
    if sign > 0 {
        local.checked_sub(shift)
    } else {
        local.checked_add(shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let z = parse("2026-03-18T00:00:00Z").unwrap();
        assert_eq!(parse("2026-03-18T08:00:00+08:00").unwrap(), z);
        assert_eq!(parse("2026-03-17T19:00:00-05:00").unwrap(), z);
        assert_eq!(parse("2026-03-18T00:00:00").unwrap(), z);
        let secs = z.duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(parse(&secs.to_string()).unwrap(), z);
        assert_eq!(parse(&(secs * 1000).to_string()).unwrap(), z);
        assert!(parse("soon").is_none());
        assert_eq!(
            humantime::format_rfc3339_seconds(z).to_string(),
            "2026-03-18T00:00:00Z"
        );
    }
}
