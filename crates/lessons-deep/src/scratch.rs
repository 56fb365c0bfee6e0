//! A multilayer perceptron written from scratch in ndarray: the forward pass, back-propagation
//! and a gradient-descent step, in float64, with nothing hidden. neural_network_fundamentals
//! trains it and checks its gradients by finite differences; the deep-learning bench times one
//! epoch of it against the same network in candle.
//!
//! The network maps `x` (n × d) through hidden layers with tanh to one output unit with a sigmoid,
//! the probability of class 1, and is trained on the mean binary cross-entropy
//! `L = −mean(y log p + (1 − y) log(1 − p))`.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::Rng;

/// One dense layer: `z = a · W + b`, with `W` of shape inputs × outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    weights: Array2<f64>,
    bias: Array1<f64>,
}

impl Dense {
    /// The layer's weights (inputs × outputs).
    pub fn weights(&self) -> &Array2<f64> {
        &self.weights
    }

    /// The layer's bias (one per output).
    pub fn bias(&self) -> &Array1<f64> {
        &self.bias
    }
}

/// The perceptron: dense layers, tanh between them, a sigmoid at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    layers: Vec<Dense>,
}

/// What the forward pass keeps for the backward pass: the input and each layer's output (the
/// last one is the probability of class 1, one column).
pub struct Forward {
    activations: Vec<Array2<f64>>,
}

impl Forward {
    /// The predicted probabilities of class 1.
    pub fn probabilities(&self) -> Array1<f64> {
        self.activations
            .last()
            .map(|a| a.column(0).to_owned())
            .unwrap_or_default()
    }
}

/// The gradient of the loss with respect to every weight and bias, layer by layer, in the shapes
/// of the layers themselves.
#[derive(Debug, Clone)]
pub struct Gradients {
    layers: Vec<Dense>,
}

impl Gradients {
    /// Every entry, in the order of [`Mlp::parameters`].
    pub fn flattened(&self) -> Vec<f64> {
        flatten(&self.layers)
    }

    /// The gradients multiplied by `factor` (a loss summed instead of averaged over `n` rows has
    /// its gradient multiplied by `n`).
    pub fn scaled(&self, factor: f64) -> Gradients {
        let layers = self
            .layers
            .iter()
            .map(|l| Dense {
                weights: &l.weights * factor,
                bias: &l.bias * factor,
            })
            .collect();
        Gradients { layers }
    }
}

