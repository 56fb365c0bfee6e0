//! # Supervised vs unsupervised learning
//!
//! **Question:** What is the difference between supervised and unsupervised learning, and how do
//! you evaluate each?
//!
//! **Answer:** Supervised learning fits a mapping from features to known labels and is judged on
//! labels it has not seen (accuracy, F1, error). Unsupervised learning gets no labels and looks for
//! structure — clusters, directions, densities; it is judged by internal measures such as the
//! silhouette or, when labels exist for checking, by agreement measures that ignore cluster names,
//! such as the adjusted Rand index.
//!
//! **Evidence:** On iris, a logistic regression told the species reaches 0.95–0.97 mean 5-fold
//! accuracy. k-means, told nothing, puts the 50 setosa in a cluster of their own and mixes
//! versicolor with virginica, whose measurements overlap: an adjusted Rand index of 0.73 against
//! the species (0 is chance), where the classifier's predictions reach 0.87–0.90.
//!
//! **Run:** `cargo run --example supervised_vs_unsupervised` (add `-- --quick` for a short run).

use harness::plot::ScatterChart;
use harness::prelude::*;
use linfa::prelude::*;
use linfa_clustering::KMeans;
use linfa_logistic::MultiLogisticRegression;
use ndarray::Array1;
use toolkit::metrics::{self, adjusted_rand_index};
use toolkit::{cv, split};

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let restarts: usize = lesson.pick(20, 5);
    let datasets::Labelled {
        features: x,
        target: y,
        classes,
        ..
    } = datasets::iris()?;
    println!(
        "iris: {} flowers × {} measurements, {} species",
        x.nrows(),
        x.ncols(),
        classes.len()
    );

    // %%
    // Supervised: the labels are part of training. Five stratified folds; every flower is
    // predicted once by a model that never saw it.
    let folds = split::stratified_k_fold(y.as_slice().unwrap_or(&[]), 5, lesson.seed())?;
    // One fit per fold gives every flower's out-of-fold prediction; each fold's accuracy is read
    // off those predictions.
    let predicted = cv::cross_val_predict(
        &MultiLogisticRegression::default().max_iterations(300),
        &x,
        &y,
        &folds,
    )?;
    let fold_accuracy: Vec<f64> = folds
        .iter()
        .map(|f| {
            let truth = y.select(ndarray::Axis(0), &f.test);
            metrics::accuracy(&truth, &predicted.select(ndarray::Axis(0), &f.test))
        })
        .collect();
    let accuracy = harness::measure::mean(&fold_accuracy);
    let supervised_ari = adjusted_rand_index(
        y.as_slice().unwrap_or(&[]),
        predicted.as_slice().unwrap_or(&[]),
    )?;
    println!(
        "logistic regression, 5-fold CV accuracy: {} → mean {accuracy:.3}; ARI of its out-of-fold predictions {supervised_ari:.3}",
        fold_accuracy
            .iter()
            .map(|a| format!("{a:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // %%
    // Unsupervised: k-means sees only the measurements. It is told k = 3 and nothing else; the
    // best of several seeded restarts (lowest inertia) is kept, as scikit-learn's n_init does.
    let assigned: Array1<usize> = KMeans::params_with_rng(3, lesson.rng(1))
        .n_runs(restarts)
        .max_n_iterations(300)
        .tolerance(1e-6)
        .fit(&DatasetBase::from(x.clone()))?
        .predict(&x);
    let kmeans_ari = adjusted_rand_index(
        y.as_slice().unwrap_or(&[]),
        assigned.as_slice().unwrap_or(&[]),
    )?;
    // A contingency table shows what the clusters found: setosa alone, the other two mixed.
    println!("\nspecies × cluster counts (k-means never saw the species):");
    let table: Vec<Vec<usize>> = (0..classes.len())
        .map(|s| {
            (0..3)
                .map(|c| {
                    (0..y.len())
                        .filter(|&i| y[i] == s && assigned[i] == c)
                        .count()
                })
                .collect()
        })
        .collect();
    for (name, counts) in classes.iter().zip(&table) {
        println!("  {name:<12} {counts:?}");
    }
    // Setosa (class 0) is found exactly if one cluster holds all of it and nothing else; the
    // other two species are mixed if some cluster holds both of them.
    let setosa_cluster = (0..3).find(|&c| table[0][c] == 50 && table[1][c] + table[2][c] == 0);
    let mixed = (0..3).any(|c| table[1][c] > 0 && table[2][c] > 0);
    let silhouette = DatasetBase::new(x.clone(), assigned.clone()).silhouette_score()?;
    println!(
        "k-means: ARI against the species {kmeans_ari:.3}; silhouette (no labels needed) {silhouette:.3}"
    );
    lesson.metric("cv_accuracy", accuracy);
    lesson.metric("supervised_ari", supervised_ari);
    lesson.metric("kmeans_ari", kmeans_ari);
    lesson.metric("kmeans_silhouette", silhouette);

    lesson.claim(
        "the classifier's accuracy > 0.9",
        accuracy > 0.9,
        format!("mean 5-fold accuracy {accuracy:.3}"),
        &[("accuracy", accuracy)],
    );
    // Accuracy and ARI are different scales, so the fair comparison is ARI against ARI.
    lesson.claim(
        "without labels, k-means finds setosa exactly and mixes the two species that overlap",
        setosa_cluster.is_some() && mixed && kmeans_ari > 0.5 && kmeans_ari < supervised_ari,
        format!("one cluster is the 50 setosa and nothing else; versicolor and virginica share a cluster; ARI {kmeans_ari:.3} (chance 0) against the classifier's {supervised_ari:.3}"),
        &[("kmeans_ari", kmeans_ari), ("supervised_ari", supervised_ari)],
    );

    // %%
    // Side by side: petal length against width, coloured by species and by cluster.
    let petals: Vec<(f64, f64)> = x.rows().into_iter().map(|r| (r[2], r[3])).collect();
    let cluster_names: Vec<String> = (0..3).map(|k| format!("cluster {k}")).collect();
    figure!(lesson, "species_vs_clusters", (1200, 560), |root| {
        let (left, right) = root.split_horizontally(600);
        let axes = ("petal length (cm)", "petal width (cm)");
        ScatterChart::new("Labels (what the classifier learns)", axes.0, axes.1)
            .labelled(&classes, y.as_slice().unwrap_or(&[]), &petals)
            .draw(&left)?;
        ScatterChart::new("k-means clusters (no labels)", axes.0, axes.1)
            .labelled(&cluster_names, assigned.as_slice().unwrap_or(&[]), &petals)
            .draw(&right)?;
    })?;

    lesson.finish()?;
    Ok(())
}
