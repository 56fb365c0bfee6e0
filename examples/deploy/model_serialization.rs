//! # Model formats: text, binary and ONNX
//!
//! **Question:** Which format should a model be saved in?
//!
//! **Answer:** It depends on who reads the file. For your own service, a serde format of the whole
//! fitted pipeline: a text format (TOML) when people review and diff models, a binary one (CBOR,
//! bincode) when size and load time matter — both exact for floats, which JSON is not unless its
//! parser is told to be. To hand a model to another runtime or language, ONNX: a graph of standard
//! operators that onnxruntime, tract (pure Rust) and others execute; exporters exist for
//! scikit-learn, PyTorch and more. ONNX graphs usually compute in float32, so two runtimes agree to
//! about six decimals, not to the bit, and comparisons need a tolerance.
//!
//! **Evidence:** The penguin pipeline in four serde formats: bincode 742 bytes (read in about 2–3
//! µs), CBOR 1,317, JSON 2,029, TOML 2,519 (read in about 40–50 µs). Read back, TOML, CBOR and
//! bincode predict the 83 held-out birds' probabilities to the last bit; JSON through serde_json's
//! default float parser does not. Three scikit-learn models exported to ONNX — a logistic
//! regression and an MLP behind a scaler, a random forest on the raw values — run in tract and
//! match onnxruntime's probabilities within 3.6e-7 on 86 birds (float32: tolerance 1e-5) with the
//! same classes. The same forest behind a scaler differs for 2 birds by up to 0.08: one-ulp
//! differences in the scaled inputs move whole tree votes.
//!
//! **Run:** `cargo run --example model_serialization` (add `-- --quick` for a short run).

use std::path::Path;

use anyhow::{Context, Result};
use harness::prelude::*;
use lessons_deploy::PenguinModel;
use serde::Deserialize;
use toolkit::artefact::ModelArtefact;
use tract_onnx::prelude::*;

/// One exported model: its file and the answers recorded for the held-out birds.
#[derive(Deserialize)]
struct ReferenceModel {
    file: String,
    /// Whether a StandardScaler runs before the model inside the graph.
    scaled: bool,
    sklearn_probabilities: Vec<Vec<f64>>,
    onnxruntime_probabilities: Vec<Vec<f64>>,
}

/// What `python/export_onnx.py` recorded beside the ONNX files.
#[derive(Deserialize)]
struct Reference {
    classes: Vec<String>,
    inputs: Vec<Vec<f32>>,
    labels: Vec<usize>,
    versions: std::collections::BTreeMap<String, String>,
    models: std::collections::BTreeMap<String, ReferenceModel>,
}

/// Tract's and onnxruntime's probabilities may differ by this much: both compute in float32
/// (24-bit mantissas, about 7 significant digits) but sum the matrix products in different
/// orders and with different fused multiply-adds, so results agree to a few float32 units of
/// the logits' size, not bit for bit.
const ONNX_TOLERANCE: f64 = 1e-5;

/// One serde format: its name, how it writes and how it reads the artefact.
struct Format {
    name: &'static str,
    write: fn(&ModelArtefact) -> Result<Vec<u8>>,
    read: fn(&[u8]) -> Result<ModelArtefact>,
}

fn formats() -> [Format; 4] {
    [
        Format {
            name: "JSON (serde_json)",
            write: |a| Ok(serde_json::to_vec(a)?),
            read: |b| Ok(serde_json::from_slice(b)?),
        },
        Format {
            name: "TOML",
            write: |a| Ok(toml::to_string(a)?.into_bytes()),
            read: |b| Ok(toml::from_str(std::str::from_utf8(b)?)?),
        },
        Format {
            name: "CBOR (ciborium)",
            write: |a| {
                let mut out = Vec::new();
                ciborium::into_writer(a, &mut out)?;
                Ok(out)
            },
            read: |b| Ok(ciborium::from_reader(b)?),
        },
        Format {
            name: "bincode 2",
            write: |a| {
                Ok(bincode::serde::encode_to_vec(
                    a,
                    bincode::config::standard(),
                )?)
            },
            read: |b| Ok(bincode::serde::decode_from_slice(b, bincode::config::standard())?.0),
        },
    ]
}

