//! # Custom styling: themes, palettes, annotations, log scales, print and screen
//!
//! **Question:** How do you style charts for print, screen and colour-blind readers?
//!
//! **Answer:** Make the style a set of decisions written once — fonts, sizes, margins, line widths,
//! a palette, where labels go — and apply it everywhere (Matplotlib's style sheets and rcParams;
//! here one drawing function and the harness's house helpers). Choose a palette that stays distinct
//! for colour-blind readers (Okabe–Ito, viridis for sequential data) and check it with a colour
//! difference such as CIEDE2000 under simulated deficiencies; label lines directly instead of
//! making readers match a legend; annotate what the reader must not miss; use a log scale when
//! values span orders of magnitude; and draw for the medium: vector (SVG, PDF) or 300 dpi for print
//! with fonts scaled to points, smaller rasters for screens.
//!
//! **Evidence:** Monthly flights of seven carriers (from about 30 to 5,000 a month) are drawn on a
//! log axis with direct labels and an annotation, for screen (960 × 600), for print (2008 px wide:
//! 17 cm at 300 dpi, every size ×300/96) and in a pure-hue rainbow. Reading the seven line colours
//! back from the PNG, the Okabe–Ito lines stay at least ΔE00 10 apart for normal vision,
//! deuteranopia and protanopia (Machado et al. 2009); the rainbow's lines are far apart for normal
//! vision but two of them fall below 10 under a red–green deficiency. The SVG's tick labels 10, 100
//! and 1000 are equally spaced, within a pixel.
//!
//! **Run:** `cargo run --example custom_styling` (add `-- --quick` for a short run).

use std::collections::HashMap;

use harness::figure_file::{Raster, svg_elements};
use harness::prelude::*;
use lessons_viz::color::{Deficiency, ciede2000, lab};
use plotters::coord::Shift;
use plotters::prelude::*;
use polars::prelude::*;

/// Seven carriers whose monthly flights from New York span three orders of magnitude.
const CARRIERS: [&str; 7] = ["UA", "DL", "AA", "WN", "VX", "AS", "HA"];

/// Pure hues, the colours a default "rainbow" picks: red, orange, yellow, green, cyan, blue,
/// magenta.
const RAINBOW: [RGBColor; 7] = [
    RGBColor(230, 25, 25),
    RGBColor(245, 130, 30),
    RGBColor(230, 210, 20),
    RGBColor(40, 170, 40),
    RGBColor(20, 190, 200),
    RGBColor(30, 60, 220),
    RGBColor(190, 40, 190),
];

/// The smallest CIEDE2000 difference between two palette colours that the lesson accepts, for
/// normal vision and for each simulated deficiency: well above the ~1 of a just-noticeable
/// difference, so that two lines can be told apart at a glance and across the legend.
const MIN_DELTA_E: f64 = 10.0;

