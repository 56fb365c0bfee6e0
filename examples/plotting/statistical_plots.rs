//! # Statistical plots: distributions and correlations
//!
//! **Question:** How do you show distributions and correlations?
//!
//! **Answer:** Show a distribution with a histogram and a kernel density estimate on the same
//! density scale (a Gaussian on every point, its width set by a rule such as Scott's h =
//! σ·n^(−1/5)), compare groups with box plots (box from the first to the third quartile, median
//! line, whiskers to the most extreme point within 1.5 IQR, the rest drawn as points), look at
//! pairs of variables in a pair-plot grid, and summarise linear association with a correlation
//! heatmap whose cells carry their numbers. Say which quantile definition you use: NumPy and pandas
//! interpolate linearly by default, polars' default picks the nearest order statistic.
//!
//! **Evidence:** On 342 penguins, the flipper-length histogram and its KDE (Scott's h ≈ 4.6 mm) are
//! read back from the SVG and enclose the same area to within 3 %, as two densities must. The box
//! edges read from the SVG match polars' quantile(…, Linear) of each species' body mass within one
//! pixel (about 8 g), and polars' Nearest method gives different quartiles for at least one
//! species. A 4 × 4 pair plot shows every pair of measurements by species, with per-species
//! histograms on the diagonal. Each of the 16 numbers written in the heatmap, read back from the
//! SVG's text, equals polars' pearson_corr of its row and column (flipper length × body mass r ≈
//! 0.87).
//!
//! **Run:** `cargo run --example statistical_plots` (add `-- --quick` for a short run).

use anyhow::Context;
use harness::figure_file::{parse_color, svg_elements};
use harness::prelude::*;
use plotters::prelude::*;
use polars::prelude::*;

/// The four measurements of the penguins, as polars names them and as the figures label them.
const MEASURES: [(&str, &str); 4] = [
    ("bill_length_mm", "bill length (mm)"),
    ("bill_depth_mm", "bill depth (mm)"),
    ("flipper_length_mm", "flipper length (mm)"),
    ("body_mass_g", "body mass (g)"),
];
const SPECIES: [&str; 3] = ["Adelie", "Chinstrap", "Gentoo"];

