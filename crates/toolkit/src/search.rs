//! Hyper-parameter search with cross-validation (scikit-learn's `GridSearchCV`,
//! `RandomizedSearchCV` and nested cross-validation). linfa checks hyper-parameters but has no
//! search.
//!
//! A candidate is a [`Point`]: named numbers. The caller turns a point into linfa parameters with
//! a closure, so any model (or [`Pipeline`](crate::pipeline::Pipeline)) can be searched:
//!
//! ```ignore
//! let points = search::grid(&[("k", vec![1.0, 5.0, 15.0])]);
//! let make = |p: &Point| Ok(KNeighbors { k: p.get("k")? as usize });
//! let board = search::cross_validated(&points, make, &x, &y, &folds, accuracy)?;
//! ```

use std::fmt;

use linfa::prelude::*;
use ndarray::{Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::cv::cross_val_score;
use crate::{Error, Fold};

/// One candidate: a value for each named hyper-parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point(Vec<(String, f64)>);

impl Point {
    /// A point from (name, value) pairs.
    pub fn new(values: Vec<(String, f64)>) -> Point {
        Point(values)
    }

    /// The value of `name`; a name the point does not have (a misspelling, say) is an error.
    pub fn get(&self, name: &str) -> Result<f64, Error> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
                Error::Parameter(format!(
                    "no hyper-parameter {name:?} in this search space ({})",
                    names.join(", ")
                ))
            })
    }

    /// The (name, value) pairs, in the order of the search space.
    pub fn values(&self) -> &[(String, f64)] {
        &self.0
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whole numbers as such, others to four significant digits.
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(n, v)| {
                if v.fract() == 0.0 {
                    format!("{n}={v}")
                } else {
                    format!("{n}={}", format!("{v:.4e}").parse::<f64>().unwrap_or(*v))
                }
            })
            .collect();
        write!(f, "{}", parts.join(", "))
    }
}

/// Every combination of the given values (the Cartesian product, last axis fastest).
pub fn grid(axes: &[(&str, Vec<f64>)]) -> Vec<Point> {
    let mut points = vec![Point(Vec::new())];
    for (name, values) in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |&v| {
                    let mut q = p.0.clone();
                    q.push((name.to_string(), v));
                    Point(q)
                })
            })
            .collect();
    }
    points
}

/// A distribution to draw one hyper-parameter from.
#[derive(Debug, Clone, PartialEq)]
pub enum Draw {
    /// Uniform on [low, high).
    Uniform(f64, f64),
    /// Log-uniform on [low, high): every decade equally likely (for rates and penalties).
    LogUniform(f64, f64),
    /// A whole number, uniform on low..=high.
    Integer(i64, i64),
    /// One of the listed values.
    Choice(Vec<f64>),
}

/// `n` points drawn independently from `space`, seeded.
pub fn random(space: &[(&str, Draw)], n: usize, seed: u64) -> Result<Vec<Point>, Error> {
    for (name, draw) in space {
        let ok = match draw {
            Draw::Uniform(a, b) => a < b,
            Draw::LogUniform(a, b) => *a > 0.0 && a < b,
            Draw::Integer(a, b) => a <= b,
            Draw::Choice(v) => !v.is_empty(),
        };
        if !ok {
            return Err(Error::Parameter(format!(
                "empty range for {name}: {draw:?}"
            )));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok((0..n)
        .map(|_| {
            Point(
                space
                    .iter()
                    .map(|(name, draw)| {
                        let v = match draw {
                            Draw::Uniform(a, b) => rng.gen_range(*a..*b),
                            Draw::LogUniform(a, b) => rng.gen_range(a.ln()..b.ln()).exp(),
                            Draw::Integer(a, b) => rng.gen_range(*a..=*b) as f64,
                            Draw::Choice(v) => v[rng.gen_range(0..v.len())],
                        };
                        (name.to_string(), v)
                    })
                    .collect(),
            )
        })
        .collect())
}

/// The cross-validated score of one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub point: Point,
    /// One score per fold.
    pub scores: Vec<f64>,
    pub mean: f64,
}

/// All candidates with their cross-validated scores, in the order given, and the best of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leaderboard {
    candidates: Vec<Candidate>,
    best: usize,
}

impl Leaderboard {
    /// Every candidate, in the order the points were given.
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// The candidate with the highest mean score (the earlier one on a tie).
    pub fn best(&self) -> &Candidate {
        &self.candidates[self.best]
    }
}

