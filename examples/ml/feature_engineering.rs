//! # Feature engineering and selection
//!
//! **Question:** Which feature-engineering and feature-selection techniques matter most, and how do
//! you show they help?
//!
//! **Answer:** Give the model the shape it cannot find alone, and measure each step with
//! cross-validation. Scale features for any model that measures distances or penalises coefficients
//! (k-NN, SVMs, ridge): on the wine data, where one feature is in the hundreds and another below
//! one, k-NN goes from about 70 % to about 95 % accuracy. Encode unordered categories one-hot:
//! integer codes invent an order a linear model then has to follow. Add interaction, polynomial and
//! log terms when the relation is multiplicative, curved or skewed. Select features univariately
//! (correlation or F-test) or by a model (lasso's non-zero coefficients) — on data whose
//! informative features are known, both find exactly those. Fit every scaler and selector on
//! training folds only, or the score will flatter the model.
//!
//! **Run:** `cargo run --example feature_engineering` (add `-- --quick` for a short run).

use anyhow::{Context, Result};
use harness::plot::BarChart;
use harness::prelude::*;
use linfa::prelude::*;
use linfa_elasticnet::ElasticNet;
use linfa_linear::LinearRegression;
use linfa_preprocessing::linear_scaling::LinearScaler;
use ndarray::{Array1, Array2, Axis};
use polars::prelude::*;
use rand::Rng;
use rand_distr::{Distribution, LogNormal, Normal};
use toolkit::neighbors::KNeighbors;
use toolkit::{metrics, split};

