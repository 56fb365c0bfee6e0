//! # Transfer learning
//!
//! **Question:** What is transfer learning, and when does it pay?
//!
//! **Answer:** Reuse the layers a network learned on a source task, frozen or fine-tuned, under a
//! new head trained on the target task. It pays when the source task already learned what the
//! target needs and labelled target examples are few; the advantage shrinks as labels grow.
//! Features from a narrow or unrelated source task can do worse than training from scratch
//! (negative transfer), so compare against a from-scratch baseline on the same few examples.
//!
//! **Evidence:** Features pre-trained on digits 0–4 lose to training the same network from scratch
//! on digits 5–9: 6–27 points behind with one example per class over seeds 1–30 (negative
//! transfer). Features pre-trained on all ten digits of the first half of the data set, frozen
//! under a new head, lead training from scratch on the second half by 13–24 points at k = 1 and
//! 10–19 at k = 2, and the lead is gone by k = 20 (−1 to +2 points).
//!
//! **Run:** `cargo run --example transfer_learning` (add `-- --quick` for a short run).

use candle_core::{Device, Module, Tensor};
use candle_nn::{Activation, Linear, Sequential, linear};
use harness::plot::LineChart;
use harness::prelude::*;
use lessons_deep::train::{Classifier, evaluate};
use lessons_deep::{Parameters, Split, Trainer};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// The feature layers: 64 pixels → 128 → 64 ReLU units, what pre-training learns and transfer
/// reuses.
fn feature_layers(parameters: &Parameters) -> candle_core::Result<Sequential> {
    let b = parameters.builder();
    Ok(candle_nn::seq()
        .add(linear(64, 128, b.pp("features.first"))?)
        .add(Activation::Relu)
        .add(linear(128, 64, b.pp("features.second"))?)
        .add(Activation::Relu))
}

/// Feature layers and a classification head, all trained together.
struct Network<'a> {
    features: &'a Sequential,
    head: Linear,
}

impl Classifier for Network<'_> {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.head.forward(&self.features.forward(x)?)
    }
}

/// Frozen feature layers under a new head: `detach` cuts the graph, so no gradient reaches the
/// features (PyTorch's `requires_grad = False`, Keras' `trainable = False`), and only the head's
/// variables are handed to the optimiser.
struct FrozenFeatures<'a> {
    features: &'a Sequential,
    head: Linear,
}

impl Classifier for FrozenFeatures<'_> {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.head.forward(&self.features.forward(x)?.detach())
    }
}

/// The rows of `split` whose digit is in `digits`, relabelled 0.. in that order.
fn digits_among(split: &Split, digits: &[usize]) -> anyhow::Result<Split> {
    let labels = split.labels()?;
    let rows: Vec<usize> = (0..labels.len())
        .filter(|&i| digits.contains(&labels[i]))
        .collect();
    let relabelled: Vec<u32> = rows
        .iter()
        .filter_map(|&i| digits.iter().position(|&d| d == labels[i]))
        .map(|c| c as u32)
        .collect();
    let y = Tensor::from_vec(relabelled, rows.len(), &Device::Cpu)?;
    Ok(split.select(&rows)?.with_labels(y)?)
}

/// Pre-trains feature layers and a head on `source`, returning the features.
fn pretrain(source: &Split, classes: usize, seed: u64) -> anyhow::Result<Sequential> {
    let parameters = Parameters::seeded(seed);
    let features = feature_layers(&parameters)?;
    let model = Network {
        features: &features,
        head: linear(64, classes, parameters.builder().pp("source_head"))?,
    };
    Trainer::new(30, seed)
        .learning_rate(3e-3)
        .fit(&model, parameters.all(), source, |_| {})?;
    Ok(features)
}

/// Mean and standard deviation of the test accuracy of both approaches at one k.
struct Shots {
    k: usize,
    transfer: (f64, f64),
    scratch: (f64, f64),
}

impl Shots {
    fn gap(&self) -> f64 {
        self.transfer.0 - self.scratch.0
    }
}

