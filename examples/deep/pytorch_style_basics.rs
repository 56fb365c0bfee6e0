//! # Tensors and autograd
//!
//! **Question:** What are tensors and automatic differentiation?
//!
//! **Answer:** Tensors record the operations applied to them so that gradients can be computed
//! backwards automatically.
//!
//! **Evidence:** Autograd's gradient of Σ x³ + sin(x)·e^(x/2) matches the analytic derivative to a
//! relative 4e-16 (float64) at 1,000 points. 200 gradient steps by hand and with candle's SGD leave
//! identical parameters (difference 0), and they recover w = (2, −1, 0.5) and b = 0.3 from 1,000
//! noisy rows to within 0.8–2.3 standard errors (σ/√n = 0.0032) over seeds 1–30. candle refuses
//! column + row without broadcast_add. A tensor operation carries about 0.15 µs of fixed cost on 8
//! numbers; adding ten million takes about 14 ms.
//!
//! **Run:** `cargo run --example pytorch_style_basics` (add `-- --quick` for a short run).

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{Optimizer, SGD};
use harness::prelude::*;
use rand::Rng;
use rand_distr::StandardNormal;

/// A custom module, as a subclass of `torch.nn.Module` would be: its parameters are fields and
/// `forward` says what it computes. Here, y = x·w + b.
struct LinearModel {
    weights: Var,
    bias: Var,
}

impl Module for LinearModel {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(self.weights.as_tensor())?
            .broadcast_add(self.bias.as_tensor())
    }
}

impl LinearModel {
    /// Starts at zero weights and bias, for `inputs` features.
    fn zeros(inputs: usize) -> candle_core::Result<LinearModel> {
        Ok(LinearModel {
            weights: Var::zeros((inputs, 1), DType::F64, &Device::Cpu)?,
            bias: Var::zeros(1, DType::F64, &Device::Cpu)?,
        })
    }

    fn vars(&self) -> Vec<Var> {
        vec![self.weights.clone(), self.bias.clone()]
    }
}

/// The mean squared error of a model on (x, y), as a tensor that remembers how it was computed.
fn mse(model: &LinearModel, x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
    (model.forward(x)? - y)?.sqr()?.mean_all()
}

