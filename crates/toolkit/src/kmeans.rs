//! k-means by Lloyd's algorithm, as scikit-learn runs it: the distances of a block of rows to all
//! centres come from one small matrix product (`‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖²`, and `‖x‖²` does
//! not change which centre is nearest), blocks run in parallel on rayon's pool, and each block
//! adds its rows to per-centre sums on the way, so one pass over the data both assigns the rows
//! and computes the next centres.
//!
//! It stops as scikit-learn's `KMeans` does: when no row changes centre, or when the centres
//! moved by at most `tolerance × the mean variance of the features` in total squared distance;
//! then the rows are assigned once more to the final centres, and the inertia (the sum of squared
//! distances to them) is computed directly, not through the expansion above. A centre that loses
//! all its rows stays where it was. Starts: given centres ([`KMeansParams::fit_from`]) or
//! k-means++ seeding from the seed ([`KMeansParams::fit`]).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Zip};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::Error;

/// Rows per block: a block's distances (256 × k) and rows stay in the core's cache.
const BLOCK: usize = 256;

/// Hyper-parameters of k-means.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams {
    n_clusters: usize,
    max_iterations: usize,
    tolerance: f64,
    seed: u64,
}

impl KMeansParams {
    /// `n_clusters` centres, at most 300 iterations, tolerance 1e-4, seed 0 (scikit-learn's
    /// defaults).
    pub fn new(n_clusters: usize) -> Self {
        KMeansParams {
            n_clusters,
            max_iterations: 300,
            tolerance: 1e-4,
            seed: 0,
        }
    }

    pub fn max_iterations(mut self, n: usize) -> Self {
        self.max_iterations = n;
        self
    }

    /// Stop when the centres move by at most this share of the features' mean variance.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The seed of the k-means++ start ([`KMeansParams::fit`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn check(&self, x: &ArrayView2<f64>) -> Result<(), Error> {
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err(Error::Empty);
        }
        if self.n_clusters == 0 || self.n_clusters > x.nrows() {
            return Err(Error::Parameter(format!(
                "{} clusters for {} rows",
                self.n_clusters,
                x.nrows()
            )));
        }
        if self.max_iterations == 0 || self.tolerance.is_nan() || self.tolerance < 0.0 {
            return Err(Error::Parameter(
                "max_iterations must be positive and tolerance at least 0".into(),
            ));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::NotFinite("rows"));
        }
        Ok(())
    }

    /// Clusters the rows of `x` from a k-means++ start drawn from the seed.
    pub fn fit(&self, x: &ArrayView2<f64>) -> Result<KMeans, Error> {
        self.check(x)?;
        let start = plus_plus(
            x,
            self.n_clusters,
            &mut ChaCha8Rng::seed_from_u64(self.seed),
        );
        self.lloyd(x, start)
    }

    /// Clusters the rows of `x` from the centres `start` (one per row).
    pub fn fit_from(&self, x: &ArrayView2<f64>, start: Array2<f64>) -> Result<KMeans, Error> {
        self.check(x)?;
        if start.dim() != (self.n_clusters, x.ncols()) {
            return Err(Error::Parameter(format!(
                "the start has shape {:?}, not {} × {}",
                start.dim(),
                self.n_clusters,
                x.ncols()
            )));
        }
        if start.iter().any(|v| !v.is_finite()) {
            return Err(Error::NotFinite("starting centres"));
        }
        self.lloyd(x, start)
    }

    fn lloyd(&self, x: &ArrayView2<f64>, mut centres: Array2<f64>) -> Result<KMeans, Error> {
        let mean_variance = x.var_axis(Axis(0), 0.0).mean().unwrap_or(0.0);
        let threshold = self.tolerance * mean_variance;
        let mut labels = Array1::from_elem(x.nrows(), usize::MAX);
        let mut iterations = 0;
        let mut converged_strictly = false;
        while iterations < self.max_iterations {
            iterations += 1;
            let pass = assign_and_sum(x, &centres, &mut labels);
            let mut next = centres.clone();
            for (k, mut centre) in next.rows_mut().into_iter().enumerate() {
                if pass.counts[k] > 0 {
                    centre.assign(&(&pass.sums.row(k) / pass.counts[k] as f64));
                }
            }
            let shift: f64 = Zip::from(&next)
                .and(&centres)
                .fold(0.0, |s, a, b| s + (a - b) * (a - b));
            centres = next;
            if pass.changed == 0 {
                converged_strictly = true;
                break;
            }
            if shift <= threshold {
                break;
            }
        }
        if !converged_strictly {
            assign_and_sum(x, &centres, &mut labels);
        }
        let inertia = inertia(x, &centres, &labels);
        Ok(KMeans {
            centres,
            labels,
            inertia,
            iterations,
        })
    }
}

