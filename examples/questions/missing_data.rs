//! # Missing data: drop, fill, interpolate or model (a common interview question)
//!
//! **Question:** How do you handle missing data, and how do you know which method worked?
//!
//! **Answer:** First ask why values are missing. Missing completely at random: dropping rows only
//! costs data. Missing at random given other columns: dropping biases estimates that ignore those
//! columns, but estimates conditioned on them (a regression that includes them) stay unbiased, and
//! an imputer that uses them repairs the rest. Missing because of the value itself: no method is
//! safe, so report it. Then measure: hide values you know, impute them, score each method. Every
//! single fill has a cost — a group-mean fill shrinks variance and correlations, interpolation uses
//! future values and leaks in forecasting — so also consider a missing-indicator column, multiple
//! imputation, or models that take NaN natively (gradient-boosted trees), and fit the imputer
//! inside the pipeline.
//!
//! **Evidence:** On weekly CO₂ with 10 % of weeks and ten 4-week blocks hidden, the mean fill is
//! off by about 17 ppm, forward fill by about 0.6, linear interpolation by about 0.36 and a
//! trend-plus-season regression by about 0.8 (RMSE), interpolation winning on every mask. On
//! penguins with Gentoo masses hidden five times as often, dropping rows underestimates the mean
//! mass by about 165 g and a species-mean fill brings that to about 1 g; the Gentoo mean from
//! complete cases is off by only about 2 g; and the filled column's SD is about 5 % smaller than
//! the truth's.
//!
//! **Run:** `cargo run --example missing_data` (add `-- --quick` for a short run).

use anyhow::Context;
use harness::measure::mean;
use harness::plot::BarChart;
use harness::prelude::*;
use lessons_frames::interpolate_linear;
use linfa::prelude::*;
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2};
use polars::prelude::*;
use rand::Rng;
use rand::seq::SliceRandom;

