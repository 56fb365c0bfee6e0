//! # Visualisation best practices: honest and misleading charts, measured
//!
//! **Question:** How can a chart mislead, and how do you measure it?
//!
//! **Answer:** Make the graphic's proportions the data's proportions: bars start at zero (Tufte's
//! lie factor — the effect shown divided by the effect in the data — should be 1), areas and not
//! radii carry the value in bubble charts, and a sequential colour map changes lightness
//! monotonically (viridis, not a rainbow). Beyond that: label axes with units, show uncertainty,
//! prefer position and length to angle, area and colour, keep the data-ink high and the chart junk
//! low, and say where the data come from.
//!
//! **Evidence:** New York's three airports flew 104,662 to 120,835 flights in 2013 (EWR 15 % more
//! than LGA). Measured on the drawn bars in the SVG, the lie factor is 1.00 with the axis from zero
//! and about 23 with the axis from 100,000. Bubbles for four carriers (UA flies 11× VX): read back
//! from the SVG, circles sized by area show that ratio faithfully (factor ≈ 1), sized by radius
//! they exaggerate it by 11×. Along the drawn colour bars, viridis' lightness L* rises by over 50
//! and never falls by more than 1; jet's falls by over 20 after its peak.
//!
//! **Run:** `cargo run --example visualization_best_practices` (add `-- --quick` for a short run).

use anyhow::Context;
use harness::figure_file::{Raster, parse_color, svg_elements};
use harness::prelude::*;
use lessons_viz::color::lab;
use plotters::prelude::*;
use polars::prelude::*;

/// Anchors of the viridis colour map (perceptually uniform, lightness rising throughout).
const VIRIDIS: [[u8; 3]; 10] = [
    [0x44, 0x01, 0x54],
    [0x48, 0x28, 0x78],
    [0x3e, 0x4a, 0x89],
    [0x31, 0x68, 0x8e],
    [0x26, 0x82, 0x8e],
    [0x1f, 0x9e, 0x89],
    [0x35, 0xb7, 0x79],
    [0x6d, 0xcd, 0x59],
    [0xb4, 0xde, 0x2c],
    [0xfd, 0xe7, 0x25],
];

/// Anchors of the classic "jet" rainbow map (dark blue through cyan, yellow and red).
const JET: [[u8; 3]; 9] = [
    [0x00, 0x00, 0x7f],
    [0x00, 0x00, 0xff],
    [0x00, 0x7f, 0xff],
    [0x00, 0xff, 0xff],
    [0x7f, 0xff, 0x7f],
    [0xff, 0xff, 0x00],
    [0xff, 0x7f, 0x00],
    [0xff, 0x00, 0x00],
    [0x7f, 0x00, 0x00],
];

