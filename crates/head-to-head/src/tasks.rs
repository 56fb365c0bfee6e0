//! The tasks: their inputs ([`prepare`]) and the Rust side of each ([`run`]).
//!
//! Parity tolerances:
//! - classifiers are scored on 5,000 held-out rows, where an accuracy near 0.94 has a standard
//!   error of √(0.94 × 0.06 / 5,000) ≈ 0.0034; two different fits of the same model class differ
//!   by at most about 3√2 of that, so their accuracies must agree within 0.015. Logistic
//!   regression has one optimum, which both solvers must reach: 0.002 (ten rows);
//! - k-means from the same start converges to the same partition: inertia within 0.01 %;
//! - PCA, the flights queries and the array operations are exact computations, compared to
//!   rounding (relative 1e-9) or exactly (counts).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use linfa::prelude::*;
use ndarray::{Array1, Array2, Axis};
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::{Error, Outcome, Parity, Task, Tolerance, npy};

const ACCURACY: Parity = Parity {
    metric: Cow::Borrowed("accuracy"),
    tolerance: Tolerance::Absolute(0.015),
};

const fn relative(metric: &'static str) -> Parity {
    Parity {
        metric: Cow::Borrowed(metric),
        tolerance: Tolerance::Relative(1e-9),
    }
}

const fn exact(metric: &'static str) -> Parity {
    Parity {
        metric: Cow::Borrowed(metric),
        tolerance: Tolerance::Exact,
    }
}

/// Every task, in the order of the table.
pub const TASKS: &[Task] = &[
    Task {
        name: Cow::Borrowed("random_forest"),
        topic: Cow::Borrowed("forest_vs_boosting"),
        title: Cow::Borrowed("random forest, 100 trees"),
        size: Cow::Borrowed("20,000 × 20 (5,000 held out)"),
        target_ratio: 1.0,
        parity: Cow::Borrowed(&[ACCURACY]),
    },
    Task {
        name: Cow::Borrowed("gradient_boosting"),
        topic: Cow::Borrowed("forest_vs_boosting"),
        title: Cow::Borrowed("histogram gradient boosting, 100 rounds, depth 5, 20 per leaf"),
        size: Cow::Borrowed("20,000 × 20 (5,000 held out)"),
        target_ratio: 1.0,
        parity: Cow::Borrowed(&[ACCURACY]),
    },
    Task {
        name: Cow::Borrowed("logistic_regression"),
        topic: Cow::Borrowed("classic_algorithms"),
        title: Cow::Borrowed("logistic regression, L2 with C = 1"),
        size: Cow::Borrowed("20,000 × 20 (5,000 held out)"),
        target_ratio: 1.0,
        parity: Cow::Borrowed(&[Parity {
            metric: Cow::Borrowed("accuracy"),
            tolerance: Tolerance::Absolute(0.002),
        }]),
    },
    Task {
        name: Cow::Borrowed("kmeans"),
        topic: Cow::Borrowed("clustering"),
        title: Cow::Borrowed("k-means, k = 8, one given start"),
        size: Cow::Borrowed("100,000 × 10"),
        target_ratio: 1.0,
        parity: Cow::Borrowed(&[Parity {
            metric: Cow::Borrowed("inertia"),
            tolerance: Tolerance::Relative(1e-4),
        }]),
    },
    Task {
        name: Cow::Borrowed("pca"),
        topic: Cow::Borrowed("dimensionality_reduction"),
        title: Cow::Borrowed("PCA, all components"),
        size: Cow::Borrowed("100,000 × 10"),
        target_ratio: 1.0,
        parity: Cow::Borrowed(&[relative("first_share"), relative("top3_share")]),
    },
    Task {
        name: Cow::Borrowed("groupby"),
        topic: Cow::Borrowed("groupby_aggregation"),
        title: Cow::Borrowed("group-by carrier × month, five aggregations"),
        size: Cow::Borrowed("336,776 flights in one chunk"),
        target_ratio: 1.0,
        parity: Cow::Borrowed(&[
            exact("groups"),
            exact("cancelled"),
            relative("delay_checksum"),
        ]),
    },
    Task {
        name: Cow::Borrowed("join"),
        topic: Cow::Borrowed("merging_joining"),
        title: Cow::Borrowed("left join flights ⋈ planes on tailnum"),
        size: Cow::Borrowed("336,776 × 3,322 rows, each table in one chunk"),
        target_ratio: 1.0,
        parity: Cow::Borrowed(&[exact("rows"), exact("matched")]),
    },
    Task {
        name: Cow::Borrowed("elementwise"),
        topic: Cow::Borrowed("vectorization_performance"),
        title: Cow::Borrowed("2x + 1 into a new array"),
        size: Cow::Borrowed("10,000,000 f64"),
        target_ratio: 1.0,
        parity: Cow::Borrowed(&[relative("sum")]),
    },
    Task {
        name: Cow::Borrowed("matmul"),
        topic: Cow::Borrowed("linear_algebra"),
        title: Cow::Borrowed("matrix product"),
        size: Cow::Borrowed("1024 × 1024 f64"),
        target_ratio: 0.9,
        parity: Cow::Borrowed(&[relative("frobenius")]),
    },
];