/// The house chart of monthly flights per carrier on a log axis, every size multiplied by
/// `scale`; returns the plotting area in pixels.
fn draw_carriers<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &HashMap<String, Vec<(f64, f64)>>,
    palette: &[RGBColor],
    scale: f64,
) -> Result<(std::ops::Range<i32>, std::ops::Range<i32>), plot::DrawError>
where
    DB::ErrorType: 'static,
{
    let px = |v: f64| (v * scale).round() as u32;
    let font = |size: f64| ("sans-serif", size * scale).into_font();
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Flights from New York per month, 2013",
            font(26.0).style(FontStyle::Bold),
        )
        .margin(px(18.0))
        .x_label_area_size(px(52.0))
        .y_label_area_size(px(78.0))
        .build_cartesian_2d(0.5..13.2, (10.0..10_000.0).log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(BLACK.mix(0.05))
        .bold_line_style(BLACK.mix(0.12))
        .label_style(font(16.0))
        .axis_desc_style(font(16.0))
        .x_labels(12)
        .x_label_formatter(&|m| format!("{m:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_desc("month")
        .y_desc("flights (log scale)")
        .draw()?;
    // Direct labels at the line ends instead of a legend: nothing to look up, nothing covered.
    // Labels closer than 0.08 of a decade are pushed apart, top to bottom, so none overlap.
    let mut ends: Vec<(usize, f64)> = CARRIERS
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i, series.get(*c)?.last()?.1.log10())))
        .collect();
    ends.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut label_at = vec![0.0; CARRIERS.len()];
    let mut previous = f64::INFINITY;
    for (i, level) in ends {
        let placed = level.min(previous - 0.08);
        label_at[i] = placed;
        previous = placed;
    }
    for (i, carrier) in CARRIERS.iter().enumerate() {
        let color = palette[i % palette.len()];
        let points = series.get(*carrier).cloned().unwrap_or_default();
        let last = points.last().copied();
        chart.draw_series(LineSeries::new(points, color.stroke_width(px(3.0))))?;
        if let Some((month, _)) = last {
            let y = 10f64.powf(label_at[i]);
            chart.draw_series([Text::new(
                carrier.to_string(),
                (month + 0.15, y),
                font(15.0).color(&color),
            )])?;
        }
    }
    // An annotation: the February dip is the calendar, not the airlines.
    chart.draw_series([
        PathElement::new([(2.0, 14.0), (2.0, 22.0)], BLACK.stroke_width(px(1.0))),
        PathElement::new(
            [(1.9, 19.0), (2.0, 22.0), (2.1, 19.0)],
            BLACK.stroke_width(px(1.0)),
        ),
    ])?;
    chart.draw_series([Text::new("February has 28 days", (1.3, 12.0), font(14.0))])?;
    Ok(chart.plotting_area().get_pixel_range())
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Monthly flights of each carrier, from the flights table.
    let monthly = lessons_frames::frame("nycflights13_flights.parquet")?
        .lazy()
        .filter(col("carrier").is_in(lit(Series::new("c".into(), CARRIERS)), false))
        .group_by([col("carrier"), col("month")])
        .agg([len().alias("flights")])
        .collect()?;
    let mut series: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
    for ((carrier, month), flights) in monthly
        .column("carrier")?
        .str()?
        .into_no_null_iter()
        .zip(
            monthly
                .column("month")?
                .cast(&DataType::Float64)?
                .f64()?
                .into_no_null_iter(),
        )
        .zip(
            monthly
                .column("flights")?
                .cast(&DataType::Float64)?
                .f64()?
                .into_no_null_iter(),
        )
    {
        series
            .entry(carrier.to_string())
            .or_default()
            .push((month, flights));
    }
    for points in series.values_mut() {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    for c in CARRIERS {
        let points = series.get(c).map_or(&[][..], Vec::as_slice);
        println!(
            "{c}: {:.0} to {:.0} flights a month",
            points.iter().map(|p| p.1).fold(f64::MAX, f64::min),
            points.iter().map(|p| p.1).fold(0.0, f64::max)
        );
    }

    // One drawing function, two sizes. A house style is a set of choices made once: fonts,
    // margins, line widths, a palette, where the legend goes. For print, the same figure is drawn
    // at 300 dots per inch for a 17 cm column (2008 px wide) with every size multiplied by 300/96,
    // so a 16 px label on screen (12 pt at 96 dpi) stays 12 pt on paper; the SVG is vector and
    // serves both.
    let okabe_ito: Vec<RGBColor> = (0..7).map(plot::color).collect();
    let mut log_area = None;
    figure!(lesson, "carriers_screen", plot::SIZE, |root| {
        log_area = Some(draw_carriers(&root, &series, &okabe_ito, 1.0)?);
    })?;
    let scale = 300.0 / 96.0;
    let print_size = (
        (17.0 / 2.54 * 300.0f64).round() as u32,
        (17.0 / 2.54 * 300.0 / 1.6f64).round() as u32,
    );
    figure!(lesson, "carriers_print_300dpi", print_size, |root| {
        draw_carriers(&root, &series, &okabe_ito, scale)?;
    })?;
    figure!(lesson, "carriers_rainbow", plot::SIZE, |root| {
        draw_carriers(&root, &series, &RAINBOW, 1.0)?;
    })?;
    println!(
        "screen {}×{} px; print {}×{} px (17 cm at 300 dpi)",
        plot::SIZE.0,
        plot::SIZE.1,
        print_size.0,
        print_size.1
    );

    // The palette, measured where the reader meets it: the colours of the lines in the PNG.
    // Inside the plotting area every strongly coloured pixel belongs to a line or a legend
    // swatch; the seven most frequent such colours are the seven carriers.
    let (plot_xs, plot_ys) = log_area.ok_or_else(|| anyhow::anyhow!("the figure was drawn"))?;
    let measured = |stem: &str| -> anyhow::Result<Vec<[u8; 3]>> {
        let (png, _) = lesson.figure_paths(stem);
        let raster = Raster::read(&png)?;
        let mut counts: HashMap<[u8; 3], usize> = HashMap::new();
        for color in raster.region(
            plot_xs.start as u32..plot_xs.end as u32,
            plot_ys.start as u32..plot_ys.end as u32,
        ) {
            let (max, min) = (
                *color.iter().max().unwrap_or(&0),
                *color.iter().min().unwrap_or(&0),
            );
            if max - min > 60 {
                *counts.entry(color).or_default() += 1;
            }
        }
        let mut by_count: Vec<([u8; 3], usize)> = counts.into_iter().collect();
        by_count.sort_by_key(|c| std::cmp::Reverse(c.1));
        Ok(by_count.into_iter().take(7).map(|(c, _)| c).collect())
    };
    let worst = |colors: &[[u8; 3]], vision: Option<Deficiency>| -> f64 {
        let seen: Vec<[u8; 3]> = colors
            .iter()
            .map(|&c| vision.map_or(c, |d| d.simulate(c)))
            .collect();
        let mut min = f64::INFINITY;
        for i in 0..seen.len() {
            for j in i + 1..seen.len() {
                min = min.min(ciede2000(lab(seen[i]), lab(seen[j])));
            }
        }
        min
    };
    let (safe, rainbow) = (measured("carriers_screen")?, measured("carriers_rainbow")?);
    let expected: Vec<[u8; 3]> = okabe_ito.iter().map(|c| [c.0, c.1, c.2]).collect();
    let found_all = expected.iter().all(|c| safe.contains(c));
    println!(
        "{:<28} {:>8} {:>14} {:>12}",
        "smallest ΔE00 between lines", "normal", "deuteranopia", "protanopia"
    );
    let mut rows = Vec::new();
    for (name, colors) in [
        ("Okabe–Ito (house palette)", &safe),
        ("pure-hue rainbow", &rainbow),
    ] {
        let row = [
            worst(colors, None),
            worst(colors, Some(Deficiency::Deuteranopia)),
            worst(colors, Some(Deficiency::Protanopia)),
        ];
        println!(
            "{name:<28} {:>8.1} {:>14.1} {:>12.1}",
            row[0], row[1], row[2]
        );
        rows.push(row);
    }
    lesson.metric("okabe_ito_min_delta_e_deuteranopia", rows[0][1]);
    lesson.metric("rainbow_min_delta_e_deuteranopia", rows[1][1]);
    lesson.claim(
        "the house palette's lines stay distinguishable for the common colour-vision deficiencies",
        found_all && rows[0].iter().all(|&d| d > MIN_DELTA_E),
        format!(
            "the seven colours read from the PNG are the Okabe–Ito palette; smallest ΔE00 {:.1} (normal), {:.1} (deuteranopia), {:.1} (protanopia), all above {MIN_DELTA_E}",
            rows[0][0], rows[0][1], rows[0][2]
        ),
        &[("normal", rows[0][0]), ("deuteranopia", rows[0][1]), ("protanopia", rows[0][2])],
    );
    lesson.claim(
        "a pure-hue rainbow does not: two of its lines merge under a red–green deficiency",
        rows[1][0] > MIN_DELTA_E && rows[1][1].min(rows[1][2]) < MIN_DELTA_E,
        format!(
            "smallest ΔE00 {:.1} for normal vision but {:.1} (deuteranopia) and {:.1} (protanopia)",
            rows[1][0], rows[1][1], rows[1][2]
        ),
        &[
            ("normal", rows[1][0]),
            ("deuteranopia", rows[1][1]),
            ("protanopia", rows[1][2]),
        ],
    );

    // A log axis puts equal ratios at equal distances: every point drawn, read back from the
    // SVG's polylines, must sit at a height that is a straight-line function of log10(flights).
    let (_, svg) = lesson.figure_paths("carriers_screen");
    let elements = svg_elements(&svg)?;
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    for (i, carrier) in CARRIERS.iter().enumerate() {
        let color = okabe_ito[i];
        let Some(line) = elements.iter().find(|e| {
            e.name() == "polyline"
                && e.attribute("stroke")
                    .and_then(harness::figure_file::parse_color)
                    == Some([color.0, color.1, color.2])
        }) else {
            continue;
        };
        let ys: Vec<f64> = line
            .attribute("points")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.split_once(',')?.1.parse().ok())
            .collect();
        let values = series.get(*carrier).map_or(&[][..], Vec::as_slice);
        if ys.len() == values.len() {
            pairs.extend(values.iter().zip(ys).map(|(v, y)| (v.1.log10(), y)));
        }
    }
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let slope = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
        / pairs.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    let worst = pairs
        .iter()
        .map(|p| (p.1 - (my + slope * (p.0 - mx))).abs())
        .fold(0.0, f64::max);
    println!(
        "log axis: {} points read from the SVG; height = {:.1} px per factor of ten, largest deviation from that line {worst:.2} px",
        pairs.len(),
        -slope
    );
    lesson.metric("pixels_per_decade", -slope);
    lesson.claim(
        "on the log axis each factor of ten takes the same height",
        pairs.len() == 84 && worst <= 1.0,
        format!(
            "all {} drawn points lie within {worst:.2} px of {:.1} px per factor of ten",
            pairs.len(),
            -slope
        ),
        &[("worst_px", worst)],
    );

    lesson.finish()?;
    Ok(())
}
