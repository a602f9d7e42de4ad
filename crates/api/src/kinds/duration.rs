//! Go-style durations (`90s`, `1m30s`, `0s`, `1h`, `1.5s`, `250ms`), as Kubernetes'
//! `metav1.Duration` reads and writes them.
//!
//! Parsing accepts exactly what Go's `time.ParseDuration` accepts (an optional sign, then one or
//! more `<number>[.<fraction>]<unit>` groups with units `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`, or
//! the bare `0`); output is Go's canonical `Duration.String()` form, so `90s` is written back as
//! `1m30s`, as `calicoctl` does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A signed duration with nanosecond precision, serialized as a Go duration string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(i64);

/// Why a string is not a Go duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: {reason} (expected e.g. \"90s\", \"1m30s\", \"250ms\", \"1h\")"
)]
pub struct DurationError {
    pub input: String,
    pub reason: &'static str,
}

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;
const LIMIT: u64 = 1 << 63;

impl GoDuration {
    pub const ZERO: GoDuration = GoDuration(0);

    pub const fn from_nanos(nanos: i64) -> Self {
        GoDuration(nanos)
    }

    pub const fn from_millis(millis: i64) -> Self {
        GoDuration(millis.saturating_mul(1_000_000))
    }

    pub const fn from_secs(secs: i64) -> Self {
        GoDuration(secs.saturating_mul(1_000_000_000))
    }

    pub const fn from_mins(mins: i64) -> Self {
        GoDuration(mins.saturating_mul(60_000_000_000))
    }

    pub const fn nanos(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The duration as a `std::time::Duration`, or `None` when negative.
    pub fn as_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.0)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// Parse a Go duration string.
    pub fn parse(input: &str) -> Result<Self, DurationError> {
        parse_go_duration(input).map(GoDuration)
    }
}

impl From<std::time::Duration> for GoDuration {
    fn from(d: std::time::Duration) -> Self {
        GoDuration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }
}

impl FromStr for GoDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GoDuration::parse(s)
    }
}

fn err(input: &str, reason: &'static str) -> DurationError {
    DurationError {
        input: input.to_string(),
        reason,
    }
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SEC,
        "m" => 60 * NANOS_PER_SEC,
        "h" => 3600 * NANOS_PER_SEC,
        _ => return None,
    })
}

fn parse_go_duration(input: &str) -> Result<i64, DurationError> {
    let mut s = input;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(err(input, "empty duration"));
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        let bytes = s.as_bytes();
        if !(bytes[0] == b'.' || bytes[0].is_ascii_digit()) {
            return Err(err(input, "expected a number"));
        }
        // Integer part.
        let int_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut whole: u64 = 0;
        for &b in &bytes[..int_len] {
            whole = whole
                .checked_mul(10)
                .and_then(|x| x.checked_add(u64::from(b - b'0')))
                .filter(|x| *x <= LIMIT)
                .ok_or_else(|| err(input, "number too large"))?;
        }
        s = &s[int_len..];
        // Fraction.
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut frac_len = 0;
        if let Some(rest) = s.strip_prefix('.') {
            s = rest;
            let digits = s.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in s.bytes().take(digits) {
                if overflow {
                    continue;
                }
                match frac
                    .checked_mul(10)
                    .and_then(|x| x.checked_add(u64::from(b - b'0')))
                    .filter(|x| *x <= LIMIT)
                {
                    Some(y) => {
                        frac = y;
                        scale *= 10.0;
                    }
                    None => overflow = true,
                }
            }
            frac_len = digits;
            s = &s[digits..];
        }
        if int_len == 0 && frac_len == 0 {
            return Err(err(input, "expected digits"));
        }
        // Unit.
        let unit_len = s
            .bytes()
            .take_while(|b| !(*b == b'.' || b.is_ascii_digit()))
            .count();
        if unit_len == 0 {
            return Err(err(input, "missing unit"));
        }
        let unit = unit_nanos(&s[..unit_len]).ok_or_else(|| err(input, "unknown unit"))?;
        s = &s[unit_len..];
        if whole > LIMIT / unit {
            return Err(err(input, "duration out of range"));
        }
        let mut v = whole * unit;
        if frac > 0 {
            // Same float arithmetic as Go, so the same inputs round the same way.
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            let extra = (frac as f64 * (unit as f64 / scale)) as u64;
            v = v.saturating_add(extra);
            if v > LIMIT {
                return Err(err(input, "duration out of range"));
            }
        }
        total = total.saturating_add(v);
        if total > LIMIT {
            return Err(err(input, "duration out of range"));
        }
    }
    if neg {
        // total <= 2^63, so the negation fits (i64::MIN when equal).
        return Ok(0i64.wrapping_sub_unsigned(total));
    }
    i64::try_from(total).map_err(|_| err(input, "duration out of range"))
}