/// Writes the synthetic inputs into `data`, drawn from `seed`.
pub fn prepare(data: &Path, seed: u64) -> Result<(), Error> {
    std::fs::create_dir_all(data).map_err(|e| Error::io(data, e))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // The classifiers' data: two classes, 5 informative columns among 20, 1 % of labels flipped.
    // The classes take turns row by row, so the last 5,000 rows are as balanced as the rest.
    let (x, y) = toolkit::synthetic::clustered_classes(25_000, 20, 5, 2, 0.01, &mut rng);
    let y = Array1::from_iter(y.into_iter().map(|c| c as i64));
    let (train, test) = (0..20_000, 20_000..25_000);
    npy::write_matrix(
        &data.join("classes_train_x.npy"),
        &x.slice(ndarray::s![train.clone(), ..]).to_owned(),
    )?;
    npy::write_vector(
        &data.join("classes_train_y.npy"),
        &y.slice(ndarray::s![train]).to_owned(),
    )?;
    npy::write_matrix(
        &data.join("classes_test_x.npy"),
        &x.slice(ndarray::s![test.clone(), ..]).to_owned(),
    )?;
    npy::write_vector(
        &data.join("classes_test_y.npy"),
        &y.slice(ndarray::s![test]).to_owned(),
    )?;
    // k-means and PCA: eight blobs of unit spread around centres drawn in [-6, 6]^10, with one
    // column stretched so that the components differ; the start is eight rows drawn at random.
    let centres = Array2::from_shape_fn((8, 10), |_| rng.gen_range(-6.0..6.0));
    let blobs = Array2::from_shape_fn((100_000, 10), |(i, j)| {
        let noise: f64 = rng.sample(StandardNormal);
        let stretch = if j == 0 { 3.0 } else { 1.0 };
        centres[[i % 8, j]] + stretch * noise
    });
    let rows: Vec<usize> = (0..8).map(|_| rng.gen_range(0..100_000)).collect();
    let start = blobs.select(Axis(0), &rows);
    npy::write_matrix(&data.join("blobs_x.npy"), &blobs)?;
    npy::write_matrix(&data.join("blobs_start.npy"), &start)?;
    // The element-wise input and the two factors of the matrix product.
    let ramp = Array1::from_shape_fn(10_000_000, |_| rng.gen_range(-1.0..1.0));
    npy::write_vector(&data.join("elementwise_x.npy"), &ramp)?;
    for name in ["matmul_a.npy", "matmul_b.npy"] {
        let m = Array2::from_shape_fn((1024, 1024), |_| rng.sample::<f64, _>(StandardNormal));
        npy::write_matrix(&data.join(name), &m)?;
    }
    Ok(())
}