/// R² of an ordinary least-squares fit, in-sample (the comparisons below are between feature
/// sets of a few columns on hundreds of rows, where in-sample and CV R² differ by little).
fn r2(x: Array2<f64>, y: &Array1<f64>) -> Result<f64> {
    let data = Dataset::new(x, y.clone());
    let model = LinearRegression::default().fit(&data)?;
    Ok(model.predict(data.records()).r2(&data)?)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let n = lesson.pick(2000, 500);
    let mut rng = lesson.rng(1);
    let noise = Normal::new(0.0, 1.0)?;

    // Part 1: scaling and k-NN on wine. The scaler is fitted inside each fold, on training rows.
    let wine = datasets::wine()?;
    let spread: Vec<String> = wine
        .features
        .var_axis(Axis(0), 1.0)
        .iter()
        .map(|v| format!("{:.2}", v.sqrt()))
        .collect();
    println!("wine feature SDs: {}", spread.join(", "));
    let folds = split::stratified_k_fold(
        wine.target.as_slice().context("contiguous")?,
        5,
        lesson.seed(),
    )?;
    let (mut raw_acc, mut scaled_acc) = (0.0, 0.0);
    for fold in &folds {
        let train = Dataset::new(
            wine.features.select(Axis(0), &fold.train),
            wine.target.select(Axis(0), &fold.train),
        );
        let test_x = wine.features.select(Axis(0), &fold.test);
        let test_y = wine.target.select(Axis(0), &fold.test);
        raw_acc += metrics::accuracy(&test_y, &KNeighbors { k: 5 }.fit(&train)?.predict(&test_x))
            / folds.len() as f64;
        let scaler = LinearScaler::standard().fit(&train)?;
        let scaled_train = Dataset::new(
            scaler.transform(train.records().clone()),
            train.targets().clone(),
        );
        let model = KNeighbors { k: 5 }.fit(&scaled_train)?;
        scaled_acc += metrics::accuracy(&test_y, &model.predict(&scaler.transform(test_x)))
            / folds.len() as f64;
    }
    println!("5-NN on wine, 5-fold CV accuracy: raw {raw_acc:.3}, standardised {scaled_acc:.3}");
    lesson.claim(
        "scaling lifts k-NN accuracy on wine",
        scaled_acc > raw_acc + 0.15,
        format!(
            "{raw_acc:.3} → {scaled_acc:.3}: unscaled, proline (SD ≈ 315) decides every distance"
        ),
        &[("raw_accuracy", raw_acc), ("scaled_accuracy", scaled_acc)],
    );

    // Part 2: one-hot against integer codes, on real data. Body mass by species: codes in order of
    // first appearance (Adelie 0, Gentoo 1, Chinstrap 2, as pandas.factorize gives) against one
    // indicator column per species but the first (pandas.get_dummies(drop_first=True)), written as
    // polars expressions.
    let penguins = lessons_frames::frame("penguins.csv")?
        .lazy()
        .filter(col("body_mass_g").is_not_null())
        .select([col("species"), col("body_mass_g").cast(DataType::Float64)])
        .collect()?;
    let mass = Array1::from(
        penguins
            .column("body_mass_g")?
            .f64()?
            .into_no_null_iter()
            .collect::<Vec<_>>(),
    );
    let species: Vec<&str> = penguins
        .column("species")?
        .str()?
        .into_no_null_iter()
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    let codes: Vec<f64> = species
        .iter()
        .map(|s| {
            if !seen.contains(s) {
                seen.push(s);
            }
            seen.iter().position(|x| x == s).unwrap_or(0) as f64
        })
        .collect();
    let ordinal = Array2::from_shape_vec((codes.len(), 1), codes)?;
    let indicators: Vec<Expr> = seen[1..]
        .iter()
        .map(|s| {
            when(col("species").eq(lit(*s)))
                .then(lit(1.0))
                .otherwise(lit(0.0))
                .alias(format!("species_{s}"))
        })
        .collect();
    let dummies = penguins.clone().lazy().select(indicators).collect()?;
    println!("one-hot columns: {:?}", dummies.get_column_names());
    let one_hot = dummies.to_ndarray::<Float64Type>(IndexOrder::C)?;
    let (r2_ordinal, r2_one_hot) = (r2(ordinal, &mass)?, r2(one_hot, &mass)?);
    println!(
        "body mass ~ species: R² with codes {seen:?} → 0, 1, 2: {r2_ordinal:.3}; one-hot: {r2_one_hot:.3}"
    );
    lesson.claim(
        "one-hot codes beat integer codes for an unordered category",
        r2_one_hot > r2_ordinal + 0.2,
        format!("R² {r2_one_hot:.3} against {r2_ordinal:.3}: the codes force Gentoo between Adelie and Chinstrap"),
        &[("r2_one_hot", r2_one_hot), ("r2_ordinal", r2_ordinal)],
    );

    // Part 3: interaction and log terms on synthetic data with a known form.
    let x1: Vec<f64> = (0..n).map(|_| rng.gen_range(-2.0..2.0)).collect();
    let x2: Vec<f64> = (0..n).map(|_| rng.gen_range(-2.0..2.0)).collect();
    let y_inter = Array1::from_shape_fn(n, |i| 2.0 * x1[i] * x2[i] + 0.3 * noise.sample(&mut rng));
    let plain = Array2::from_shape_fn((n, 2), |(i, j)| if j == 0 { x1[i] } else { x2[i] });
    let with_product = Array2::from_shape_fn((n, 3), |(i, j)| [x1[i], x2[i], x1[i] * x2[i]][j]);
    let (r2_plain, r2_product) = (r2(plain, &y_inter)?, r2(with_product, &y_inter)?);
    let skewed: Vec<f64> = LogNormal::new(0.0, 1.0)?
        .sample_iter(&mut rng)
        .take(n)
        .collect();
    let y_log = Array1::from_shape_fn(n, |i| 3.0 * skewed[i].ln() + 0.5 * noise.sample(&mut rng));
    let r2_raw_x = r2(Array2::from_shape_fn((n, 1), |(i, _)| skewed[i]), &y_log)?;
    let r2_log_x = r2(
        Array2::from_shape_fn((n, 1), |(i, _)| skewed[i].ln()),
        &y_log,
    )?;
    println!("y = 2·x1·x2: R² {r2_plain:.3} with x1, x2 → {r2_product:.3} with x1·x2 added");
    println!("y = 3·ln x (x log-normal): R² {r2_raw_x:.3} on x → {r2_log_x:.3} on ln x");
    lesson.claim(
        "an interaction term and a log transform recover relations a linear model misses",
        r2_plain < 0.1 && r2_product > 0.9 && r2_log_x > r2_raw_x + 0.2,
        format!(
            "interaction R² {r2_plain:.3} → {r2_product:.3}; log R² {r2_raw_x:.3} → {r2_log_x:.3}"
        ),
        &[("r2_product", r2_product), ("r2_log", r2_log_x)],
    );

    // Part 4: selection. 20 features, of which the first five carry signal with coefficients
    // 3, 2.5, 2, 1.5 and 1; the other fifteen are noise. The weakest informative feature correlates
    // with y at 1/√23.5 ≈ 0.21; a noise feature's sample correlation has SD 1/√n. With n = 2,000
    // (in both modes) that is 0.022, so the largest of 15 noise correlations stays far below 0.21;
    // with 500 rows a 50-seed sweep found one seed where it did not.
    let (n, p) = (2_000, 20);
    let coefficients = [3.0, 2.5, 2.0, 1.5, 1.0];
    let x = Array2::from_shape_fn((n, p), |_| noise.sample(&mut rng));
    let y = Array1::from_shape_fn(n, |i| {
        coefficients
            .iter()
            .enumerate()
            .map(|(j, c)| c * x[[i, j]])
            .sum::<f64>()
            + noise.sample(&mut rng)
    });
    // Univariate: rank features by |correlation| with y (the F-test ranks them the same way).
    let y_centred = &y - y.mean().unwrap_or(0.0);
    let mut by_corr: Vec<(usize, f64)> = (0..p)
        .map(|j| {
            let c = &x.column(j) - x.column(j).mean().unwrap_or(0.0);
            (
                j,
                (c.dot(&y_centred) / (c.dot(&c) * y_centred.dot(&y_centred)).sqrt()).abs(),
            )
        })
        .collect();
    by_corr.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut univariate: Vec<usize> = by_corr[..5].iter().map(|c| c.0).collect();
    univariate.sort_unstable();
    // Model-based: the lasso's non-zero coefficients at a moderate penalty.
    let lasso = ElasticNet::lasso()
        .penalty(0.3)
        .fit(&Dataset::new(x.clone(), y.clone()))?;
    let chosen: Vec<usize> = (0..p)
        .filter(|&j| lasso.hyperplane()[j].abs() > 1e-9)
        .collect();
    println!(
        "top five by |correlation|: {univariate:?} (weakest informative {:.3}, strongest noise {:.3})",
        by_corr[4].1, by_corr[5].1
    );
    println!("lasso (penalty 0.3) keeps {chosen:?}");
    let truth: Vec<usize> = (0..5).collect();
    lesson.claim(
        "selection recovers the informative features",
        univariate == truth && chosen == truth,
        format!("univariate picks {univariate:?}, lasso keeps {chosen:?}; the informative ones are {truth:?}"),
        &[("correlation_margin", by_corr[4].1 - by_corr[5].1)],
    );
    for (name, v) in [
        ("knn_raw", raw_acc),
        ("knn_scaled", scaled_acc),
        ("r2_ordinal", r2_ordinal),
        ("r2_one_hot", r2_one_hot),
    ] {
        lesson.metric(name, v);
    }

    figure!(lesson, "before_after", plot::SIZE, |root| {
        BarChart::new("Each technique, before and after", "accuracy or R²")
            .bar("k-NN on wine, raw", raw_acc)
            .bar("k-NN on wine, standardised", scaled_acc)
            .bar("mass ~ species, integer codes (R²)", r2_ordinal)
            .bar("mass ~ species, one-hot (R²)", r2_one_hot)
            .bar("y = x1·x2, linear terms (R²)", r2_plain.max(0.0))
            .bar("y = x1·x2, with x1·x2 (R²)", r2_product)
            .bar("y = 3 ln x, on x (R²)", r2_raw_x)
            .bar("y = 3 ln x, on ln x (R²)", r2_log_x)
            .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}