/// Scores every point by cross-validation on `folds` (higher is better) and picks the best, as
/// scikit-learn's `GridSearchCV` and `RandomizedSearchCV` do; a tie goes to the earlier point.
/// `make` turns a point into model parameters, and fails on a name the point lacks.
pub fn cross_validated<P, T, E, S>(
    points: &[Point],
    make: impl Fn(&Point) -> Result<P, Error>,
    x: &Array2<f64>,
    y: &Array1<T>,
    folds: &[Fold],
    score: S,
) -> Result<Leaderboard, Error>
where
    P: Fit<Array2<f64>, Array1<T>, E>,
    P::Object: for<'a> Predict<&'a Array2<f64>, Array1<T>>,
    E: std::error::Error + From<linfa::Error>,
    T: Clone,
    S: Fn(&Array1<T>, &Array1<T>) -> f64,
{
    if points.is_empty() {
        return Err(Error::Empty);
    }
    let candidates = points
        .iter()
        .map(|point| {
            let scores = cross_val_score(&make(point)?, x, y, folds, &score)?;
            let mean = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
            Ok(Candidate {
                point: point.clone(),
                scores,
                mean,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let best = (0..candidates.len())
        .max_by(|&a, &b| {
            candidates[a]
                .mean
                .total_cmp(&candidates[b].mean)
                .then(b.cmp(&a))
        })
        .unwrap_or(0);
    Ok(Leaderboard { candidates, best })
}

/// One outer fold of nested cross-validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OuterFold {
    /// The point the inner search chose on this fold's training rows.
    pub chosen: Point,
    /// Its inner cross-validated score: optimistic, since it was the maximum of many.
    pub inner_score: f64,
    /// The score of the refitted choice on the outer test rows, which no choice has seen.
    pub outer_score: f64,
}

/// Nested cross-validation: for each outer fold, search `points` with `inner_folds` folds of the
/// outer training rows (built by `inner`, given their count), refit the winner on all outer
/// training rows and score it on the outer test rows. The mean outer score estimates how well
/// the whole procedure — search included — does on new data.
#[allow(clippy::too_many_arguments)]
pub fn nested<P, T, E, S>(
    points: &[Point],
    make: impl Fn(&Point) -> Result<P, Error>,
    x: &Array2<f64>,
    y: &Array1<T>,
    outer: &[Fold],
    inner: impl Fn(&Array1<T>) -> Result<Vec<Fold>, Error>,
    score: S,
) -> Result<Vec<OuterFold>, Error>
where
    P: Fit<Array2<f64>, Array1<T>, E>,
    P::Object: for<'a> Predict<&'a Array2<f64>, Array1<T>>,
    E: std::error::Error + From<linfa::Error>,
    T: Clone,
    S: Fn(&Array1<T>, &Array1<T>) -> f64,
{
    if x.nrows() != y.len() {
        return Err(Error::LengthMismatch(x.nrows(), y.len()));
    }
    outer
        .iter()
        .map(|fold| {
            let (xt, yt) = (
                x.select(Axis(0), &fold.train),
                y.select(Axis(0), &fold.train),
            );
            let found = cross_validated(points, &make, &xt, &yt, &inner(&yt)?, &score)?;
            let best = found.best();
            // The winner refitted on the outer training rows, scored on the outer test rows.
            let outer_score = cross_val_score(
                &make(&best.point)?,
                x,
                y,
                std::slice::from_ref(fold),
                &score,
            )?[0];
            Ok(OuterFold {
                chosen: best.point.clone(),
                inner_score: best.mean,
                outer_score,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::accuracy;
    use crate::neighbors::KNeighbors;
    use crate::split::{k_fold, stratified_k_fold};

    #[test]
    fn a_grid_is_the_cartesian_product() {
        let g = grid(&[("a", vec![1.0, 2.0]), ("b", vec![10.0, 20.0, 30.0])]);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0].0, vec![("a".into(), 1.0), ("b".into(), 10.0)]);
        assert_eq!(g[5].to_string(), "a=2, b=30");
        let err = g[3].get("c").unwrap_err().to_string();
        assert!(
            err.contains("no hyper-parameter \"c\"") && err.contains("a, b"),
            "{err}"
        );
    }

    #[test]
    fn random_points_stay_in_their_ranges_and_are_seeded() {
        let space = [
            ("rate", Draw::LogUniform(1e-3, 1.0)),
            ("depth", Draw::Integer(1, 4)),
            ("x", Draw::Uniform(-1.0, 1.0)),
            ("pick", Draw::Choice(vec![3.0, 7.0])),
        ];
        let pts = random(&space, 2000, 5).unwrap();
        assert_eq!(pts, random(&space, 2000, 5).unwrap());
        assert!(pts.iter().all(|p| {
            let value = |name: &str| p.get(name).unwrap();
            (1e-3..1.0).contains(&value("rate"))
                && [1.0, 2.0, 3.0, 4.0].contains(&value("depth"))
                && (-1.0..1.0).contains(&value("x"))
                && [3.0, 7.0].contains(&value("pick"))
        }));
        // Log-uniform: each of the three decades gets about a third (SD of the share ≈ 0.011).
        let low = pts.iter().filter(|p| p.get("rate").unwrap() < 1e-2).count() as f64 / 2000.0;
        assert!((low - 1.0 / 3.0).abs() < 0.05, "{low}");
        for d in 1..=4 {
            assert!(pts.iter().any(|p| p.get("depth").unwrap() == d as f64));
        }
        assert!(random(&[("bad", Draw::LogUniform(0.0, 1.0))], 1, 0).is_err());
    }

    /// k-NN with the point's `k`.
    fn knn(p: &Point) -> Result<KNeighbors, Error> {
        Ok(KNeighbors {
            k: p.get("k")? as usize,
        })
    }

    /// Three tight blobs on a line, with every fifth label flipped to the next class: 1-NN copies
    /// the noise, a wide vote (k = 15) outvotes it.
    fn noisy_blobs() -> (Array2<f64>, Array1<usize>) {
        let n = 150;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            (i % 3) as f64 * 3.0 + ((i * 7919 + j * 104729) % 1000) as f64 / 1000.0
        });
        let y = Array1::from_shape_fn(n, |i| if i % 5 == 0 { (i % 3 + 1) % 3 } else { i % 3 });
        (x, y)
    }

    #[test]
    fn the_search_prefers_the_wider_vote_on_noisy_labels() {
        let (x, y) = noisy_blobs();
        let folds = k_fold(150, 5, 3).unwrap();
        let points = grid(&[("k", vec![1.0, 15.0])]);
        let found = cross_validated(&points, knn, &x, &y, &folds, accuracy).unwrap();
        assert_eq!(found.best().point.get("k").unwrap(), 15.0);
        assert!(found.candidates()[0].mean < 0.9 && found.best().mean > 0.75);
        assert_eq!(found.candidates()[1].scores.len(), 5);
    }

    #[test]
    fn nested_cv_refits_on_outer_training_rows_and_scores_unseen_rows() {
        let (x, y) = noisy_blobs();
        let outer = stratified_k_fold(y.as_slice().unwrap(), 3, 1).unwrap();
        let points = grid(&[("k", vec![1.0, 15.0])]);
        let folds = nested(
            &points,
            knn,
            &x,
            &y,
            &outer,
            |yt| k_fold(yt.len(), 4, 2),
            accuracy,
        )
        .unwrap();
        assert_eq!(folds.len(), 3);
        for f in &folds {
            assert_eq!(f.chosen.get("k").unwrap(), 15.0);
            // 20 % of labels are flipped: the best possible accuracy is about 0.8.
            assert!(f.outer_score > 0.65 && f.outer_score < 0.92, "{f:?}");
        }
    }

    #[test]
    fn a_failing_candidate_is_an_error() {
        let (x, y) = noisy_blobs();
        let folds = k_fold(150, 5, 3).unwrap();
        let points = grid(&[("k", vec![0.0])]);
        // The model's own error travels up, inside the error of the cross-validation that fitted it.
        let err = cross_validated(&points, knn, &x, &y, &folds, accuracy).unwrap_err();
        assert!(err.to_string().contains("k = 0 needs 1 ≤ k"), "{err}");
        assert_eq!(
            cross_validated(&[], |_| Ok(KNeighbors { k: 1 }), &x, &y, &folds, accuracy)
                .unwrap_err(),
            Error::Empty
        );
        // A misspelled hyper-parameter name is an error, not a NaN that fits some model.
        let misspelled = |p: &Point| {
            Ok(KNeighbors {
                k: p.get("kk")? as usize,
            })
        };
        let err = cross_validated(
            &grid(&[("k", vec![5.0])]),
            misspelled,
            &x,
            &y,
            &folds,
            accuracy,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("no hyper-parameter \"kk\""),
            "{err}"
        );
    }
}
