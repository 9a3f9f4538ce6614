//! Numbers as servers write them (`../shared/spec/cli.md` "Streams"): an
//! integral number written as a float (`870.0`, how Python writes one) is
//! that integer; a fraction (`870.5`) or a number out of range is an
//! unreadable answer, never rounded into another value.

use serde::de::{Unexpected, Visitor};
use serde::{Deserialize, Deserializer};

/// Reads an `i64` from an integer or an integral float.
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(IntVisitor)
}

/// [`lenient_i64`] for a field that may be absent or `null`.
pub fn opt_lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Lenient(#[serde(deserialize_with = "lenient_i64")] i64);
    Ok(Option::<Lenient>::deserialize(d)?.map(|l| l.0))
}

struct IntVisitor;

impl Visitor<'_> for IntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
        // 2^63 as a float is the first value out of range.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        if v.is_finite() && v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
            Ok(v as i64)
        } else {
            Err(E::invalid_value(Unexpected::Float(v), &self))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Counts {
        #[serde(deserialize_with = "lenient_i64")]
        n: i64,
        #[serde(default, deserialize_with = "opt_lenient_i64")]
        m: Option<i64>,
    }

    fn n(json: &str) -> Option<i64> {
        serde_json::from_str::<Counts>(json).ok().map(|c| c.n)
    }

    #[test]
    fn integral_floats_are_integers_and_fractions_are_not() {
        assert_eq!(n(r#"{"n":870}"#), Some(870));
        assert_eq!(n(r#"{"n":870.0}"#), Some(870));
        assert_eq!(n(r#"{"n":8.7e2}"#), Some(870));
        assert_eq!(n(r#"{"n":-3.0}"#), Some(-3));
        assert_eq!(n(r#"{"n":870.5}"#), None);
        assert_eq!(n(r#"{"n":1e300}"#), None);
        assert_eq!(n(r#"{"n":18446744073709551615}"#), None);
        assert_eq!(n(r#"{"n":"870"}"#), None);
        let c: Counts = serde_json::from_str(r#"{"n":1,"m":40.0}"#).unwrap();
        assert_eq!(c.m, Some(40));
        let c: Counts = serde_json::from_str(r#"{"n":1,"m":null}"#).unwrap();
        assert_eq!(c.m, None);
        assert!(serde_json::from_str::<Counts>(r#"{"n":1,"m":0.5}"#).is_err());
        // From a Value too (answers go through one).
        let v = serde_json::json!({"n": 870.0});
        assert_eq!(serde_json::from_value::<Counts>(v).unwrap().n, 870);
    }
}
