//! Values printed the way Go's `fmt` prints them in calicoctl's table templates (`{{.Spec.X}}`):
//! floats as `%v` (`1e+06`), booleans as `true`/`false`, nil pointers as `<nil>`, slices as
//! `[a b]`, maps as `map[k:v]`.

use serde_json::Value;

/// Go's `%v` of a `float64` (`%g` with the shortest digits): exponent form when the decimal
/// exponent is below -4 or at least 6, e.g. `100`, `0.5`, `1e+06`, `1.5e-05`.
pub fn float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return match f {
            x if x.is_nan() => "NaN".into(),
            x if x == f64::INFINITY => "+Inf".into(),
            x if x == f64::NEG_INFINITY => "-Inf".into(),
            x if x.is_sign_negative() => "-0".into(),
            _ => "0".into(),
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits in exponent form, e.g. `1.5e-5`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        format!("{f}")
    }
}

/// Go's `fmt.Sprint` of a value decoded from JSON.
pub fn value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                n.to_string()
            } else {
                float(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(m) => {
            let mut parts: Vec<String> =
                m.iter().map(|(k, v)| format!("{k}:{}", value(v))).collect();
            parts.sort();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// A float-typed field (`Order *float64`): integers stored in JSON still print as Go floats.
pub fn float_value(v: &Value) -> String {
    match v.as_f64() {
        Some(f) => float(f),
        None => value(v),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn floats_like_go() {
        assert_eq!(float(100.0), "100");
        assert_eq!(float(1000.0), "1000");
        assert_eq!(float(100000.0), "100000");
        assert_eq!(float(1_000_000.0), "1e+06");
        assert_eq!(float(10_000_000.0), "1e+07");
        assert_eq!(float(1_234_567.0), "1.234567e+06");
        assert_eq!(float(0.5), "0.5");
        assert_eq!(float(0.0001), "0.0001");
        assert_eq!(float(0.000015), "1.5e-05");
        assert_eq!(float(-2.5), "-2.5");
        assert_eq!(float(0.0), "0");
        assert_eq!(float(1e100), "1e+100");
    }

    #[test]
    fn values_like_go() {
        assert_eq!(value(&json!(null)), "<nil>");
        assert_eq!(value(&json!(true)), "true");
        assert_eq!(value(&json!(64512)), "64512");
        assert_eq!(value(&json!(["a", "b"])), "[a b]");
        assert_eq!(value(&json!({"b": 1, "a": "x"})), "map[a:x b:1]");
        assert_eq!(float_value(&json!(1000000)), "1e+06");
    }
}
