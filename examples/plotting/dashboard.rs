//! # Dashboards: a page, a JSON endpoint and a browser that drives them
//!
//! **Question:** How do you build a small data dashboard?
//!
//! **Answer:** A dashboard is a server that holds the data and answers filtered questions, and a
//! page whose controls ask it again and redraw. Dash hides that behind Python callbacks;
//! underneath, each callback is an HTTP request with the controls' values and a JSON answer.
//! Written out as an explicit JSON endpoint, the same design is testable without a browser (call
//! the endpoint, compare with a direct query), usable by other clients, and it validates its
//! inputs: a bad value gets a 400 with a message, not a stack trace. Keep the heavy computation on
//! the server, send the page only what it draws, and test the page itself in a real browser.
//!
//! **Evidence:** The server holds New York's 336,776 flights of 2013 in memory and listens on
//! 127.0.0.1 at a port the system picks. GET / returns the page with an option for each of the 16
//! carriers; GET /api/flights without a filter counts all 336,776 flights. For 8 (quick) or 40
//! random filters — a carrier, an airport, a month range — the endpoint's counts, flights without a
//! departure, mean departure delays by month and ten busiest destinations equal polars' SQL answer
//! to the same query, and every filter that restricts anything returns fewer flights. One summary
//! costs about 4 ms in polars and a few tenths of a millisecond more as an HTTP request. Eight bad
//! queries (an unknown carrier or airport, month 0 or 13, 'june', from after to, a misspelt or
//! repeated parameter) get a 400 whose message names the value, and the server keeps answering. In
//! headless Chromium the page draws the year's bars; after a carrier is chosen (UA: 58,665 flights)
//! it calls the endpoint once more and redraws every bar with that answer, asking nothing of the
//! network beyond its own server.
//!
//! **Run:** `cargo run --example dashboard` (add `-- --quick` for a short run, `-- --serve` to keep
//! its server running for you).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use harness::browser::Browser;
use harness::prelude::*;
use harness::serve::{ServerGuard, http_get, loopback_listener};
use polars::prelude::*;
use polars::sql::SQLContext;
use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};

/// The query parameters the endpoint understands; anything else is refused.
const PARAMETERS: [&str; 4] = ["carrier", "origin", "from", "to"];

/// What the dashboard filters by: one carrier or all, one airport or all, a range of months.
#[derive(Debug, Clone, PartialEq)]
struct Filter {
    carrier: Option<String>,
    origin: Option<String>,
    from: u32,
    to: u32,
}

/// The values a filter may name, read from the data when the server starts.
struct Known {
    carriers: Vec<(String, String)>,
    origins: Vec<String>,
}

impl Filter {
    /// The whole year, every carrier and airport.
    fn everything() -> Filter {
        Filter {
            carrier: None,
            origin: None,
            from: 1,
            to: 12,
        }
    }

    /// Reads a filter from query parameters, with a message naming the first bad one. An empty
    /// value means "all", as the page's "All" options send.
    fn parse(parameters: &[(String, String)], known: &Known) -> Result<Filter, String> {
        let mut filter = Filter::everything();
        let mut seen = BTreeSet::new();
        for (name, value) in parameters {
            if !PARAMETERS.contains(&name.as_str()) {
                return Err(format!(
                    "unknown parameter '{name}' (known: {})",
                    PARAMETERS.join(", ")
                ));
            }
            if !seen.insert(name.as_str()) {
                return Err(format!("parameter '{name}' is given twice"));
            }
            let month = || match value.parse::<u32>() {
                Ok(m @ 1..=12) => Ok(m),
                _ => Err(format!(
                    "'{name}' must be a month from 1 to 12, not '{value}'"
                )),
            };
            match (name.as_str(), value.as_str()) {
                ("carrier" | "origin", "") => {}
                ("carrier", code) if known.carriers.iter().any(|(c, _)| c == code) => {
                    filter.carrier = Some(code.to_string());
                }
                ("carrier", code) => return Err(format!("unknown carrier '{code}'")),
                ("origin", code) if known.origins.iter().any(|o| o == code) => {
                    filter.origin = Some(code.to_string());
                }
                ("origin", code) => {
                    return Err(format!(
                        "unknown origin '{code}' (known: {})",
                        known.origins.join(", ")
                    ));
                }
                ("from", _) => filter.from = month()?,
                _ => filter.to = month()?,
            }
        }
        if filter.from > filter.to {
            return Err(format!(
                "'from' ({}) is after 'to' ({})",
                filter.from, filter.to
            ));
        }
        Ok(filter)
    }