/// What one pass over the rows gathers: per-centre sums and counts, and how many rows moved.
struct Pass {
    sums: Array2<f64>,
    counts: Vec<usize>,
    changed: usize,
}

/// Assigns each row to its nearest centre (writing `labels`) and sums the rows per centre.
fn assign_and_sum(x: &ArrayView2<f64>, centres: &Array2<f64>, labels: &mut Array1<usize>) -> Pass {
    let (k, p) = centres.dim();
    let half_norms: Array1<f64> = centres
        .rows()
        .into_iter()
        .map(|c| 0.5 * c.dot(&c))
        .collect();
    let empty = || Pass {
        sums: Array2::zeros((k, p)),
        counts: vec![0; k],
        changed: 0,
    };
    x.axis_chunks_iter(Axis(0), BLOCK)
        .into_par_iter()
        .zip(labels.axis_chunks_iter_mut(Axis(0), BLOCK))
        .fold(empty, |mut pass, (rows, mut block_labels)| {
            // Nearest centre: the largest x·c − ‖c‖²/2, for all centres at once.
            let scores = rows.dot(&centres.t());
            for ((row, score), label) in rows
                .rows()
                .into_iter()
                .zip(scores.rows())
                .zip(block_labels.iter_mut())
            {
                let mut best = 0;
                let mut best_score = f64::NEG_INFINITY;
                for (j, (s, h)) in score.iter().zip(&half_norms).enumerate() {
                    if s - h > best_score {
                        best_score = s - h;
                        best = j;
                    }
                }
                if *label != best {
                    pass.changed += 1;
                    *label = best;
                }
                pass.counts[best] += 1;
                pass.sums.row_mut(best).zip_mut_with(&row, |s, v| *s += v);
            }
            pass
        })
        .reduce(empty, |mut a, b| {
            a.sums += &b.sums;
            a.counts
                .iter_mut()
                .zip(&b.counts)
                .for_each(|(a, b)| *a += b);
            a.changed += b.changed;
            a
        })
}

/// `‖a − b‖²`, entry by entry.
fn squared_distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The sum of squared distances of the rows to their centres, computed directly.
fn inertia(x: &ArrayView2<f64>, centres: &Array2<f64>, labels: &Array1<usize>) -> f64 {
    x.axis_chunks_iter(Axis(0), BLOCK)
        .into_par_iter()
        .zip(labels.axis_chunks_iter(Axis(0), BLOCK))
        .map(|(rows, block_labels)| {
            rows.rows()
                .into_iter()
                .zip(block_labels)
                .map(|(row, &label)| squared_distance(row, centres.row(label)))
                .sum::<f64>()
        })
        .sum()
}

/// k-means++ seeding: the first centre a random row, each next one a row drawn with probability
/// proportional to its squared distance to the nearest centre so far.
fn plus_plus(x: &ArrayView2<f64>, k: usize, rng: &mut impl Rng) -> Array2<f64> {
    let mut centres = Array2::zeros((k, x.ncols()));
    centres
        .row_mut(0)
        .assign(&x.row(rng.gen_range(0..x.nrows())));
    let mut nearest: Vec<f64> = x
        .rows()
        .into_iter()
        .map(|r| squared_distance(r, centres.row(0)))
        .collect();
    for j in 1..k {
        let total: f64 = nearest.iter().sum();
        let chosen = if total > 0.0 {
            let mut target = rng.gen_range(0.0..total);
            nearest
                .iter()
                .position(|&d| {
                    target -= d;
                    target < 0.0
                })
                .unwrap_or(x.nrows() - 1)
        } else {
            rng.gen_range(0..x.nrows())
        };
        centres.row_mut(j).assign(&x.row(chosen));
        for (d, row) in nearest.iter_mut().zip(x.rows()) {
            *d = d.min(squared_distance(row, centres.row(j)));
        }
    }
    centres
}

