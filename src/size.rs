//! Sizes for people, one way everywhere: `512 bytes`, `3.5 KB`, `5.0 MB`
//! (binary units, 1 KB = 1024 bytes, as the 500 MB upload limit is; one
//! decimal). Upload and export both print sizes through this.

/// Bytes as `512 bytes`, `3.5 KB`, `5.0 MB`, `1.2 GB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_units_one_decimal() {
        assert_eq!(human(0), "0 bytes");
        assert_eq!(human(1023), "1023 bytes");
        assert_eq!(human(1024), "1.0 KB");
        assert_eq!(human(3565), "3.5 KB");
        assert_eq!(human(5 * 1024 * 1024), "5.0 MB");
        assert_eq!(human(u64::MAX), "16777216.0 TB");
    }
}
