//! Principal component analysis by the eigen-decomposition of the covariance matrix — what
//! scikit-learn's `PCA` does (`svd_solver="covariance_eigh"`, its choice for tall data) when
//! there are many more rows than columns.
//!
//! The rows are read once: in blocks, centred and multiplied into a `p × p` scatter matrix by a
//! blocked matrix product, the blocks in parallel on rayon's pool. The eigen-decomposition of that
//! small matrix gives the components. Cost: `n p²` multiply-adds for the scatter, `p³` for the
//! eigenvectors — for 100,000 × 10, ten million and a thousand. A singular value decomposition of
//! the centred data (linfa-reduction's `Pca`) costs `n p²` several times over, on a copy of the
//! data. Squaring the data loses precision on directions whose variance is below about 1e-8 of
//! the largest; components are for the large ones.

use linfa_linalg::eigh::{EigSort, EighInto};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use crate::Error;

/// Rows per block: a block of 10 columns stays in the core's cache while it is multiplied.
const BLOCK: usize = 2048;

/// A fitted PCA: the mean, the components (one per row, the largest variance first) and the
/// variance along each.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    mean: Array1<f64>,
    components: Array2<f64>,
    explained_variance: Array1<f64>,
    total_variance: f64,
}

impl Pca {
    /// Fits the `n_components` directions of largest variance of the rows of `x`.
    pub fn fit(x: &ArrayView2<f64>, n_components: usize) -> Result<Pca, Error> {
        let (n, p) = x.dim();
        if n < 2 || p == 0 {
            return Err(Error::Empty);
        }
        if n_components == 0 || n_components > p {
            return Err(Error::Parameter(format!(
                "n_components is {n_components}, with {p} features"
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::NotFinite("features"));
        }
        let mean = column_sums(x) / n as f64;
        let scatter = scatter(x, &mean.view());
        let covariance = scatter / (n - 1) as f64;
        let total_variance = covariance.diag().sum();
        let (values, vectors) = covariance
            .eigh_into()
            .map_err(|e| Error::Model(e.to_string()))?
            .sort_eig_desc();
        let components = vectors
            .slice(ndarray::s![.., ..n_components])
            .t()
            .to_owned();
        // Rounding can leave a zero eigenvalue a hair below zero.
        let explained_variance = values
            .slice(ndarray::s![..n_components])
            .mapv(|v| v.max(0.0));
        Ok(Pca {
            mean,
            components: with_sign_convention(components),
            explained_variance,
            total_variance,
        })
    }

    pub fn mean(&self) -> &Array1<f64> {
        &self.mean
    }

    /// The components, one per row, as unit vectors.
    pub fn components(&self) -> &Array2<f64> {
        &self.components
    }

    /// The variance of the data along each component (divided by `n − 1`, as scikit-learn's).
    pub fn explained_variance(&self) -> &Array1<f64> {
        &self.explained_variance
    }

    /// Each component's share of the total variance (over all directions, not only the kept ones).
    pub fn explained_variance_ratio(&self) -> Array1<f64> {
        &self.explained_variance / self.total_variance
    }

    /// The rows of `x` in component coordinates.
    pub fn transform(&self, x: &ArrayView2<f64>) -> Result<Array2<f64>, Error> {
        if x.ncols() != self.mean.len() {
            return Err(Error::LengthMismatch(x.ncols(), self.mean.len()));
        }
        Ok((x - &self.mean).dot(&self.components.t()))
    }
}

/// The sum of each column, by blocks of rows in parallel.
fn column_sums(x: &ArrayView2<f64>) -> Array1<f64> {
    x.axis_chunks_iter(Axis(0), BLOCK)
        .into_par_iter()
        .map(|block| block.sum_axis(Axis(0)))
        .reduce(|| Array1::zeros(x.ncols()), |a, b| a + b)
}

/// `Σ (xᵢ − mean)(xᵢ − mean)ᵀ`: each block centred, then multiplied by its own transpose.
fn scatter(x: &ArrayView2<f64>, mean: &ArrayView1<f64>) -> Array2<f64> {
    let p = x.ncols();
    x.axis_chunks_iter(Axis(0), BLOCK)
        .into_par_iter()
        .map(|block| {
            let centred = &block - mean;
            centred.t().dot(&centred)
        })
        .reduce(|| Array2::zeros((p, p)), |a, b| a + b)
}

/// The sign of an eigenvector is arbitrary; each component is turned so that its entry of
/// largest magnitude is positive, so that a fit gives the same components on any machine.
fn with_sign_convention(mut components: Array2<f64>) -> Array2<f64> {
    for mut row in components.rows_mut() {
        let largest = row
            .iter()
            .copied()
            .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
        if largest < 0.0 {
            row.mapv_inplace(|v| -v);
        }
    }
    components
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    /// Rows with standard deviations 5, 2 and 0.5 along three orthogonal directions that are not
    /// the axes, plus an offset, in more rows than one block.
    fn stretched(n: usize, seed: u64) -> (Array2<f64>, Array2<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let directions = array![[s, s, 0.0], [-s, s, 0.0], [0.0, 0.0, 1.0]];
        let spreads = [5.0, 2.0, 0.5];
        let mut x = Array2::zeros((n, 3));
        for mut row in x.rows_mut() {
            let scores: Vec<f64> = spreads
                .iter()
                .map(|s| s * rng.sample::<f64, _>(StandardNormal))
                .collect();
            for (k, direction) in directions.rows().into_iter().enumerate() {
                row.scaled_add(scores[k], &direction);
            }
            row += &array![10.0, -3.0, 7.0];
        }
        (x, directions)
    }

    #[test]
    fn finds_the_directions_and_variances_the_data_was_built_with() {
        let (x, directions) = stretched(20_000, 3);
        let pca = Pca::fit(&x.view(), 3).unwrap();
        for (k, direction) in directions.rows().into_iter().enumerate() {
            let cosine = pca.components().row(k).dot(&direction).abs();
            assert!(cosine > 0.999, "component {k}: |cos| {cosine}");
        }
        // Variance estimates from 20,000 draws have a relative standard error of √(2/n) = 1 %.
        for (got, want) in pca.explained_variance().iter().zip([25.0, 4.0, 0.25]) {
            assert!((got / want - 1.0).abs() < 0.05, "variance {got} for {want}");
        }
        let ratio = pca.explained_variance_ratio();
        assert!(
            (ratio.sum() - 1.0).abs() < 1e-12,
            "all three components keep everything"
        );
    }

    #[test]
    fn components_are_eigenvectors_of_a_covariance_computed_directly() {
        // The covariance by the textbook formula, one entry at a time (no blocks, no matrix
        // product): each component v must satisfy C·v = λ·v, and the variances sum to its trace.
        let (x, _) = stretched(3_000, 5);
        let n = x.nrows() as f64;
        let mean: Vec<f64> = (0..3).map(|j| x.column(j).sum() / n).collect();
        let covariance = Array2::from_shape_fn((3, 3), |(a, b)| {
            x.rows()
                .into_iter()
                .map(|r| (r[a] - mean[a]) * (r[b] - mean[b]))
                .sum::<f64>()
                / (n - 1.0)
        });
        let pca = Pca::fit(&x.view(), 3).unwrap();
        for (k, v) in pca.components().rows().into_iter().enumerate() {
            let lambda = pca.explained_variance()[k];
            let residual = (&covariance.dot(&v) - &(&v * lambda)).mapv(f64::abs).sum();
            assert!(
                residual < 1e-9 * lambda,
                "component {k}: |C·v − λ·v| = {residual}"
            );
        }
        let trace = covariance.diag().sum();
        assert!((pca.explained_variance().sum() / trace - 1.0).abs() < 1e-12);
        let projected = pca.transform(&x.view()).unwrap();
        let variance = projected.var_axis(Axis(0), 1.0);
        assert!((variance[0] / pca.explained_variance()[0] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn bad_shapes_and_values_are_errors() {
        let x = array![[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]];
        assert!(matches!(Pca::fit(&x.view(), 3), Err(Error::Parameter(_))));
        assert!(matches!(
            Pca::fit(&x.slice(ndarray::s![..1, ..]), 1),
            Err(Error::Empty)
        ));
        let mut bad = x.clone();
        bad[[1, 1]] = f64::NAN;
        assert!(matches!(Pca::fit(&bad.view(), 1), Err(Error::NotFinite(_))));
        let pca = Pca::fit(&x.view(), 1).unwrap();
        assert!(pca.transform(&array![[1.0]].view()).is_err());
    }
}