/// Runs `work` once untimed, then `repeats` times timed; returns the times and the last answer.
fn timed<T>(
    repeats: usize,
    mut work: impl FnMut() -> Result<T, Error>,
) -> Result<(Vec<f64>, T), Error> {
    let mut answer = work()?;
    let mut seconds = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        answer = work()?;
        seconds.push(start.elapsed().as_secs_f64());
    }
    Ok((seconds, answer))
}

fn failed(task: &str, why: impl std::fmt::Display) -> Error {
    Error::Task {
        task: task.to_string(),
        why: why.to_string(),
    }
}

/// The classifiers' train and test sets.
struct Classes {
    train: Dataset<f64, usize, ndarray::Ix1>,
    test_x: Array2<f64>,
    test_y: Array1<usize>,
}

impl Classes {
    /// The share of the held-out rows a model's `predicted` classes get right.
    fn accuracy(&self, predicted: &Array1<usize>) -> f64 {
        toolkit::metrics::accuracy(&self.test_y, predicted)
    }
}

fn classes(data: &Path) -> Result<Classes, Error> {
    let labels = |name: &str| -> Result<Array1<usize>, Error> {
        Ok(npy::read_vector::<i64>(&data.join(name))?.mapv(|c| c as usize))
    };
    Ok(Classes {
        train: Dataset::new(
            npy::read_matrix(&data.join("classes_train_x.npy"))?,
            labels("classes_train_y.npy")?,
        ),
        test_x: npy::read_matrix(&data.join("classes_test_x.npy"))?,
        test_y: labels("classes_test_y.npy")?,
    })
}

