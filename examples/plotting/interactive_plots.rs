//! # Interactive plots: a Plotly chart that opens offline
//!
//! **Question:** How do you make an interactive chart without a Python runtime?
//!
//! **Answer:** An interactive chart is data plus a layout handed to a JavaScript library that draws
//! it in the browser and handles hover, zoom and legend clicks; Plotly's figure is the same JSON
//! whether Python's plotly or Rust's plotly crate writes it. Interactive charts are for exploring
//! and for dashboards; reports and papers need a static figure that makes its point without a
//! mouse. Make the page self-contained — the library inside the file, no CDN — so it opens offline
//! and keeps working when the CDN moves.
//!
//! **Evidence:** 342 penguins in three traces with hover text (species, island, sex) become one 4–5
//! MB HTML file with plotly.js inside. Read back from the page, the figure's JSON holds every
//! bird's point in the right trace. Headless Chromium, with every request sent to a counting proxy
//! on loopback, draws all 342 point markers and attempts no network connection; without a browser
//! the check is skipped and says so (CI installs Debian's chromium and requires it).
//!
//! **Run:** `cargo run --example interactive_plots` (add `-- --quick` for a short run).

use std::time::Duration;

use anyhow::Context;
use harness::browser::Browser;
use harness::prelude::*;
use plotly::common::{Marker, Mode, Title};
use plotly::layout::{Axis, HoverMode, Layout};
use plotly::{Plot, Scatter};
use polars::prelude::*;

const SPECIES: [&str; 3] = ["Adelie", "Chinstrap", "Gentoo"];

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // The penguins with flipper length and body mass, and what a reader will want on hover.
    let birds = lessons_frames::frame("penguins.csv")?
        .lazy()
        .filter(
            col("flipper_length_mm")
                .is_not_null()
                .and(col("body_mass_g").is_not_null()),
        )
        .select([
            col("species"),
            col("island"),
            col("sex").fill_null(lit("unknown")),
            col("flipper_length_mm").cast(DataType::Float64),
            col("body_mass_g").cast(DataType::Float64),
        ])
        .collect()?;
    let text = |name: &str| -> anyhow::Result<Vec<String>> {
        Ok(birds
            .column(name)?
            .str()?
            .into_no_null_iter()
            .map(String::from)
            .collect())
    };
    let number = |name: &str| -> anyhow::Result<Vec<f64>> {
        Ok(birds.column(name)?.f64()?.into_no_null_iter().collect())
    };
    let (species, island, sex) = (text("species")?, text("island")?, text("sex")?);
    let (flipper, mass) = (number("flipper_length_mm")?, number("body_mass_g")?);

    // A Plotly figure is data (traces) plus layout, serialised as JSON and drawn in the browser
    // by plotly.js: hovering shows each bird, dragging zooms, clicking a legend entry hides a
    // species. The `plotly` crate builds the same JSON that Python's plotly does. With its
    // `plotly_embed_js` feature the page carries plotly.js inside it, so it opens without a
    // network (the default page would fetch plotly.js from a CDN).
    let mut plot = Plot::new();
    for (k, name) in SPECIES.iter().enumerate() {
        let rows: Vec<usize> = (0..species.len())
            .filter(|&i| species[i] == *name)
            .collect();
        let color = plot::color(k + 1);
        let trace = Scatter::new(
            rows.iter().map(|&i| flipper[i]).collect(),
            rows.iter().map(|&i| mass[i]).collect(),
        )
        .name(*name)
        .mode(Mode::Markers)
        .marker(
            Marker::new()
                .size(8)
                .color(format!("rgb({},{},{})", color.0, color.1, color.2)),
        )
        .hover_text_array(
            rows.iter()
                .map(|&i| format!("{name}, {}, {}", island[i], sex[i]))
                .collect(),
        )
        .hover_template("%{hovertext}<br>flipper %{x} mm<br>mass %{y} g<extra></extra>");
        plot.add_trace(trace);
    }
    plot.set_layout(
        Layout::new()
            .title(Title::with_text(
                "Palmer penguins: hover, zoom, click the legend",
            ))
            .x_axis(Axis::new().title(Title::with_text("flipper length (mm)")))
            .y_axis(Axis::new().title(Title::with_text("body mass (g)")))
            .hover_mode(HoverMode::Closest),
    );
    let html = plot.to_html();
    let page = lesson.out_file("penguins_interactive.html");
    harness::catalogue::write_atomically(&page, &html)?;
    lesson.record(ArtefactKind::Html, &page)?;
    println!(
        "{} birds in 3 traces; the page is {:.1} MB with plotly.js inside",
        flipper.len(),
        html.len() as f64 / 1e6
    );

    // The page holds the data: the figure's JSON, read back out of the HTML, has every bird.
    let start = html
        .find("Plotly.newPlot(graph_div, ")
        .context("the page calls Plotly.newPlot")?
        + "Plotly.newPlot(graph_div, ".len();
    let figure: serde_json::Value = serde_json::Deserializer::from_str(&html[start..])
        .into_iter::<serde_json::Value>()
        .next()
        .context("a JSON figure after Plotly.newPlot")??;
    let traces = figure["data"].as_array().context("the figure has data")?;
    let mut in_page = 0;
    let mut matches = true;
    for (trace, name) in traces.iter().zip(SPECIES) {
        let xs: Vec<f64> = trace["x"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
            .unwrap_or_default();
        let expected: Vec<f64> = (0..species.len())
            .filter(|&i| species[i] == name)
            .map(|i| flipper[i])
            .collect();
        matches &= trace["name"] == name && xs == expected;
        in_page += xs.len();
    }
    lesson.claim(
        "the HTML holds every data point",
        traces.len() == 3 && matches && in_page == flipper.len(),
        format!("{in_page} points in the page's figure JSON, in {} traces, equal to the {} birds of the frame", traces.len(), flipper.len()),
        &[("points_in_page", in_page as f64)],
    );

    // A browser draws it offline. Headless Chromium loads the file with every request sent to a
    // recording proxy that answers nothing; plotly draws one SVG path of class "point" per
    // marker. Without a browser
    // (Debian's `chromium` package), this check is skipped and says so.
    match Browser::find()? {
        Some(browser) => {
            let url = format!("file://{}", page.canonicalize()?.display());
            let started = std::time::Instant::now();
            let rendered = browser.render_offline(&url, Duration::from_secs(10))?;
            let drawn = rendered.dom().matches("class=\"point\"").count();
            let asked = rendered.page_requests().len();
            println!(
                "{} rendered the page in {:.1} s: {drawn} points drawn, {asked} request(s) by the page, {} by Chromium for itself",
                browser.program().display(),
                started.elapsed().as_secs_f64(),
                rendered.browser_requests().len()
            );
            for request in rendered.page_requests() {
                println!("  the page asked for: {request}");
            }
            lesson.metric("points_drawn_by_browser", drawn as f64);
            lesson.claim(
                "headless Chromium draws every point with the network cut off, and the page asks for nothing",
                drawn == flipper.len() && asked == 0,
                format!("{drawn} point paths in the rendered DOM for {} birds; {asked} requests by the page through the recording proxy", flipper.len()),
                &[("drawn", drawn as f64), ("page_requests", asked as f64)],
            );
        }
        None => println!(
            "no Chromium here: the browser check is skipped (install Debian's `chromium` package to run it)"
        ),
    }

    lesson.finish()?;
    Ok(())
}
