//! The section's small trainer on candle: what Keras' `model.fit` does, written once and reused
//! by the deep-learning lessons.
//!
//! - [`Parameters`]: a model's variables, created through candle-nn's `VarBuilder` but drawn from
//!   a seeded generator (candle's CPU generator cannot be seeded), so that a run is reproducible;
//!   parameter counts and shapes.
//! - [`Split`]: features and integer labels as tensors, with row selection.
//! - [`Classifier`]: a network that maps a batch to class logits, with a training-time forward
//!   pass of its own for layers such as dropout.
//! - [`Trainer`]: mini-batch AdamW on the cross-entropy, shuffled each epoch from its seed, with
//!   per-epoch metrics, an optional validation split and early stopping that restores the best
//!   weights. It never prints: a lesson that wants a progress bar draws it in the callback.

use std::sync::Mutex;

use candle_core::{D, DType, Device, Shape, Tensor, Var};
use candle_nn::init::{FanInOut, Init, NormalOrUniform};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Optimizer, VarBuilder, VarMap};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The errors of the trainer: candle's own, and settings that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    #[error("bad training settings: {0}")]
    Settings(String),
}

/// A model's variables, drawn from a seeded generator.
///
/// candle-nn's layers ask a `VarBuilder` for each weight with an initialisation hint (Kaiming
/// uniform for a linear layer's weight, say); here the hint is honoured with draws from a ChaCha8
/// generator, in the order the model asks for its variables, so that the same seed gives the
/// same network.
pub struct Parameters {
    vars: VarMap,
    rng: Mutex<ChaCha8Rng>,
}

struct SeededBackend<'a> {
    parameters: &'a Parameters,
}

impl SimpleBackend for SeededBackend<'_> {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        init: Init,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        let mut data = self
            .parameters
            .vars
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("the parameter store is poisoned".into()))?;
        if let Some(var) = data.get(name) {
            if var.shape() != &shape {
                candle_core::bail!(
                    "variable {name} exists with shape {:?}, asked for {shape:?}",
                    var.shape()
                );
            }
            return Ok(var.as_tensor().clone());
        }
        let values = {
            let mut rng = self
                .parameters
                .rng
                .lock()
                .map_err(|_| candle_core::Error::Msg("the generator is poisoned".into()))?;
            draw(&shape, init, &mut rng)
        };
        let tensor = Tensor::from_vec(values, shape, device)?.to_dtype(dtype)?;
        let var = Var::from_tensor(&tensor)?;
        data.insert(name.to_string(), var.clone());
        Ok(var.as_tensor().clone())
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _device: &Device,
    ) -> candle_core::Result<Tensor> {
        candle_core::bail!("variable {name} must be created with a shape")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.parameters
            .vars
            .data()
            .lock()
            .is_ok_and(|d| d.contains_key(name))
    }
}

/// Values for a new variable of `shape`, following candle-nn's initialisation hint.
fn draw(shape: &Shape, init: Init, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let n = shape.elem_count();
    let uniform = |lo: f64, up: f64, rng: &mut ChaCha8Rng| -> Vec<f32> {
        (0..n).map(|_| rng.gen_range(lo..up) as f32).collect()
    };
    let normal = |mean: f64, sd: f64, rng: &mut ChaCha8Rng| -> Vec<f32> {
        (0..n)
            .map(|_| (mean + sd * rng.sample::<f64, _>(StandardNormal)) as f32)
            .collect()
    };
    match init {
        Init::Const(value) => vec![value as f32; n],
        Init::Uniform { lo, up } => uniform(lo, up, rng),
        Init::Randn { mean, stdev } => normal(mean, stdev, rng),
        Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => {
            let fan = match fan {
                FanInOut::FanIn => FanInOut::FanIn.for_shape(shape),
                FanInOut::FanOut => FanInOut::FanOut.for_shape(shape),
            };
            let sd = non_linearity.gain() / (fan.max(1) as f64).sqrt();
            match dist {
                NormalOrUniform::Uniform => {
                    let bound = 3f64.sqrt() * sd;
                    uniform(-bound, bound, rng)
                }
                NormalOrUniform::Normal => normal(0.0, sd, rng),
            }
        }
    }
}

/// The values of some variables at one moment, to go back to (early stopping's best epoch).
struct Snapshot {
    values: Vec<(Var, Tensor)>,
}

impl Snapshot {
    /// The variables of `vars` as they are now (copies, not views).
    fn of(vars: &[Var]) -> Result<Snapshot, Error> {
        let values = vars
            .iter()
            .map(|v| Ok((v.clone(), v.as_tensor().copy()?)))
            .collect::<Result<_, Error>>()?;
        Ok(Snapshot { values })
    }

