//! # Pipelines and data leakage
//!
//! **Question:** Why use pipelines, and what is data leakage?
//!
//! **Answer:** A pipeline makes the preprocessing part of the model: scaling, encoding, imputing
//! and feature selection are fitted on the training rows of each fold and only applied to its test
//! rows, as they will be applied to tomorrow's data. Leakage is any route by which test rows shape
//! the model. The classic case is choosing features on the whole data set before cross-validating:
//! on labels nothing can predict, it reports good accuracy, while the same selection inside a
//! pipeline reports chance.
//!
//! **Evidence:** A scaler inside the pipeline learns a mean of 43.8663 from the training rows, not
//! the table's 43.9219. A column transformer (scale the measurements, one-hot the island and sex,
//! impute) with logistic regression scores 0.988 by 5-fold CV on all 344 penguins, missing values
//! included. On pure noise, selecting features before CV reports 0.898 accuracy, inside the
//! pipeline 0.496.
//!
//! **Run:** `cargo run --example pipelines` (add `-- --quick` for a short run).

use anyhow::Context;
use harness::measure::{mean, sample_sd};
use harness::prelude::*;
use linfa::ParamGuard;
use linfa::prelude::*;
use linfa_bayes::GaussianNb;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2, Axis};
use rand::Rng;
use rand_distr::StandardNormal;
use toolkit::pipeline::{
    Column, ColumnTransformer, FeatureScore, FittedColumnTransformer, Pipeline, SelectKBest,
};
use toolkit::{cross_val_score, metrics, split};

