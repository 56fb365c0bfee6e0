//! # Dates and times: formats, time zones and daylight saving
//!
//! **Question:** How do you parse dates, handle time zones and do date arithmetic correctly?
//!
//! **Answer:** Keep instants in UTC, convert to a named IANA zone (not a fixed offset) only to show
//! or group by local time, and say which arithmetic you mean: adding 24 hours is absolute time,
//! adding one calendar day keeps the wall-clock time and may last 23 or 25 hours across a
//! daylight-saving change. Parse with explicit formats, and expect local times that do not exist
//! (the skipped spring hour) or exist twice (the repeated autumn hour).
//!
//! **Evidence:** The lesson checks that New York's spring-forward day lasts 23 hours, that 2:30
//! that morning does not exist and 1:30 on the autumn day exists twice, that adding 24 hours and
//! adding one day differ across the change, and that the flights data's UTC timestamps converted to
//! New York time give back its local departure hours.
//!
//! **Run:** `cargo run --example dates_times` (add `-- --quick` for a short run).

use anyhow::{Context, Result};
use chrono::{DateTime, Days, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use harness::prelude::*;
use plotters::prelude::*;
use polars::prelude::TimeZone as PlTimeZone;
use polars::prelude::*;

/// The hour of each flight's `time_hour` read as UTC, parsed with chrono row by row: the control
/// that shows the conversion matters.
fn flights_utc_hours() -> Result<Vec<Option<i64>>> {
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?;
    let hours = flights
        .column("time_hour")?
        .str()?
        .into_iter()
        .map(|t| {
            t.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|d| chrono::Timelike::hour(&d.with_timezone(&Utc)) as i64)
        })
        .collect();
    Ok(hours)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Part 1: one instant written four ways. The local formats name no zone, so they are read as
    // New York wall-clock time; the last one carries its own offset.
    let local = [
        ("2013-03-10 01:30", "%Y-%m-%d %H:%M"),
        ("03/10/2013 01:30 AM", "%m/%d/%Y %I:%M %p"),
        ("10 Mar 2013 01:30", "%d %b %Y %H:%M"),
    ];
    let mut instants = Vec::new();
    for (text, format) in local {
        let naive = NaiveDateTime::parse_from_str(text, format)
            .with_context(|| format!("parsing {text:?}"))?;
        let zoned = New_York
            .from_local_datetime(&naive)
            .single()
            .context("not a single local time")?;
        println!(
            "{text:<22} with {format:<18} → {}",
            zoned.with_timezone(&Utc)
        );
        instants.push(zoned.with_timezone(&Utc));
    }
    let rfc = DateTime::parse_from_rfc3339("2013-03-10T06:30:00Z")?.with_timezone(&Utc);
    println!(
        "{:<22} as RFC 3339{:<10} → {rfc}",
        "2013-03-10T06:30:00Z", ""
    );
    instants.push(rfc);
    lesson.claim(
        "four spellings of one moment parse to the same instant",
        instants.iter().all(|t| *t == rfc),
        format!("all equal {rfc}"),
        &[],
    );

    // Part 2: the day the clocks jump. Midnight to midnight on 2013-03-10 in New York.
    let midnight = |d: NaiveDate| {
        New_York
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
    };
    let day = NaiveDate::from_ymd_opt(2013, 3, 10).context("date")?;
    let next = day.succ_opt().context("date")?;
    let (start, end) = (
        midnight(day).context("midnight")?,
        midnight(next).context("midnight")?,
    );
    let hours = (end - start).num_minutes() as f64 / 60.0;
    println!("\n2013-03-10 in New York: {start} → {end} = {hours} hours");
    lesson.claim(
        "2013-03-10 in New York lasts 23 hours",
        hours == 23.0,
        format!("{hours} hours from midnight to midnight"),
        &[("hours", hours)],
    );

    // Calendar arithmetic keeps the wall clock; absolute arithmetic keeps the elapsed time.
    let noon = New_York
        .with_ymd_and_hms(2013, 3, 9, 12, 0, 0)
        .single()
        .context("noon")?;
    let calendar = noon
        .checked_add_days(Days::new(1))
        .context("adding a day")?;
    let absolute = noon + Duration::hours(24);
    let calendar_hours = (calendar - noon).num_minutes() as f64 / 60.0;
    println!(
        "noon on the 9th + 1 calendar day = {calendar} ({calendar_hours} h later); + 24 h = {absolute}"
    );
    lesson.claim(
        "adding one calendar day across the change is not 24 h",
        calendar_hours == 23.0 && absolute.time() != calendar.time(),
        format!(
            "one calendar day = {calendar_hours} h; 24 h later the clock reads {}",
            absolute.time()
        ),
        &[("calendar_day_hours", calendar_hours)],
    );

    // Local times that do not exist, or exist twice.
    let skipped = New_York.with_ymd_and_hms(2013, 3, 10, 2, 30, 0);
    let repeated = New_York.with_ymd_and_hms(2013, 11, 3, 1, 30, 0);
    let describe = |r: &LocalResult<DateTime<chrono_tz::Tz>>| match r {
        LocalResult::None => "does not exist".to_string(),
        LocalResult::Single(t) => format!("is {t}"),
        LocalResult::Ambiguous(a, b) => format!("is ambiguous: {a} or {b}"),
    };
    println!("2013-03-10 02:30 in New York {}", describe(&skipped));
    println!("2013-11-03 01:30 in New York {}", describe(&repeated));
    lesson.claim(
        "the skipped spring hour does not exist and the autumn hour happens twice",
        matches!(skipped, LocalResult::None) && matches!(repeated, LocalResult::Ambiguous(..)),
        format!("{}; {}", describe(&skipped), describe(&repeated)),
        &[],
    );

    // Part 3: a datetime column in polars. Each flight's `time_hour` is its scheduled hour as UTC
    // text; parsed and converted to New York time, its hour must equal the local `hour` column on
    // every one of the 336,776 rows, across both daylight-saving changes.
    let flights = lessons_frames::frame("nycflights13_flights.parquet")?;
    let parsed = flights
        .lazy()
        .select([
            col("hour"),
            col("time_hour")
                .str()
                .to_datetime(
                    Some(TimeUnit::Milliseconds),
                    Some(PlTimeZone::UTC),
                    StrptimeOptions {
                        format: Some("%Y-%m-%dT%H:%M:%SZ".into()),
                        strict: true,
                        ..Default::default()
                    },
                    lit("raise"),
                )
                .dt()
                .convert_time_zone(
                    PlTimeZone::opt_try_new(Some("America/New_York"))?.context("zone")?,
                )
                .alias("local"),
        ])
        .with_columns([col("local")
            .dt()
            .hour()
            .cast(DataType::Int64)
            .alias("local_hour")])
        .collect()?;
    println!("\n{}", parsed.head(Some(3)));
    let rows = parsed.height();
    let agree = parsed
        .column("hour")?
        .as_materialized_series()
        .equal(parsed.column("local_hour")?.as_materialized_series())?
        .sum()
        .unwrap_or(0) as usize;
    let utc_hours_differ = parsed
        .column("local_hour")?
        .i64()?
        .into_iter()
        .zip(flights_utc_hours()?)
        .filter(|(l, u)| l != u)
        .count();
    println!(
        "local hour from time_hour equals `hour` on {agree} of {rows} rows; the UTC hour differs from it on {utc_hours_differ}"
    );
    lesson.claim(
        "UTC timestamps converted to New York give the local departure hour on every row",
        agree == rows && rows == 336_776,
        format!("{agree} of {rows} rows agree (the UTC hour itself would disagree on {utc_hours_differ})"),
        &[("rows", rows as f64), ("agree", agree as f64)],
    );

    // Departures by local hour: the figure.
    let by_hour = parsed
        .lazy()
        .group_by([col("local_hour")])
        .agg([len().alias("flights")])
        .sort(["local_hour"], Default::default())
        .collect()?;
    let hours: Vec<i64> = by_hour
        .column("local_hour")?
        .i64()?
        .into_no_null_iter()
        .collect();
    let counts: Vec<u32> = by_hour
        .column("flights")?
        .u32()?
        .into_no_null_iter()
        .collect();
    let busiest = hours
        .iter()
        .zip(&counts)
        .max_by_key(|(_, c)| **c)
        .map(|(h, c)| (*h, *c))
        .unwrap_or((0, 0));
    println!(
        "busiest scheduled hour: {}:00 with {} flights",
        busiest.0, busiest.1
    );
    lesson.metric("busiest_hour", busiest.0 as f64);
    let top = *counts.iter().max().unwrap_or(&1) as f64;
    figure!(lesson, "departures_by_hour", plot::SIZE, |root| {
        let mut chart = plot::chart(&root, "New York departures in 2013 by scheduled local hour")
            .build_cartesian_2d(0.0..24.0, 0.0..top * 1.1)?;
        plot::axes(&mut chart, "local hour (America/New_York)", "flights")?;
        chart.draw_series(hours.iter().zip(&counts).map(|(&h, &c)| {
            Rectangle::new(
                [(h as f64 + 0.1, 0.0), (h as f64 + 0.9, c as f64)],
                plot::color(0).filled(),
            )
        }))?;
    })?;

    lesson.finish()?;
    Ok(())
}