/// For each k: `draws` times, k labelled examples per class drawn from the first half of
/// `target` (the second half is the test set); a new head trained on the frozen `features`
/// against the whole network trained from a fresh start, with the same full-batch steps.
fn few_shot_curve(
    features: &Sequential,
    target: &Split,
    classes: usize,
    (shots, draws): (&[usize], usize),
    seed: u64,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<Vec<Shots>> {
    let mut rows: Vec<usize> = (0..target.len()).collect();
    rows.shuffle(rng);
    let (pool, test_rows) = rows.split_at(target.len() / 2);
    let test = target.select(test_rows)?;
    let pool_labels = target.select(pool)?.labels()?;
    let mut curve = Vec::new();
    for &k in shots {
        let (mut transfer, mut scratch) = (Vec::new(), Vec::new());
        for draw in 0..draws as u64 {
            let mut chosen = Vec::new();
            for class in 0..classes {
                let mut of_class: Vec<usize> = pool
                    .iter()
                    .zip(&pool_labels)
                    .filter(|&(_, &l)| l == class)
                    .map(|(&r, _)| r)
                    .collect();
                of_class.shuffle(rng);
                chosen.extend(of_class.into_iter().take(k));
            }
            let few = target.select(&chosen)?;
            let trainer = Trainer::new(80, seed + draw)
                .learning_rate(1e-2)
                .batch_size(few.len());
            let head_parameters = Parameters::seeded(seed * 1_000 + draw);
            let frozen = FrozenFeatures {
                features,
                head: linear(64, classes, head_parameters.builder().pp("head"))?,
            };
            trainer.fit(&frozen, head_parameters.all(), &few, |_| {})?;
            transfer.push(evaluate(&frozen, &test)?.accuracy());
            let fresh = Parameters::seeded(seed * 1_000 + 500 + draw);
            let fresh_features = feature_layers(&fresh)?;
            let from_scratch = Network {
                features: &fresh_features,
                head: linear(64, classes, fresh.builder().pp("head"))?,
            };
            trainer.fit(&from_scratch, fresh.all(), &few, |_| {})?;
            scratch.push(evaluate(&from_scratch, &test)?.accuracy());
        }
        let summary = |v: &[f64]| (harness::measure::mean(v), harness::measure::sample_sd(v));
        curve.push(Shots {
            k,
            transfer: summary(&transfer),
            scratch: summary(&scratch),
        });
    }
    Ok(curve)
}

fn print_curve(title: &str, curve: &[Shots], draws: usize) {
    println!("\n{title} (test accuracy, mean ± sd over {draws} draws)");
    println!(
        "{:>4} {:>20} {:>20} {:>8}",
        "k", "frozen features", "from scratch", "gap"
    );
    for s in curve {
        println!(
            "{:>4} {:>20} {:>20} {:>+8.3}",
            s.k,
            format!("{:.3} ± {:.3}", s.transfer.0, s.transfer.1),
            format!("{:.3} ± {:.3}", s.scratch.0, s.scratch.1),
            s.gap()
        );
    }
}

fn main() -> Outcome {
    // The section's models are small: candle's matrix products run faster on one thread here
    // (lessons_deep::candle_on_one_thread says why and by how much).
    // SAFETY: the first statement of main, before anything starts a thread.
    unsafe { lessons_deep::candle_on_one_thread() };
    let mut lesson = start_lesson!()?;
    let seed = lesson.seed();
    let digits = lessons_deep::digits()?;
    let shots = [1usize, 2, 5, 20];
    let draws = lesson.pick(10, 4);

    // Part 1: pre-train on digits 0–4, then learn digits 5–9 from k examples per class. The
    // frozen features are compared with the same network trained from scratch on the same few
    // examples: do features learned on five digits help with five new ones?
    let started = std::time::Instant::now();
    let features_0_to_4 = pretrain(&digits_among(&digits, &[0, 1, 2, 3, 4])?, 5, seed)?;
    println!(
        "pre-trained on digits 0–4 in {}",
        harness::measure::duration(started.elapsed())
    );
    let new_digits = digits_among(&digits, &[5, 6, 7, 8, 9])?;
    let mut rng = lesson.rng(1);
    let across_classes = few_shot_curve(
        &features_0_to_4,
        &new_digits,
        5,
        (&shots, draws),
        seed,
        &mut rng,
    )?;
    print_curve(
        "digits 5–9 on features pre-trained on digits 0–4",
        &across_classes,
        draws,
    );
    lesson.metric("scratch_accuracy_5_9_k1", across_classes[0].scratch.0);
    // They do not: a network that must tell 0–4 apart learns features that throw away what
    // separates a 5 from a 9, and the raw pixels of an 8 × 8 digit are already good features.
    // From scratch wins, which is negative transfer.
    let narrow_gap = across_classes[0].gap().max(across_classes[1].gap());
    lesson.claim(
        "features from five other digits lose to training from scratch with few examples",
        narrow_gap < 0.0,
        format!(
            "at k = 1 and 2 per class, frozen features trail by {:.1} and {:.1} points",
            -across_classes[0].gap() * 100.0,
            -across_classes[1].gap() * 100.0
        ),
        &[("gap_digits_0_4_to_5_9_k1", across_classes[0].gap())],
    );

    // Part 2: transfer pays when the source task already learned what the new one needs. The
    // features are pre-trained on all ten digits of the first half of the data set; the new
    // task is the second half, with a new head trained on k examples per class.
    let half: Vec<usize> = (0..digits.len() / 2).collect();
    let rest: Vec<usize> = (digits.len() / 2..digits.len()).collect();
    let features_all = pretrain(&digits.select(&half)?, 10, seed + 1)?;
    let later_digits = digits.select(&rest)?;
    let mut rng = lesson.rng(2);
    let related = few_shot_curve(
        &features_all,
        &later_digits,
        10,
        (&shots, draws),
        seed + 1,
        &mut rng,
    )?;
    print_curve(
        "new digits 0–9 on features pre-trained on other digits 0–9",
        &related,
        draws,
    );
    let few_gap = (related[0].gap() + related[1].gap()) / 2.0;
    lesson.claim(
        "with few examples, related pre-training beats training from scratch by at least 10 points",
        few_gap >= 0.10,
        format!(
            "at k = 1 and 2 per class frozen features lead by {:.1} and {:.1} points (mean {:.1})",
            related[0].gap() * 100.0,
            related[1].gap() * 100.0,
            few_gap * 100.0
        ),
        &[
            ("gap_related_k1", related[0].gap()),
            ("gap_related_k2", related[1].gap()),
        ],
    );
    let last_gap = related.last().map_or(f64::NAN, Shots::gap);
    lesson.claim(
        "the advantage narrows as labelled examples grow",
        last_gap < related[0].gap() / 2.0,
        format!(
            "gap {:.1} points at k = 1, {:.1} at k = 20",
            related[0].gap() * 100.0,
            last_gap * 100.0
        ),
        &[("gap_related_k20", last_gap)],
    );
    println!(
        "\nall fits in {}",
        harness::measure::duration(started.elapsed())
    );

    figure!(lesson, "accuracy_vs_k", plot::SIZE, |root| {
        let points = |curve: &[Shots], pick: fn(&Shots) -> f64| -> Vec<(f64, f64)> {
            curve.iter().map(|s| (s.k as f64, pick(s))).collect()
        };
        LineChart::new(
            "Test accuracy with k labelled examples per class",
            "examples per class (k)",
            "test accuracy",
        )
        .log_x()
        .series(
            "related pre-training (0–9), frozen",
            points(&related, |s| s.transfer.0),
        )
        .series("from scratch (new 0–9)", points(&related, |s| s.scratch.0))
        .series(
            "pre-trained on 0–4, frozen, for 5–9",
            points(&across_classes, |s| s.transfer.0),
        )
        .series(
            "from scratch (5–9)",
            points(&across_classes, |s| s.scratch.0),
        )
        .draw(&root)?;
    })?;
    lesson.finish()?;
    Ok(())
}