fn main() -> Outcome {
    // The section's models are small: candle's matrix products run faster on one thread here
    // (lessons_deep::candle_on_one_thread says why and by how much).
    // SAFETY: the first statement of main, before anything starts a thread.
    unsafe { lessons_deep::candle_on_one_thread() };
    let mut lesson = start_lesson!()?;
    let cpu = Device::Cpu;

    // Step 1: tensors. A tensor is an n-dimensional array with a dtype and a device, like a
    // NumPy array that can also record the operations applied to it. Reshapes and transposes are
    // views over the same storage.
    let grid = Tensor::arange(0f32, 12.0, &cpu)?.reshape((3, 4))?;
    println!(
        "grid, shape {:?}, dtype {:?}:\n{grid}",
        grid.dims(),
        grid.dtype()
    );
    println!(
        "its transpose is a view: contiguous? {}",
        grid.t()?.is_contiguous()
    );

    // Step 2: broadcasting. PyTorch broadcasts implicitly; candle asks for it by name
    // (broadcast_add), with NumPy's rule: trailing dimensions are matched, and a dimension of 1
    // stretches. A column (3 × 1) plus a row (1 × 4) gives the 3 × 4 table of sums.
    let column = Tensor::new(&[[0f32], [10.0], [20.0]], &cpu)?;
    let row = Tensor::new(&[[1f32, 2.0, 3.0, 4.0]], &cpu)?;
    let table = column.broadcast_add(&row)?;
    println!("\ncolumn (3 × 1) + row (1 × 4):\n{table}");
    let expected: Vec<Vec<f32>> = (0..3)
        .map(|i| (0..4).map(|j| 10.0 * i as f32 + (j + 1) as f32).collect())
        .collect();
    ensure!(
        table.to_vec2::<f32>()? == expected,
        "broadcasting did not give a[i] + b[j]"
    );
    // Adding them without asking is an error, not a silent stretch.
    let implicit = &column + &row;
    println!(
        "column + row without broadcast_add is refused: {}",
        implicit.is_err()
    );
    ensure!(
        implicit.is_err(),
        "candle stretched a shape without being asked"
    );

    // Step 3: autograd. A Var is a tensor that gradients flow to. Every operation on it is
    // recorded; backward() walks the record in reverse and applies the chain rule. For
    // f(x) = Σ x³ + sin(x)·e^(x/2) the derivative is known: 3x² + (cos x + sin(x)/2)·e^(x/2).
    let mut rng = lesson.rng(1);
    let points: Vec<f64> = (0..lesson.pick(10_000, 1_000))
        .map(|_| rng.sample::<f64, _>(StandardNormal))
        .collect();
    let x = Var::new(points.as_slice(), &cpu)?;
    let f = (x.as_tensor().powf(3.0)? + (x.as_tensor().sin()? * (x.as_tensor() / 2.0)?.exp()?)?)?
        .sum_all()?;
    let gradients = f.backward()?;
    let autograd = gradients
        .get(x.as_tensor())
        .ok_or_else(|| anyhow::anyhow!("no gradient reached x"))?
        .to_vec1::<f64>()?;
    let largest_error = points
        .iter()
        .zip(&autograd)
        .map(|(&v, &g)| {
            let analytic = 3.0 * v * v + (v.cos() + v.sin() / 2.0) * (v / 2.0).exp();
            (g - analytic).abs() / analytic.abs().max(1.0)
        })
        .fold(0.0, f64::max);
    println!(
        "\nautograd on f(x) = Σ x³ + sin(x)·e^(x/2) at {} points: largest relative difference from 3x² + (cos x + sin(x)/2)·e^(x/2) = {largest_error:.1e}",
        points.len()
    );
    lesson.claim(
        "autograd's gradient equals the analytic derivative",
        largest_error < 1e-12,
        format!(
            "largest relative difference {largest_error:.1e} over {} points, float64",
            points.len()
        ),
        &[("autograd_relative_error", largest_error)],
    );

    // Step 4: a regression problem with a known answer. y = x·w + b + noise, with three standard
    // normal features, w = (2, −1, 0.5), b = 0.3 and noise of standard deviation 0.1.
    let n = lesson.pick(4_000, 1_000);
    let true_weights = [2.0, -1.0, 0.5];
    let (true_bias, noise) = (0.3, 0.1);
    let mut rng = lesson.rng(2);
    let features: Vec<f64> = (0..n * 3).map(|_| rng.sample(StandardNormal)).collect();
    let targets: Vec<f64> = features
        .chunks(3)
        .map(|r| {
            r.iter().zip(&true_weights).map(|(a, b)| a * b).sum::<f64>()
                + true_bias
                + noise * rng.sample::<f64, _>(StandardNormal)
        })
        .collect();
    let x = Tensor::from_vec(features, (n, 3), &cpu)?;
    let y = Tensor::from_vec(targets, (n, 1), &cpu)?;

    // Step 5: one optimiser step, by hand and by candle. By hand: read each parameter's gradient
    // and set w ← w − η·∂L/∂w. candle's SGD does the same; from the same start, the two stay
    // identical step after step.
    let learning_rate = 0.1;
    let by_hand = LinearModel::zeros(3)?;
    let with_sgd = LinearModel::zeros(3)?;
    let mut sgd = SGD::new(with_sgd.vars(), learning_rate)?;
    let steps = 200;
    let mut losses = Vec::with_capacity(steps);
    let mut paths: Vec<Vec<(f64, f64)>> = vec![Vec::new(); 4];
    for step in 0..steps {
        let loss = mse(&by_hand, &x, &y)?;
        let gradients = loss.backward()?;
        for var in by_hand.vars() {
            let gradient = gradients
                .get(var.as_tensor())
                .ok_or_else(|| anyhow::anyhow!("no gradient for a parameter"))?;
            var.set(&(var.as_tensor() - (gradient * learning_rate)?)?)?;
        }
        losses.push(loss.to_scalar::<f64>()?);
        let now: Vec<f64> = by_hand.weights.as_tensor().flatten_all()?.to_vec1()?;
        let bias = by_hand.bias.as_tensor().to_vec1::<f64>()?;
        for (path, value) in paths.iter_mut().zip(now.iter().chain(&bias)) {
            path.push(((step + 1) as f64, *value));
        }
        sgd.backward_step(&mse(&with_sgd, &x, &y)?)?;
    }
    let difference = (by_hand.weights.as_tensor() - with_sgd.weights.as_tensor())?
        .abs()?
        .max_all()?
        .to_scalar::<f64>()?
        .max(
            (by_hand.bias.as_tensor() - with_sgd.bias.as_tensor())?
                .abs()?
                .max_all()?
                .to_scalar::<f64>()?,
        );
    println!(
        "\n{steps} gradient steps by hand and with candle_nn::SGD: largest parameter difference {difference:.1e}; loss {:.4} → {:.5}",
        losses[0],
        losses[steps - 1]
    );
    lesson.claim(
        "a step by hand equals candle's SGD step",
        difference < 1e-12,
        format!("largest parameter difference after {steps} steps: {difference:.1e}"),
        &[("sgd_difference", difference)],
    );

    // Step 6: did it find the truth? Least squares estimates each weight with a standard error
    // of about σ / (√n · sd(xⱼ)), which is σ/√n here; four standard errors is the tolerance (a
    // miss that large has odds of about 1 in 16,000 per coefficient).
    let learned: Vec<f64> = by_hand.weights.as_tensor().flatten_all()?.to_vec1()?;
    let learned_bias = by_hand.bias.as_tensor().to_vec1::<f64>()?[0];
    let spread = x.var_keepdim(0)?.sqrt()?.flatten_all()?.to_vec1::<f64>()?;
    let mut worst_in_errors: f64 = 0.0;
    println!(
        "{:>10} {:>8} {:>9} {:>16}",
        "parameter", "true", "learned", "standard errors"
    );
    for j in 0..3 {
        let standard_error = noise / ((n as f64).sqrt() * spread[j]);
        let off = (learned[j] - true_weights[j]).abs() / standard_error;
        worst_in_errors = worst_in_errors.max(off);
        println!(
            "{:>10} {:>8.3} {:>9.4} {off:>16.2}",
            format!("w{}", j + 1),
            true_weights[j],
            learned[j]
        );
    }
    let bias_off = (learned_bias - true_bias).abs() / (noise / (n as f64).sqrt());
    worst_in_errors = worst_in_errors.max(bias_off);
    println!(
        "{:>10} {true_bias:>8.3} {learned_bias:>9.4} {bias_off:>16.2}",
        "b"
    );
    // Converged too: the gradient at the end is tiny compared with the first one.
    let final_gradient = {
        let loss = mse(&by_hand, &x, &y)?;
        let gradients = loss.backward()?;
        gradients
            .get(by_hand.weights.as_tensor())
            .ok_or_else(|| anyhow::anyhow!("no gradient"))?
            .abs()?
            .max_all()?
            .to_scalar::<f64>()?
    };
    lesson.claim(
        "gradient descent recovers the true weights within the noise",
        worst_in_errors < 4.0 && final_gradient < 1e-6,
        format!(
            "every coefficient within {worst_in_errors:.2} standard errors (σ/√n = {:.4}) of the truth; final gradient {final_gradient:.1e}",
            noise / (n as f64).sqrt()
        ),
        &[("worst_standard_errors", worst_in_errors)],
    );

    figure!(lesson, "parameters_while_learning", plot::SIZE, |root| {
        plot::LineChart::new(
            "Gradient descent on y = 2x₁ − x₂ + 0.5x₃ + 0.3 + noise",
            "step",
            "parameter value",
        )
        .series("w₁ (true 2)", paths[0].clone())
        .series("w₂ (true −1)", paths[1].clone())
        .series("w₃ (true 0.5)", paths[2].clone())
        .series("b (true 0.3)", paths[3].clone())
        .draw(&root)?;
    })?;

    // Step 7: eager inspection. Nothing is compiled into a graph ahead of time: any intermediate
    // tensor can be printed, and its values taken out (to_vec1) at any point.
    let residuals = (by_hand.forward(&x.narrow(0, 0, 4)?)? - y.narrow(0, 0, 4)?)?;
    println!("\nthe first four residuals, inspected mid-computation:\n{residuals}");
    let residual_sd = (by_hand.forward(&x)? - &y)?
        .sqr()?
        .mean_all()?
        .sqrt()?
        .to_scalar::<f64>()?;
    println!("residual standard deviation {residual_sd:.4} (the noise was {noise})");

    // What it costs: a tensor operation carries a fixed overhead (shape checks, a new storage)
    // that dominates on tiny tensors, which is why work is done in batches.
    let small = Tensor::rand(0f32, 1.0, 8, &cpu)?;
    let large = Tensor::rand(0f32, 1.0, 10_000_000, &cpu)?;
    let per_small = best_of(5, || {
        (0..1_000).try_for_each(|_| (&small + &small).map(|_| ()))
    });
    let per_large = best_of(5, || (&large + &large).map(|_| ()));
    println!(
        "adding two tensors: {:.2} µs for 8 numbers, {:.1} ms for ten million ({:.2} ns per number, memory-bound)",
        per_small.secs() * 1e6 / 1_000.0,
        per_large.secs() * 1e3,
        per_large.secs() * 1e9 / 1e7
    );
    lesson.finish()?;
    Ok(())
}