/// Whether a number has at most two decimals, as the heatmap writes them (tick labels do not).
fn has_two_decimals(v: f64) -> bool {
    ((v * 100.0).round() - v * 100.0).abs() < 1e-9
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // The penguins with all four measurements, as floats.
    let birds = lessons_frames::frame("penguins.csv")?
        .lazy()
        .select(
            std::iter::once(col("species"))
                .chain(
                    MEASURES
                        .iter()
                        .map(|(name, _)| col(*name).cast(DataType::Float64)),
                )
                .collect::<Vec<_>>(),
        )
        .drop_nulls(None)
        .collect()?;
    let column = |name: &str| -> anyhow::Result<Vec<f64>> {
        Ok(birds.column(name)?.f64()?.into_no_null_iter().collect())
    };
    let species: Vec<String> = birds
        .column("species")?
        .str()?
        .into_no_null_iter()
        .map(String::from)
        .collect();
    let flipper = column("flipper_length_mm")?;
    let n = flipper.len();
    println!("{n} penguins with all four measurements");

    // Part 1: a histogram with a kernel density estimate, Seaborn's histplot(kde=True). A KDE puts
    // a Gaussian of width h on every observation and averages them; h follows Scott's rule,
    // h = σ·n^(−1/5) (scipy's and Seaborn's default). Both are drawn as densities, so each
    // encloses an area of 1 — drawn with counts on the y axis instead, the histogram would tower
    // over the curve by a factor of n × bin width, a common mistake.
    let mean = flipper.iter().sum::<f64>() / n as f64;
    let sd = (flipper.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let h = sd * (n as f64).powf(-0.2);
    let kde = |x: f64| {
        flipper
            .iter()
            .map(|v| (-0.5 * ((x - v) / h).powi(2)).exp())
            .sum::<f64>()
            / (n as f64 * h * (2.0 * std::f64::consts::PI).sqrt())
    };
    let (lo, hi) = (170.0, 240.0);
    let bin = 5.0;
    let bins: Vec<(f64, f64)> = (0..((hi - lo) / bin) as usize)
        .map(|k| {
            let start = lo + k as f64 * bin;
            let count = flipper
                .iter()
                .filter(|&&v| v >= start && v < start + bin)
                .count();
            (start, count as f64 / (n as f64 * bin))
        })
        .collect();
    let curve: Vec<(f64, f64)> = (0..=700)
        .map(|k| lo + k as f64 * 0.1)
        .map(|x| (x, kde(x)))
        .collect();
    println!("flipper length: mean {mean:.1} mm, SD {sd:.1} mm, Scott bandwidth h = {h:.2} mm");
    let (bar_color, curve_color) = (plot::color(5), plot::color(3));
    let mut density_area = None;
    figure!(lesson, "histogram_kde", plot::SIZE, |root| {
        let top = bins.iter().map(|b| b.1).fold(0.0, f64::max) * 1.15;
        let mut chart = plot::chart(&root, "Flipper length: histogram and KDE (densities)")
            .build_cartesian_2d(lo..hi, 0.0..top)?;
        plot::axes(&mut chart, "flipper length (mm)", "density (per mm)")?;
        chart.draw_series(bins.iter().map(|&(start, d)| {
            Rectangle::new(
                [(start, 0.0), (start + bin, d)],
                bar_color.mix(0.6).filled(),
            )
        }))?;
        chart
            .draw_series(LineSeries::new(curve.clone(), curve_color.stroke_width(2)))?
            .label(format!("Gaussian KDE, Scott's h = {h:.1} mm"))
            .legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 18, y)], curve_color.stroke_width(2))
            });
        plot::legend(&mut chart)?;
        density_area = Some(chart.plotting_area().get_pixel_range());
    })?;

    // Read the two back from the SVG and compare the areas they enclose, in pixels: the same
    // data-to-pixel scale applies to both, so two densities enclose the same number of pixels.
    let (_, svg) = lesson.figure_paths("histogram_kde");
    let elements = svg_elements(&svg)?;
    let (_, ys) = density_area.context("the figure was drawn")?;
    let baseline = f64::from(ys.end - 1);
    let bars_area: f64 = elements
        .iter()
        .filter(|e| {
            e.name() == "rect"
                && e.attribute("fill").and_then(parse_color)
                    == Some([bar_color.0, bar_color.1, bar_color.2])
        })
        .map(|e| e.number("width").unwrap_or(0.0) * e.number("height").unwrap_or(0.0))
        .sum();
    let polyline = elements
        .iter()
        .find(|e| {
            e.name() == "polyline"
                && e.attribute("stroke").and_then(parse_color)
                    == Some([curve_color.0, curve_color.1, curve_color.2])
                && e.attribute("points")
                    .is_some_and(|p| p.split_whitespace().count() > 100)
        })
        .context("the KDE is one <polyline> in the SVG")?;
    let points: Vec<(f64, f64)> = polyline
        .attribute("points")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.split_once(','))
        .filter_map(|(x, y)| Some((x.parse().ok()?, y.parse().ok()?)))
        .collect();
    let curve_area: f64 = points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * ((baseline - w[0].1) + (baseline - w[1].1)) / 2.0)
        .sum();
    let ratio = curve_area / bars_area;
    println!(
        "area under the drawn KDE {curve_area:.0} px², under the drawn histogram {bars_area:.0} px² (ratio {ratio:.3})"
    );
    lesson.metric("kde_to_histogram_area", ratio);
    // Both are exactly 1 in data units; in pixels each bar edge and curve point is rounded to a
    // whole pixel, about 1 px on a curve a few hundred pixels wide and tall: within 3 %.
    lesson.claim(
        "the drawn KDE and the drawn histogram enclose the same area: both are densities",
        (ratio - 1.0).abs() < 0.03,
        format!(
            "{curve_area:.0} px² under the curve against {bars_area:.0} px² of bars ({ratio:.3})"
        ),
        &[("ratio", ratio)],
    );

    // Part 2: box plots of body mass by species. The box runs from the first to the third
    // quartile, the line is the median, the whiskers reach the most extreme bird within 1.5 IQR
    // of the box (Tukey's rule, as Matplotlib and Seaborn draw it), and birds beyond are drawn
    // one by one. The quartiles here interpolate linearly between order statistics, as NumPy
    // and pandas do by default; polars' own default (`QuantileMethod::Nearest`) does not.
    let mass_by_species: Vec<Vec<f64>> = SPECIES
        .iter()
        .map(|s| {
            let mut v: Vec<f64> = column("body_mass_g")
                .unwrap_or_default()
                .into_iter()
                .zip(&species)
                .filter(|(_, sp)| sp == s)
                .map(|(m, _)| m)
                .collect();
            v.sort_by(f64::total_cmp);
            v
        })
        .collect();
    let linear = |sorted: &[f64], q: f64| {
        let rank = q * (sorted.len() - 1) as f64;
        let (i, frac) = (rank.floor() as usize, rank.fract());
        sorted[i] + (sorted[(i + 1).min(sorted.len() - 1)] - sorted[i]) * frac
    };
    let box_color = plot::color(0);
    let (y_lo, y_hi) = (2500.0, 6500.0);
    let mut box_area = None;
    figure!(lesson, "box_plots", plot::SIZE, |root| {
        let mut chart = plot::chart(&root, "Body mass by species (Tukey box plots)")
            .build_cartesian_2d(0.0..3.0, y_lo..y_hi)?;
        plot::house_mesh(&mut chart.configure_mesh())
            .disable_x_mesh()
            .x_labels(7)
            .x_label_formatter(&|v| plot::category_tick(&SPECIES, *v))
            .y_desc("body mass (g)")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        for (k, masses) in mass_by_species.iter().enumerate() {
            let x = k as f64 + 0.5;
            let (q1, q2, q3) = (
                linear(masses, 0.25),
                linear(masses, 0.5),
                linear(masses, 0.75),
            );
            let (fence_lo, fence_hi) = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1));
            let whisker_lo = masses
                .iter()
                .copied()
                .find(|&m| m >= fence_lo)
                .unwrap_or(q1);
            let whisker_hi = masses
                .iter()
                .rev()
                .copied()
                .find(|&m| m <= fence_hi)
                .unwrap_or(q3);
            chart.draw_series([Rectangle::new(
                [(x - 0.25, q1), (x + 0.25, q3)],
                box_color.mix(0.35).filled(),
            )])?;
            chart.draw_series([
                PathElement::new([(x - 0.25, q2), (x + 0.25, q2)], BLACK.stroke_width(2)),
                PathElement::new([(x, q3), (x, whisker_hi)], BLACK.stroke_width(1)),
                PathElement::new([(x, q1), (x, whisker_lo)], BLACK.stroke_width(1)),
                PathElement::new(
                    [(x - 0.1, whisker_hi), (x + 0.1, whisker_hi)],
                    BLACK.stroke_width(1),
                ),
                PathElement::new(
                    [(x - 0.1, whisker_lo), (x + 0.1, whisker_lo)],
                    BLACK.stroke_width(1),
                ),
            ])?;
            chart.draw_series(
                masses
                    .iter()
                    .filter(|&&m| m < fence_lo || m > fence_hi)
                    .map(|&m| Circle::new((x, m), 3, BLACK.filled())),
            )?;
        }
        box_area = Some(chart.plotting_area().get_pixel_range());
    })?;

    // Read the boxes back: each box's top and bottom edge, turned from pixels into grams, must be
    // polars' linear quartiles of that species, within one pixel.
    let (_, svg) = lesson.figure_paths("box_plots");
    let (_, ys) = box_area.context("the figure was drawn")?;
    let grams_per_px = (y_hi - y_lo) / f64::from(ys.end - ys.start - 1);
    let to_grams = |py: f64| y_hi - (py - f64::from(ys.start)) * grams_per_px;
    let mut boxes: Vec<(f64, f64, f64)> = svg_elements(&svg)?
        .iter()
        .filter(|e| {
            e.name() == "rect"
                && e.attribute("fill").and_then(parse_color)
                    == Some([box_color.0, box_color.1, box_color.2])
        })
        .filter_map(|e| Some((e.number("x")?, e.number("y")?, e.number("height")?)))
        .map(|(x, y, height)| (x, to_grams(y + height), to_grams(y)))
        .collect();
    boxes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut worst = 0.0f64;
    let mut nearest_differs = false;
    for ((name, drawn), masses) in SPECIES.iter().zip(&boxes).zip(&mass_by_species) {
        let series = Series::new("mass".into(), masses.clone());
        let quartile = |q: f64, method: QuantileMethod| -> anyhow::Result<f64> {
            series
                .quantile_reduce(q, method)?
                .value()
                .extract::<f64>()
                .context("a quantile")
        };
        let (q1, q3) = (
            quartile(0.25, QuantileMethod::Linear)?,
            quartile(0.75, QuantileMethod::Linear)?,
        );
        let (n1, n3) = (
            quartile(0.25, QuantileMethod::Nearest)?,
            quartile(0.75, QuantileMethod::Nearest)?,
        );
        nearest_differs |= n1 != q1 || n3 != q3;
        worst = worst.max((drawn.1 - q1).abs()).max((drawn.2 - q3).abs());
        println!(
            "{name:<10} drawn box {:.0}–{:.0} g; polars linear quartiles {q1:.1}–{q3:.1} g, nearest {n1:.0}–{n3:.0} g",
            drawn.1, drawn.2
        );
    }
    lesson.metric("box_edge_error_g", worst);
    lesson.claim(
        "the drawn boxes span polars' linear quartiles",
        boxes.len() == 3 && worst <= grams_per_px,
        format!("every box edge within {worst:.1} g of polars' quantile(…, Linear) (one pixel is {grams_per_px:.1} g); the Nearest method differs for at least one species: {nearest_differs}"),
        &[("worst_edge_error_g", worst), ("grams_per_pixel", grams_per_px)],
    );

    // A pair-plot grid, Seaborn's pairplot(hue="species"): every measurement against every other,
    // one colour per species, and each measurement's distribution on the diagonal (histograms
    // per species, overlaid). It shows in one picture what the heatmap below reduces to numbers —
    // including that within each species bill length and depth rise together while the pooled
    // cloud slopes the other way.
    let values: Vec<Vec<f64>> = MEASURES
        .iter()
        .map(|(name, _)| column(name))
        .collect::<anyhow::Result<_>>()?;
    let ranges: Vec<(f64, f64)> = values
        .iter()
        .map(|v| {
            let (lo, hi) = v
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            let pad = (hi - lo) * 0.05;
            (lo - pad, hi + pad)
        })
        .collect();
    figure!(lesson, "pair_plot", (1200, 1240), |root| {
        // One legend for the whole grid, in a row of its own under the title, clear of every
        // panel's data.
        let (head, grid) = root.split_vertically(80);
        let head = head.titled(
            "Pair plot of the penguins' measurements",
            plot::title_style(),
        )?;
        let mut x = head.dim_in_pixel().0 as i32 / 2 - 190;
        for (k, name) in SPECIES.iter().enumerate() {
            let color = plot::color(k + 1);
            head.draw(&PathElement::new(
                [(x, 14), (x + 28, 14)],
                color.stroke_width(3),
            ))?;
            head.draw(&Text::new(*name, (x + 36, 5), plot::label_style()))?;
            x += 130;
        }
        let panels = grid.split_evenly((4, 4));
        for (i, row) in ranges.iter().enumerate() {
            for (j, col_range) in ranges.iter().enumerate() {
                let panel = &panels[i * 4 + j];
                let x_range = col_range.0..col_range.1;
                let mut builder = ChartBuilder::on(panel);
                builder
                    .margin(6)
                    .x_label_area_size(if i == 3 { 44 } else { 6 })
                    .y_label_area_size(if j == 0 { 78 } else { 6 });
                if i == j {
                    // The diagonal: one step histogram per species, as densities.
                    let bins = 16;
                    let width = (x_range.end - x_range.start) / bins as f64;
                    let histograms: Vec<Vec<f64>> = SPECIES
                        .iter()
                        .map(|sp| {
                            let mine: Vec<f64> = values[j]
                                .iter()
                                .zip(&species)
                                .filter(|(_, s)| s == sp)
                                .map(|(v, _)| *v)
                                .collect();
                            let mut h = vec![0.0; bins];
                            for v in &mine {
                                let b = (((v - x_range.start) / width) as usize).min(bins - 1);
                                h[b] += 1.0 / (mine.len() as f64 * width);
                            }
                            h
                        })
                        .collect();
                    let top = histograms.iter().flatten().copied().fold(0.0, f64::max) * 1.1;
                    let mut chart = builder.build_cartesian_2d(x_range.clone(), 0.0..top)?;
                    let mut mesh = chart.configure_mesh();
                    plot::house_mesh(&mut mesh)
                        .y_labels(0)
                        .x_labels(if i == 3 { 4 } else { 0 })
                        .x_label_formatter(&|v| format!("{v:.0}"));
                    if i == 3 {
                        mesh.x_desc(MEASURES[j].1);
                    }
                    mesh.draw()?;
                    for (k, h) in histograms.iter().enumerate() {
                        let color = plot::color(k + 1);
                        let steps: Vec<(f64, f64)> = h
                            .iter()
                            .enumerate()
                            .flat_map(|(b, &d)| {
                                let x0 = x_range.start + b as f64 * width;
                                [(x0, d), (x0 + width, d)]
                            })
                            .collect();
                        chart.draw_series(LineSeries::new(steps, color.stroke_width(2)))?;
                    }
                } else {
                    let mut chart = builder.build_cartesian_2d(x_range.clone(), row.0..row.1)?;
                    let mut mesh = chart.configure_mesh();
                    plot::house_mesh(&mut mesh)
                        .x_labels(if i == 3 { 4 } else { 0 })
                        .y_labels(if j == 0 { 4 } else { 0 })
                        .x_label_formatter(&|v| format!("{v:.0}"))
                        .y_label_formatter(&|v| format!("{v:.0}"));
                    if i == 3 {
                        mesh.x_desc(MEASURES[j].1);
                    }
                    if j == 0 {
                        mesh.y_desc(MEASURES[i].1);
                    }
                    mesh.draw()?;
                    for (k, sp) in SPECIES.iter().enumerate() {
                        let color = plot::color(k + 1);
                        chart.draw_series(
                            (0..species.len()).filter(|&r| species[r] == *sp).map(|r| {
                                Circle::new(
                                    (values[j][r], values[i][r]),
                                    2,
                                    color.mix(0.7).filled(),
                                )
                            }),
                        )?;
                    }
                }
            }
        }
    })?;

    // Part 3: a correlation heatmap with the coefficient written in every cell, as Seaborn's
    // heatmap(annot=True). The numbers are polars' Pearson correlations.
    let mut r = [[0.0f64; 4]; 4];
    for (i, (a, _)) in MEASURES.iter().enumerate() {
        for (j, (b, _)) in MEASURES.iter().enumerate() {
            let value = birds
                .clone()
                .lazy()
                .select([pearson_corr(col(*a), col(*b)).alias("r")])
                .collect()?;
            r[i][j] = value.column("r")?.f64()?.get(0).context("a correlation")?;
        }
    }
    let labels: Vec<&str> = MEASURES.iter().map(|(_, label)| *label).collect();
    figure!(lesson, "correlation_heatmap", (900, 760), |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Pearson correlation of the measurements",
                plot::title_style(),
            )
            .margin(18)
            .x_label_area_size(60)
            .y_label_area_size(160)
            .build_cartesian_2d(0.0..4.0, 0.0..4.0)?;
        plot::house_mesh(&mut chart.configure_mesh())
            .disable_mesh()
            .x_labels(9)
            .y_labels(9)
            .x_label_formatter(&|v| plot::category_tick(&labels, *v))
            .y_label_formatter(&|v| plot::category_tick(&labels, 4.0 - *v))
            .draw()?;
        for (i, row) in r.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                // Row i from the top, column j; diverging colours: blue negative, orange positive.
                let (x, y) = (j as f64, 3.0 - i as f64);
                let base = if v < 0.0 {
                    plot::color(0)
                } else {
                    plot::color(1)
                };
                chart.draw_series([Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    base.mix(v.abs().min(1.0) * 0.85 + 0.05).filled(),
                )])?;
                chart.draw_series([Text::new(
                    format!("{v:.2}"),
                    (x + 0.38, y + 0.55),
                    plot::label_style(),
                )])?;
            }
        }
    })?;

    // Read the sixteen numbers back from the SVG's text, place each in its cell by position, and
    // compare with the matrix.
    let (_, svg) = lesson.figure_paths("correlation_heatmap");
    let texts = svg_elements(&svg)?;
    let numbers: Vec<(f64, f64, f64)> = texts
        .iter()
        .filter(|e| e.name() == "text")
        .filter_map(|e| {
            Some((
                e.number("x")?,
                e.number("y")?,
                e.text().parse::<f64>().ok()?,
            ))
        })
        .filter(|(_, _, v)| v.abs() <= 1.0 && has_two_decimals(*v))
        .collect();
    let (xs, ys): (Vec<f64>, Vec<f64>) = numbers.iter().map(|(x, y, _)| (*x, *y)).unzip();
    let rank = |values: &[f64], v: f64| values.iter().filter(|&&w| w < v - 1.0).count();
    let mut distinct_x = xs.clone();
    distinct_x.sort_by(f64::total_cmp);
    distinct_x.dedup_by(|a, b| (*a - *b).abs() < 1.0);
    let mut distinct_y = ys.clone();
    distinct_y.sort_by(f64::total_cmp);
    distinct_y.dedup_by(|a, b| (*a - *b).abs() < 1.0);
    let mut matched = 0;
    for (x, y, v) in &numbers {
        let (j, i) = (rank(&distinct_x, *x), rank(&distinct_y, *y));
        if i < 4 && j < 4 && (v - (r[i][j] * 100.0).round() / 100.0).abs() < 1e-9 {
            matched += 1;
        }
    }
    // The row labels: each measurement's name on the y axis must sit level with its own row.
    let left = distinct_x.first().copied().unwrap_or(0.0);
    let rows_labelled = texts
        .iter()
        .filter(|e| e.name() == "text" && e.number("x").is_some_and(|x| x < left))
        .filter_map(|e| {
            let i = labels.iter().position(|l| *l == e.text())?;
            let y = e.number("y")?;
            let row = (0..distinct_y.len()).min_by(|&a, &b| {
                (distinct_y[a] - y)
                    .abs()
                    .total_cmp(&(distinct_y[b] - y).abs())
            })?;
            Some(row == i)
        })
        .collect::<Vec<bool>>();
    let labels_right = rows_labelled.len() == 4 && rows_labelled.iter().all(|&ok| ok);
    println!(
        "heatmap: {} numbers written, {matched} equal to polars' correlation of their row and column; flipper length × body mass r = {:.3}",
        numbers.len(),
        r[2][3]
    );
    lesson.metric("flipper_mass_correlation", r[2][3]);
    lesson.claim(
        "every number written in the heatmap is the correlation of its own row and column",
        numbers.len() == 16 && matched == 16 && labels_right,
        format!("{matched} of {} cell labels read from the SVG match polars' pearson_corr to two decimals; the four row names sit level with their rows: {labels_right}", numbers.len()),
        &[("cells_matched", matched as f64)],
    );

    lesson.finish()?;
    Ok(())
}