/// Runs an ONNX classifier with tract on `rows` (n × 4 float32) and returns its probabilities.
/// Data cross into tract's own tensor type through a slice: tract uses another ndarray version.
fn tract_probabilities(
    model: &Arc<TypedRunnableModel>,
    rows: &[f32],
    n: usize,
) -> Result<Vec<f32>> {
    let input = Tensor::from_shape(&[n, 4], rows)?;
    let outputs = model.run(tvec!(input.into()))?;
    let probabilities = outputs.get(1).context("the model's probability output")?;
    Ok(probabilities
        .try_as_plain_ram()?
        .as_slice::<f32>()?
        .to_vec())
}

fn load_onnx(path: &Path, n: usize) -> Result<Arc<TypedRunnableModel>> {
    tract_onnx::onnx()
        .model_for_path(path)?
        .with_input_fact(0, f32::fact([n, 4]).into())?
        .into_optimized()?
        .into_runnable()
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let runs = lesson.pick(30, 8);

    // Step 1: the project's own artefact in four serde formats: size, time to write and to
    // read back, and whether the read-back model predicts the same probabilities to the bit.
    let penguins = PenguinModel::fit("1", lesson.seed(), 1.0)?;
    let artefact = penguins.artefact();
    let before = artefact.probabilities(penguins.test_x())?;
    let mut sizes = Vec::new();
    let mut exact_formats = 0;
    let mut json_exact = true;
    for format in formats() {
        let bytes = (format.write)(artefact)?;
        let back = (format.read)(&bytes)?;
        let after = back.probabilities(penguins.test_x())?;
        let identical = before
            .iter()
            .zip(after.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits());
        let write = best_of(runs, || (format.write)(artefact));
        let read = best_of(runs, || (format.read)(&bytes));
        println!(
            "  {:<18} {:>6} bytes, write {:>6.1} µs, read {:>6.1} µs, predictions bit-identical: {identical}",
            format.name,
            bytes.len(),
            write.secs() * 1e6,
            read.secs() * 1e6
        );
        if format.name.starts_with("JSON") {
            json_exact = identical;
        } else {
            exact_formats += usize::from(identical);
        }
        sizes.push((format.name, bytes.len() as f64, read.secs() * 1e6));
    }
    lesson.claim(
        "round trips through the exact formats predict identically",
        exact_formats == 3,
        format!(
            "TOML, CBOR and bincode: {} test birds' probabilities equal to the last bit after a round trip; JSON with serde_json's default float parser: {}",
            penguins.test_x().nrows(),
            if json_exact { "also identical this time" } else { "not identical (enable float_roundtrip)" }
        ),
        &[("exact_formats", exact_formats as f64)],
    );

    // Step 2: ONNX, the exchange format. Three scikit-learn models (logistic regression and a
    // multi-layer perceptron behind a scaler, a random forest on the raw measurements) were
    // exported by python/export_onnx.py with onnxruntime's answers for the held-out birds; tract
    // runs the same files in pure Rust. A fourth file puts the forest behind a scaler too.
    let dir = harness::workspace_root().join("datasets/onnx");
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json"))?)?;
    let n = reference.inputs.len();
    let rows: Vec<f32> = reference.inputs.iter().flatten().copied().collect();
    println!(
        "ONNX: {n} held-out birds; exported with scikit-learn {}, skl2onnx {}, references from onnxruntime {}",
        reference
            .versions
            .get("scikit-learn")
            .map_or("?", String::as_str),
        reference
            .versions
            .get("skl2onnx")
            .map_or("?", String::as_str),
        reference
            .versions
            .get("onnxruntime")
            .map_or("?", String::as_str)
    );
    let mut worst = 0.0f64;
    let mut same_classes = true;
    let mut compared = 0;
    let mut scaled_forest = (0.0f64, 0usize);
    for (name, expected) in &reference.models {
        let path = dir.join(&expected.file);
        let load = best_of(runs, || load_onnx(&path, n));
        let model = load_onnx(&path, n)?;
        let ours = tract_probabilities(&model, &rows, n)?;
        let infer = best_of(runs, || tract_probabilities(&model, &rows, n));
        let k = reference.classes.len();
        let mut gap = 0.0f64;
        let mut float32_gap = 0.0f64;
        let mut right = 0;
        let mut classes_agree = true;
        for i in 0..n {
            let row = &ours[i * k..(i + 1) * k];
            let (theirs, sklearn) = (
                &expected.onnxruntime_probabilities[i],
                &expected.sklearn_probabilities[i],
            );
            for ((&p, &t), &s) in row.iter().zip(theirs).zip(sklearn) {
                gap = gap.max((f64::from(p) - t).abs());
                float32_gap = float32_gap.max((t - s).abs());
            }
            let ours_best = (0..k)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0);
            let theirs = &expected.onnxruntime_probabilities[i];
            let theirs_best = (0..k)
                .max_by(|&a, &b| theirs[a].total_cmp(&theirs[b]))
                .unwrap_or(0);
            classes_agree &= ours_best == theirs_best;
            right += usize::from(ours_best == reference.labels[i]);
        }
        let flipped = (0..n)
            .filter(|&i| {
                (0..k).any(|c| {
                    (f64::from(ours[i * k + c]) - expected.onnxruntime_probabilities[i][c]).abs()
                        > ONNX_TOLERANCE
                })
            })
            .count();
        if name == "forest_scaled" {
            scaled_forest = (gap, flipped);
        } else {
            worst = worst.max(gap);
            compared += 1;
            same_classes &= classes_agree;
        }
        println!(
            "  {name:<13} {:>6} bytes{}: load and optimise {:.1} ms, {n} rows in {:.1} µs; tract vs onnxruntime {gap:.1e}, onnxruntime (float32) vs scikit-learn (float64) {float32_gap:.1e}; accuracy {:.3}",
            std::fs::metadata(&path)?.len(),
            if expected.scaled { ", scaled" } else { "" },
            load.secs() * 1e3,
            infer.secs() * 1e6,
            right as f64 / n as f64
        );
        lesson.metric(format!("{name}_tract_gap"), gap);
        sizes.push((
            match name.as_str() {
                "logistic" => "ONNX logistic",
                "forest" => "ONNX forest",
                "forest_scaled" => "ONNX scaled forest",
                _ => "ONNX MLP",
            },
            std::fs::metadata(&path)?.len() as f64,
            load.secs() * 1e6,
        ));
    }
    lesson.claim(
        "tract's ONNX outputs match onnxruntime's within float32 tolerance",
        worst <= ONNX_TOLERANCE && same_classes && compared == 3,
        format!(
            "{compared} models × {n} birds × {} classes: largest difference {worst:.1e} (tolerance {ONNX_TOLERANCE:.0e}); every predicted class the same",
            reference.classes.len()
        ),
        &[("largest_difference", worst)],
    );
    // The scaled forest is the same trees behind (x − mean) / sd in float32. For some values
    // tract's quotient is one unit in the last place away from onnxruntime's (dividing, or
    // multiplying by the reciprocal, round differently); a tree is a step function, so a value
    // at a split threshold moves the whole tree's vote. Smooth models absorb such a difference,
    // trees do not — and trees need no scaling in the first place. The tree-ensemble operator
    // itself agrees: the unscaled forest above matches to float32 precision.
    println!(
        "  the scaled forest: {} of {n} birds differ by more than {ONNX_TOLERANCE:.0e} (up to {:.3}): whole tree votes moved by float32 rounding in the scaler",
        scaled_forest.1, scaled_forest.0
    );
    lesson.metric("scaled_forest_birds_differing", scaled_forest.1 as f64);

    // The figure: what each format costs on disk and to load.
    figure!(lesson, "formats", plot::SIZE, |root| {
        let panels = root.split_evenly((1, 2));
        let mut size_chart = plot::BarChart::new("Size on disk", "bytes");
        let mut load_chart = plot::BarChart::new(
            "Time to load (ONNX: and optimise)",
            "microseconds, best of runs",
        );
        for (name, bytes, micros) in &sizes {
            size_chart = size_chart.bar(*name, *bytes);
            load_chart = load_chart.bar(*name, *micros);
        }
        size_chart.draw(&panels[0])?;
        load_chart.draw(&panels[1])?;
    })?;

    lesson.finish()?;
    Ok(())
}
