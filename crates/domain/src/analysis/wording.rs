//! Numbers as a person reads them in flag messages.

/// A value with a sensible number of decimals for its size.
pub fn value(x: f64) -> String {
    let a = x.abs();
    let s = if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    s.replace('-', "−")
}

/// A difference with its sign (`+0.05`, `−0.13`).
pub fn signed(x: f64) -> String {
    if x >= 0.0 {
        format!("+{}", value(x))
    } else {
        value(x)
    }
}

/// A rate as a percentage (`15%`, `4.2%`).
pub fn percent(rate: f64) -> String {
    // Rounded first, so that 1 − 0.95 reads 5%, not 5.0%.
    let p = (rate * 1000.0).round() / 10.0;
    let s = if p.abs() >= 10.0 || p == p.round() {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    };
    s.replace('-', "−")
}

/// A size in percentage points, without sign (`20`, `4.5`).
pub fn unsigned_points(diff: f64) -> String {
    let p = diff * 100.0;
    let s = if p.abs() >= 10.0 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    };
    s.replace('-', "−")
}

/// What a failed pass/fail check is called, in the plural ("refusals").
pub fn failures(metric: &str) -> String {
    match metric {
        "refusal" => "refusals".to_owned(),
        "hallucination" => "hallucinations".to_owned(),
        "empty_output" => "empty answers".to_owned(),
        "json_validity" => "invalid JSON answers".to_owned(),
        other => format!("{other} failures"),
    }
}

/// `p=0.0003`, `p<0.0001`.
pub fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "p<0.0001".to_owned()
    } else if p < 0.001 {
        format!("p={p:.4}")
    } else if p < 0.01 {
        format!("p={p:.3}")
    } else {
        format!("p={p:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read_naturally() {
        assert_eq!(value(0.912), "0.91");
        assert_eq!(value(1234.4), "1234");
        assert_eq!(signed(-0.13), "−0.13");
        assert_eq!(signed(0.05), "+0.05");
        assert_eq!(percent(0.15), "15%");
        assert_eq!(percent(0.042), "4.2%");
        assert_eq!(p_value(0.0003), "p=0.0003");
        assert_eq!(p_value(0.00001), "p<0.0001");
        assert_eq!(p_value(0.0312), "p=0.03");
        assert_eq!(unsigned_points(0.2), "20");
        assert_eq!(unsigned_points(0.045), "4.5");
        assert_eq!(failures("refusal"), "refusals");
        assert_eq!(failures("polite"), "polite failures");
    }
}
