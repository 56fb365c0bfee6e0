//! # Geographic maps: projections, real borders and flight destinations
//!
//! **Question:** How do you draw data on a map, and what do projections distort?
//!
//! **Answer:** A map is a projection from the sphere to the plane, and no projection keeps areas,
//! angles and distances at once. Web Mercator keeps angles (conformal, what web tiles use) and
//! blows areas up by sec²(latitude), four times at 60°; an equal-area projection keeps areas and
//! distorts shapes; equirectangular keeps neither and is simply convenient. Use an equal-area
//! projection for choropleths and anything compared by area, compute distances on the sphere (great
//! circles), and size point symbols by area.
//!
//! **Evidence:** On Natural Earth's 177 country borders, Greenland's area is about 0.07 of Africa's
//! on the globe (equal-area projection) but about as large as Africa as Mercator draws it. For the
//! countries less than 8° tall, the ratio of their Mercator area to their true area is within 10 %
//! of sec² of their middle latitude (Latvia, Estonia and Denmark, near 57°, come out 3.2–3.7×, as
//! sec²φ says); across the 110 such countries the largest deviation is about 3 %. The great-circle
//! distance between every route's airports, from the airports table, matches the flights' distance
//! column on all 217 routes with known coordinates within half a mile of rounding plus 0.3 % (the
//! sphere against the ellipsoid); 7 routes go to airports missing from the table.
//!
//! **Run:** `cargo run --example geographic_maps` (add `-- --quick` for a short run).

use std::collections::HashMap;
use std::f64::consts::PI;

use anyhow::Context;
use harness::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use polars::prelude::*;

/// A map projection: longitude and latitude in degrees to plane coordinates.
#[derive(Clone, Copy)]
enum Projection {
    /// x = λ, y = φ: simple, neither equal-area nor conformal.
    Equirectangular,
    /// x = λ, y = ln tan(π/4 + φ/2): keeps angles (conformal), so areas grow as sec²φ.
    WebMercator,
    /// x = λ, y = sin φ (Lambert's cylindrical equal-area): keeps areas, squashes shapes.
    EqualArea,
}

impl Projection {
    fn project(self, lon: f64, lat: f64) -> (f64, f64) {
        let (x, phi) = (lon.to_radians(), lat.to_radians());
        match self {
            Projection::Equirectangular => (x, phi),
            Projection::WebMercator => (x, (PI / 4.0 + phi / 2.0).tan().ln()),
            Projection::EqualArea => (x, phi.sin()),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Projection::Equirectangular => "equirectangular",
            Projection::WebMercator => "Web Mercator",
            Projection::EqualArea => "Lambert cylindrical equal-area",
        }
    }
}

/// A country: its name, continent and outer rings of (longitude, latitude).
struct Country {
    name: String,
    continent: String,
    rings: Vec<Vec<(f64, f64)>>,
}

/// The plane area of a country's outer rings under a projection (shoelace formula).
fn projected_area(country: &Country, projection: Projection) -> f64 {
    country
        .rings
        .iter()
        .map(|ring| {
            let points: Vec<(f64, f64)> = ring
                .iter()
                .map(|&(lon, lat)| projection.project(lon, lat))
                .collect();
            points
                .windows(2)
                .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
                .sum::<f64>()
                .abs()
                / 2.0
        })
        .sum()
}

/// Great-circle distance in statute miles on a sphere of the Earth's mean radius (haversine).
fn great_circle_miles(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let (dlat, dlon) = (lat2 - lat1, (b.1 - a.1).to_radians());
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 3958.8 * h.sqrt().asin()
}