    /// The filter as the page sends it: every parameter, empty for "all".
    fn query_string(&self) -> String {
        format!(
            "carrier={}&origin={}&from={}&to={}",
            self.carrier.as_deref().unwrap_or(""),
            self.origin.as_deref().unwrap_or(""),
            self.from,
            self.to
        )
    }

    /// The filter as a polars predicate (the endpoint's route).
    fn predicate(&self) -> Expr {
        let mut keep = col("month")
            .gt_eq(lit(self.from as i32))
            .and(col("month").lt_eq(lit(self.to as i32)));
        if let Some(carrier) = &self.carrier {
            keep = keep.and(col("carrier").eq(lit(carrier.clone())));
        }
        if let Some(origin) = &self.origin {
            keep = keep.and(col("origin").eq(lit(origin.clone())));
        }
        keep
    }

    /// The filter as an SQL condition (the check's route). Only values checked against the
    /// data's own codes reach it.
    fn sql_condition(&self) -> String {
        let mut condition = format!("month BETWEEN {} AND {}", self.from, self.to);
        if let Some(carrier) = &self.carrier {
            condition += &format!(" AND carrier = '{carrier}'");
        }
        if let Some(origin) = &self.origin {
            condition += &format!(" AND origin = '{origin}'");
        }
        condition
    }
}

/// Column `name` of `frame` as whole numbers (counts, months), whatever integer type polars chose.
fn whole_numbers(frame: &DataFrame, name: &str) -> PolarsResult<Vec<u64>> {
    let column = frame.column(name)?.cast(&DataType::UInt64)?;
    Ok(column.u64()?.into_no_null_iter().collect())
}

/// The numbers the dashboard shows for one filter, as the endpoint sends them and as the check
/// computes them.
#[derive(Debug, Clone)]
struct Summary {
    flights: u64,
    cancelled: u64,
    /// Month, flights, mean departure delay (minutes; none when no flight of the month left).
    by_month: Vec<(u32, u64, Option<f64>)>,
    /// The ten busiest destinations, busiest first, ties by code.
    top_destinations: Vec<(String, u64)>,
}

impl Summary {
    fn to_json(&self, filter: &Filter) -> Value {
        json!({
            "query": {
                "carrier": filter.carrier, "origin": filter.origin,
                "from": filter.from, "to": filter.to,
            },
            "flights": self.flights,
            "cancelled": self.cancelled,
            "by_month": self.by_month.iter().map(|(month, flights, delay)| json!({
                "month": month, "flights": flights, "mean_dep_delay": delay,
            })).collect::<Vec<_>>(),
            "top_destinations": self.top_destinations.iter().map(|(dest, flights)| json!({
                "dest": dest, "flights": flights,
            })).collect::<Vec<_>>(),
        })
    }

    fn from_json(value: &Value) -> anyhow::Result<Summary> {
        let count = |v: &Value| v.as_u64().context("a count");
        Ok(Summary {
            flights: count(&value["flights"])?,
            cancelled: count(&value["cancelled"])?,
            by_month: value["by_month"]
                .as_array()
                .context("by_month")?
                .iter()
                .map(|m| {
                    Ok((
                        count(&m["month"])? as u32,
                        count(&m["flights"])?,
                        m["mean_dep_delay"].as_f64(),
                    ))
                })
                .collect::<anyhow::Result<_>>()?,
            top_destinations: value["top_destinations"]
                .as_array()
                .context("top_destinations")?
                .iter()
                .map(|d| {
                    Ok((
                        d["dest"].as_str().context("dest")?.to_string(),
                        count(&d["flights"])?,
                    ))
                })
                .collect::<anyhow::Result<_>>()?,
        })
    }