    /// Puts the saved values back.
    fn restore(&self) -> Result<(), Error> {
        for (var, value) in &self.values {
            var.set(value)?;
        }
        Ok(())
    }
}

impl Parameters {
    /// An empty store whose variables will be drawn from `seed`.
    pub fn seeded(seed: u64) -> Parameters {
        Parameters {
            vars: VarMap::new(),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
        }
    }

    /// The builder a candle-nn layer takes (`candle_nn::linear(64, 10, params.builder().pp("out"))`),
    /// creating float32 variables on the CPU.
    pub fn builder(&self) -> VarBuilder<'_> {
        VarBuilder::from_backend(
            Box::new(SeededBackend { parameters: self }),
            DType::F32,
            Device::Cpu,
        )
    }

    /// Every variable, sorted by name.
    pub fn all(&self) -> Vec<Var> {
        self.named(|_| true)
    }

    fn named(&self, keep: impl Fn(&str) -> bool) -> Vec<Var> {
        let Ok(data) = self.vars.data().lock() else {
            return Vec::new();
        };
        let mut named: Vec<(&String, &Var)> = data.iter().filter(|(n, _)| keep(n)).collect();
        named.sort_by(|a, b| a.0.cmp(b.0));
        named.into_iter().map(|(_, v)| v.clone()).collect()
    }

    /// Each variable's name and shape, sorted by name (Keras' `model.summary()`).
    pub fn shapes(&self) -> Vec<(String, Vec<usize>)> {
        let Ok(data) = self.vars.data().lock() else {
            return Vec::new();
        };
        let mut shapes: Vec<(String, Vec<usize>)> = data
            .iter()
            .map(|(name, var)| (name.clone(), var.dims().to_vec()))
            .collect();
        shapes.sort();
        shapes
    }

    /// The number of trainable numbers.
    pub fn count(&self) -> usize {
        self.all().iter().map(|v| v.elem_count()).sum()
    }
}

/// Features and labels as tensors: `x` with the rows first, `y` as u32 class indices — one per
/// row, or one per position of a row for a sequence-labelling task (`y` of shape rows ×
/// positions, with the model's logits rows × positions × classes).
#[derive(Clone)]
pub struct Split {
    x: Tensor,
    y: Tensor,
}

impl Split {
    /// A split from a feature tensor and a label tensor with as many rows.
    pub fn new(x: Tensor, y: Tensor) -> Result<Split, Error> {
        let (rows, labels) = (x.dim(0)?, y.dim(0)?);
        if rows != labels {
            return Err(Error::Settings(format!(
                "{rows} rows of features against labels of shape {:?}",
                y.dims()
            )));
        }
        Ok(Split {
            x,
            y: y.to_dtype(DType::U32)?,
        })
    }

    /// A split from float64 rows and class indices (the shape of the workbook's data sets),
    /// converted to float32.
    pub fn from_rows(x: &ndarray::Array2<f64>, y: &[usize]) -> Result<Split, Error> {
        let values: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let x = Tensor::from_vec(values, x.dim(), &Device::Cpu)?;
        let labels: Vec<u32> = y.iter().map(|&c| c as u32).collect();
        let y = Tensor::from_vec(labels, y.len(), &Device::Cpu)?;
        Split::new(x, y)
    }

    /// The features.
    pub fn x(&self) -> &Tensor {
        &self.x
    }

    /// The labels (u32).
    pub fn y(&self) -> &Tensor {
        &self.y
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.y.dims().first().copied().unwrap_or(0)
    }

    /// Whether the split has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The labels as class indices, row after row.
    pub fn labels(&self) -> Result<Vec<usize>, Error> {
        Ok(self
            .y
            .flatten_all()?
            .to_vec1::<u32>()?
            .into_iter()
            .map(|c| c as usize)
            .collect())
    }

    /// The rows at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Result<Split, Error> {
        let index: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
        let index = Tensor::from_vec(index, rows.len(), self.x.device())?;
        Ok(Split {
            x: self.x.index_select(&index, 0)?,
            y: self.y.index_select(&index, 0)?,
        })
    }

    /// The same labels with features `x` (a transformed copy of these rows).
    pub fn with_features(&self, x: Tensor) -> Result<Split, Error> {
        Split::new(x, self.y.clone())
    }

    /// The same rows with labels `y` (a relabelled copy).
    pub fn with_labels(&self, y: Tensor) -> Result<Split, Error> {
        Split::new(self.x.clone(), y)
    }

    /// The rows of both splits, this one's first.
    pub fn concat(&self, other: &Split) -> Result<Split, Error> {
        Ok(Split {
            x: Tensor::cat(&[&self.x, &other.x], 0)?,
            y: Tensor::cat(&[&self.y, &other.y], 0)?,
        })
    }
}