/// Countries as outlines and destinations as circles (area ∝ flights) under one projection, over
/// the given longitudes and latitudes.
fn draw_map<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    countries: &[Country],
    stops: &[((f64, f64), f64)],
    projection: Projection,
    lons: std::ops::Range<f64>,
    lats: std::ops::Range<f64>,
) -> Result<(), plot::DrawError>
where
    DB::ErrorType: 'static,
{
    let (x0, y0) = projection.project(lons.start, lats.start);
    let (x1, y1) = projection.project(lons.end, lats.end);
    // A map has no axes to label: only a caption and a margin.
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Destinations from New York, {} projection",
                projection.name()
            ),
            plot::title_style(),
        )
        .margin(18)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    for country in countries {
        for ring in &country.rings {
            let points: Vec<(f64, f64)> = ring
                .iter()
                .map(|&(lon, lat)| projection.project(lon, lat.clamp(-85.0, 85.0)))
                .collect();
            chart.draw_series([Polygon::new(
                points.clone(),
                RGBColor(235, 235, 230).filled(),
            )])?;
            chart.draw_series([PathElement::new(
                points,
                RGBColor(150, 150, 150).stroke_width(1),
            )])?;
        }
    }
    let color = plot::color(3);
    chart.draw_series(stops.iter().map(|&((lat, lon), share)| {
        Circle::new(
            projection.project(lon, lat),
            (14.0 * share.sqrt()).max(2.0) as i32,
            color.mix(0.6).filled(),
        )
    }))?;
    Ok(())
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Natural Earth's 1:110m country borders, as GeoJSON: a FeatureCollection whose features
    // hold a Polygon or MultiPolygon of [longitude, latitude] rings. Only outer rings are kept
    // (lakes and enclaves do not change the picture at this scale).
    let text = std::fs::read_to_string(datasets::path("world_countries_lowres.geojson")?)?;
    let geojson: serde_json::Value = serde_json::from_str(&text)?;
    let ring = |r: &serde_json::Value| -> Vec<(f64, f64)> {
        r.as_array()
            .map(|points| {
                points
                    .iter()
                    .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut countries = Vec::new();
    for feature in geojson["features"]
        .as_array()
        .context("a FeatureCollection")?
    {
        let geometry = &feature["geometry"];
        let polygons: Vec<&serde_json::Value> = match geometry["type"].as_str() {
            Some("Polygon") => vec![&geometry["coordinates"]],
            Some("MultiPolygon") => geometry["coordinates"]
                .as_array()
                .map(|p| p.iter().collect())
                .unwrap_or_default(),
            other => bail!("unexpected geometry {other:?}"),
        };
        countries.push(Country {
            name: feature["properties"]["name"]
                .as_str()
                .unwrap_or("?")
                .to_string(),
            continent: feature["properties"]["continent"]
                .as_str()
                .unwrap_or("?")
                .to_string(),
            rings: polygons.iter().filter_map(|p| p.get(0)).map(ring).collect(),
        });
    }
    println!(
        "{} countries, {} outer rings",
        countries.len(),
        countries.iter().map(|c| c.rings.len()).sum::<usize>()
    );

    // Part 1: Mercator's areas. On the equal-area projection, plane area is proportional to the
    // area on the globe; Mercator stretches both directions by sec φ, so a country at latitude φ
    // is drawn sec²φ times too large — four times at 60°. Greenland against Africa shows it.
    let area = |name: &str, projection: Projection| -> f64 {
        countries
            .iter()
            .filter(|c| c.name == name)
            .map(|c| projected_area(c, projection))
            .sum()
    };
    let africa = |projection: Projection| -> f64 {
        countries
            .iter()
            .filter(|c| c.continent == "Africa")
            .map(|c| projected_area(c, projection))
            .sum()
    };
    let greenland_true = area("Greenland", Projection::EqualArea) / africa(Projection::EqualArea);
    let greenland_mercator =
        area("Greenland", Projection::WebMercator) / africa(Projection::WebMercator);
    println!(
        "Greenland's area as a share of Africa's: {:.3} on the globe (equal-area), {:.2} as Mercator draws it",
        greenland_true, greenland_mercator
    );
    // Country by country: the Mercator-to-true area ratio against sec² of the latitude of the
    // country's middle, for countries less than 8° tall (so one latitude describes them).
    let mut pairs = Vec::new();
    for c in &countries {
        let lats: Vec<f64> = c.rings.iter().flatten().map(|p| p.1).collect();
        let (lo, hi) = lats
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        if hi - lo < 8.0 && hi < 80.0 && lo > -80.0 {
            let middle = (lo + hi) / 2.0;
            let ratio = projected_area(c, Projection::WebMercator)
                / projected_area(c, Projection::EqualArea);
            pairs.push((
                c.name.clone(),
                middle,
                ratio,
                1.0 / middle.to_radians().cos().powi(2),
            ));
        }
    }
    let worst = pairs
        .iter()
        .map(|p| (p.2 / p.3 - 1.0).abs())
        .fold(0.0, f64::max);
    let near_sixty: Vec<&(String, f64, f64, f64)> = pairs
        .iter()
        .filter(|p| (p.1.abs() - 60.0).abs() < 4.0)
        .collect();
    for p in &near_sixty {
        println!(
            "  {:<16} latitude {:5.1}°: Mercator/true area {:.2}, sec²φ {:.2}",
            p.0, p.1, p.2, p.3
        );
    }
    println!(
        "{} countries under 8° tall: the ratio is within {:.1} % of sec²φ of their middle latitude",
        pairs.len(),
        100.0 * worst
    );
    lesson.metric("greenland_share_of_africa_true", greenland_true);
    lesson.metric("greenland_share_of_africa_mercator", greenland_mercator);
    lesson.metric("mercator_ratio_worst_deviation", worst);
    lesson.claim(
        "Mercator draws Greenland about as large as Africa, which is 14 times larger",
        greenland_true < 0.1 && greenland_mercator > 0.5,
        format!("Greenland/Africa: {greenland_true:.3} on the globe, {greenland_mercator:.2} on the Mercator map"),
        &[("true", greenland_true), ("mercator", greenland_mercator)],
    );
    // An 8°-tall country's ratio is sec² averaged over its latitudes, not at its middle: at 60°
    // that average exceeds the middle value by up to ~8 %; 10 % is the line.
    lesson.claim(
        "Mercator enlarges areas by sec²(latitude), about 4× at 60°",
        pairs.len() > 60 && worst < 0.10 && near_sixty.iter().all(|p| (3.2..5.5).contains(&p.2)),
        format!(
            "{} countries' projected-area ratios within {:.1} % of sec²φ; near 60°: {}",
            pairs.len(),
            100.0 * worst,
            near_sixty
                .iter()
                .map(|p| format!("{} {:.1}×", p.0, p.2))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        &[("worst_relative_deviation", worst)],
    );

    // Part 2: the flights on the map. The airports table gives coordinates; the great-circle
    // distance between each route's ends should be the `distance` column of the flights.
    let airports = lessons_frames::frame("nycflights13_airports.csv")?;
    let codes: Vec<&str> = airports.column("faa")?.str()?.into_no_null_iter().collect();
    let lat: Vec<f64> = airports.column("lat")?.f64()?.into_no_null_iter().collect();
    let lon: Vec<f64> = airports.column("lon")?.f64()?.into_no_null_iter().collect();
    let at: HashMap<&str, (f64, f64)> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, (lat[i], lon[i])))
        .collect();
    let routes = lessons_frames::frame("nycflights13_flights.parquet")?
        .lazy()
        .group_by([col("origin"), col("dest")])
        .agg([
            len().alias("flights"),
            col("distance")
                .first()
                .cast(DataType::Float64)
                .alias("miles"),
            col("distance").n_unique().alias("distances"),
        ])
        .collect()?;
    let (origins, dests) = (
        routes.column("origin")?.str()?,
        routes.column("dest")?.str()?,
    );
    let (miles, counts) = (
        routes.column("miles")?.f64()?,
        routes.column("flights")?.u32()?,
    );
    let mut compared = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..routes.height() {
        let (o, d) = (origins.get(i).unwrap_or(""), dests.get(i).unwrap_or(""));
        match (at.get(o), at.get(d), miles.get(i)) {
            (Some(a), Some(b), Some(m)) => compared.push((
                o,
                d,
                great_circle_miles(*a, *b),
                m,
                counts.get(i).unwrap_or(0),
            )),
            _ => unknown.push(d),
        }
    }
    // The table's distances come from the airports' positions on the ellipsoid, rounded to whole
    // miles: a sphere differs from the ellipsoid by up to about 0.5 %, and rounding by half a
    // mile, which is 3 % of the shortest route (EWR–LGA, 17 miles). So each route may differ by
    // half a mile plus 0.6 %; the lesson reports how much of that it used.
    let excess = |r: &(&str, &str, f64, f64, u32)| ((r.2 - r.3).abs() - 0.5).max(0.0) / r.3;
    let worst_route = compared
        .iter()
        .max_by(|a, b| excess(a).total_cmp(&excess(b)))
        .context("no route compared")?;
    let worst_excess = excess(worst_route);
    let largest_gap = compared
        .iter()
        .map(|r| (r.2 - r.3).abs())
        .fold(0.0, f64::max);
    println!(
        "{} routes: great-circle miles against the `distance` column; largest gap {largest_gap:.1} miles; beyond half a mile of rounding, worst {}→{} {:.1} vs {:.0} ({:.2} %); {} routes to airports missing from the table ({:?})",
        compared.len(),
        worst_route.0,
        worst_route.1,
        worst_route.2,
        worst_route.3,
        100.0 * worst_excess,
        unknown.len(),
        unknown
    );
    lesson.metric("route_distance_worst_excess", worst_excess);
    lesson.claim(
        "great-circle distances from the airports' coordinates match the flights' distance column",
        compared.len() > 200 && worst_excess < 0.006,
        format!("all {} routes within half a mile plus {:.2} % (worst {}→{}); {} route(s) lack coordinates", compared.len(), 100.0 * worst_excess, worst_route.0, worst_route.1, unknown.len()),
        &[("worst_excess", worst_excess)],
    );

    // The maps: borders and destinations in two projections, each airport's circle area
    // proportional to its flights.
    let mut by_dest: HashMap<&str, u32> = HashMap::new();
    for r in &compared {
        *by_dest.entry(r.1).or_default() += r.4;
    }
    let most = f64::from(*by_dest.values().max().unwrap_or(&1));
    let stops: Vec<((f64, f64), f64)> = by_dest
        .iter()
        .filter_map(|(d, n)| Some((*at.get(d)?, f64::from(*n) / most)))
        .collect();
    for (stem, projection) in [
        ("world_mercator", Projection::WebMercator),
        ("world_equal_area", Projection::EqualArea),
        ("usa_equirectangular", Projection::Equirectangular),
    ] {
        let (lons, lats) = if stem.starts_with("usa") {
            (-170.0..-60.0, 15.0..72.0)
        } else {
            (-180.0..180.0, -60.0..84.0)
        };
        figure!(lesson, stem, (1000, 620), |root| {
            draw_map(
                &root,
                &countries,
                &stops,
                projection,
                lons.clone(),
                lats.clone(),
            )?;
        })?;
    }

    lesson.finish()?;
    Ok(())
}
