//! Serde helpers shared by the kinds.

use serde::Serializer;

/// Serialize an optional float the way Go does: `100`, not `100.0`.
pub fn opt_float<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(f) => float(f, s),
    }
}

/// Serialize a float the way Go does: integral values without a fraction.
pub fn float<S: Serializer>(f: &f64, s: S) -> Result<S::Ok, S::Error> {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        s.serialize_i64(*f as i64)
    } else {
        s.serialize_f64(*f)
    }
}

/// For `skip_serializing_if` on plain bools that Go marks `omitempty`.
pub fn is_false(b: &bool) -> bool {
    !*b
}

/// For `skip_serializing_if` on numbers that Go marks `omitempty`.
pub fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}