/// `v / 10^prec` with trailing zeros (and the point) dropped, as Go's `fmtFrac`.
fn frac_str(v: u64, prec: u32) -> (String, u64) {
    let mut v = v;
    let mut digits = Vec::new();
    let mut print = false;
    for _ in 0..prec {
        let digit = v % 10;
        print = print || digit != 0;
        if print {
            digits.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
        }
        v /= 10;
    }
    if !print {
        return (String::new(), v);
    }
    digits.push('.');
    (digits.into_iter().rev().collect(), v)
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let u = self.0.unsigned_abs();
        let mut out = String::new();
        if u < NANOS_PER_SEC {
            let (unit, prec) = if u == 0 {
                return f.write_str("0s");
            } else if u < NANOS_PER_MICRO {
                ("ns", 0)
            } else if u < NANOS_PER_MILLI {
                ("\u{b5}s", 3)
            } else {
                ("ms", 6)
            };
            let (frac, int) = frac_str(u, prec);
            out.push_str(&int.to_string());
            out.push_str(&frac);
            out.push_str(unit);
        } else {
            let (frac, secs_total) = frac_str(u, 9);
            let secs = secs_total % 60;
            let mins_total = secs_total / 60;
            if mins_total > 0 {
                let mins = mins_total % 60;
                let hours = mins_total / 60;
                if hours > 0 {
                    out.push_str(&format!("{hours}h"));
                }
                out.push_str(&format!("{mins}m"));
            }
            out.push_str(&format!("{secs}{frac}s"));
        }
        if neg {
            f.write_str("-")?;
        }
        f.write_str(&out)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GoDuration::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("0s", 0),
            ("-0", 0),
            ("90s", 90 * 1_000_000_000),
            ("1m30s", 90 * 1_000_000_000),
            ("1h", 3_600_000_000_000),
            ("1.5s", 1_500_000_000),
            (".5s", 500_000_000),
            ("1.s", 1_000_000_000),
            ("250ms", 250_000_000),
            ("10us", 10_000),
            ("10\u{b5}s", 10_000),
            ("10\u{3bc}s", 10_000),
            ("3ns", 3),
            ("-1m", -60_000_000_000),
            ("+5s", 5_000_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("9223372036854775807ns", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
        ];
        for (s, want) in cases {
            assert_eq!(GoDuration::parse(s).unwrap().nanos(), *want, "{s}");
        }
        for bad in [
            "",
            "s",
            "1",
            "10",
            "1x",
            "1.2.3s",
            ".s",
            "-",
            "1h ",
            " 1h",
            "1e3s",
            "9223372036854775808ns",
            "3000000h",
        ] {
            assert!(GoDuration::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn formats_like_go() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1\u{b5}s"),
            (2_200_000, "2.2ms"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (60_000_000_000, "1m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (86_400_000_000_000, "24h0m0s"),
            (3_723_004_005_006, "1h2m3.004005006s"),
            (-90_000_000_000, "-1m30s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (i64::MAX, "2562047h47m16.854775807s"),
        ];
        for (n, want) in cases {
            assert_eq!(GoDuration::from_nanos(*n).to_string(), *want);
            assert_eq!(GoDuration::parse(want).unwrap().nanos(), *n);
        }
    }
}
