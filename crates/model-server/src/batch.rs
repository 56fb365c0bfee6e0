//! Dynamic batching: requests that arrive together are answered by one call of the model.
//!
//! Each request sends its rows to one batching task and waits for its answer. The task takes the
//! first waiting request, then gathers more until it holds `max_rows` rows or `max_wait` has
//! passed since the first, runs the model once on all their rows and hands each request its own
//! slice. A batch never mixes model versions: a request for another version than the batch's
//! (a swap happened meanwhile) closes the batch and starts the next one.

use std::sync::Arc;
use std::time::Duration;

use ndarray::{Array2, Axis, s};
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;
use crate::store::ServedModel;

type Answer = Result<Array2<f64>, toolkit::Error>;

struct Job {
    model: Arc<ServedModel>,
    rows: Array2<f64>,
    reply: oneshot::Sender<Answer>,
}

/// The handle requests use; the task ends when every handle is dropped.
#[derive(Clone)]
pub(crate) struct Batcher {
    jobs: mpsc::Sender<Job>,
}

impl Batcher {
    /// Starts the batching task on the current tokio runtime.
    pub(crate) fn start(max_rows: usize, max_wait: Duration, metrics: Arc<Metrics>) -> Batcher {
        let (jobs, queue) = mpsc::channel(4096);
        tokio::spawn(run(queue, max_rows.max(1), max_wait, metrics));
        Batcher { jobs }
    }

    /// The class probabilities of `rows` under `model`, computed in some batch.
    pub(crate) async fn probabilities(&self, model: Arc<ServedModel>, rows: Array2<f64>) -> Answer {
        let (reply, answer) = oneshot::channel();
        let job = Job { model, rows, reply };
        if self.jobs.send(job).await.is_err() {
            return Err(toolkit::Error::Model(
                "the batching task has stopped".into(),
            ));
        }
        answer.await.unwrap_or_else(|_| {
            Err(toolkit::Error::Model(
                "the batching task has stopped".into(),
            ))
        })
    }
}

async fn run(
    mut queue: mpsc::Receiver<Job>,
    max_rows: usize,
    max_wait: Duration,
    metrics: Arc<Metrics>,
) {
    let mut carried: Option<Job> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match queue.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let deadline = tokio::time::Instant::now() + max_wait;
        let mut rows = first.rows.nrows();
        let mut batch = vec![first];
        while rows < max_rows {
            match tokio::time::timeout_at(deadline, queue.recv()).await {
                Ok(Some(job)) if Arc::ptr_eq(&job.model, &batch[0].model) => {
                    rows += job.rows.nrows();
                    batch.push(job);
                }
                Ok(Some(job)) => {
                    carried = Some(job);
                    break;
                }
                Ok(None) | Err(_) => break,
            }
        }
        answer(batch, rows, &metrics);
    }
}

/// Runs the model once on the batch's rows and sends each request its slice.
fn answer(batch: Vec<Job>, rows: usize, metrics: &Metrics) {
    let model = Arc::clone(&batch[0].model);
    metrics.record_batch(rows);
    let views: Vec<_> = batch.iter().map(|job| job.rows.view()).collect();
    let result = ndarray::concatenate(Axis(0), &views)
        .map_err(|e| toolkit::Error::Schema(e.to_string()))
        .and_then(|all| model.artefact().probabilities(&all));
    let mut at = 0;
    for job in batch {
        let n = job.rows.nrows();
        let mine = match &result {
            Ok(all) => Ok(all.slice(s![at..at + n, ..]).to_owned()),
            Err(e) => Err(e.clone()),
        };
        at += n;
        // A request whose client went away no longer waits for its answer.
        let _ = job.reply.send(mine);
    }
}