    /// The summary from the three answers either route computes: totals (`flights`,
    /// `cancelled`), months (`month`, `flights`, `mean_dep_delay`) and the top destinations
    /// (`dest`, `flights`). A missing count of cancelled flights (SQL's SUM over no rows) is zero.
    fn from_frames(
        totals: &DataFrame,
        by_month: &DataFrame,
        top: &DataFrame,
    ) -> PolarsResult<Summary> {
        let months = whole_numbers(by_month, "month")?;
        let counts = whole_numbers(by_month, "flights")?;
        let delays = by_month
            .column("mean_dep_delay")?
            .cast(&DataType::Float64)?;
        let delays = delays.f64()?;
        let cancelled = totals.column("cancelled")?.cast(&DataType::UInt64)?;
        Ok(Summary {
            flights: whole_numbers(totals, "flights")?[0],
            cancelled: cancelled.u64()?.get(0).unwrap_or(0),
            by_month: (0..months.len())
                .map(|i| (months[i] as u32, counts[i], delays.get(i)))
                .collect(),
            top_destinations: top
                .column("dest")?
                .str()?
                .into_no_null_iter()
                .map(String::from)
                .zip(whole_numbers(top, "flights")?)
                .collect(),
        })
    }

    /// Equal counts and destinations, and mean delays equal up to summation order.
    fn agrees_with(&self, other: &Summary) -> bool {
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
            (a, b) => a.is_none() && b.is_none(),
        };
        self.flights == other.flights
            && self.cancelled == other.cancelled
            && self.top_destinations == other.top_destinations
            && self.by_month.len() == other.by_month.len()
            && self
                .by_month
                .iter()
                .zip(&other.by_month)
                .all(|(a, b)| a.0 == b.0 && a.1 == b.1 && close(a.2, b.2))
    }
}

