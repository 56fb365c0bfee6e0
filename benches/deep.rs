//! Criterion benchmarks for the deep-learning section. Run with `cargo bench --bench deep`.
//!
//! - one training epoch of the moons perceptron (2 → 16 → 16 → 1, tanh, sigmoid output, 600
//!   points in mini-batches of 32, plain gradient descent) written from scratch in ndarray
//!   (float64) and the same network in candle (float32, candle's SGD), candle on one thread and
//!   on two;
//! - the small CNN's forward pass (3 × 3 convolutions of 16 and 32 channels with 2 × 2 pooling,
//!   then a dense layer to 10 logits) on a batch of 64 digits of 8 × 8 pixels (after the epoch
//!   group, so on two threads).

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Conv2dConfig, Optimizer};
use criterion::{BenchmarkId, Criterion, criterion_group};
use lessons_deep::Parameters;
use lessons_deep::scratch::Mlp;
use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

// The workspace's global allocator, mimalloc, which the harness installs: the benches measure
// what the lessons run on.
use harness as _;

const POINTS: usize = 600;
const BATCH: usize = 32;

fn moons() -> (Array2<f64>, Array1<f64>) {
    let (x, labels) =
        toolkit::synthetic::two_moons(POINTS, 0.15, &mut ChaCha8Rng::seed_from_u64(1));
    (x, labels.iter().map(|&c| c as f64).collect())
}

fn epoch(c: &mut Criterion) {
    let (x, y) = moons();
    let mut group = c.benchmark_group("one epoch, moons perceptron");
    let mut network = Mlp::new(&[2, 16, 16, 1], &mut ChaCha8Rng::seed_from_u64(2));
    group.bench_function("ndarray, from scratch (f64)", |b| {
        b.iter(|| {
            for start in (0..POINTS).step_by(BATCH) {
                let rows: Vec<usize> = (start..(start + BATCH).min(POINTS)).collect();
                let (xb, yb) = (x.select(Axis(0), &rows), y.select(Axis(0), &rows));
                let forward = network.forward(xb.view());
                let gradients = network.backward(&forward, &yb);
                network.step(&gradients, 0.5);
            }
        })
    });
    let parameters = Parameters::seeded(2);
    let builder = parameters.builder();
    let model = candle_nn::seq()
        .add(candle_nn::linear(2, 16, builder.pp("first")).expect("layer"))
        .add_fn(|x| x.tanh())
        .add(candle_nn::linear(16, 16, builder.pp("second")).expect("layer"))
        .add_fn(|x| x.tanh())
        .add(candle_nn::linear(16, 1, builder.pp("output")).expect("layer"));
    let xs = Tensor::from_vec(
        x.mapv(|v| v as f32).into_raw_vec_and_offset().0,
        (POINTS, 2),
        &Device::Cpu,
    )
    .expect("tensor");
    let ys =
        Tensor::from_vec(y.mapv(|v| v as f32).to_vec(), (POINTS, 1), &Device::Cpu).expect("tensor");
    let mut sgd = candle_nn::SGD::new(parameters.all(), 0.5).expect("optimiser");
    for threads in ["1", "2"] {
        group.bench_function(
            BenchmarkId::new("candle (f32)", format!("{threads} thread(s)")),
            |b| {
                // SAFETY: criterion runs benchmarks one after another on this thread; candle's and
                // rayon's worker threads never read the environment.
                unsafe { std::env::set_var("RAYON_NUM_THREADS", threads) };
                b.iter(|| {
                    for start in (0..POINTS).step_by(BATCH) {
                        let size = BATCH.min(POINTS - start);
                        let logits = model.forward(&xs.narrow(0, start, size)?)?;
                        let loss = candle_nn::loss::binary_cross_entropy_with_logit(
                            &logits,
                            &ys.narrow(0, start, size)?,
                        )?;
                        sgd.backward_step(&loss)?;
                    }
                    Ok::<(), candle_core::Error>(())
                })
            },
        );
    }
    group.finish();
}

fn cnn_forward(c: &mut Criterion) {
    let parameters = Parameters::seeded(3);
    let builder = parameters.builder();
    let padded = Conv2dConfig {
        padding: 1,
        ..Default::default()
    };
    let first = candle_nn::conv2d(1, 16, 3, padded, builder.pp("conv1")).expect("layer");
    let second = candle_nn::conv2d(16, 32, 3, padded, builder.pp("conv2")).expect("layer");
    let output = candle_nn::linear(128, 10, builder.pp("output")).expect("layer");
    let digits = lessons_deep::digits().expect("datasets/digits.csv.gz is readable");
    let batch = digits
        .x()
        .narrow(0, 0, 64)
        .expect("64 digits")
        .reshape((64, 1, 8, 8))
        .expect("images");
    let mut group = c.benchmark_group("CNN forward pass");
    group.bench_function(BenchmarkId::new("candle", "64 digits of 8×8"), |b| {
        b.iter(|| {
            let maps = first.forward(&batch)?.relu()?.max_pool2d(2)?;
            let maps = second.forward(&maps)?.relu()?.max_pool2d(2)?;
            output.forward(&maps.flatten_from(1)?)?.to_dtype(DType::F32)
        })
    });
    group.finish();
}

criterion_group!(benches, epoch, cnn_forward);

// criterion_main! written out, to register the embedded font before criterion draws its report
// (as in benches/numpy.rs).
fn main() {
    harness::plot::register_font();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
