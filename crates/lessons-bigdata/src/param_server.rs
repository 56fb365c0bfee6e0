//! What `distributed_tasks_actors` shares with its worker processes (`actor-worker`): the
//! messages of the parameter server, which cross processes through ractor_cluster, and the
//! regression problem every process generates from the same seed.

use ractor::RpcReplyPort;
use ractor_cluster::RactorClusterMessage;
use rand::Rng;
use rand_distr::StandardNormal;

/// The process group the parameter server joins, and the workers look up.
pub const GROUP: &str = "parameter-server";

/// The shared secret nodes present when they connect.
pub const COOKIE: &str = "workbook-parameter-server";

/// Features of the regression problem.
pub const FEATURES: usize = 8;

/// The learning rate every update is applied with.
pub const LEARNING_RATE: f64 = 0.02;

/// Rows in each minibatch a worker computes a gradient on.
pub const BATCH: usize = 32;

/// The parameter server's messages. Every field is something ractor can turn into bytes, so
/// that a worker in another process can send them; the variants with a reply port are calls.
#[derive(RactorClusterMessage)]
pub enum ServerMessage {
    /// The current weights.
    #[rpc]
    Weights(RpcReplyPort<Vec<f64>>),
    /// Worker `worker`'s gradient for its step `step`.
    Push(u64, u64, Vec<f64>),
    /// Every applied update's (worker, step), in the order applied, flattened.
    #[rpc]
    Applied(RpcReplyPort<Vec<u64>>),
    /// Every applied gradient, in the order applied, flattened.
    #[rpc]
    Ledger(RpcReplyPort<Vec<f64>>),
}

/// The true weights of the regression problem: 1, −1, 2, −2, …
pub fn true_weights() -> Vec<f64> {
    (0..FEATURES)
        .map(|j| (1 + j / 2) as f64 * if j % 2 == 0 { 1.0 } else { -1.0 })
        .collect()
}

/// One worker's shard: `rows` rows of standard normal features, and targets from the true
/// weights plus normal noise of standard deviation 0.5 (so the best possible mean squared error
/// is 0.25).
pub fn shard(rows: usize, rng: &mut impl Rng) -> (Vec<[f64; FEATURES]>, Vec<f64>) {
    let truth = true_weights();
    let mut normal = || rng.sample::<f64, _>(StandardNormal);
    let mut x = Vec::with_capacity(rows);
    let mut y = Vec::with_capacity(rows);
    for _ in 0..rows {
        let row: [f64; FEATURES] = std::array::from_fn(|_| normal());
        let target = row.iter().zip(&truth).map(|(a, b)| a * b).sum::<f64>() + 0.5 * normal();
        x.push(row);
        y.push(target);
    }
    (x, y)
}

/// The gradient of the mean squared error over the rows `rows` at `weights`.
pub fn gradient(x: &[[f64; FEATURES]], y: &[f64], rows: &[usize], weights: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; FEATURES];
    for &i in rows {
        let residual = x[i].iter().zip(weights).map(|(a, w)| a * w).sum::<f64>() - y[i];
        for (gj, xj) in g.iter_mut().zip(&x[i]) {
            *gj += 2.0 * residual * xj;
        }
    }
    g.iter_mut().for_each(|gj| *gj /= rows.len() as f64);
    g
}

/// The mean squared error of `weights` over all rows.
pub fn loss(x: &[[f64; FEATURES]], y: &[f64], weights: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(row, t)| {
            let e = row.iter().zip(weights).map(|(a, w)| a * w).sum::<f64>() - t;
            e * e
        })
        .sum::<f64>()
        / y.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gradient_is_zero_where_the_loss_is_least_and_points_uphill_elsewhere() {
        let mut rng = harness::lesson::generator(1, 0);
        let (x, y) = shard(4000, &mut rng);
        let all: Vec<usize> = (0..y.len()).collect();
        let truth = true_weights();
        // Near the truth the loss is the noise (0.25) and the gradient small.
        assert!((loss(&x, &y, &truth) - 0.25).abs() < 0.02);
        assert!(
            gradient(&x, &y, &all, &truth)
                .iter()
                .all(|g| g.abs() < 0.05)
        );
        // A small step against the gradient lowers the loss.
        let w = vec![0.0; FEATURES];
        let g = gradient(&x, &y, &all, &w);
        let stepped: Vec<f64> = w.iter().zip(&g).map(|(w, g)| w - 0.01 * g).collect();
        assert!(loss(&x, &y, &stepped) < loss(&x, &y, &w));
    }
}