/// The mean of the first column's known (finite) values.
fn finite_first_column_mean(rows: &Array2<f64>) -> f64 {
    let v: Vec<f64> = rows
        .column(0)
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    mean(&v)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // %%
    // Part 1: a column transformer on mixed data. Penguins have four measurements (two birds
    // lack them) and two categories (eleven birds lack a sex). No row is dropped: the transformer
    // fills a missing number with the training mean and gives a missing category all zeros.
    let datasets::Mixed {
        features: x,
        target: y,
        numeric,
        categorical,
        ..
    } = datasets::penguins()?;
    let mut columns: Vec<Column> = numeric.iter().map(|c| Column::numeric(c)).collect();
    columns.extend(categorical.iter().map(|c| Column::categorical(c)));
    let transformer = ColumnTransformer { columns };
    let labels = y.to_vec();
    let folds = split::stratified_k_fold(&labels, 5, lesson.seed())?;

    // %%
    // What one fold's transformer learned: the training rows' statistics, not the whole table's.
    let fold = folds[0].clone();
    let train_x = x.select(Axis(0), &fold.train);
    let fitted: FittedColumnTransformer = transformer.fit(&DatasetBase::new(
        train_x.clone(),
        y.select(Axis(0), &fold.train),
    ))?;
    println!(
        "penguins: {} birds; the transformer turns 6 columns into {}: {}",
        x.nrows(),
        fitted.output_names().len(),
        fitted.output_names().join(", ")
    );
    let learned_mean = match &fitted.learned[0] {
        toolkit::pipeline::LearnedColumn::Scale { mean, .. } => *mean,
        other => bail!("bill length should be scaled, found {other:?}"),
    };
    let (train_mean, all_mean) = (
        finite_first_column_mean(&train_x),
        finite_first_column_mean(&x),
    );
    println!(
        "bill length mean learned in fold 1: {learned_mean:.4} mm = the mean of its {} training birds ({train_mean:.4}); the whole table's is {all_mean:.4}",
        fold.train.len()
    );
    lesson.claim(
        "the transformer learns from the training rows only",
        (learned_mean - train_mean).abs() < 1e-12 && (learned_mean - all_mean).abs() > 1e-6,
        format!("learned mean {learned_mean:.6} equals the training rows' {train_mean:.6}, not the table's {all_mean:.6}"),
        &[("learned_mean", learned_mean), ("all_mean", all_mean)],
    );

    // %%
    // The whole pipeline through 5-fold CV: every fold refits the transformer and the model.
    let scores = cross_val_score(
        &Pipeline::new(
            transformer.clone(),
            MultiLogisticRegression::default().check()?,
        ),
        &x,
        &y,
        &folds,
        metrics::accuracy,
    )?;
    let accuracy = mean(&scores);
    println!(
        "column transformer + multinomial logistic regression, 5-fold CV accuracy {accuracy:.3} (folds: {})",
        scores
            .iter()
            .map(|s| format!("{s:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    lesson.metric("penguins_cv_accuracy", accuracy);
    lesson.claim(
        "the pipeline classifies all 344 penguins well",
        accuracy > 0.95,
        format!("5-fold CV accuracy {accuracy:.3} on all 344 birds, missing values included"),
        &[("accuracy", accuracy)],
    );

    // %%
    // Part 2: the leakage trap. Pure noise: 100 samples, 5,000 random features, random labels.
    // No model can beat 0.5 on new data. Selecting the 20 features most correlated with the
    // labels on all rows, then cross-validating, lets the test rows choose the features.
    let (n, p, k): (usize, usize, usize) = (100, lesson.pick(5000, 2000), 20);
    let repeats: usize = lesson.pick(10, 4);
    let (mut leaky, mut honest): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for r in 0..repeats as u64 {
        let mut rng = lesson.rng(10 + r);
        let noise = Array2::from_shape_fn((n, p), |_| rng.sample::<f64, _>(StandardNormal));
        let coin = Array1::from_shape_fn(n, |_| usize::from(rng.gen_bool(0.5)));
        let folds = split::stratified_k_fold(coin.as_slice().context("contiguous")?, 5, r)?;
        let select = SelectKBest {
            k,
            score: FeatureScore::FClassif,
        };

        // Leaky: select once on all 100 rows, then cross-validate the model on the survivors.
        let chosen = select.fit(&DatasetBase::new(noise.clone(), coin.clone()))?;
        let reduced = noise.select(Axis(1), &chosen.kept);
        let bayes = GaussianNb::params().check()?;
        leaky.push(mean(&cross_val_score(
            &bayes,
            &reduced,
            &coin,
            &folds,
            metrics::accuracy,
        )?));

        // Honest: the selection is a pipeline step, refitted on each fold's training rows.
        let pipe = Pipeline::new(select, bayes);
        honest.push(mean(&cross_val_score(
            &pipe,
            &noise,
            &coin,
            &folds,
            metrics::accuracy,
        )?));
    }
    let (leaky_mean, honest_mean) = (mean(&leaky), mean(&honest));
    // Each honest estimate is an accuracy on 100 coin flips: SD ≈ 0.05, so the mean of the repeats
    // has SD ≈ 0.05/√repeats; 4 of those is the band around 0.5.
    let band = 4.0 * 0.05 / (repeats as f64).sqrt();
    println!(
        "\npure noise ({n} rows × {p} features, random labels), {repeats} draws, select {k} features by F score:\n  selected on all rows, then CV: {leaky_mean:.3} ± {:.3}\n  selected inside the pipeline:   {honest_mean:.3} ± {:.3}   (chance 0.5)",
        sample_sd(&leaky),
        sample_sd(&honest)
    );
    lesson.metric("leaky_accuracy", leaky_mean);
    lesson.metric("honest_accuracy", honest_mean);
    lesson.claim(
        "selecting features before CV leaks; the pipeline does not",
        leaky_mean >= honest_mean + 0.1 && (honest_mean - 0.5).abs() < band,
        format!("leaky {leaky_mean:.3} vs honest {honest_mean:.3}: {:.2} higher on labels nothing can predict; honest within {band:.3} of 0.5", leaky_mean - honest_mean),
        &[("leaky", leaky_mean), ("honest", honest_mean), ("band", band)],
    );

    // %%
    // The figure: each draw's two estimates.
    figure!(lesson, "leakage", plot::SIZE, |root| {
        plot::ScatterChart::new(
            &format!("Pure noise: CV accuracy of {repeats} draws"),
            "draw",
            "5-fold CV accuracy (chance = 0.5)",
        )
        .group(
            "features selected on all rows (leaky)",
            leaky
                .iter()
                .enumerate()
                .map(|(i, &a)| (i as f64 + 1.0, a))
                .collect(),
        )
        .group(
            "selection inside the pipeline (honest)",
            honest
                .iter()
                .enumerate()
                .map(|(i, &a)| (i as f64 + 1.0, a))
                .collect(),
        )
        .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}
