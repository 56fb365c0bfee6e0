//! Binary logistic regression with an L2 penalty, fitted by Newton's method — the objective of
//! scikit-learn's `LogisticRegression(C=…)`, minimised by a second-order solver:
//!
//! `L(w, b) = (1/n) Σ log(1 + exp(−sᵢ (xᵢ·w + b))) + ‖w‖² / (2 C n)`, with `sᵢ = ±1`
//! (the intercept is not penalised).
//!
//! Each iteration computes the gradient and the Hessian `(1/n) Xᵀ D X + I / (C n)` (`D` the
//! diagonal of `p (1 − p)`), blocks of rows in parallel on rayon's pool, the Hessian of a block
//! as one matrix product; it then solves the `(p + 1)`-square system by Cholesky and halves the
//! step until the loss falls. Newton's method converges quadratically, so a well-conditioned
//! problem takes five to ten iterations, each one pass over the data (`n p²` multiply-adds for the
//! Hessian); L-BFGS needs tens of cheaper passes. It stops when the largest gradient entry of the
//! mean loss is at most the tolerance (scikit-learn's `tol` for lbfgs means the same).

use linfa_linalg::cholesky::SolveCInplace;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, s};
use rayon::prelude::*;

use crate::{Error, sigmoid, softplus};

/// Rows per block of the gradient and Hessian.
const BLOCK: usize = 1024;

/// Hyper-parameters of the logistic regression.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegressionParams {
    c: f64,
    tolerance: f64,
    max_iterations: usize,
}

impl Default for LogisticRegressionParams {
    /// C = 1, tolerance 1e-4, at most 100 iterations (scikit-learn's defaults).
    fn default() -> Self {
        LogisticRegressionParams {
            c: 1.0,
            tolerance: 1e-4,
            max_iterations: 100,
        }
    }
}

impl LogisticRegressionParams {
    pub fn new() -> Self {
        Self::default()
    }

    /// The inverse of the penalty's strength, as scikit-learn's `C`.
    pub fn c(mut self, c: f64) -> Self {
        self.c = c;
        self
    }

    /// Stop when no entry of the mean loss's gradient exceeds this.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    pub fn max_iterations(mut self, n: usize) -> Self {
        self.max_iterations = n;
        self
    }

    /// Fits the rows of `x` to the labels `y` (0 or 1).
    pub fn fit(
        &self,
        x: &ArrayView2<f64>,
        y: &ArrayView1<usize>,
    ) -> Result<LogisticRegression, Error> {
        let (n, p) = x.dim();
        if n == 0 || p == 0 {
            return Err(Error::Empty);
        }
        if y.len() != n {
            return Err(Error::LengthMismatch(n, y.len()));
        }
        let positive = |v: f64| v > 0.0 && !v.is_nan();
        if !positive(self.c) || !positive(self.tolerance) || self.max_iterations == 0 {
            return Err(Error::Parameter(
                "C and the tolerance must be positive, max_iterations at least 1".into(),
            ));
        }
        if let Some(&label) = y.iter().find(|&&c| c > 1) {
            return Err(Error::Parameter(format!(
                "labels must be 0 or 1, found {label}"
            )));
        }
        if y.iter().all(|&c| c == y[0]) {
            return Err(Error::OneClass("logistic regression"));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::NotFinite("features"));
        }
        let target: Array1<f64> = y.mapv(|c| c as f64);
        let penalty = 1.0 / (self.c * n as f64);
        // The parameters: p weights, then the intercept.
        let mut theta = Array1::<f64>::zeros(p + 1);
        let mut loss = mean_loss(x, &target, &theta, penalty);
        let mut iterations = 0;
        loop {
            let (gradient, mut hessian) = gradient_and_hessian(x, &target, &theta, penalty);
            let largest = gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()));
            if largest <= self.tolerance {
                break;
            }
            if iterations == self.max_iterations {
                return Err(Error::Model(format!(
                    "Newton's method did not converge in {iterations} iterations (largest gradient entry {largest:.1e})"
                )));
            }
            iterations += 1;
            // Solved by a Cholesky factorisation, which the solve does in place.
            let mut step = gradient.clone().insert_axis(Axis(1));
            hessian
                .solvec_inplace(&mut step)
                .map_err(|e| Error::Model(format!("the Hessian is not positive definite: {e}")))?;
            let step = step.remove_axis(Axis(1));
            // Halve the step until the loss falls (a full step nearly always does).
            let mut scale = 1.0;
            loop {
                let candidate = &theta - &(&step * scale);
                let candidate_loss = mean_loss(x, &target, &candidate, penalty);
                if candidate_loss <= loss || scale < 1e-10 {
                    theta = candidate;
                    loss = candidate_loss;
                    break;
                }
                scale *= 0.5;
            }
        }
        Ok(LogisticRegression {
            weights: theta.slice(s![..p]).to_owned(),
            intercept: theta[p],
            iterations,
        })
    }
}

