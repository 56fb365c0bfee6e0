//! Synthetic data sets with a known answer (scikit-learn's `make_moons` and `make_classification`).

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

/// A classification problem built as scikit-learn's `make_classification` builds it: each class
/// is `clusters_per_class` Gaussian clusters (standard deviation 1) centred on distinct vertices
/// of a hypercube of side `2 × separation` in the first `informative` features, mixed by a random
/// linear map; the other `features − informative` columns are standard normal noise; the
/// classes take turns, so they are balanced; and a share `flip` of the labels is then redrawn at
/// random (label noise). Needs `2^informative ≥ classes × clusters_per_class`.
pub fn clustered_classes(
    n: usize,
    features: usize,
    informative: usize,
    classes: usize,
    flip: f64,
    rng: &mut impl Rng,
) -> (Array2<f64>, Vec<usize>) {
    let clusters_per_class = 2;
    let separation = 1.0;
    let clusters = classes * clusters_per_class;
    assert!(
        informative <= features && informative < 31 && (1usize << informative) >= clusters,
        "not enough hypercube vertices for {clusters} clusters in {informative} dimensions"
    );
    // Distinct vertices: a random sample of the 2^informative corners.
    let mut corners: Vec<usize> = Vec::with_capacity(clusters);
    while corners.len() < clusters {
        let corner = rng.gen_range(0..1usize << informative);
        if !corners.contains(&corner) {
            corners.push(corner);
        }
    }
    // One random linear map per cluster gives it a covariance of its own.
    let mixing: Vec<Array2<f64>> = (0..clusters)
        .map(|_| Array2::from_shape_fn((informative, informative), |_| rng.gen_range(-1.0..1.0)))
        .collect();
    let mut x = Array2::zeros((n, features));
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let cluster = i % clusters;
        let class = cluster % classes;
        let draw: Vec<f64> = (0..informative)
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        for a in 0..informative {
            let mixed: f64 = (0..informative)
                .map(|b| draw[b] * mixing[cluster][[b, a]])
                .sum();
            let side = if corners[cluster] >> a & 1 == 1 {
                1.0
            } else {
                -1.0
            };
            x[[i, a]] = mixed + side * separation;
        }
        for j in informative..features {
            x[[i, j]] = rng.sample::<f64, _>(StandardNormal);
        }
        labels.push(if rng.r#gen::<f64>() < flip {
            rng.gen_range(0..classes)
        } else {
            class
        });
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

    #[test]
    fn clustered_classes_separate_in_the_informative_features_only() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let (x, y) = clustered_classes(4000, 6, 3, 2, 0.0, &mut rng);
        assert_eq!(x.dim(), (4000, 6));
        assert_eq!(y.iter().filter(|&&l| l == 1).count(), 2000);
        // The noise columns know nothing of the class: their class means differ by no more than
        // a few standard errors (a difference of means of 2,000 standard normals each: 0.032).
        let gap = |j: usize| {
            let mean = |c: usize| {
                let v: Vec<f64> = (0..4000)
                    .filter(|&i| y[i] == c)
                    .map(|i| x[[i, j]])
                    .collect();
                v.iter().sum::<f64>() / v.len() as f64
            };
            (mean(0) - mean(1)).abs()
        };
        assert!((3..6).all(|j| gap(j) < 0.15));
        // With no label noise, each row's label is its cluster's class (rows take turns).
        assert!((0..4000).all(|i| y[i] == i % 4 % 2));
    }
}
