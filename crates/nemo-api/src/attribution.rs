//! The attribution the API expects on every request: the three
//! `X-Skill-*` headers (`api.md` "Headers"). The client only sends what it
//! is given; choosing the values (flags, environment, defaults) is the
//! caller's job (`settings`).

use reqwest::header::{HeaderMap, HeaderValue};

/// The three `X-Skill-*` headers sent on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub source: String,
    pub version: String,
    pub platform: String,
}

impl Attribution {
    /// The headers; a value that cannot go in a header is left out.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-skill-source", &self.source),
            ("x-skill-version", &self.version),
            ("x-skill-platform", &self.platform),
        ] {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_leave_out_values_that_cannot_be_sent() {
        let a = Attribution {
            source: "nemo-cli".into(),
            version: "1.0\n".into(),
            platform: "linux".into(),
        };
        let h = a.headers();
        assert_eq!(h.get("x-skill-source").unwrap(), "nemo-cli");
        assert!(h.get("x-skill-version").is_none());
        assert_eq!(h.get("x-skill-platform").unwrap(), "linux");
    }
}