/// `x·w + b` for each row.
fn decision(x: &ArrayView2<f64>, theta: &Array1<f64>) -> Array1<f64> {
    let p = x.ncols();
    x.dot(&theta.slice(s![..p])) + theta[p]
}

/// The penalised mean log loss.
fn mean_loss(x: &ArrayView2<f64>, target: &Array1<f64>, theta: &Array1<f64>, penalty: f64) -> f64 {
    let n = x.nrows() as f64;
    let z = decision(x, theta);
    let data: f64 = z
        .iter()
        .zip(target)
        .map(|(&z, &t)| softplus(z) - t * z)
        .sum();
    let weights = theta.slice(s![..x.ncols()]);
    data / n + 0.5 * penalty * weights.dot(&weights)
}

/// The gradient and Hessian of the penalised mean log loss, blocks of rows in parallel.
fn gradient_and_hessian(
    x: &ArrayView2<f64>,
    target: &Array1<f64>,
    theta: &Array1<f64>,
    penalty: f64,
) -> (Array1<f64>, Array2<f64>) {
    let (n, p) = x.dim();
    let zero = || {
        (
            Array1::<f64>::zeros(p + 1),
            Array2::<f64>::zeros((p + 1, p + 1)),
        )
    };
    let (mut gradient, mut hessian) = x
        .axis_chunks_iter(Axis(0), BLOCK)
        .into_par_iter()
        .zip(target.axis_chunks_iter(Axis(0), BLOCK))
        .map(|(rows, t)| {
            let m = rows.nrows();
            // The block with a column of ones for the intercept.
            let mut design = Array2::<f64>::ones((m, p + 1));
            design.slice_mut(s![.., ..p]).assign(&rows);
            let prob = design.dot(theta).mapv(sigmoid);
            let residual = &prob - &t;
            let gradient = design.t().dot(&residual);
            // Rows scaled by √(p(1 − p)): the block's Hessian is one product.
            let mut weighted = design;
            for (mut row, pr) in weighted.rows_mut().into_iter().zip(&prob) {
                row *= (pr * (1.0 - pr)).sqrt();
            }
            let hessian = weighted.t().dot(&weighted);
            (gradient, hessian)
        })
        .reduce(zero, |(ga, ha), (gb, hb)| (ga + gb, ha + hb));
    gradient /= n as f64;
    hessian /= n as f64;
    for j in 0..p {
        gradient[j] += penalty * theta[j];
        hessian[[j, j]] += penalty;
    }
    (gradient, hessian)
}

/// A fitted binary logistic regression.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegression {
    weights: Array1<f64>,
    intercept: f64,
    iterations: usize,
}

impl LogisticRegression {
    pub fn weights(&self) -> &Array1<f64> {
        &self.weights
    }

    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// Newton iterations until the gradient was small enough.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The probability of class 1 for each row.
    pub fn predict_proba(&self, x: &ArrayView2<f64>) -> Result<Array1<f64>, Error> {
        if x.ncols() != self.weights.len() {
            return Err(Error::LengthMismatch(x.ncols(), self.weights.len()));
        }
        Ok((x.dot(&self.weights) + self.intercept).mapv(sigmoid))
    }