/// The endpoint's computation: one lazy query per part of the answer, over the flights in memory.
fn summarise(flights: &DataFrame, filter: &Filter) -> PolarsResult<Summary> {
    let chosen = flights.clone().lazy().filter(filter.predicate());
    let totals = chosen
        .clone()
        .select([
            len().alias("flights"),
            col("dep_delay").null_count().alias("cancelled"),
        ])
        .collect()?;
    let by_month = chosen
        .clone()
        .group_by([col("month")])
        .agg([
            len().alias("flights"),
            col("dep_delay").mean().alias("mean_dep_delay"),
        ])
        .sort(["month"], SortMultipleOptions::default())
        .collect()?;
    let top = chosen
        .group_by([col("dest")])
        .agg([len().alias("flights")])
        .sort_by_exprs(
            [col("flights"), col("dest")],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .limit(10)
        .collect()?;
    Summary::from_frames(&totals, &by_month, &top)
}

/// The same numbers through polars' SQL front end, written independently of the endpoint's
/// expressions: what the endpoint must agree with.
fn summarise_with_sql(sql: &mut SQLContext, filter: &Filter) -> PolarsResult<Summary> {
    let condition = filter.sql_condition();
    let totals = sql
        .execute(&format!(
            "SELECT COUNT(*) AS flights, SUM(CASE WHEN dep_delay IS NULL THEN 1 ELSE 0 END) AS cancelled \
             FROM flights WHERE {condition}"
        ))?
        .collect()?;
    let by_month = sql
        .execute(&format!(
            "SELECT month, COUNT(*) AS flights, AVG(dep_delay) AS mean_dep_delay \
             FROM flights WHERE {condition} GROUP BY month ORDER BY month"
        ))?
        .collect()?;
    let top = sql
        .execute(&format!(
            "SELECT dest, COUNT(*) AS flights FROM flights WHERE {condition} \
             GROUP BY dest ORDER BY flights DESC, dest LIMIT 10"
        ))?
        .collect()?;
    Summary::from_frames(&totals, &by_month, &top)
}

/// What the server holds: the flights, the codes a filter may name, the page, and how many
/// requests it has answered (so the lesson can see the browser's).
struct Dashboard {
    flights: DataFrame,
    known: Known,
    page: String,
    api_requests: AtomicUsize,
}

/// `GET /`: the page.
async fn page(State(dashboard): State<Arc<Dashboard>>) -> Html<String> {
    Html(dashboard.page.clone())
}

/// `GET /api/flights?carrier=&origin=&from=&to=`: the summary as JSON, or 400 with
/// `{"error": …}` naming the bad parameter.
async fn flights_endpoint(
    State(dashboard): State<Arc<Dashboard>>,
    Query(parameters): Query<Vec<(String, String)>>,
) -> Response {
    dashboard.api_requests.fetch_add(1, Ordering::Relaxed);
    let refuse = |status: StatusCode, message: String| {
        (status, Json(json!({ "error": message }))).into_response()
    };
    let filter = match Filter::parse(&parameters, &dashboard.known) {
        Ok(filter) => filter,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    // The query takes milliseconds of CPU; it runs on tokio's blocking pool, so that the
    // server's few async workers keep accepting requests meanwhile.
    let computed = {
        let dashboard = dashboard.clone();
        let filter = filter.clone();
        tokio::task::spawn_blocking(move || summarise(&dashboard.flights, &filter)).await
    };
    match computed {
        Ok(Ok(summary)) => Json(summary.to_json(&filter)).into_response(),
        Ok(Err(e)) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

const PAGE: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>New York flights, 2013</title>
<style>
body { font-family: "DejaVu Sans", sans-serif; margin: 1.5em; color: #222; }
form { display: flex; gap: 1.5em; margin-bottom: 1em; }
.charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1em; }
h2 { font-size: 1em; margin: 0.2em 0; }
svg text { font-size: 11px; fill: #444; }
#error { color: #a00; }
</style></head>
<body>
<h1>New York flights, 2013</h1>
<form>
<label>Carrier <select id="carrier"><option value="">All</option>{{carriers}}</select></label>
<label>Origin <select id="origin"><option value="">All</option>{{origins}}</select></label>
<label>From month <select id="from">{{from}}</select></label>
<label>to <select id="to">{{to}}</select></label>
</form>
<p id="headline"></p><p id="error"></p>
<div class="charts">
<div><h2>Flights per month</h2><svg id="per-month" width="380" height="240"></svg></div>
<div><h2>Mean departure delay per month (min)</h2><svg id="delay" width="380" height="240"></svg></div>
<div><h2>Busiest destinations</h2><svg id="destinations" width="380" height="240"></svg></div>
</div>
<script>
const controls = ["carrier", "origin", "from", "to"].map(id => document.getElementById(id));
const SVG = "http://www.w3.org/2000/svg";
let latest = 0;

function element(parent, name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  parent.appendChild(node);
  return node;
}

// Round steps (1, 2 or 5 times a power of ten) for an axis that spans `low` to `high`.
function ticks(low, high) {
  const rough = (high - low) / 4 || 1, power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map(k => k * power).find(s => s >= rough);
  const values = [];
  for (let v = Math.ceil(low / step) * step; v <= high + 1e-9; v += step) values.push(v);
  return values;
}

// Vertical bars from zero, one slot per month, with a value axis; each bar keeps its key and
// value as data attributes.
function monthBars(svg, items) {
  svg.replaceChildren();
  const values = items.map(d => d.value);
  const top = Math.max(0, ...values), bottom = Math.min(0, ...values);
  const span = (top - bottom) || 1, height = 200, left = 48;
  const y = v => 10 + height * (top - v) / span;
  for (const v of ticks(bottom, top)) {
    element(svg, "line", { x1: left, x2: 375, y1: y(v), y2: y(v), stroke: "#e4e4e4" });
    element(svg, "text", { x: left - 4, y: y(v) + 4, "text-anchor": "end" }, v.toLocaleString("en"));
  }
  for (let month = 1; month <= 12; month++) {
    element(svg, "text", { x: left + 27 * month - 13, y: 235, "text-anchor": "middle" }, month);
  }
  for (const d of items) {
    element(svg, "rect", {
      x: left + 27 * d.key - 24, width: 22, y: Math.min(y(d.value), y(0)),
      height: Math.abs(y(d.value) - y(0)),
      fill: "{{bar}}", "data-key": d.key, "data-value": d.value,
    }).appendChild(document.createElementNS(SVG, "title")).textContent = `${d.key}: ${d.value}`;
  }
  element(svg, "line", { x1: left, x2: 375, y1: y(0), y2: y(0), stroke: "#888" });
}

// Horizontal bars with their labels.
function namedBars(svg, items) {
  svg.replaceChildren();
  const top = Math.max(1, ...items.map(d => d.value));
  items.forEach((d, i) => {
    element(svg, "text", { x: 0, y: 22 * i + 16 }, d.key);
    element(svg, "rect", {
      x: 40, y: 22 * i + 4, height: 16, width: 280 * d.value / top,
      fill: "{{bar}}", "data-key": d.key, "data-value": d.value,
    });
    element(svg, "text", { x: 44 + 280 * d.value / top, y: 22 * i + 16 }, d.value.toLocaleString("en"));
  });
}

async function refresh() {
  const query = new URLSearchParams(controls.map(c => [c.id, c.value])).toString();
  const asked = ++latest;
  const answer = await fetch("/api/flights?" + query);
  const data = await answer.json();
  // A slower, older answer must not overwrite a newer one.
  if (asked !== latest) return;
  document.getElementById("error").textContent = answer.ok ? "" : data.error;
  if (answer.ok) {
    document.getElementById("headline").textContent =
      `${data.flights.toLocaleString("en")} flights, ${data.cancelled.toLocaleString("en")} without a departure`;
    monthBars(document.getElementById("per-month"),
      data.by_month.map(m => ({ key: m.month, value: m.flights })));
    monthBars(document.getElementById("delay"),
      data.by_month.filter(m => m.mean_dep_delay !== null)
        .map(m => ({ key: m.month, value: m.mean_dep_delay })));
    namedBars(document.getElementById("destinations"),
      data.top_destinations.map(d => ({ key: d.dest, value: d.flights })));
  }
  document.body.dataset.shown = (answer.ok ? "" : "error:") + query;
}

controls.forEach(c => c.addEventListener("change", refresh));
refresh();
</script>
</body></html>
"##;

/// The page: four controls and three charts, drawn as SVG by a few lines of script from the
/// endpoint's JSON. Nothing is loaded from anywhere but the page's own server.
fn page_html(known: &Known) -> String {
    let option = |value: &str, label: &str| format!("<option value=\"{value}\">{label}</option>");
    let carriers: String = known
        .carriers
        .iter()
        .map(|(code, name)| option(code, &format!("{code} · {name}")))
        .collect();
    let origins: String = known.origins.iter().map(|o| option(o, o)).collect();
    let months: Vec<String> = (1..=12).map(|m| m.to_string()).collect();
    let month_options = |selected: u32| -> String {
        months
            .iter()
            .map(|m| {
                let chosen = if *m == selected.to_string() {
                    " selected"
                } else {
                    ""
                };
                format!("<option value=\"{m}\"{chosen}>{m}</option>")
            })
            .collect()
    };
    let bar = plot::color(0);
    PAGE.replace("{{carriers}}", &carriers)
        .replace("{{origins}}", &origins)
        .replace("{{from}}", &month_options(1))
        .replace("{{to}}", &month_options(12))
        .replace("{{bar}}", &format!("rgb({},{},{})", bar.0, bar.1, bar.2))
}

/// Reads back what the page drew: each chart's bars as (key, value) pairs.
const DRAWN: &str = r#"Object.fromEntries(["per-month", "delay", "destinations"].map(id =>
  [id, [...document.querySelectorAll(`#${id} rect[data-key]`)]
    .map(r => [r.dataset.key, Number(r.dataset.value)])]))"#;

/// What the page should draw for a summary: each chart's bars as (key, value) pairs, in the
/// shape [`DRAWN`] reads.
fn expected_drawing(summary: &Summary) -> Vec<Vec<(String, f64)>> {
    vec![
        summary
            .by_month
            .iter()
            .map(|(m, n, _)| (m.to_string(), *n as f64))
            .collect(),
        summary
            .by_month
            .iter()
            .filter_map(|(m, _, d)| d.map(|d| (m.to_string(), d)))
            .collect(),
        summary
            .top_destinations
            .iter()
            .map(|(d, n)| (d.clone(), *n as f64))
            .collect(),
    ]
}

/// The bars [`DRAWN`] read from the page, as numbers (a whole-number value comes back from the
/// browser as an integer, which JSON keeps apart from the same float).
fn drawing(read: &Value) -> anyhow::Result<Vec<Vec<(String, f64)>>> {
    ["per-month", "delay", "destinations"]
        .iter()
        .map(|chart| {
            read[chart]
                .as_array()
                .with_context(|| format!("the page has no {chart} chart"))?
                .iter()
                .map(|bar| {
                    Ok((
                        bar[0].as_str().context("a bar's key")?.to_string(),
                        bar[1].as_f64().context("a bar's value")?,
                    ))
                })
                .collect()
        })
        .collect()
}

/// Whether two drawings have the same bars with the same values. Values are compared to 1e-12 of
/// their size: serde_json's default float parsing (no `float_roundtrip`) may land one unit in
/// the last place away from the browser's.
fn same_drawing(a: &[Vec<(String, f64)>], b: &[Vec<(String, f64)>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.len() == y.len()
                && x.iter().zip(y).all(|((kx, vx), (ky, vy))| {
                    kx == ky && (vx - vy).abs() <= 1e-12 * vx.abs().max(1.0)
                })
        })
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let mut rng = lesson.rng(1);

    // The data: every flight that left New York in 2013, with the columns the dashboard filters
    // and shows, held in memory by the server (a few MB).
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?
        .lazy()
        .select([
            col("month").cast(DataType::Int32),
            col("carrier"),
            col("origin"),
            col("dest"),
            col("dep_delay").cast(DataType::Float64),
        ])
        .collect()?;
    let airlines = lessons_frames::frame("nycflights13_airlines.csv")?;
    let carriers: Vec<(String, String)> = airlines
        .column("carrier")?
        .str()?
        .into_no_null_iter()
        .zip(airlines.column("name")?.str()?.into_no_null_iter())
        .map(|(code, name)| (code.to_string(), name.trim_end_matches('.').to_string()))
        .collect();
    let origins: Vec<String> = flights
        .column("origin")?
        .unique_stable()?
        .str()?
        .into_no_null_iter()
        .map(String::from)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let known = Known { carriers, origins };
    println!(
        "{} flights, {} carriers, origins {}",
        flights.height(),
        known.carriers.len(),
        known.origins.join(", ")
    );

    // The server: axum on tokio, bound to 127.0.0.1 on a port the system picks. Two routes: the
    // page, and the JSON endpoint the page calls whenever a control changes (Dash's callback,
    // written as an HTTP API any client can use). The guard stops it when the lesson ends, also
    // when a check fails half-way.
    let dashboard = Arc::new(Dashboard {
        page: page_html(&known),
        flights: flights.clone(),
        known,
        api_requests: AtomicUsize::new(0),
    });
    let app = axum::Router::new()
        .route("/", get(page))
        .route("/api/flights", get(flights_endpoint))
        .with_state(dashboard.clone());
    let listener = loopback_listener()?;
    listener.set_nonblocking(true)?;
    let address: SocketAddr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_thread = std::thread::spawn(move || -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        })
    });
    let server = ServerGuard::new("dashboard server", move || {
        let _ = stop.send(());
        let _ = server_thread.join();
    });
    let base = format!("http://{address}");
    lesson.record_endpoint(&format!("{base}/"))?;
    lesson.record_endpoint(&format!("{base}/api/flights"))?;
    println!("serving on {base}/");

    // The page and the endpoint answer. The page carries an option for every carrier; the
    // endpoint with no filter counts every flight of the year.
    let home = http_get(&format!("{base}/"))?;
    let page_file = lesson.out_file("dashboard.html");
    harness::catalogue::write_atomically(&page_file, home.body())?;
    lesson.record(ArtefactKind::Html, &page_file)?;
    let carrier_select = home
        .body()
        .split("<select id=\"carrier\">")
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .unwrap_or_default();
    // Every carrier of the data, and "All".
    let carrier_options = carrier_select.matches("<option ").count() - 1;
    let whole_year = http_get(&format!("{base}/api/flights"))?;
    let whole_year_json: Value = serde_json::from_str(whole_year.body())?;
    let everything = Summary::from_json(&whole_year_json)?;
    let data_file = lesson.out_file("flights_summary.json");
    harness::catalogue::write_atomically(&data_file, whole_year.body())?;
    lesson.record(ArtefactKind::Data, &data_file)?;
    lesson.claim(
        "the page and the endpoint answer",
        home.status() == 200
            && home.content_type().starts_with("text/html")
            && carrier_options == dashboard.known.carriers.len()
            && whole_year.status() == 200
            && whole_year.content_type() == "application/json"
            && everything.flights == flights.height() as u64,
        format!(
            "GET / → {} {} with {carrier_options} carrier options; GET /api/flights → {} {} counting {} of {} flights",
            home.status(),
            home.content_type(),
            whole_year.status(),
            whole_year.content_type(),
            everything.flights,
            flights.height()
        ),
        &[("flights", everything.flights as f64)],
    );

    // A filter changes the data, and the endpoint's numbers equal polars' SQL answer to the same
    // question. The filters are drawn at random (a carrier or all, an airport or all, a month
    // range), so each seed asks different questions; every one that restricts anything must
    // return fewer flights than the whole year.
    let mut sql = SQLContext::new();
    sql.register("flights", flights.clone().lazy());
    let codes: Vec<String> = dashboard
        .known
        .carriers
        .iter()
        .map(|(c, _)| c.clone())
        .collect();
    let filters: Vec<Filter> = (0..lesson.pick(40, 8))
        .map(|_| {
            let from = rng.gen_range(1..=12);
            Filter {
                carrier: rng
                    .gen_bool(0.7)
                    .then(|| codes.choose(&mut rng).cloned())
                    .flatten(),
                origin: rng
                    .gen_bool(0.5)
                    .then(|| dashboard.known.origins.choose(&mut rng).cloned())
                    .flatten(),
                from,
                to: if rng.gen_bool(0.3) {
                    12
                } else {
                    rng.gen_range(from..=12)
                },
            }
        })
        .collect();
    let (mut agree, mut fewer, mut restricting) = (0, 0, 0);
    for filter in &filters {
        let answer = http_get(&format!("{base}/api/flights?{}", filter.query_string()))?;
        let served = Summary::from_json(&serde_json::from_str(answer.body())?)?;
        let expected = summarise_with_sql(&mut sql, filter)?;
        agree += usize::from(answer.status() == 200 && served.agrees_with(&expected));
        if *filter != Filter::everything() {
            restricting += 1;
            fewer += usize::from(served.flights < everything.flights);
        }
    }
    let example = &filters[0];
    let example_summary = summarise_with_sql(&mut sql, example)?;
    println!(
        "e.g. ?{} → {} flights, {} without a departure, busiest {:?}",
        example.query_string(),
        example_summary.flights,
        example_summary.cancelled,
        example_summary.top_destinations.first()
    );
    lesson.claim(
        "a filter changes the data, and the endpoint's numbers equal polars' SQL answer to the same query",
        agree == filters.len() && fewer == restricting,
        format!(
            "{agree}/{} random filters answered with SQL's counts, mean delays and top ten; {fewer}/{restricting} restricting filters returned fewer flights than the year's {}",
            filters.len(),
            everything.flights
        ),
        &[("filters_agreeing", agree as f64)],
    );

    // What a query costs: the polars query alone, and the same question as a request (a new
    // connection, the query on the blocking pool, JSON both ways).
    let example_url = format!("{base}/api/flights?{}", example.query_string());
    let (in_polars, as_request) = harness::measure::best_of_interleaved(
        lesson.pick(20, 5),
        || summarise(&flights, example),
        || http_get(&example_url),
    );
    println!(
        "one summary of {} flights costs {:.1} ms in polars and {:.1} ms as a request (best of {})",
        flights.height(),
        in_polars.best.as_secs_f64() * 1e3,
        as_request.best.as_secs_f64() * 1e3,
        lesson.pick(20, 5)
    );

    // Bad values get a 400 with a message that names the problem, and the server goes on
    // answering.
    let bad = [
        ("carrier=ZZ", "ZZ"),
        ("origin=BOS", "BOS"),
        ("from=0", "from"),
        ("to=13", "to"),
        ("from=9&to=3", "after"),
        ("from=june", "june"),
        ("carier=UA", "carier"),
        ("carrier=UA&carrier=AA", "twice"),
    ];
    let mut refused = 0;
    for (query, named) in bad {
        let answer = http_get(&format!("{base}/api/flights?{query}"))?;
        let message: Value = serde_json::from_str(answer.body()).unwrap_or(Value::Null);
        let text = message["error"].as_str().unwrap_or_default();
        println!("  ?{query:<22} → {} {text}", answer.status());
        refused += usize::from(answer.status() == 400 && text.contains(named));
    }
    let after = http_get(&format!("{base}/api/flights?carrier=UA"))?;
    lesson.claim(
        "bad query values get a 400 with a message naming the problem, and the server keeps serving",
        refused == bad.len() && after.status() == 200,
        format!(
            "{refused}/{} bad queries refused with 400 and a message naming the value; the next good query got {}",
            bad.len(),
            after.status()
        ),
        &[("refused", refused as f64)],
    );

    // A browser drives the page. Headless Chromium opens it (every request but those to this
    // server goes to a recording proxy that answers nothing); the page asks the endpoint and
    // draws. The lesson then chooses a carrier as a person would (the select's value, and the
    // change event it fires), waits for the redraw, and reads the bars back from the page.
    match Browser::find()? {
        Some(browser) => {
            let started = Instant::now();
            let api_before = dashboard.api_requests.load(Ordering::Relaxed);
            let mut tab = browser.open(&format!("{base}/"), address)?;
            let shown = |filter: &Filter| {
                format!(
                    "document.body.dataset.shown === {}",
                    Value::from(filter.query_string())
                )
            };
            let first = Filter::everything();
            tab.wait_until(&shown(&first), Duration::from_secs(20))?;
            let drawn_first = drawing(&tab.evaluate(DRAWN)?)?;
            let chosen = codes.choose(&mut rng).context("a carrier")?.clone();
            let second = Filter {
                carrier: Some(chosen.clone()),
                ..first.clone()
            };
            tab.evaluate(&format!(
                "const s = document.getElementById('carrier'); s.value = {}; \
                 s.dispatchEvent(new Event('change', {{ bubbles: true }})); true",
                Value::from(chosen.clone())
            ))?;
            tab.wait_until(&shown(&second), Duration::from_secs(20))?;
            let drawn_second = drawing(&tab.evaluate(DRAWN)?)?;
            let headline = tab.evaluate("document.getElementById('headline').textContent")?;
            let screenshot = lesson.out_file("dashboard_in_chromium.png");
            tab.screenshot(&screenshot)?;
            let page_requests = tab.page_requests();
            tab.close();
            let api_calls = dashboard.api_requests.load(Ordering::Relaxed) - api_before;
            // The lesson's own request for the expected numbers comes after this count.
            let served_second = Summary::from_json(&serde_json::from_str(
                http_get(&format!("{base}/api/flights?{}", second.query_string()))?.body(),
            )?)?;
            println!(
                "Chromium: {:.1} s; after choosing {chosen} the page reads {headline}; {api_calls} endpoint calls; screenshot {}",
                started.elapsed().as_secs_f64(),
                screenshot.display()
            );
            for request in &page_requests {
                println!("  the page asked the network for: {request}");
            }
            lesson.claim(
                "choosing a carrier in headless Chromium redraws the charts with the endpoint's numbers for it, and the page asks nothing of the network",
                same_drawing(&drawn_first, &expected_drawing(&everything))
                    && same_drawing(&drawn_second, &expected_drawing(&served_second))
                    && !same_drawing(&drawn_second, &drawn_first)
                    && api_calls == 2
                    && page_requests.is_empty(),
                format!(
                    "every bar drawn for all carriers and then for {chosen} equals the endpoint's answer ({} and {} flights); {api_calls} endpoint calls from the page; {} requests past its server",
                    everything.flights,
                    served_second.flights,
                    page_requests.len()
                ),
                &[("browser_api_calls", api_calls as f64)],
            );
        }
        None => println!(
            "no Chromium here: the browser check is skipped (install Debian's `chromium` package to run it)"
        ),
    }

    // For a person: `--serve` keeps the server running until Ctrl-C.
    if lesson.serve_requested() {
        println!("\nthe dashboard is at {base}/ — open it in a browser; Ctrl-C stops it");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(tokio::signal::ctrl_c())?;
    }
    server.stop();
    lesson.finish()?;
    Ok(())
}