/// The colour at `t` in 0..=1 along a map, interpolating its anchors linearly in sRGB.
fn map_color(anchors: &[[u8; 3]], t: f64) -> RGBColor {
    let position = t.clamp(0.0, 1.0) * (anchors.len() - 1) as f64;
    let (i, frac) = (position.floor() as usize, position.fract());
    let (a, b) = (anchors[i], anchors[(i + 1).min(anchors.len() - 1)]);
    let mix =
        |k: usize| (f64::from(a[k]) + (f64::from(b[k]) - f64::from(a[k])) * frac).round() as u8;
    RGBColor(mix(0), mix(1), mix(2))
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?;
    let count_by = |key: &str, keys: &[&str]| -> anyhow::Result<Vec<f64>> {
        let counts = flights
            .clone()
            .lazy()
            .group_by([col(key)])
            .agg([len().alias("n")])
            .collect()?;
        let names: Vec<&str> = counts.column(key)?.str()?.into_no_null_iter().collect();
        let n: Vec<u32> = counts.column("n")?.u32()?.into_no_null_iter().collect();
        keys.iter()
            .map(|k| {
                names
                    .iter()
                    .position(|m| m == k)
                    .map(|i| f64::from(n[i]))
                    .context("a key with no flights")
            })
            .collect()
    };

    // Part 1: a truncated axis. Flights from New York's three airports differ by about 15 %;
    // bars on an axis that starts at 100,000 make the difference look many times larger. Tufte's
    // lie factor is the effect shown by the graphic divided by the effect in the data: here the
    // relative difference in bar height against the relative difference in flights.
    let origins = ["EWR", "JFK", "LGA"];
    let per_origin = count_by("origin", &origins)?;
    println!("flights per origin: {per_origin:?}");
    let bar_color = plot::color(0);
    for (stem, floor) in [("honest_axis", 0.0), ("truncated_axis", 100_000.0)] {
        figure!(lesson, stem, (640, 520), |root| {
            let title = if floor == 0.0 {
                "Flights per airport (axis from 0)"
            } else {
                "Flights per airport (axis from 100,000)"
            };
            let mut chart =
                plot::chart(&root, title).build_cartesian_2d(0.0..3.0, floor..125_000.0)?;
            plot::house_mesh(&mut chart.configure_mesh())
                .disable_x_mesh()
                .x_labels(7)
                .x_label_formatter(&|v| plot::category_tick(&origins, *v))
                .y_label_formatter(&|v| format!("{:.0}k", v / 1000.0))
                .y_desc("flights in 2013")
                .draw()?;
            chart.draw_series(per_origin.iter().enumerate().map(|(i, &n)| {
                Rectangle::new(
                    [(i as f64 + 0.2, floor), (i as f64 + 0.8, n)],
                    bar_color.filled(),
                )
            }))?;
        })?;
    }
    let (largest, smallest) = (
        per_origin[0].max(per_origin[2]),
        per_origin[0].min(per_origin[2]),
    );
    let data_effect = largest / smallest - 1.0;
    let lie_factor = |stem: &str| -> anyhow::Result<f64> {
        let (_, svg) = lesson.figure_paths(stem);
        let heights: Vec<f64> = svg_elements(&svg)?
            .iter()
            .filter(|e| {
                e.name() == "rect"
                    && e.attribute("fill").and_then(parse_color)
                        == Some([bar_color.0, bar_color.1, bar_color.2])
            })
            .filter_map(|e| e.number("height"))
            .collect();
        anyhow::ensure!(
            heights.len() == 3,
            "{stem}: {} bars in the SVG",
            heights.len()
        );
        let (high, low) = (heights[0].max(heights[2]), heights[0].min(heights[2]));
        Ok((high / low - 1.0) / data_effect)
    };
    let (honest, truncated) = (lie_factor("honest_axis")?, lie_factor("truncated_axis")?);
    println!(
        "EWR against LGA: {:.1} % more flights; lie factor {honest:.2} from zero, {truncated:.1} from 100,000",
        100.0 * data_effect
    );
    lesson.metric("lie_factor_honest", honest);
    lesson.metric("lie_factor_truncated", truncated);
    // Bar heights are whole pixels: on bars about 400 px tall the honest factor is 1 within 2 %.
    lesson.claim(
        "a truncated axis lies by a large factor; an axis from zero does not",
        (honest - 1.0).abs() < 0.02 && truncated > 2.0,
        format!("lie factor measured on the drawn bars: {honest:.3} from zero, {truncated:.1} from 100,000"),
        &[("honest", honest), ("truncated", truncated)],
    );

    // Part 2: bubbles. A reader judges a circle by its area. Scaling the radius with the value
    // makes a value 11 times larger look about 130 times larger; scaling the area does not.
    let carriers = ["UA", "AA", "WN", "VX"];
    let per_carrier = count_by("carrier", &carriers)?;
    let max = per_carrier.iter().copied().fold(0.0, f64::max);
    let bubble_color = plot::color(2);
    for (stem, by_area) in [("bubbles_by_area", true), ("bubbles_by_radius", false)] {
        figure!(lesson, stem, (760, 420), |root| {
            let title = if by_area {
                "Flights per carrier: area ∝ flights"
            } else {
                "Flights per carrier: radius ∝ flights"
            };
            let mut chart = plot::chart(&root, title).build_cartesian_2d(0.0..4.0, 0.0..1.0)?;
            plot::house_mesh(&mut chart.configure_mesh())
                .disable_mesh()
                .y_labels(0)
                .x_labels(9)
                .x_label_formatter(&|v| plot::category_tick(&carriers, *v))
                .draw()?;
            chart.draw_series(per_carrier.iter().enumerate().map(|(i, &n)| {
                let share = n / max;
                let radius = 80.0 * if by_area { share.sqrt() } else { share };
                Circle::new(
                    (i as f64 + 0.5, 0.5),
                    radius.round() as i32,
                    bubble_color.mix(0.8).filled(),
                )
            }))?;
        })?;
    }
    let area_ratio = |stem: &str| -> anyhow::Result<f64> {
        let (_, svg) = lesson.figure_paths(stem);
        let radii: Vec<f64> = svg_elements(&svg)?
            .iter()
            .filter(|e| e.name() == "circle")
            .filter_map(|e| e.number("r"))
            .collect();
        anyhow::ensure!(
            radii.len() == 4,
            "{stem}: {} circles in the SVG",
            radii.len()
        );
        let (big, small) = (
            radii.iter().copied().fold(0.0, f64::max),
            radii.iter().copied().fold(f64::MAX, f64::min),
        );
        Ok((big / small).powi(2))
    };
    let value_ratio = max / per_carrier.iter().copied().fold(f64::MAX, f64::min);
    let (by_area, by_radius) = (
        area_ratio("bubbles_by_area")? / value_ratio,
        area_ratio("bubbles_by_radius")? / value_ratio,
    );
    println!(
        "UA flies {value_ratio:.1}× VX; drawn area ratio / value ratio: {by_area:.2} by area, {by_radius:.1} by radius"
    );
    lesson.metric("bubble_lie_factor_area", by_area);
    lesson.metric("bubble_lie_factor_radius", by_radius);
    // Radii are whole pixels: the smallest (about 24 px) rounds by up to 2 %, its area by 4 %.
    lesson.claim(
        "bubbles sized by radius exaggerate by the value ratio; sized by area they do not",
        (by_area - 1.0).abs() < 0.06 && by_radius > 0.8 * value_ratio,
        format!("drawn areas exaggerate the {value_ratio:.1}× difference by {by_area:.2} when the area carries the value and by {by_radius:.1} when the radius does"),
        &[("by_area", by_area), ("by_radius", by_radius)],
    );

    // Part 3: colour maps. A sequential map should get steadily lighter (or darker), so that
    // order can be read from lightness alone — also in greyscale and by colour-blind readers.
    // Both maps are drawn as colour bars, then the lightness L* of each drawn pixel is measured.
    let steps = 200;
    figure!(lesson, "colour_maps", (900, 300), |root| {
        let halves = root.split_evenly((2, 1));
        for (area, (name, anchors)) in halves
            .iter()
            .zip([("viridis", &VIRIDIS[..]), ("jet (rainbow)", &JET[..])])
        {
            let mut chart = ChartBuilder::on(area)
                .caption(name, plot::label_style())
                .margin(12)
                .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
            chart.draw_series((0..steps).map(|k| {
                let (t0, t1) = (k as f64 / steps as f64, (k + 1) as f64 / steps as f64);
                Rectangle::new([(t0, 0.0), (t1, 1.0)], map_color(anchors, t0).filled())
            }))?;
        }
    })?;
    let (png, _) = lesson.figure_paths("colour_maps");
    let raster = Raster::read(&png)?;
    // The middle row of each half, across the drawn bar (the white page is skipped).
    let lightness = |row: u32| -> Vec<f64> {
        (0..raster.width())
            .map(|x| raster.pixel(x, row))
            .filter(|p| *p != [255, 255, 255])
            .map(|p| lab(p).l)
            .collect()
    };
    let (viridis_l, jet_l) = (
        lightness(raster.height() / 4 + 10),
        lightness(3 * raster.height() / 4 + 10),
    );
    // The largest fall in L* on the way along the bar (0 for a map that only gets lighter).
    let largest_fall = |l: &[f64]| {
        let mut peak = f64::MIN;
        let mut fall = 0.0f64;
        for &v in l {
            peak = peak.max(v);
            fall = fall.max(peak - v);
        }
        fall
    };
    let (viridis_fall, jet_fall) = (largest_fall(&viridis_l), largest_fall(&jet_l));
    let rise = |l: &[f64]| l.last().copied().unwrap_or(0.0) - l.first().copied().unwrap_or(0.0);
    println!(
        "lightness along the drawn bars: viridis {:.0} → {:.0} (largest fall {viridis_fall:.2}), jet {:.0} → {:.0} (largest fall {jet_fall:.1}); {} and {} pixels",
        viridis_l.first().copied().unwrap_or(0.0),
        viridis_l.last().copied().unwrap_or(0.0),
        jet_l.first().copied().unwrap_or(0.0),
        jet_l.last().copied().unwrap_or(0.0),
        viridis_l.len(),
        jet_l.len()
    );
    lesson.metric("viridis_largest_lightness_fall", viridis_fall);
    lesson.metric("jet_largest_lightness_fall", jet_fall);
    // Rounding each drawn colour to 8 bits moves L* by well under 1.
    lesson.claim(
        "viridis gets lighter all the way; the rainbow's lightness rises and falls",
        viridis_l.len() > 500 && viridis_fall < 1.0 && rise(&viridis_l) > 50.0 && jet_fall > 20.0,
        format!("measured on the drawn bars: viridis rises {:.0} in L* and never falls by more than {viridis_fall:.2}; jet falls by {jet_fall:.0} after its peak", rise(&viridis_l)),
        &[("viridis_fall", viridis_fall), ("jet_fall", jet_fall)],
    );

    lesson.finish()?;
    Ok(())
}
