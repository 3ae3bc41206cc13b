//! Charts as inline SVG: a line chart over time, horizontal bars (signed), a histogram from
//! values or from pre-counted buckets, and stacked bars over time. Every chart has a title,
//! axes with round-number ticks, and a `<title>` per mark (the browser's tooltip). Text is
//! escaped; an empty series draws a chart that says so.

use std::fmt::Write;

pub const W: f64 = 860.0;
const PAD_L: f64 = 70.0;
const PAD_R: f64 = 20.0;
const PAD_T: f64 = 34.0;
const PAD_B: f64 = 36.0;

/// Colours for series and categories (colour-blind friendly, Okabe–Ito).
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
];

pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Round-number ticks covering [lo, hi].
pub fn ticks(lo: f64, hi: f64, want: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / want.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    // Integer multiples of the step (no drift from repeated addition), with a tolerance for
    // bounds that are themselves multiples but not exactly (−0.3 / 0.1 = −2.999…).
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|k| {
            let t = k as f64 * step;
            // Rounded to the step's precision: 0.30000000000000004 → 0.3.
            let digits = (-step.log10().floor()).max(0.0) as i32 + 1;
            let p = 10f64.powi(digits);
            (t * p).round() / p
        })
        .collect()
}

fn num(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 1.0 {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Seconds since the run's start, as an axis label.
fn secs_label(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 120.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

struct Frame {
    h: f64,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn new(h: f64, x0: f64, x1: f64, y0: f64, y1: f64) -> Frame {
        let (x0, x1) = if x1 > x0 {
            (x0, x1)
        } else {
            (x0 - 1.0, x0 + 1.0)
        };
        let (y0, y1) = if y1 > y0 {
            let pad = (y1 - y0) * 0.05;
            (y0 - pad, y1 + pad)
        } else {
            (y0 - 1.0, y0 + 1.0)
        };
        Frame { h, x0, x1, y0, y1 }
    }
    fn x(&self, v: f64) -> f64 {
        PAD_L + (v - self.x0) / (self.x1 - self.x0) * (W - PAD_L - PAD_R)
    }
    fn y(&self, v: f64) -> f64 {
        self.h - PAD_B - (v - self.y0) / (self.y1 - self.y0) * (self.h - PAD_T - PAD_B)
    }
}

fn open(out: &mut String, id: &str, title: &str, h: f64) {
    let _ = write!(
        out,
        r#"<svg class="chart" id="{}" viewBox="0 0 {W} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><text class="ct" x="{PAD_L}" y="20">{}</text>"#,
        esc(id),
        esc(title),
        esc(title)
    );
}

fn empty(id: &str, title: &str, why: &str) -> String {
    let mut s = String::new();
    open(&mut s, id, title, 90.0);
    let _ = write!(
        s,
        r#"<text class="none" x="{PAD_L}" y="60">{}</text></svg>"#,
        esc(why)
    );
    s
}

fn y_axis(out: &mut String, f: &Frame, unit: &str) {
    for t in ticks(f.y0, f.y1, 5) {
        let y = f.y(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{PAD_L}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - PAD_R,
            PAD_L - 6.0,
            y + 4.0,
            esc(&num(t))
        );
    }
    let _ = write!(
        out,
        r#"<text class="unit" x="8" y="{}">{}</text>"#,
        PAD_T - 6.0,
        esc(unit)
    );
}

fn x_time_axis(out: &mut String, f: &Frame) {
    for t in ticks(f.x0, f.x1, 6) {
        let x = f.x(t);
        let _ = write!(
            out,
            r#"<text class="tick" x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
            f.h - PAD_B + 16.0,
            esc(&secs_label(t))
        );
    }
}

/// Step lines over time: x in seconds since the start, one series per (name, points).
pub fn lines(id: &str, title: &str, unit: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    let all: Vec<&(f64, f64)> = series.iter().flat_map(|s| &s.1).collect();
    if all.is_empty() {
        return empty(id, title, "no data in this run");
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, 0f64, 0f64);
    for (x, y) in &all {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    let f = Frame::new(260.0, x0.min(0.0), x1, y0, y1);
    let mut s = String::new();
    open(&mut s, id, title, f.h);
    y_axis(&mut s, &f, unit);
    x_time_axis(&mut s, &f);
    let zy = f.y(0.0);
    let _ = write!(
        s,
        r#"<line class="zero" x1="{PAD_L}" x2="{}" y1="{zy:.1}" y2="{zy:.1}"/>"#,
        W - PAD_R
    );
    for (i, (name, pts)) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mut d = format!("M{:.1},{:.1}", f.x(f.x0), zy);
        let mut last_y = 0.0;
        for (x, y) in pts {
            let _ = write!(d, " H{:.1} V{:.1}", f.x(*x), f.y(*y));
            last_y = *y;
        }
        let _ = write!(
            s,
            r#"<path class="series" d="{d}" fill="none" stroke="{colour}" stroke-width="1.8"><title>{}: last {}</title></path>"#,
            esc(name),
            esc(&num(last_y))
        );
        let _ = write!(
            s,
            r#"<text class="legend" x="{}" y="20" fill="{colour}">{}</text>"#,
            W - PAD_R - 150.0 * (series.len() - i) as f64,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars, signed (positive right of zero, negative left).
pub fn bars(id: &str, title: &str, unit: &str, items: &[(String, f64)]) -> String {
    if items.is_empty() {
        return empty(id, title, "nothing to show in this run");
    }
    let row = 24.0;
    let h = PAD_T + PAD_B + row * items.len() as f64;
    let lo = items.iter().map(|i| i.1).fold(0f64, f64::min);
    let hi = items.iter().map(|i| i.1).fold(0f64, f64::max);
    let label_w = 150.0;
    let (x0, x1) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let px = |v: f64| PAD_L + label_w + (v - x0) / (x1 - x0) * (W - PAD_L - PAD_R - label_w);
    let mut s = String::new();
    open(&mut s, id, title, h);
    for t in ticks(x0, x1, 5) {
        let x = px(t);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="{PAD_T}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            h - PAD_B,
            h - PAD_B + 16.0,
            esc(&num(t))
        );
    }
    let _ = write!(
        s,
        r#"<text class="unit" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
        W - PAD_R,
        h - 4.0,
        esc(unit)
    );
    let z = px(0.0);
    for (i, (label, v)) in items.iter().enumerate() {
        let y = PAD_T + row * i as f64 + 4.0;
        let (a, b) = if *v >= 0.0 { (z, px(*v)) } else { (px(*v), z) };
        let class = if *v >= 0.0 { "pos" } else { "neg" };
        let _ = write!(
            s,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="{class}" x="{a:.1}" y="{y:.1}" width="{:.1}" height="{:.1}"><title>{}: {}</title></rect>"#,
            PAD_L + label_w - 8.0,
            y + row * 0.55,
            esc(label),
            (b - a).max(1.0),
            row - 8.0,
            esc(label),
            esc(&num(*v))
        );
    }
    let _ = write!(
        s,
        r#"<line class="zero" x1="{z:.1}" x2="{z:.1}" y1="{PAD_T}" y2="{:.1}"/></svg>"#,
        h - PAD_B
    );
    s
}

/// Vertical bars from pre-counted buckets (label, count).
pub fn buckets(id: &str, title: &str, unit: &str, items: &[(String, u64)]) -> String {
    if items.iter().all(|i| i.1 == 0) {
        return empty(id, title, "no observations in this run");
    }
    let h = 240.0;
    let max = items.iter().map(|i| i.1).max().unwrap_or(1) as f64;
    let f = Frame::new(h, 0.0, items.len() as f64, 0.0, max);
    let mut s = String::new();
    open(&mut s, id, title, h);
    y_axis(&mut s, &f, "count");
    let bw = (f.x(1.0) - f.x(0.0)).max(2.0);
    let every = (items.len() / 12).max(1);
    for (i, (label, n)) in items.iter().enumerate() {
        let x = f.x(i as f64);
        let y = f.y(*n as f64);
        let _ = write!(
            s,
            r#"<rect class="bar" x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}"><title>{}: {n}</title></rect>"#,
            x + 1.0,
            bw - 2.0,
            (f.y(0.0) - y).max(0.0),
            esc(label)
        );
        if i % every == 0 {
            let _ = write!(
                s,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x + bw / 2.0,
                h - PAD_B + 16.0,
                esc(label)
            );
        }
    }
    let _ = write!(
        s,
        r#"<text class="unit" x="{:.1}" y="{:.1}" text-anchor="end">{}</text></svg>"#,
        W - PAD_R,
        h - 4.0,
        esc(unit)
    );
    s
}

/// A histogram of values in `bins` equal bins between their min and max.
pub fn histogram(id: &str, title: &str, unit: &str, values: &[f64], bins: usize) -> String {
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return empty(id, title, "no observations in this run");
    }
    let lo = values.iter().copied().fold(f64::MAX, f64::min);
    let hi = values.iter().copied().fold(f64::MIN, f64::max);
    let bins = if hi > lo { bins.max(1) } else { 1 };
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let mut counts = vec![0u64; bins];
    for v in &values {
        let i = (((v - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let items: Vec<(String, u64)> = counts
        .into_iter()
        .enumerate()
        .map(|(i, n)| (num(lo + width * i as f64), n))
        .collect();
    buckets(id, title, unit, &items)
}

/// Stacked bars over time: x in seconds, one stack per time, categories coloured.
pub fn stacked(
    id: &str,
    title: &str,
    unit: &str,
    categories: &[String],
    columns: &[(f64, Vec<u64>)],
    bar_secs: f64,
) -> String {
    if columns.iter().all(|c| c.1.iter().all(|n| *n == 0)) {
        return empty(id, title, "none in this run");
    }
    let max = columns
        .iter()
        .map(|c| c.1.iter().sum::<u64>())
        .max()
        .unwrap_or(1) as f64;
    let x1 = columns.iter().map(|c| c.0).fold(0f64, f64::max) + bar_secs;
    let f = Frame::new(240.0, 0.0, x1, 0.0, max);
    let mut s = String::new();
    open(&mut s, id, title, f.h);
    y_axis(&mut s, &f, unit);
    x_time_axis(&mut s, &f);
    let bw = (f.x(bar_secs) - f.x(0.0)).max(2.0);
    for (t, counts) in columns {
        let mut base = 0u64;
        for (i, n) in counts.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let (ya, yb) = (f.y((base + n) as f64), f.y(base as f64));
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{ya:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} at {}: {n}</title></rect>"#,
                f.x(*t),
                (bw - 1.0).max(1.0),
                (yb - ya).max(0.5),
                PALETTE[i % PALETTE.len()],
                esc(&categories[i]),
                esc(&secs_label(*t))
            );
            base += n;
        }
    }
    for (i, c) in categories.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text class="legend" x="{:.1}" y="20" fill="{}">{}</text>"#,
            W - PAD_R - 170.0 * (categories.len() - i) as f64,
            PALETTE[i % PALETTE.len()],
            esc(c)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(-0.3, 0.2, 5), vec![-0.3, -0.2, -0.1, 0.0, 0.1, 0.2]);
        assert_eq!(ticks(5.0, 5.0, 5), vec![5.0]);
    }

    #[test]
    fn text_is_escaped_and_empty_charts_say_so() {
        assert_eq!(
            esc("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
        let s = bars("b", "PnL <by> strategy", "USDC", &[]);
        assert!(s.contains("PnL &lt;by&gt; strategy") && s.contains("nothing to show"));
        let h = histogram("h", "t", "bps", &[1.0, 2.0, 2.0, 9.0], 4);
        assert_eq!(h.matches("<rect class=\"bar\"").count(), 4);
        assert!(
            h.contains("<title>1: 3</title>") || h.contains(": 3</title>"),
            "{h}"
        );
    }
}
