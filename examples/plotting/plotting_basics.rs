//! # Plotting fundamentals: a figure's anatomy in plotters
//!
//! **Question:** What are the building blocks of a chart, and how do Matplotlib's figure and axes
//! map onto plotters?
//!
//! **Answer:** A figure is a drawing area; subplots are that area split into a grid; on each, a
//! chart builder reserves room for the caption and axis labels and fixes the coordinate ranges; the
//! mesh draws grid, ticks and axis descriptions; series draw the data; the series labels draw the
//! legend. Matplotlib calls these Figure, Axes, the axes' limits, ticks and labels, artists and
//! legend. plotters runs the same drawing code against a bitmap backend (PNG, pixels) or an SVG
//! backend (vector elements you can count, search and scale); use SVG for the web and print, PNG
//! where a raster is required.
//!
//! **Evidence:** A 2 × 2 grid draws weekly CO₂ as a line, 342 penguins as a scatter by species with
//! a legend, birds per island as bars and bill length as a histogram, to PNG and SVG from one piece
//! of code. Read back: the SVG holds exactly one <circle> per plotted bird, with each species'
//! count matching its fill colour; in the decoded PNG every pixel of each of the six series'
//! colours lies inside its own panel's plotting area (none over another panel, the axes or the
//! titles), and the two files have the same size.
//!
//! **Run:** `cargo run --example plotting_basics` (add `-- --quick` for a short run).

use std::collections::BTreeMap;
use std::ops::Range;