    /// The class (0 or 1) of each row: 1 where its probability exceeds one half.
    pub fn predict(&self, x: &ArrayView2<f64>) -> Result<Array1<usize>, Error> {
        Ok(self.predict_proba(x)?.mapv(|p| usize::from(p > 0.5)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    /// Rows drawn from a known logistic model: weights (2, −1, 0.5), intercept 0.3.
    fn from_known_model(n: usize, seed: u64) -> (Array2<f64>, Array1<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, 3), |_| rng.sample::<f64, _>(StandardNormal));
        let y = x
            .rows()
            .into_iter()
            .map(|r| {
                let z = 2.0 * r[0] - r[1] + 0.5 * r[2] + 0.3;
                usize::from(rng.gen_bool(sigmoid(z)))
            })
            .collect();
        (x, y)
    }

    #[test]
    fn recovers_the_weights_of_the_model_that_drew_the_labels() {
        let (x, y) = from_known_model(40_000, 1);
        // A very weak penalty: the estimate is close to the maximum-likelihood one, whose standard
        // error here is about 0.02 per weight.
        let model = LogisticRegressionParams::new()
            .c(1e6)
            .fit(&x.view(), &y.view())
            .unwrap();
        for (got, want) in model.weights().iter().zip([2.0, -1.0, 0.5]) {
            assert!((got - want).abs() < 0.08, "weight {got} for {want}");
        }
        assert!((model.intercept() - 0.3).abs() < 0.08);
        assert!(
            model.iterations() <= 10,
            "{} Newton iterations",
            model.iterations()
        );
    }

    #[test]
    fn the_fit_is_a_stationary_point_of_the_penalised_loss() {
        // Checked by finite differences of the loss, independently of the gradient code.
        let (x, y) = from_known_model(2_000, 2);
        let params = LogisticRegressionParams::new().c(0.1).tolerance(1e-10);
        let model = params.fit(&x.view(), &y.view()).unwrap();
        let target = y.mapv(|c| c as f64);
        let penalty = 1.0 / (0.1 * 2_000.0);
        let mut theta = model.weights().to_vec();
        theta.push(model.intercept());
        let theta = Array1::from(theta);
        for j in 0..4 {
            let mut up = theta.clone();
            let mut down = theta.clone();
            up[j] += 1e-5;
            down[j] -= 1e-5;
            let slope = (mean_loss(&x.view(), &target, &up, penalty)
                - mean_loss(&x.view(), &target, &down, penalty))
                / 2e-5;
            assert!(slope.abs() < 1e-7, "slope {slope} along parameter {j}");
        }
        // A stronger penalty shrinks the weights.
        let strong = LogisticRegressionParams::new()
            .c(1e-3)
            .fit(&x.view(), &y.view())
            .unwrap();
        assert!(strong.weights().dot(strong.weights()) < model.weights().dot(model.weights()));
    }

    #[test]
    fn bad_input_is_an_error() {
        let (x, y) = from_known_model(100, 3);
        let params = LogisticRegressionParams::new();
        assert!(matches!(
            params.fit(&x.view(), &y.slice(s![..50])),
            Err(Error::LengthMismatch(100, 50))
        ));
        assert!(matches!(
            params.fit(&x.view(), &Array1::zeros(100).view()),
            Err(Error::OneClass(_))
        ));
        assert!(
            params
                .fit(&x.view(), &Array1::from_elem(100, 2).view())
                .is_err()
        );
        assert!(
            LogisticRegressionParams::new()
                .c(0.0)
                .fit(&x.view(), &y.view())
                .is_err()
        );
        let model = params.fit(&x.view(), &y.view()).unwrap();
        assert!(model.predict(&Array2::zeros((1, 2)).view()).is_err());
    }
}