/// A fitted k-means: the centres, each training row's centre, the inertia and the iterations run.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    centres: Array2<f64>,
    labels: Array1<usize>,
    inertia: f64,
    iterations: usize,
}

impl KMeans {
    pub fn centres(&self) -> &Array2<f64> {
        &self.centres
    }

    /// The centre of each training row.
    pub fn labels(&self) -> &Array1<usize> {
        &self.labels
    }

    /// The sum of squared distances of the training rows to their centres.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The nearest centre of each row of `x`.
    pub fn predict(&self, x: &ArrayView2<f64>) -> Result<Array1<usize>, Error> {
        if x.ncols() != self.centres.ncols() {
            return Err(Error::LengthMismatch(x.ncols(), self.centres.ncols()));
        }
        let mut labels = Array1::from_elem(x.nrows(), usize::MAX);
        assign_and_sum(x, &self.centres, &mut labels);
        Ok(labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::StandardNormal;

    /// Four tight blobs far apart, 500 rows each, in rows that take turns.
    fn blobs(seed: u64) -> (Array2<f64>, Array2<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centres = ndarray::array![[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]];
        let x = Array2::from_shape_fn((2_000, 2), |(i, j)| {
            centres[[i % 4, j]] + rng.sample::<f64, _>(StandardNormal)
        });
        (x, centres)
    }

    #[test]
    fn recovers_separated_blobs_from_a_seeded_start() {
        let (x, truth) = blobs(1);
        let model = KMeansParams::new(4).seed(3).fit(&x.view()).unwrap();
        for centre in truth.rows() {
            let nearest = model
                .centres()
                .rows()
                .into_iter()
                .map(|c| (&c - &centre).mapv(|v| v * v).sum().sqrt())
                .fold(f64::INFINITY, f64::min);
            // Each centre is a mean of 500 unit-variance rows: off by about 1/√500 per axis.
            assert!(
                nearest < 0.2,
                "a true centre is {nearest} from the nearest found"
            );
        }
        // Rows 0, 4, 8, … come from the same blob, so they share a label.
        let labels = model.labels();
        assert!((0..2_000).all(|i| labels[i] == labels[i % 4]));
        // About 2 (the variance of two unit axes) per row.
        let per_row = model.inertia() / 2_000.0;
        assert!((per_row - 2.0).abs() < 0.2, "inertia per row {per_row}");
    }

    #[test]
    fn each_step_agrees_with_a_plain_lloyd_iteration() {
        // From a poor start, one iteration must give the centres a direct computation gives.
        let (x, _) = blobs(2);
        let start = x.select(Axis(0), &[0, 1, 2, 5]);
        let one = KMeansParams::new(4)
            .max_iterations(1)
            .fit_from(&x.view(), start.clone())
            .unwrap();
        let mut sums = Array2::<f64>::zeros((4, 2));
        let mut counts = [0usize; 4];
        for row in x.rows() {
            let nearest = (0..4)
                .min_by(|&a, &b| {
                    let d = |k: usize| (&row - &start.row(k)).mapv(|v| v * v).sum();
                    d(a).total_cmp(&d(b))
                })
                .unwrap();
            sums.row_mut(nearest).zip_mut_with(&row, |s, v| *s += v);
            counts[nearest] += 1;
        }
        for (k, &count) in counts.iter().enumerate() {
            let expected = &sums.row(k) / count as f64;
            let got = one.centres().row(k);
            assert!((&got - &expected).mapv(f64::abs).sum() < 1e-9, "centre {k}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_clusters_on_any_thread_count() {
        let (x, _) = blobs(4);
        let fit = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| KMeansParams::new(4).seed(9).fit(&x.view()).unwrap())
        };
        let (one, three) = (fit(1), fit(3));
        assert_eq!(one.labels(), three.labels());
        assert!((one.inertia() / three.inertia() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_requests_are_errors() {
        let (x, _) = blobs(5);
        assert!(KMeansParams::new(0).fit(&x.view()).is_err());
        assert!(
            KMeansParams::new(3)
                .fit_from(&x.view(), Array2::zeros((2, 2)))
                .is_err()
        );
        let model = KMeansParams::new(2).fit(&x.view()).unwrap();
        assert!(model.predict(&Array2::zeros((1, 3)).view()).is_err());
    }
}
