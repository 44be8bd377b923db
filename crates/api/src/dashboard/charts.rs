//! Inline SVG charts drawn on the server: no script, nothing fetched. Each
//! has a `<title>` and a `<desc>` that say in words what it shows (screen
//! readers, and anyone printing in black and white); colours come from the
//! stylesheet's classes, with hatching-free shapes that stay readable printed.
//! Each chart starts with a visible `<figcaption>` of its title (the SVG
//! `<title>` is only a tooltip), so callers place it in a `<figure>`.

use std::fmt::Write;

const WIDTH: f64 = 480.0;
const PLOT_LEFT: f64 = 40.0;
const PLOT_RIGHT: f64 = 470.0;
/// Bins of a distribution chart.
pub const BINS: usize = 10;

/// Text safe inside SVG/XML elements and attributes.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A number for a label: at most three decimals, no trailing zeros.
pub fn short(value: f64) -> String {
    let s = format!("{value:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

fn open(out: &mut String, id: &str, height: f64, title: &str, desc: &str) {
    // The caption is hidden from screen readers, which read the SVG's own
    // title and description.
    let (title, desc) = (xml(title), xml(desc));
    let _ = write!(
        out,
        r#"<figcaption aria-hidden="true">{title}</figcaption><svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{title}</title><desc id="{id}-d">{desc}</desc>"#
    );
}

/// The current and baseline distributions of one scorer's values, as the
/// share of each side's samples per bin of `span` (counted by the database,
/// [`BINS`] bins on both sides), side by side.
pub fn distributions(
    id: &str,
    scorer: &str,
    span: (f64, f64),
    current: &[u64],
    baseline: &[u64],
) -> String {
    let (lo, hi) = span;
    let count = |bins: &[u64]| bins.iter().sum::<u64>();
    let (n_cur, n_base) = (count(current), count(baseline));
    let bin = |bins: &[u64], i: usize| bins.get(i).copied().unwrap_or(0);
    let share = |c: u64, n: u64| if n == 0 { 0.0 } else { c as f64 / n as f64 };
    let peak = (0..BINS)
        .map(|i| share(bin(current, i), n_cur))
        .chain((0..BINS).map(|i| share(bin(baseline, i), n_base)))
        .fold(0.0_f64, f64::max)
        .max(f64::EPSILON);
    let height = 170.0;
    let (top, bottom) = (10.0, 140.0);
    let mut desc = format!(
        "{} current samples and {} baseline samples of {scorer}, from {} to {}, in {BINS} bins. Share per bin, current then baseline:",
        n_cur,
        n_base,
        short(lo),
        short(hi)
    );
    let mut out = String::new();
    let slot = (PLOT_RIGHT - PLOT_LEFT) / BINS as f64;
    let mut bars = String::new();
    for i in 0..BINS {
        let (c, b) = (
            share(bin(current, i), n_cur),
            share(bin(baseline, i), n_base),
        );
        let _ = write!(
            desc,
            " bin {}: {:.0}% / {:.0}%;",
            i + 1,
            c * 100.0,
            b * 100.0
        );
        let x = PLOT_LEFT + slot * i as f64;
        for (offset, value, class) in [(1.0, c, "cur"), (slot / 2.0, b, "base")] {
            let h = (bottom - top) * value / peak;
            let _ = write!(
                bars,
                r#"<rect class="{class}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"/>"#,
                x + offset,
                bottom - h,
                slot / 2.0 - 1.5,
                h
            );
        }
    }
    open(
        &mut out,
        id,
        height,
        &format!("{scorer}: current and baseline distributions"),
        &desc,
    );
    out.push_str(&bars);
    let _ = write!(
        out,
        r#"<line class="axis" x1="{PLOT_LEFT}" y1="{bottom}" x2="{PLOT_RIGHT}" y2="{bottom}"/><text x="{PLOT_LEFT}" y="{}">{}</text><text x="{PLOT_RIGHT}" y="{}" text-anchor="end">{}</text><rect class="cur" x="{PLOT_LEFT}" y="155" width="10" height="10"/><text x="{}" y="164">current</text><rect class="base" x="{}" y="155" width="10" height="10"/><text x="{}" y="164">baseline</text></svg>"#,
        bottom + 13.0,
        xml(&short(lo)),
        bottom + 13.0,
        xml(&short(hi)),
        PLOT_LEFT + 14.0,
        PLOT_LEFT + 90.0,
        PLOT_LEFT + 104.0,
    );
    out
}

/// A rate on a 0–1 axis with its interval, against a threshold.
pub fn rate_against_threshold(
    id: &str,
    label: &str,
    rate: f64,
    interval: (f64, f64),
    threshold: f64,
) -> String {
    let x = |v: f64| PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * v.clamp(0.0, 1.0);
    let verdict = if interval.0 > threshold {
        "above the threshold"
    } else if rate > threshold {
        "above the threshold, but its interval reaches below it"
    } else {
        "not above the threshold"
    };
    let desc = format!(
        "{label} is {:.1}% (95% interval {:.1}% to {:.1}%); the threshold is {:.1}%: {verdict}.",
        rate * 100.0,
        interval.0 * 100.0,
        interval.1 * 100.0,
        threshold * 100.0
    );
    let mut out = String::new();
    open(
        &mut out,
        id,
        80.0,
        &format!("{label} with its 95% interval against the threshold"),
        &desc,
    );
    let _ = write!(
        out,
        r#"<line class="axis" x1="{PLOT_LEFT}" y1="50" x2="{PLOT_RIGHT}" y2="50"/><text x="{PLOT_LEFT}" y="66">0%</text><text x="{PLOT_RIGHT}" y="66" text-anchor="end">100%</text><line class="interval" x1="{:.1}" y1="30" x2="{:.1}" y2="30"/><circle class="cur" cx="{:.1}" cy="30" r="5"/><line class="threshold" x1="{:.1}" y1="12" x2="{:.1}" y2="50"/><text x="{:.1}" y="10">threshold {}</text><text x="{:.1}" y="22">{:.1}%</text></svg>"#,
        x(interval.0),
        x(interval.1),
        x(rate),
        x(threshold),
        x(threshold),
        x(threshold) + 3.0,
        xml(&format!("{:.1}%", threshold * 100.0)),
        x(rate) + 6.0,
        rate * 100.0
    );
    out
}

/// One horizontal bar per drifting feature: its distance (or statistic).
pub fn drifting_features(id: &str, features: &[(String, f64)]) -> String {
    let row = 22.0;
    let height = 20.0 + row * features.len() as f64;
    let peak = features
        .iter()
        .map(|(_, v)| v.abs())
        .fold(0.0_f64, f64::max)
        .max(f64::EPSILON);
    let desc = features
        .iter()
        .map(|(name, v)| format!("{name}: {}", short(*v)))
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = String::new();
    open(
        &mut out,
        id,
        height,
        "Drifting features, by the size of their drift statistic",
        &desc,
    );
    let bar_left = 190.0;
    for (i, (name, value)) in features.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let w = (PLOT_RIGHT - bar_left - 50.0) * value.abs() / peak;
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="cur" x="{bar_left}" y="{:.1}" width="{:.1}" height="14"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            bar_left - 6.0,
            y + 11.0,
            xml(name),
            y,
            w,
            bar_left + w + 4.0,
            y + 11.0,
            xml(&short(*value))
        );
    }
    out.push_str("</svg>");
    out
}