/// Times the task `name` on the inputs in `data` and reports it.
pub fn run(name: &str, data: &Path, repeats: usize, threads: usize) -> Result<Outcome, Error> {
    let task = TASKS
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::UnknownTask(name.to_string()))?;
    let (tool, seconds, metrics): (String, Vec<f64>, Vec<(&str, f64)>) = match task.name.as_ref() {
        "random_forest" => {
            let set = classes(data)?;
            let params = toolkit::forest::RandomForestParams::new()
                .n_trees(100)
                .seed(1);
            let (seconds, model) = timed(repeats, || {
                params.fit(&set.train).map_err(|e| failed(name, e))
            })?;
            let accuracy = set.accuracy(&model.predict(&set.test_x));
            (
                "toolkit::forest (histogram trees, √p features a split, rayon)".into(),
                seconds,
                vec![
                    ("accuracy", accuracy),
                    ("leaves_per_tree", model.n_leaves() as f64 / 100.0),
                ],
            )
        }
        "gradient_boosting" => {
            let set = classes(data)?;
            let params = toolkit::boosting::GradientBoostingParams::new()
                .n_rounds(100)
                .learning_rate(0.1)
                .max_depth(5)
                .min_samples_leaf(20)
                .l2(0.0)
                .max_bins(255);
            let (seconds, model) = timed(repeats, || {
                params.fit(&set.train).map_err(|e| failed(name, e))
            })?;
            let accuracy = set.accuracy(&model.predict(&set.test_x));
            (
                "toolkit::boosting".into(),
                seconds,
                vec![("accuracy", accuracy)],
            )
        }
        "logistic_regression" => {
            let set = classes(data)?;
            let params = toolkit::logistic::LogisticRegressionParams::new().c(1.0);
            let (x, y) = (set.train.records().view(), set.train.targets().view());
            let (seconds, model) =
                timed(repeats, || params.fit(&x, &y).map_err(|e| failed(name, e)))?;
            let predicted = model
                .predict(&set.test_x.view())
                .map_err(|e| failed(name, e))?;
            (
                "toolkit::logistic (Newton, rayon)".into(),
                seconds,
                vec![
                    (
                        "accuracy",
                        toolkit::metrics::accuracy(&set.test_y, &predicted),
                    ),
                    ("iterations", model.iterations() as f64),
                ],
            )
        }
        "kmeans" => {
            let x = npy::read_matrix::<f64>(&data.join("blobs_x.npy"))?;
            let start = npy::read_matrix::<f64>(&data.join("blobs_start.npy"))?;
            let params = toolkit::kmeans::KMeansParams::new(8)
                .max_iterations(300)
                .tolerance(1e-4);
            let (seconds, model) = timed(repeats, || {
                params
                    .fit_from(&x.view(), start.clone())
                    .map_err(|e| failed(name, e))
            })?;
            (
                "toolkit::kmeans (Lloyd, blocked products, rayon)".into(),
                seconds,
                vec![
                    ("inertia", model.inertia()),
                    ("iterations", model.iterations() as f64),
                ],
            )
        }
        "pca" => {
            let x = npy::read_matrix::<f64>(&data.join("blobs_x.npy"))?;
            let (seconds, model) = timed(repeats, || {
                toolkit::pca::Pca::fit(&x.view(), 10).map_err(|e| failed(name, e))
            })?;
            let shares = model.explained_variance_ratio();
            (
                "toolkit::pca (covariance eigenvectors, rayon)".into(),
                seconds,
                vec![
                    ("first_share", shares[0]),
                    ("top3_share", shares.iter().take(3).sum()),
                ],
            )
        }
        "groupby" => {
            let flights = lessons_frames::frame("nycflights13_flights.parquet")
                .map_err(|e| failed(name, e))?;
            let (seconds, table) = timed(repeats, || {
                lessons_frames::flights_by_carrier_month(&flights).map_err(|e| failed(name, e))
            })?;
            let sum = |column: &str| -> Result<f64, Error> {
                table
                    .column(column)
                    .and_then(|c| c.cast(&DataType::Float64))
                    .map(|c| c.f64().map(|v| v.sum().unwrap_or(0.0)).unwrap_or(f64::NAN))
                    .map_err(|e| failed(name, e))
            };
            (
                format!("polars {} (lazy)", polars::VERSION),
                seconds,
                vec![
                    ("groups", table.height() as f64),
                    ("cancelled", sum("cancelled")?),
                    (
                        "delay_checksum",
                        sum("mean_dep_delay")? + sum("max_arr_delay")?,
                    ),
                ],
            )
        }
        "join" => {
            let flights = lessons_frames::frame("nycflights13_flights.parquet")
                .map_err(|e| failed(name, e))?;
            let planes =
                lessons_frames::frame("nycflights13_planes.csv").map_err(|e| failed(name, e))?;
            let (seconds, joined) = timed(repeats, || {
                lessons_frames::flights_with_planes(&flights, &planes).map_err(|e| failed(name, e))
            })?;
            let matched = joined
                .column("year_plane")
                .map(|c| c.len() - c.null_count())
                .map_err(|e| failed(name, e))?;
            (
                format!("polars {} (lazy)", polars::VERSION),
                seconds,
                vec![
                    ("rows", joined.height() as f64),
                    ("matched", matched as f64),
                ],
            )
        }
        "elementwise" => {
            let x = npy::read_vector::<f64>(&data.join("elementwise_x.npy"))?;
            let (seconds, y) = timed(repeats, || Ok(&x * 2.0 + 1.0))?;
            (
                "ndarray: &x * 2.0 + 1.0".into(),
                seconds,
                vec![("sum", y.sum())],
            )
        }
        "matmul" => {
            let a = npy::read_matrix::<f64>(&data.join("matmul_a.npy"))?;
            let b = npy::read_matrix::<f64>(&data.join("matmul_b.npy"))?;
            let (seconds, c) = timed(repeats, || {
                Ok(lessons_arrays::matmul_faer(
                    &a.view(),
                    &b.view(),
                    faer::Par::rayon(threads),
                ))
            })?;
            (
                format!("faer, {threads} threads"),
                seconds,
                vec![("frobenius", c.iter().map(|v| v * v).sum::<f64>().sqrt())],
            )
        }
        other => return Err(Error::UnknownTask(other.to_string())),
    };
    Ok(Outcome {
        task: task.name.to_string(),
        tool,
        threads,
        seconds,
        metrics: metrics
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
    })
}