use anyhow::Context;
use harness::figure_file::{Raster, svg_elements};
use harness::prelude::*;
use plotters::prelude::*;
use polars::prelude::*;

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // The data: weekly CO₂ at Mauna Loa for a line, and the Palmer penguins for a scatter, a bar
    // chart and a histogram. Rows with a missing measurement are left out of the panel that
    // needs it.
    let co2 = lessons_frames::frame("co2_weekly.csv")?.drop_nulls::<String>(None)?;
    let dates: Vec<i64> = co2
        .column("date")?
        .cast(&DataType::Int64)?
        .i64()?
        .into_no_null_iter()
        .collect();
    let ppm: Vec<f64> = co2.column("co2")?.f64()?.into_no_null_iter().collect();
    // yyyymmdd as a decimal year, plenty for a line across 60 years.
    let years: Vec<f64> = dates
        .iter()
        .map(|d| {
            (d / 10_000) as f64 + ((d / 100 % 100) as f64 - 1.0) / 12.0 + (d % 100) as f64 / 365.0
        })
        .collect();
    let penguins = lessons_frames::frame("penguins.csv")?;
    let measured = penguins
        .clone()
        .lazy()
        .filter(
            col("flipper_length_mm")
                .is_not_null()
                .and(col("body_mass_g").is_not_null()),
        )
        .select([
            col("species"),
            col("flipper_length_mm").cast(DataType::Float64),
            col("body_mass_g").cast(DataType::Float64),
            col("bill_length_mm").cast(DataType::Float64),
        ])
        .collect()?;
    let species: Vec<&str> = measured
        .column("species")?
        .str()?
        .into_no_null_iter()
        .collect();
    let flipper: Vec<f64> = measured
        .column("flipper_length_mm")?
        .f64()?
        .into_no_null_iter()
        .collect();
    let mass: Vec<f64> = measured
        .column("body_mass_g")?
        .f64()?
        .into_no_null_iter()
        .collect();
    let bill: Vec<f64> = measured
        .column("bill_length_mm")?
        .f64()?
        .into_no_null_iter()
        .collect();
    let names = ["Adelie", "Chinstrap", "Gentoo"];
    let islands = penguins
        .clone()
        .lazy()
        .group_by([col("island")])
        .agg([len().alias("birds")])
        .sort(["island"], Default::default())
        .collect()?;
    let island_names: Vec<String> = islands
        .column("island")?
        .str()?
        .into_no_null_iter()
        .map(String::from)
        .collect();
    let island_counts: Vec<u32> = islands
        .column("birds")?
        .u32()?
        .into_no_null_iter()
        .collect();
    println!(
        "{} weekly CO₂ readings; {} penguins with flipper and mass ({} in all), on {} islands",
        ppm.len(),
        mass.len(),
        penguins.height(),
        island_names.len()
    );

    // The anatomy, in plotters' words. A *drawing area* is a rectangle of the output (the whole
    // PNG or SVG); `split_evenly((2, 2))` cuts it into four sub-areas, Matplotlib's subplots. On
    // each, a *chart builder* reserves room for the caption and the axis labels and fixes the
    // coordinate ranges, giving a *chart context*; its *mesh* draws the grid, ticks and axis
    // descriptions; *series* draw the data; the *series labels* draw the legend. The same code
    // draws into a bitmap and an SVG backend (the `figure!` macro runs it for both). Each panel's
    // plotting area, in pixels, is kept to check the PNG against below.
    let colors = [
        plot::color(0),
        plot::color(1),
        plot::color(2),
        plot::color(3),
        plot::color(4),
        plot::color(5),
    ];
    let (line_color, species_colors, bar_color, hist_color) = (
        colors[0],
        [colors[1], colors[2], colors[3]],
        colors[4],
        colors[5],
    );
    let mut areas: Vec<(Range<i32>, Range<i32>)> = Vec::new();
    figure!(lesson, "anatomy", (1200, 900), |root| {
        areas.clear();
        let panels = root.split_evenly((2, 2));

        // A line: CO₂ against time.
        let (y_min, y_max) = ppm
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let mut chart = plot::chart(&panels[0], "Line: CO₂ at Mauna Loa")
            .build_cartesian_2d(years[0]..years[years.len() - 1], y_min - 2.0..y_max + 2.0)?;
        plot::house_mesh(&mut chart.configure_mesh())
            .x_desc("year")
            .y_desc("CO₂ (ppm)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        chart.draw_series(LineSeries::new(
            years.iter().copied().zip(ppm.iter().copied()),
            line_color.stroke_width(1),
        ))?;
        areas.push(chart.plotting_area().get_pixel_range());

        // A scatter: one circle per bird, one colour and one legend entry per species.
        let mut chart = plot::chart(&panels[1], "Scatter: penguins")
            .build_cartesian_2d(170.0..235.0, 2500.0..6500.0)?;
        plot::house_mesh(&mut chart.configure_mesh())
            .x_desc("flipper length (mm)")
            .y_desc("body mass (g)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        for (name, color) in names.iter().zip(species_colors) {
            chart
                .draw_series(
                    (0..mass.len())
                        .filter(|&i| species[i] == *name)
                        .map(|i| Circle::new((flipper[i], mass[i]), 3, color.filled())),
                )?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        plot::legend(&mut chart)?;
        areas.push(chart.plotting_area().get_pixel_range());

        // Bars: birds per island.
        let top = f64::from(island_counts.iter().copied().max().unwrap_or(1)) * 1.1;
        let mut chart = plot::chart(&panels[2], "Bars: birds per island")
            .build_cartesian_2d(0.0..island_counts.len() as f64, 0.0..top)?;
        plot::house_mesh(&mut chart.configure_mesh())
            .disable_x_mesh()
            .x_labels(island_counts.len() * 2 + 1)
            .x_label_formatter(&|v| plot::category_tick(&island_names, *v))
            .y_desc("birds")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        chart.draw_series(island_counts.iter().enumerate().map(|(i, &n)| {
            Rectangle::new(
                [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, f64::from(n))],
                bar_color.filled(),
            )
        }))?;
        areas.push(chart.plotting_area().get_pixel_range());

        // A histogram: bill length in 2 mm bins.
        let mut chart = plot::chart(&panels[3], "Histogram: bill length")
            .build_cartesian_2d((30u32..62u32).step(2).into_segmented(), 0u32..60u32)?;
        plot::house_mesh(&mut chart.configure_mesh())
            .disable_x_mesh()
            .x_desc("bill length (mm)")
            .y_desc("birds")
            .draw()?;
        chart.draw_series(
            Histogram::vertical(&chart)
                .style(hist_color.filled())
                .margin(1)
                .data(bill.iter().map(|&b| ((b as u32) / 2 * 2, 1))),
        )?;
        areas.push(chart.plotting_area().get_pixel_range());
    })?;

    // Read the figure back from its files. The SVG is vector graphics: every bird is its own
    // <circle> element with its species' fill colour, so the file can be counted.
    let (png_path, svg_path) = lesson.figure_paths("anatomy");
    let elements = svg_elements(&svg_path)?;
    let mut circles_by_fill: BTreeMap<[u8; 3], usize> = BTreeMap::new();
    for circle in elements.iter().filter(|e| e.name() == "circle") {
        let fill = circle
            .attribute("fill")
            .and_then(harness::figure_file::parse_color);
        *circles_by_fill
            .entry(fill.unwrap_or([0, 0, 0]))
            .or_default() += 1;
    }
    let mut per_species = Vec::new();
    for (name, color) in names.iter().zip(species_colors) {
        let plotted = species.iter().filter(|s| *s == name).count();
        let in_svg = circles_by_fill
            .get(&[color.0, color.1, color.2])
            .copied()
            .unwrap_or(0);
        println!(
            "{name}: {plotted} birds plotted, {in_svg} <circle> elements of its colour in the SVG"
        );
        per_species.push((plotted, in_svg));
    }
    let circles: usize = circles_by_fill.values().sum();
    lesson.metric("svg_circles", circles as f64);
    lesson.claim(
        "the SVG holds one element per plotted point",
        per_species
            .iter()
            .all(|(plotted, in_svg)| plotted == in_svg)
            && circles == mass.len(),
        format!(
            "{circles} <circle> elements for {} birds, each species' count matching its colour",
            mass.len()
        ),
        &[("circles", circles as f64), ("birds", mass.len() as f64)],
    );

    // The PNG is pixels: a series' colour must appear only inside the plotting area of its own
    // panel — not in another panel, not over the axes or titles.
    let raster = Raster::read(&png_path)?;
    let root = svg_elements(&svg_path)?
        .into_iter()
        .find(|e| e.name() == "svg")
        .context("the SVG has an <svg> element")?;
    let same_size = root.number("width") == Some(f64::from(raster.width()))
        && root.number("height") == Some(f64::from(raster.height()));
    let series: Vec<(&str, RGBColor, usize)> = vec![
        ("CO₂ line", line_color, 0),
        ("Adelie", species_colors[0], 1),
        ("Chinstrap", species_colors[1], 1),
        ("Gentoo", species_colors[2], 1),
        ("island bars", bar_color, 2),
        ("histogram", hist_color, 3),
    ];
    let mut misplaced = 0;
    let mut painted = Vec::new();
    for (name, color, panel) in &series {
        let (xs, ys) = &areas[*panel];
        let (mut inside, mut outside) = (0usize, 0usize);
        for (x, y) in raster.positions_of([color.0, color.1, color.2]) {
            if xs.contains(&(x as i32)) && ys.contains(&(y as i32)) {
                inside += 1;
            } else {
                outside += 1;
            }
        }
        println!(
            "{name:<12} {inside:>7} pixels inside panel {panel}'s plotting area, {outside} outside"
        );
        misplaced += outside;
        painted.push(inside);
    }
    lesson.metric("misplaced_pixels", misplaced as f64);
    lesson.claim(
        "each series' colour appears in the PNG only inside its own panel's plotting area",
        misplaced == 0 && painted.iter().all(|&n| n > 0) && same_size,
        format!(
            "{} series, {} coloured pixels, {misplaced} outside their panel; PNG and SVG both {}×{}",
            series.len(),
            painted.iter().sum::<usize>(),
            raster.width(),
            raster.height()
        ),
        &[("misplaced_pixels", misplaced as f64)],
    );

    lesson.finish()?;
    Ok(())
}
