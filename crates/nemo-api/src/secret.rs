//! The `Secret` wrapper: a token that cannot be printed by accident.
//!
//! `Debug` and `Display` print `(redacted)`; the value is reached only through
//! [`Secret::expose`], so a stray `{:?}` in a log or error never leaks it.

use std::fmt;

/// A bearer token or other credential.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, for the `Authorization` header, the config file and
    /// `nemo auth token` — nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A form safe to show: the first four characters and `…****`
    /// (`nmv_…****`), as `nemo auth status` and `-v` logs print it.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks any credential the way [`Secret::masked`] does. The head is shown
/// only when it is a small part of the value: a short token (a typo, a test
/// value) is not shown at all, since four characters would be most of it.
pub fn mask(value: &str) -> String {
    let shown = if value.chars().count() >= 12 { 4 } else { 0 };
    let head: String = value.chars().take(shown).collect();
    format!("{head}…****")
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("nmv_usr_supersecret");
        assert_eq!(format!("{s:?}"), "(redacted)");
        assert_eq!(format!("{s}"), "(redacted)");
        assert_eq!(s.masked(), "nmv_…****");
        assert_eq!(s.expose(), "nmv_usr_supersecret");
    }

    #[test]
    fn mask_handles_short_and_multibyte_values() {
        assert_eq!(mask(""), "…****");
        assert_eq!(mask("ab"), "…****");
        assert_eq!(mask("abcd"), "…****");
        assert_eq!(mask("nmv_usr_abc"), "…****");
        assert_eq!(mask("nmv_usr_abcd"), "nmv_…****");
        assert_eq!(mask("令牌令牌令牌令牌令牌令牌"), "令牌令牌…****");
    }
}