/// A line of one value per job, oldest first, on its own value range.
pub fn trend(id: &str, title: &str, points: &[(String, f64)]) -> String {
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| {
            (lo.min(*v), hi.max(*v))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo.min(0.0), hi.max(1.0))
    } else {
        (0.0, 1.0)
    };
    let (top, bottom) = (10.0, 90.0);
    let step = if points.len() > 1 {
        (PLOT_RIGHT - PLOT_LEFT) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let y = |v: f64| bottom - (bottom - top) * (v - lo) / (hi - lo).max(f64::EPSILON);
    let desc = points
        .iter()
        .map(|(when, v)| format!("{when}: {}", short(*v)))
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = String::new();
    open(&mut out, id, 110.0, title, &desc);
    let line = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| format!("{:.1},{:.1}", PLOT_LEFT + step * i as f64, y(*v)))
        .collect::<Vec<_>>()
        .join(" ");
    let _ = write!(
        out,
        r#"<line class="axis" x1="{PLOT_LEFT}" y1="{bottom}" x2="{PLOT_RIGHT}" y2="{bottom}"/><text x="4" y="{:.1}">{}</text><text x="4" y="{:.1}">{}</text><polyline class="trend" points="{line}"/>"#,
        y(hi) + 4.0,
        xml(&short(hi)),
        y(lo),
        xml(&short(lo)),
    );
    for (i, (_, v)) in points.iter().enumerate() {
        let _ = write!(
            out,
            r#"<circle class="cur" cx="{:.1}" cy="{:.1}" r="3"/>"#,
            PLOT_LEFT + step * i as f64,
            y(*v)
        );
    }
    if let (Some((first, _)), Some((last, _))) = (points.first(), points.last()) {
        let _ = write!(
            out,
            r#"<text x="{PLOT_LEFT}" y="105">{}</text><text x="{PLOT_RIGHT}" y="105" text-anchor="end">{}</text>"#,
            xml(first),
            xml(last)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_have_titles_descriptions_and_escape_names() {
        let svg = distributions("c1", "tone<&>", (0.1, 0.9), &[1, 0, 1], &[0, 1]);
        assert!(svg.starts_with("<figcaption aria-hidden=\"true\">tone&lt;&amp;&gt;: current"));
        assert!(svg.contains("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"c1-t\">tone&lt;&amp;&gt;: current"));
        assert!(svg.contains("2 current samples and 1 baseline samples"));
        assert!(!svg.contains("tone<&>"));

        let svg = rate_against_threshold("h", "Hallucination rate", 0.3, (0.2, 0.4), 0.05);
        assert!(svg.contains("30.0% (95% interval 20.0% to 40.0%)"));
        assert!(svg.contains(": above the threshold."));

        let svg = drifting_features("d", &[("output_length".to_owned(), 0.42)]);
        assert!(svg.contains("output_length: 0.42"));
    }

    #[test]
    fn empty_inputs_draw_without_dividing_by_zero() {
        let svg = distributions("e", "x", (0.0, 0.0), &[], &[]);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        let svg = drifting_features("e", &[]);
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn trends_describe_every_point() {
        let points = vec![("03-01".to_owned(), 0.9), ("03-02".to_owned(), 0.6)];
        let svg = trend("t", "hallucination over the jobs of m", &points);
        assert!(svg.contains("03-01: 0.9; 03-02: 0.6"));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(trend("t", "x", &[]).ends_with("</svg>"));
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(0.5), "0.5");
        assert_eq!(short(1.0), "1");
        assert_eq!(short(-0.0001), "0");
        assert_eq!(short(0.12345), "0.123");
    }
}
