//! Tables as Calico's `calicoctl ipam` prints them, with go-pretty's default style:
//!
//! ```text
//! +----------+-------------+-----------+
//! | GROUPING | CIDR        | IPS TOTAL |
//! +----------+-------------+-----------+
//! | IP Pool  | 10.0.0.0/16 |     65536 |
//! +----------+-------------+-----------+
//! ```
//!
//! Headers are left-aligned; numeric columns are right-aligned; every line ends with a
//! newline. Numbers are Go's `%.5g` and percentages `%.f%%`.

/// Render a boxed table. `right[i]` right-aligns column `i`'s cells (not its header).
pub fn boxed(header: &[&str], right: &[bool], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let sep: String = widths.iter().fold(String::from("+"), |mut s, w| {
        s.push_str(&"-".repeat(w + 2));
        s.push('+');
        s
    });
    let line = |cells: &[String], align_right: &dyn Fn(usize) -> bool| {
        let mut s = String::from("|");
        for (i, w) in widths.iter().enumerate() {
            let cell = cells.get(i).map_or("", String::as_str);
            let pad = " ".repeat(w.saturating_sub(cell.chars().count()));
            if align_right(i) {
                s.push_str(&format!(" {pad}{cell} |"));
            } else {
                s.push_str(&format!(" {cell}{pad} |"));
            }
        }
        s
    };
    let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut out = vec![sep.clone(), line(&head, &|_| false), sep.clone()];
    for row in rows {
        out.push(line(row, &|i| right.get(i).copied().unwrap_or(false)));
    }
    out.push(sep);
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// Go's `fmt.Sprintf("%.5g", x)`: five significant digits, exponent form when the exponent is
/// below -4 or at least 5, trailing zeros dropped (`65536`, `1.0486e+06`, `1.2089e+24`).
pub fn g5(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let sci = format!("{x:.4e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..5).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_zeros(mantissa), exp.unsigned_abs())
    } else {
        let decimals = usize::try_from(4 - exp).unwrap_or(0);
        trim_zeros(&format!("{x:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Calico's `%.5g (%.f%%)` of `n` out of `total`.
pub fn with_percent(n: f64, total: f64) -> String {
    let pct = if total > 0.0 { 100.0 * n / total } else { 0.0 };
    format!("{} ({pct:.0}%)", g5(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_go() {
        assert_eq!(g5(0.0), "0");
        assert_eq!(g5(64.0), "64");
        assert_eq!(g5(65536.0), "65536");
        assert_eq!(g5(99999.0), "99999");
        assert_eq!(g5(100000.0), "1e+05");
        assert_eq!(g5(1_048_576.0), "1.0486e+06");
        assert_eq!(g5(2f64.powi(80)), "1.2089e+24");
        assert_eq!(g5(2f64.powi(64)), "1.8447e+19");
        assert_eq!(with_percent(5.0, 64.0), "5 (8%)");
        assert_eq!(with_percent(59.0, 64.0), "59 (92%)");
        assert_eq!(with_percent(3.0, 8.0), "3 (38%)");
        assert_eq!(with_percent(5.0, 8.0), "5 (62%)");
        assert_eq!(with_percent(65531.0, 65536.0), "65531 (100%)");
        assert_eq!(with_percent(7.0, 2f64.powi(80)), "7 (0%)");
    }

    #[test]
    fn boxed_like_go_pretty() {
        let t = boxed(
            &["GROUPING", "CIDR", "IPS TOTAL"],
            &[false, false, true],
            &[
                vec!["IP Pool".into(), "10.65.0.0/16".into(), "65536".into()],
                vec!["Block".into(), "10.65.79.0/26".into(), "64".into()],
            ],
        );
        assert_eq!(
            t,
            "+----------+---------------+-----------+\n\
             | GROUPING | CIDR          | IPS TOTAL |\n\
             +----------+---------------+-----------+\n\
             | IP Pool  | 10.65.0.0/16  |     65536 |\n\
             | Block    | 10.65.79.0/26 |        64 |\n\
             +----------+---------------+-----------+\n"
        );
        assert_eq!(
            boxed(&["A", "B"], &[], &[]),
            "+---+---+\n| A | B |\n+---+---+\n+---+---+\n"
        );
    }
}