/// A network that turns a batch of inputs into one logit per class.
pub trait Classifier {
    /// The logits at evaluation time.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor>;

    /// The logits while training: the same as [`Classifier::forward`] unless a layer behaves
    /// differently then (dropout draws its masks from `rng`).
    fn forward_train(&self, x: &Tensor, rng: &mut ChaCha8Rng) -> candle_core::Result<Tensor> {
        let _ = rng;
        self.forward(x)
    }
}

/// Loss and accuracy of one pass over a split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    loss: f64,
    accuracy: f64,
}

impl Score {
    /// The mean cross-entropy.
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// The share of labelled rows (or positions) whose largest logit is the true class.
    pub fn accuracy(&self) -> f64 {
        self.accuracy
    }

    /// The share of rows misclassified.
    pub fn error(&self) -> f64 {
        1.0 - self.accuracy
    }
}

const EVALUATION_BATCH: usize = 1024;

/// The loss and the number of correct predictions of one batch: logits and labels flattened so
/// that every labelled position counts once (one per row for classification, one per token for
/// sequence labelling).
fn batch_loss(logits: &Tensor, y: &Tensor) -> Result<(Tensor, f64, usize), Error> {
    let classes = logits.dim(D::Minus1)?;
    let logits = logits.reshape(((), classes))?;
    let y = y.flatten_all()?;
    let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
    let correct = logits
        .argmax(D::Minus1)?
        .eq(&y)?
        .to_dtype(DType::F32)?
        .sum_all()?
        .to_scalar::<f32>()?;
    Ok((loss, f64::from(correct), y.elem_count()))
}

/// Mean cross-entropy and accuracy of the model on a split.
pub fn evaluate(model: &impl Classifier, split: &Split) -> Result<Score, Error> {
    let n = split.len();
    if n == 0 {
        return Err(Error::Settings("cannot score an empty split".into()));
    }
    let (mut loss, mut correct, mut labelled) = (0.0, 0.0, 0usize);
    for start in (0..n).step_by(EVALUATION_BATCH) {
        let size = EVALUATION_BATCH.min(n - start);
        let x = split.x.narrow(0, start, size)?;
        let y = split.y.narrow(0, start, size)?;
        let (batch, hits, count) = batch_loss(&model.forward(&x)?, &y)?;
        loss += f64::from(batch.to_scalar::<f32>()?) * count as f64;
        correct += hits;
        labelled += count;
    }
    Ok(Score {
        loss: loss / labelled as f64,
        accuracy: correct / labelled as f64,
    })
}

/// What one epoch measured: the mean training loss and accuracy over its batches (as Keras
/// reports them, while the weights move), and the validation score at its end when there is a
/// validation split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epoch {
    number: usize,
    train: Score,
    validation: Option<Score>,
}

impl Epoch {
    /// The epoch's number, from 1.
    pub fn number(&self) -> usize {
        self.number
    }

    /// The training loss and accuracy, averaged over the epoch's batches.
    pub fn train(&self) -> Score {
        self.train
    }

    /// The validation score after the epoch, when the fit had a validation split.
    pub fn validation(&self) -> Option<Score> {
        self.validation
    }
}

/// The epochs of one fit and, with early stopping, the epoch whose weights were kept.
#[derive(Debug, Clone)]
pub struct History {
    epochs: Vec<Epoch>,
    restored_epoch: Option<usize>,
}

impl History {
    /// Every epoch run, in order.
    pub fn epochs(&self) -> &[Epoch] {
        &self.epochs
    }

    /// The epoch whose weights early stopping put back (the lowest validation loss), if early
    /// stopping was on.
    pub fn restored_epoch(&self) -> Option<usize> {
        self.restored_epoch
    }

    /// (epoch, training loss) points.
    pub fn train_losses(&self) -> Vec<(f64, f64)> {
        self.epochs
            .iter()
            .map(|e| (e.number as f64, e.train.loss))
            .collect()
    }

    /// (epoch, validation loss) points, for the epochs that had one.
    pub fn validation_losses(&self) -> Vec<(f64, f64)> {
        self.epochs
            .iter()
            .filter_map(|e| e.validation.map(|v| (e.number as f64, v.loss)))
            .collect()
    }
}

/// Mini-batch training with AdamW on the cross-entropy (Keras' `compile` + `fit`).
#[derive(Debug, Clone)]
pub struct Trainer {
    epochs: usize,
    batch_size: usize,
    learning_rate: f64,
    weight_decay: f64,
    patience: Option<usize>,
    seed: u64,
}