fn flatten(layers: &[Dense]) -> Vec<f64> {
    layers
        .iter()
        .flat_map(|l| l.weights.iter().chain(l.bias.iter()).copied())
        .collect()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Mlp {
    /// A network with the given layer sizes (`[2, 16, 16, 1]`: two inputs, two hidden layers of
    /// 16, one output), weights drawn from Glorot's uniform distribution (±√(6 / (in + out)),
    /// which keeps tanh units out of saturation at the start) and zero biases.
    pub fn new(sizes: &[usize], rng: &mut impl Rng) -> Mlp {
        let layers = sizes
            .windows(2)
            .map(|w| {
                let bound = (6.0 / (w[0] + w[1]) as f64).sqrt();
                Dense {
                    weights: Array2::from_shape_fn((w[0], w[1]), |_| rng.gen_range(-bound..bound)),
                    bias: Array1::zeros(w[1]),
                }
            })
            .collect();
        Mlp { layers }
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// The number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weights.len() + l.bias.len())
            .sum()
    }

    /// Every weight and bias, in a fixed order (layer by layer, weights row-major, then bias).
    pub fn parameters(&self) -> Vec<f64> {
        flatten(&self.layers)
    }

    /// The network with parameter `index` (in the order of [`Mlp::parameters`]) moved by `delta`.
    pub fn nudged(&self, index: usize, delta: f64) -> Mlp {
        let mut nudged = self.clone();
        let mut rest = index;
        for layer in &mut nudged.layers {
            let (w, b) = (layer.weights.len(), layer.bias.len());
            if rest < w {
                let cols = layer.weights.ncols();
                layer.weights[[rest / cols, rest % cols]] += delta;
                return nudged;
            }
            if rest < w + b {
                layer.bias[rest - w] += delta;
                return nudged;
            }
            rest -= w + b;
        }
        nudged
    }

    /// The forward pass: `a₀ = x`, `aₗ = tanh(aₗ₋₁ Wₗ + bₗ)` for the hidden layers and
    /// `p = σ(aₗ₋₁ Wₗ + bₗ)` at the end.
    pub fn forward(&self, x: ArrayView2<f64>) -> Forward {
        let mut activations = vec![x.to_owned()];
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            let previous = &activations[activations.len() - 1];
            let z = previous.dot(&layer.weights) + &layer.bias;
            let a = if i == last {
                z.mapv(sigmoid)
            } else {
                z.mapv(f64::tanh)
            };
            activations.push(a);
        }
        Forward { activations }
    }

    /// The mean binary cross-entropy of the network on `x` against labels 0/1 in `y`
    /// (probabilities clipped to [1e-12, 1 − 1e-12] so that a confident mistake costs a large
    /// finite amount).
    pub fn loss(&self, x: ArrayView2<f64>, y: &Array1<f64>) -> f64 {
        let p = self.forward(x).probabilities();
        let total: f64 = p
            .iter()
            .zip(y)
            .map(|(&p, &t)| {
                let p = p.clamp(1e-12, 1.0 - 1e-12);
                -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
            })
            .sum();
        total / y.len().max(1) as f64
    }

    /// Back-propagation: the chain rule applied from the loss back to the first layer.
    ///
    /// For a sigmoid output under cross-entropy the gradient at the output's pre-activation is
    /// simply `(p − y) / n`. Each layer then gives `∂L/∂W = aₗ₋₁ᵀ δ` and `∂L/∂b = Σ δ`, and passes
    /// `δ Wᵀ` back, multiplied by tanh's derivative `1 − a²` at the layer below.
    pub fn backward(&self, forward: &Forward, y: &Array1<f64>) -> Gradients {
        let n = y.len().max(1) as f64;
        let p = forward.probabilities();
        let mut delta = ((&p - y) / n).insert_axis(Axis(1));
        let mut layers = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate().rev() {
            let input = &forward.activations[i];
            layers.push(Dense {
                weights: input.t().dot(&delta),
                bias: delta.sum_axis(Axis(0)),
            });
            if i > 0 {
                delta = delta.dot(&layer.weights.t()) * input.mapv(|a| 1.0 - a * a);
            }
        }
        layers.reverse();
        Gradients { layers }
    }

    /// One gradient-descent step: every parameter moves against its gradient, scaled by the
    /// learning rate.
    pub fn step(&mut self, gradients: &Gradients, learning_rate: f64) {
        for (layer, gradient) in self.layers.iter_mut().zip(&gradients.layers) {
            layer.weights.scaled_add(-learning_rate, &gradient.weights);
            layer.bias.scaled_add(-learning_rate, &gradient.bias);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::SeedableRng;

    #[test]
    fn nudging_moves_exactly_one_parameter() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mlp = Mlp::new(&[2, 3, 1], &mut rng);
        let before = mlp.parameters();
        for index in [0, 5, 6, 8, 9, before.len() - 1] {
            let after = mlp.nudged(index, 0.5).parameters();
            let changed: Vec<usize> = (0..before.len())
                .filter(|&i| before[i] != after[i])
                .collect();
            assert_eq!(changed, vec![index]);
        }
        assert_eq!(mlp.parameter_count(), 2 * 3 + 3 + 3 + 1);
    }

    #[test]
    fn a_single_sigmoid_unit_has_the_textbook_gradient() {
        // With no hidden layer the network is logistic regression, whose gradient is known in
        // closed form: Xᵀ(p − y)/n and mean(p − y).
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let mlp = Mlp::new(&[2, 1], &mut rng);
        let x = array![[0.5, -1.0], [2.0, 0.25], [-1.5, 1.0]];
        let y = array![1.0, 0.0, 1.0];
        let forward = mlp.forward(x.view());
        let p = forward.probabilities();
        let gradients = mlp.backward(&forward, &y);
        let residual = &p - &y;
        let expected_w = x.t().dot(&residual) / 3.0;
        let got = gradients.flattened();
        assert!((got[0] - expected_w[0]).abs() < 1e-15);
        assert!((got[1] - expected_w[1]).abs() < 1e-15);
        assert!((got[2] - residual.sum() / 3.0).abs() < 1e-15);
    }
}