fn rmse(pairs: &[(f64, f64)]) -> f64 {
    (pairs.iter().map(|(a, b)| (a - b).powi(2)).sum::<f64>() / pairs.len() as f64).sqrt()
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let repeats = lesson.pick(20, 5);
    let mut rng = lesson.rng(1);

    // Part 1: CO₂. Hide 10 % of the known readings (single weeks) plus ten 4-week blocks, then
    // fill them five ways and score each against the truth. Repeated over several random masks.
    let co2 = lessons_frames::frame("co2_weekly.csv")?
        .lazy()
        .with_row_index("week", None)
        .with_columns([col("week").cast(DataType::Float64)])
        .collect()?;
    let truth: Vec<Option<f64>> = co2.column("co2")?.f64()?.into_iter().collect();
    let weeks = truth.len();
    let methods = [
        "mean fill",
        "forward fill",
        "linear interpolation",
        "trend + season regression",
    ];
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); methods.len()];
    let mut hidden_total = 0;
    for _ in 0..repeats {
        let mut known: Vec<usize> = (0..weeks).filter(|&i| truth[i].is_some()).collect();
        known.shuffle(&mut rng);
        let mut hide: Vec<usize> = known[..known.len() / 10].to_vec();
        for _ in 0..10 {
            let start = rng.gen_range(1..weeks - 5);
            hide.extend((start..start + 4).filter(|&i| truth[i].is_some()));
        }
        hide.sort_unstable();
        hide.dedup();
        hidden_total += hide.len();
        let mut masked: Vec<Option<f64>> = truth.clone();
        for &i in &hide {
            masked[i] = None;
        }
        let frame =
            co2.clone()
                .lazy()
                .with_columns([lit(Series::new("co2".into(), masked.clone())).alias("co2")]);

        // The four fills, each one expression (the regression is fitted on the visible rows).
        let filled = frame
            .clone()
            .select([
                col("co2").fill_null(col("co2").mean()).alias("mean fill"),
                col("co2")
                    .fill_null_with_strategy(FillNullStrategy::Forward(None))
                    .alias("forward fill"),
                interpolate_linear("co2", col("week")).alias("linear interpolation"),
            ])
            .collect()?;
        let t: Vec<f64> = (0..weeks).map(|i| i as f64 / 52.18).collect();
        let design = |i: usize| {
            let w = 2.0 * std::f64::consts::PI * t[i];
            [
                t[i],
                t[i] * t[i],
                w.sin(),
                w.cos(),
                (2.0 * w).sin(),
                (2.0 * w).cos(),
            ]
        };
        let visible: Vec<usize> = (0..weeks).filter(|&i| masked[i].is_some()).collect();
        let x = Array2::from_shape_fn((visible.len(), 6), |(r, c)| design(visible[r])[c]);
        let y = Array1::from_iter(visible.iter().map(|&i| masked[i].unwrap_or_default()));
        let model = LinearRegression::default().fit(&Dataset::new(x, y))?;
        let x_hidden = Array2::from_shape_fn((hide.len(), 6), |(r, c)| design(hide[r])[c]);
        let predicted = model.predict(&x_hidden);

        for (m, name) in methods.iter().enumerate() {
            let pairs: Vec<(f64, f64)> = if m == 3 {
                hide.iter()
                    .zip(predicted.iter())
                    .map(|(&i, p)| (*p, truth[i].unwrap_or_default()))
                    .collect()
            } else {
                let col = filled.column(name)?.f64()?;
                hide.iter()
                    .filter_map(|&i| Some((col.get(i)?, truth[i]?)))
                    .collect()
            };
            errors[m].push(rmse(&pairs));
        }
    }
    let mean_error: Vec<f64> = errors.iter().map(|e| mean(e)).collect();
    println!(
        "CO₂: {} hidden readings over {repeats} masks (10 % single weeks + ten 4-week gaps each)",
        hidden_total
    );
    println!("{:<28} {:>10}", "method", "RMSE (ppm)");
    for (name, e) in methods.iter().zip(&mean_error) {
        println!("{name:<28} {e:>10.3}");
        lesson.metric(format!("rmse {name}"), *e);
    }
    println!(
        "dropping the rows gives no value to score: {} of {weeks} weeks would be lost per mask, and a weekly series with holes",
        hidden_total / repeats
    );
    let wins = (0..repeats)
        .filter(|&r| errors[2][r] < errors[0][r])
        .count();
    lesson.claim(
        "interpolation beats the mean fill on CO₂",
        wins == repeats && mean_error[2] * 10.0 < mean_error[0],
        format!(
            "RMSE {:.3} ppm against {:.2} ppm, better on {wins} of {repeats} masks",
            mean_error[2], mean_error[0]
        ),
        &[
            ("rmse_interpolation", mean_error[2]),
            ("rmse_mean_fill", mean_error[0]),
        ],
    );

    // Part 2: penguins. Body mass hidden at random, but more often for Gentoos (the heaviest
    // species): missing at random given species. Compare the mean mass three ways.
    let penguins = lessons_frames::frame("penguins.csv")?
        .lazy()
        .filter(col("body_mass_g").is_not_null())
        .select([col("species"), col("body_mass_g").cast(DataType::Float64)])
        .collect()?;
    let species: Vec<String> = penguins
        .column("species")?
        .str()?
        .into_no_null_iter()
        .map(String::from)
        .collect();
    let mass: Vec<f64> = penguins
        .column("body_mass_g")?
        .f64()?
        .into_no_null_iter()
        .collect();
    let true_mean = mean(&mass);
    let true_sd = harness::measure::sample_sd(&mass);
    let gentoo: Vec<f64> = species
        .iter()
        .zip(&mass)
        .filter(|(s, _)| *s == "Gentoo")
        .map(|(_, &m)| m)
        .collect();
    let true_gentoo = mean(&gentoo);
    let (mut drop_bias, mut group_bias) = (Vec::new(), Vec::new());
    let (mut gentoo_bias, mut filled_sd) = (Vec::new(), Vec::new());
    for _ in 0..repeats * 10 {
        let shown: Vec<Option<f64>> = species
            .iter()
            .zip(&mass)
            .map(|(s, &m)| {
                let p_hide = if s == "Gentoo" { 0.5 } else { 0.1 };
                (!rng.gen_bool(p_hide)).then_some(m)
            })
            .collect();
        let frame = DataFrame::new(vec![
            Column::new("species".into(), species.clone()),
            Column::new("mass".into(), shown),
        ])?;
        let estimates = frame
            .lazy()
            .select([
                col("mass").mean().alias("drop"),
                col("mass")
                    .fill_null(col("mass").mean().over([col("species")]))
                    .mean()
                    .alias("species_mean_fill"),
                col("mass")
                    .fill_null(col("mass").mean().over([col("species")]))
                    .std(1)
                    .alias("filled_sd"),
                col("mass")
                    .filter(col("species").eq(lit("Gentoo")))
                    .mean()
                    .alias("gentoo_complete_cases"),
            ])
            .collect()?;
        let first = |name: &str| -> anyhow::Result<f64> {
            estimates.column(name)?.f64()?.get(0).context("one value")
        };
        drop_bias.push(first("drop")? - true_mean);
        gentoo_bias.push(first("gentoo_complete_cases")? - true_gentoo);
        filled_sd.push(first("filled_sd")?);
        group_bias.push(first("species_mean_fill")? - true_mean);
    }
    let (drop_b, group_b) = (mean(&drop_bias), mean(&group_bias));
    println!(
        "\npenguins, mean body mass {true_mean:.0} g; Gentoo masses hidden with probability 0.5, others 0.1:"
    );
    println!(
        "  drop the missing rows: bias {drop_b:+.1} g; fill with the species mean: bias {group_b:+.1} g (average over {} masks)",
        drop_bias.len()
    );
    lesson.metric("bias_drop_g", drop_b);
    lesson.metric("bias_species_fill_g", group_b);
    // Dropping under-weights Gentoos (about 5,100 g against about 3,700 g for the others), about
    // −160 g here; the
    // species fill is unbiased up to the sampling noise of a mean of ~280 masses (SE ≈ 5 g per
    // mask, ≈ 1 g averaged over the masks).
    lesson.claim(
        "when missingness depends on another column, dropping rows biases the mean and a fill by that column repairs it",
        drop_b < -50.0 && group_b.abs() < drop_b.abs() / 5.0,
        format!("bias {drop_b:+.1} g when dropping, {group_b:+.1} g after filling by species"),
        &[("bias_drop", drop_b), ("bias_species_fill", group_b)],
    );
    // Dropping is not always biased. Here missingness depends only on species, so within a
    // species the complete cases are a random sample: any estimate conditioned on species — the
    // Gentoo mean, a regression of mass on species — stays unbiased after dropping.
    let gentoo_b = mean(&gentoo_bias);
    // And a fill is not free: every filled Gentoo gets exactly the Gentoo mean, so the filled
    // column varies less than the truth, and correlations with other columns shrink with it.
    let sd_after = mean(&filled_sd);
    println!(
        "  Gentoo mean from the complete cases: bias {gentoo_b:+.1} g; SD of body mass {true_sd:.0} g in truth, {sd_after:.0} g after the species fill"
    );
    lesson.metric("bias_gentoo_complete_cases_g", gentoo_b);
    lesson.metric("sd_after_species_fill_g", sd_after);
    lesson.claim(
        "dropping is unbiased for estimates conditioned on what drives the missingness",
        gentoo_b.abs() < drop_b.abs() / 5.0,
        format!("the Gentoo mean from complete cases is off by {gentoo_b:+.1} g while the overall mean is off by {drop_b:+.1} g"),
        &[("bias_gentoo", gentoo_b)],
    );
    lesson.claim(
        "a group-mean fill shrinks the spread",
        sd_after < 0.98 * true_sd,
        format!(
            "SD {sd_after:.0} g after filling against {true_sd:.0} g in truth ({:.1} % less)",
            100.0 * (1.0 - sd_after / true_sd)
        ),
        &[("sd_true", true_sd), ("sd_filled", sd_after)],
    );

    figure!(lesson, "imputation_error", plot::SIZE, |root| {
        let mut chart = BarChart::new("CO₂: error on hidden readings, by method", "RMSE (ppm)");
        for (name, e) in methods.iter().zip(&mean_error) {
            chart = chart.bar(*name, *e);
        }
        chart.draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}