impl Trainer {
    /// At most `epochs` passes over the data, batches of 32, learning rate 1e-3, no weight decay,
    /// no early stopping, shuffled from `seed`.
    pub fn new(epochs: usize, seed: u64) -> Trainer {
        Trainer {
            epochs,
            batch_size: 32,
            learning_rate: 1e-3,
            weight_decay: 0.0,
            patience: None,
            seed,
        }
    }

    /// Rows per gradient step.
    pub fn batch_size(mut self, rows: usize) -> Trainer {
        self.batch_size = rows;
        self
    }

    /// AdamW's step size.
    pub fn learning_rate(mut self, rate: f64) -> Trainer {
        self.learning_rate = rate;
        self
    }

    /// AdamW's decoupled weight decay (each step shrinks every weight by `rate × decay`).
    pub fn weight_decay(mut self, decay: f64) -> Trainer {
        self.weight_decay = decay;
        self
    }

    /// Stop when the validation loss has not improved for `epochs` epochs, and put back the
    /// weights of the best epoch (Keras' `EarlyStopping(patience, restore_best_weights=True)`).
    /// Needs a validation split: see [`Trainer::fit_validated`].
    pub fn early_stopping(mut self, epochs: usize) -> Trainer {
        self.patience = Some(epochs);
        self
    }

    /// Trains the variables `vars` of `model` on `train`, calling `on_epoch` after each epoch.
    pub fn fit(
        &self,
        model: &impl Classifier,
        vars: Vec<Var>,
        train: &Split,
        on_epoch: impl FnMut(&Epoch),
    ) -> Result<History, Error> {
        if self.patience.is_some() {
            return Err(Error::Settings(
                "early stopping watches a validation split: use fit_validated".into(),
            ));
        }
        self.run(model, vars, train, None, on_epoch)
    }

    /// Trains as [`Trainer::fit`] does and scores `validation` after every epoch; with early
    /// stopping on, stops when it stops improving and restores the best weights.
    pub fn fit_validated(
        &self,
        model: &impl Classifier,
        vars: Vec<Var>,
        train: &Split,
        validation: &Split,
        on_epoch: impl FnMut(&Epoch),
    ) -> Result<History, Error> {
        self.run(model, vars, train, Some(validation), on_epoch)
    }

    fn run(
        &self,
        model: &impl Classifier,
        vars: Vec<Var>,
        train: &Split,
        validation: Option<&Split>,
        mut on_epoch: impl FnMut(&Epoch),
    ) -> Result<History, Error> {
        if self.batch_size == 0 || train.is_empty() || vars.is_empty() {
            return Err(Error::Settings(format!(
                "batch size {}, {} training rows, {} variables: nothing to train",
                self.batch_size,
                train.len(),
                vars.len()
            )));
        }
        let mut optimiser = candle_nn::AdamW::new(
            vars.clone(),
            candle_nn::ParamsAdamW {
                lr: self.learning_rate,
                weight_decay: self.weight_decay,
                ..Default::default()
            },
        )?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut order: Vec<u32> = (0..train.len() as u32).collect();
        let mut epochs = Vec::new();
        let mut best: Option<(f64, usize, Snapshot)> = None;
        for number in 1..=self.epochs {
            order.shuffle(&mut rng);
            let (mut loss_sum, mut correct, mut seen) = (0.0, 0.0, 0usize);
            for chunk in order.chunks(self.batch_size) {
                let index = Tensor::from_slice(chunk, chunk.len(), train.x.device())?;
                let x = train.x.index_select(&index, 0)?;
                let y = train.y.index_select(&index, 0)?;
                let logits = model.forward_train(&x, &mut rng)?;
                let (loss, hits, count) = batch_loss(&logits, &y)?;
                optimiser.backward_step(&loss)?;
                loss_sum += f64::from(loss.to_scalar::<f32>()?) * count as f64;
                correct += hits;
                seen += count;
            }
            let validation_score = validation.map(|v| evaluate(model, v)).transpose()?;
            let epoch = Epoch {
                number,
                train: Score {
                    loss: loss_sum / seen as f64,
                    accuracy: correct / seen as f64,
                },
                validation: validation_score,
            };
            on_epoch(&epoch);
            epochs.push(epoch);
            if let (Some(patience), Some(score)) = (self.patience, validation_score) {
                let improved = best.as_ref().is_none_or(|(loss, _, _)| score.loss < *loss);
                if improved {
                    best = Some((score.loss, number, Snapshot::of(&vars)?));
                } else if best
                    .as_ref()
                    .is_some_and(|(_, at, _)| number - at >= patience)
                {
                    break;
                }
            }
        }
        let restored_epoch = match best {
            Some((_, at, snapshot)) => {
                snapshot.restore()?;
                Some(at)
            }
            None => None,
        };
        Ok(History {
            epochs,
            restored_epoch,
        })
    }
}
