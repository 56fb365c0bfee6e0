//! What the deep-learning lessons share (section 7).
//!
//! - [`scratch`]: a multilayer perceptron written from scratch in ndarray — forward pass,
//!   back-propagation, gradient step — trained by neural_network_fundamentals and timed by the
//!   bench against candle;
//! - [`train`]: the section's small Keras-style trainer on candle (seeded parameters, `fit` with
//!   per-epoch metrics, a validation split and early stopping that restores the best weights);
//! - [`digits`]: the bundled 8 × 8 digits as tensors, pixels scaled to [0, 1].
//!
//! Every model trains on the CPU in float32 (the ndarray network in float64); nothing is
//! downloaded. Library code returns typed errors and never prints.

pub mod scratch;
pub mod train;

use rand::Rng;
use rand::seq::SliceRandom;

pub use train::{Classifier, Epoch, Error, History, Parameters, Score, Split, Trainer};

/// Makes candle run its matrix products on one thread, as `torch.set_num_threads(1)` does.
///
/// candle splits each matrix product across `RAYON_NUM_THREADS` threads, every core by default.
/// The section's models are small (batches of 32–100 rows, layers of at most a few hundred
/// units), and handing such a product to a second thread costs more than the thread gives: on
/// the two-core machine this was written on, preventing_overfitting trains in 1.9 s on one
/// thread and 4.8 s on two, with identical results. Setting the variable before the process
/// starts (`RAYON_NUM_THREADS=2 cargo run …`) overrides this.
///
/// # Safety
///
/// It sets an environment variable, which is sound only while no other thread can be reading
/// or writing the environment: call it first thing in `main`, before anything starts a thread.
pub unsafe fn candle_on_one_thread() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: the caller guarantees that no other thread exists yet.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    }
}

/// The bundled digits (1,797 images of 8 × 8 pixels) as a split of 64 features in [0, 1] and
/// their classes 0–9. Loading them is the only thing here that reads a file.
pub fn digits() -> anyhow::Result<Split> {
    let digits = datasets::digits()?;
    let scaled = digits.features.mapv(|v| v / 16.0);
    Ok(Split::from_rows(
        &scaled,
        digits.target.as_slice().unwrap_or_default(),
    )?)
}

/// Rows 0..n shuffled by `rng` and cut in two: the first `share` of them (rounded) and the rest.
pub fn shuffled_split(n: usize, share: f64, rng: &mut impl Rng) -> (Vec<usize>, Vec<usize>) {
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(rng);
    let cut = ((n as f64) * share).round() as usize;
    let rest = rows.split_off(cut.min(n));
    (rows, rest)
}

/// Each 8 × 8 image of `images` (rows of 64 pixels) moved by a random whole number of pixels,
/// from −`max_shift` to `max_shift` in each direction, the uncovered border filled with zeros
/// (blank paper): the augmentation a digit scanner's jitter calls for.
pub fn shifted_digits(
    images: &Split,
    max_shift: usize,
    rng: &mut impl Rng,
) -> Result<Split, Error> {
    let pixels = images.x().to_vec2::<f32>()?;
    let reach = max_shift as i64;
    let mut moved = Vec::with_capacity(pixels.len() * 64);
    for image in &pixels {
        let (dy, dx) = (rng.gen_range(-reach..=reach), rng.gen_range(-reach..=reach));
        for row in 0..8i64 {
            for col in 0..8i64 {
                let (from_row, from_col) = (row - dy, col - dx);
                let inside = (0..8).contains(&from_row) && (0..8).contains(&from_col);
                moved.push(if inside {
                    image[(from_row * 8 + from_col) as usize]
                } else {
                    0.0
                });
            }
        }
    }
    let x = candle_core::Tensor::from_vec(moved, (pixels.len(), 64), images.x().device())?;
    images.with_features(x)
}
