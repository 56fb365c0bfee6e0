//! Synthetic data sets with a known answer (scikit-learn's `make_moons`).

use ndarray::Array2;
use rand::Rng;
use rand_distr::StandardNormal;

/// Two interleaved half circles, `n` points with labels 0 and 1 alternating, Gaussian noise of
/// standard deviation `noise` added to each coordinate. As in scikit-learn's `make_moons`, the
/// points are evenly spaced along each arc (so a small sample still covers both arcs); the
/// upper moon is centred on (0, 0), the lower one on (1, 0.5).
pub fn two_moons(n: usize, noise: f64, rng: &mut impl Rng) -> (Array2<f64>, Vec<usize>) {
    let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let per_moon = n.div_ceil(2).max(2);
    let mut x = Array2::zeros((n, 2));
    for (i, &moon) in labels.iter().enumerate() {
        let t = std::f64::consts::PI * (i / 2) as f64 / (per_moon - 1) as f64;
        let (a, b) = if moon == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        x[[i, 0]] = a + noise * rng.sample::<f64, _>(StandardNormal);
        x[[i, 1]] = b + noise * rng.sample::<f64, _>(StandardNormal);
    }
    (x, labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn noiseless_moons_lie_on_their_arcs() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let (x, y) = two_moons(40, 0.0, &mut rng);
        for (row, &label) in x.rows().into_iter().zip(&y) {
            let (cx, cy) = if label == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            let radius = ((row[0] - cx).powi(2) + (row[1] - cy).powi(2)).sqrt();
            assert!((radius - 1.0).abs() < 1e-12);
            // The upper moon bulges up, the lower one down.
            assert!(if label == 0 {
                row[1] >= -1e-12
            } else {
                row[1] <= 0.5 + 1e-12
            });
        }
        assert_eq!(y.iter().filter(|&&l| l == 1).count(), 20);
    }
}
