//! A small workflow runner, the system behind `pipeline_orchestration`: a DAG of named tasks run
//! in dependency order, each attempt recorded in a SQLite database, transient failures retried
//! with exponential back-off, every output written atomically, and a run that was killed resumed
//! where it stopped.
//!
//! What it keeps in SQLite is the whole truth about a run: one row per attempt (task, attempt
//! number, state, start and end in microseconds, the error, the output's digest, the process).
//! A resumed run reads it to skip every task whose success is recorded and whose output is still
//! there with the recorded digest; an attempt left `running` by a process that is gone is marked
//! `interrupted` and tried again. At scale the same ideas run in Airflow, Dagster or Argo, with
//! a scheduler, many workers and leases instead of one process.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

/// Why a run, or setting it up, failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the pipeline's state database: {0}")]
    State(#[from] rusqlite::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("task {task} needs {missing}, which is not a task of the pipeline")]
    UnknownDependency { task: String, missing: String },
    #[error("the tasks {0} depend on each other in a cycle")]
    Cycle(String),
    #[error("two tasks are called {0}")]
    DuplicateTask(String),
    #[error("task {task} failed after {attempts} attempt(s): {message}")]
    TaskFailed {
        task: String,
        attempts: u32,
        message: String,
    },
}

/// How a task's attempt failed: a transient failure (a timeout, a source that is briefly
/// unavailable) is retried; a permanent one (bad data) is not, since trying again would fail
/// the same way.
#[derive(Debug)]
pub enum TaskError {
    Transient(String),
    Permanent(String),
}

impl<E: std::fmt::Display> From<E> for TaskError {
    /// Errors of the code inside a task (polars, I/O) are permanent unless the task says not.
    fn from(error: E) -> TaskError {
        TaskError::Permanent(error.to_string())
    }
}

/// What a task is given: where its inputs are (the outputs of the tasks it needs, by name) and
/// where to write its own output. The runner moves that file into place only when the task
/// succeeds, so a task killed half-way never leaves half an output behind.
pub struct TaskContext<'a> {
    workdir: &'a Path,
    output: PathBuf,
}

impl TaskContext<'_> {
    /// The output file of an upstream task.
    pub fn input(&self, file: &str) -> PathBuf {
        self.workdir.join(file)
    }

    /// Where this attempt writes its output (a temporary name beside the final one).
    pub fn output(&self) -> &Path {
        &self.output
    }
}

/// The body of a task.
pub type TaskFn = fn(&TaskContext) -> Result<(), TaskError>;

/// One task of a pipeline: its name, the tasks it needs, the file it produces, and its code.
pub struct Task {
    name: &'static str,
    needs: &'static [&'static str],
    output: &'static str,
    run: TaskFn,
}

impl Task {
    pub fn new(
        name: &'static str,
        needs: &'static [&'static str],
        output: &'static str,
        run: TaskFn,
    ) -> Task {
        Task {
            name,
            needs,
            output,
            run,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn needs(&self) -> &'static [&'static str] {
        self.needs
    }

    pub fn output(&self) -> &'static str {
        self.output
    }
}

/// A DAG of tasks, checked when it is built: every dependency names a task, no name repeats, and
/// there is no cycle.
pub struct Pipeline {
    tasks: Vec<Task>,
    order: Vec<usize>,
}

impl Pipeline {
    pub fn new(tasks: Vec<Task>) -> Result<Pipeline, Error> {
        let mut names = BTreeSet::new();
        for task in &tasks {
            if !names.insert(task.name) {
                return Err(Error::DuplicateTask(task.name.to_string()));
            }
        }
        for task in &tasks {
            if let Some(missing) = task.needs.iter().find(|n| !names.contains(*n)) {
                return Err(Error::UnknownDependency {
                    task: task.name.to_string(),
                    missing: missing.to_string(),
                });
            }
        }
        // Kahn's algorithm: repeatedly take the first task (in declaration order) whose needs
        // are all placed. Tasks never placed are on a cycle or downstream of one.
        let mut order = Vec::with_capacity(tasks.len());
        let mut placed = BTreeSet::new();
        while order.len() < tasks.len() {
            let next = (0..tasks.len()).find(|&i| {
                !placed.contains(tasks[i].name) && tasks[i].needs.iter().all(|n| placed.contains(n))
            });
            match next {
                Some(i) => {
                    placed.insert(tasks[i].name);
                    order.push(i);
                }
                None => {
                    let stuck: Vec<&str> = tasks
                        .iter()
                        .map(|t| t.name)
                        .filter(|n| !placed.contains(n))
                        .collect();
                    return Err(Error::Cycle(stuck.join(", ")));
                }
            }
        }
        Ok(Pipeline { tasks, order })
    }

    /// The tasks as declared.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The names of the tasks in the order the runner runs them: each after everything it needs.
    pub fn run_order(&self) -> Vec<&'static str> {
        self.order.iter().map(|&i| self.tasks[i].name).collect()
    }
}

/// How often and how patiently to retry a transient failure: attempt k + 1 starts
/// `first_wait × factor^(k − 1)` after attempt k failed.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    max_attempts: u32,
    first_wait: Duration,
    factor: f64,
}

impl RetryPolicy {
    pub fn new(max_attempts: u32, first_wait: Duration, factor: f64) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            first_wait,
            factor,
        }
    }

    /// The wait after failed attempt `attempt` (1-based).
    pub fn wait_after(&self, attempt: u32) -> Duration {
        self.first_wait
            .mul_f64(self.factor.powi(attempt.saturating_sub(1) as i32))
    }
}

/// Failures to inject, to see the runner's answer to them: the first `n` attempts of a task
/// fail as if its source were unreachable, or a task never ends after writing its output (a hung
/// or dying worker, to be killed from outside).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    transient: BTreeMap<String, u32>,
    hang_in: Option<String>,
}

impl Faults {
    pub fn none() -> Faults {
        Faults::default()
    }

    /// The first `attempts` attempts of `task` fail with a transient error.
    pub fn failing_first(mut self, task: &str, attempts: u32) -> Faults {
        self.transient.insert(task.to_string(), attempts);
        self
    }

    /// `task` writes its output under the temporary name, then never finishes.
    pub fn hanging_in(mut self, task: &str) -> Faults {
        self.hang_in = Some(task.to_string());
        self
    }
}

/// One recorded attempt, as the state database holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub task: String,
    pub attempt: u32,
    pub state: String,
    pub started_us: i64,
    pub finished_us: Option<i64>,
    pub digest: Option<String>,
    pub pid: u32,
}

/// What one call of [`Runner::run`] did.
#[derive(Debug, Default)]
pub struct RunSummary {
    /// Tasks run to success now, in order.
    pub ran: Vec<String>,
    /// Tasks skipped because a success and its output were already recorded.
    pub skipped: Vec<String>,
    /// Attempts found `running` from a process that is gone, now marked `interrupted`.
    pub interrupted: usize,
}

/// Runs a pipeline in a work directory, keeping its state in a SQLite database.
pub struct Runner<'p> {
    pipeline: &'p Pipeline,
    workdir: PathBuf,
    state: Connection,
    retry: RetryPolicy,
    faults: Faults,
}

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    CREATE TABLE IF NOT EXISTS attempts (
        run_id      TEXT    NOT NULL,
        task        TEXT    NOT NULL,
        attempt     INTEGER NOT NULL,
        state       TEXT    NOT NULL CHECK (state IN ('running', 'success', 'failed', 'interrupted')),
        started_us  INTEGER NOT NULL,
        finished_us INTEGER,
        error       TEXT,
        digest      TEXT,
        pid         INTEGER NOT NULL,
        PRIMARY KEY (run_id, task, attempt)
    );";

/// Opens (and if needed creates) a state database; readers and the runner may share it, since
/// it is in WAL mode.
pub fn open_state(path: &Path) -> Result<Connection, Error> {
    let db = Connection::open(path)?;
    db.busy_timeout(Duration::from_secs(5))?;
    db.execute_batch(SCHEMA)?;
    Ok(db)
}

/// Every attempt recorded for `run_id`, by start time.
pub fn attempts(state: &Connection, run_id: &str) -> Result<Vec<Attempt>, Error> {
    let mut query = state.prepare(
        "SELECT task, attempt, state, started_us, finished_us, digest, pid FROM attempts
         WHERE run_id = ?1 ORDER BY started_us, task",
    )?;
    let rows = query.query_map([run_id], |r| {
        Ok(Attempt {
            task: r.get(0)?,
            attempt: r.get(1)?,
            state: r.get(2)?,
            started_us: r.get(3)?,
            finished_us: r.get(4)?,
            digest: r.get(5)?,
            pid: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The blake3 digest of a file, in hex.
pub fn file_digest(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl<'p> Runner<'p> {
    pub fn new(
        pipeline: &'p Pipeline,
        workdir: &Path,
        state_path: &Path,
        retry: RetryPolicy,
        faults: Faults,
    ) -> Result<Runner<'p>, Error> {
        std::fs::create_dir_all(workdir).map_err(|source| Error::Io {
            path: workdir.to_path_buf(),
            source,
        })?;
        Ok(Runner {
            pipeline,
            workdir: workdir.to_path_buf(),
            state: open_state(state_path)?,
            retry,
            faults,
        })
    }

    /// Runs (or resumes) run `run_id` to the end: every task whose success is recorded and whose
    /// output still has the recorded digest is skipped; the others run in dependency order.
    /// This process must be the only one running `run_id`: an attempt still marked `running`
    /// belongs to a process that is gone, and is marked `interrupted`.
    pub fn run(&mut self, run_id: &str) -> Result<RunSummary, Error> {
        let mut summary = RunSummary {
            interrupted: self.state.execute(
                "UPDATE attempts SET state = 'interrupted', finished_us = ?2
                 WHERE run_id = ?1 AND state = 'running'",
                params![run_id, now_us()],
            )?,
            ..RunSummary::default()
        };
        for &i in &self.pipeline.order {
            let task = &self.pipeline.tasks[i];
            if self.finished_before(run_id, task)? {
                summary.skipped.push(task.name.to_string());
                continue;
            }
            self.run_task(run_id, task)?;
            summary.ran.push(task.name.to_string());
        }
        Ok(summary)
    }

    /// Whether `task` succeeded earlier in this run and its output is still what it wrote.
    fn finished_before(&self, run_id: &str, task: &Task) -> Result<bool, Error> {
        let recorded: Option<String> = self
            .state
            .query_row(
                "SELECT digest FROM attempts WHERE run_id = ?1 AND task = ?2 AND state = 'success'
                 ORDER BY attempt DESC LIMIT 1",
                params![run_id, task.name],
                |r| r.get(0),
            )
            .optional()?;
        let output = self.workdir.join(task.output);
        Ok(match recorded {
            Some(digest) if output.exists() => file_digest(&output)? == digest,
            _ => false,
        })
    }

    /// Runs one task, retrying transient failures with back-off, until it succeeds or fails for
    /// good.
    fn run_task(&mut self, run_id: &str, task: &Task) -> Result<(), Error> {
        let output = self.workdir.join(task.output);
        let partial = self.workdir.join(format!("{}.partial", task.output));
        loop {
            let attempt: u32 = self.state.query_row(
                "SELECT COALESCE(MAX(attempt), 0) + 1 FROM attempts WHERE run_id = ?1 AND task = ?2",
                params![run_id, task.name],
                |r| r.get(0),
            )?;
            self.state.execute(
                "INSERT INTO attempts (run_id, task, attempt, state, started_us, pid)
                 VALUES (?1, ?2, ?3, 'running', ?4, ?5)",
                params![run_id, task.name, attempt, now_us(), std::process::id()],
            )?;
            let result = self.attempt(task, attempt, &partial);
            let finish = |state: &str, error: Option<&str>, digest: Option<&str>| {
                self.state.execute(
                    "UPDATE attempts SET state = ?4, finished_us = ?5, error = ?6, digest = ?7
                     WHERE run_id = ?1 AND task = ?2 AND attempt = ?3",
                    params![run_id, task.name, attempt, state, now_us(), error, digest],
                )
            };
            let message = match result {
                Ok(()) => {
                    // The output appears under its final name in one step, or not at all.
                    std::fs::rename(&partial, &output).map_err(|source| Error::Io {
                        path: output.clone(),
                        source,
                    })?;
                    let digest = file_digest(&output)?;
                    finish("success", None, Some(&digest))?;
                    return Ok(());
                }
                Err(TaskError::Transient(message)) if attempt < self.retry.max_attempts => {
                    finish("failed", Some(&message), None)?;
                    std::thread::sleep(self.retry.wait_after(attempt));
                    continue;
                }
                Err(TaskError::Transient(message) | TaskError::Permanent(message)) => message,
            };
            finish("failed", Some(&message), None)?;
            return Err(Error::TaskFailed {
                task: task.name.to_string(),
                attempts: attempt,
                message,
            });
        }
    }

    /// One attempt of `task`, with the injected faults applied.
    fn attempt(&self, task: &Task, attempt: u32, partial: &Path) -> Result<(), TaskError> {
        if self
            .faults
            .transient
            .get(task.name)
            .is_some_and(|&n| attempt <= n)
        {
            return Err(TaskError::Transient(format!(
                "injected: the source of {} did not answer (attempt {attempt})",
                task.name
            )));
        }
        (task.run)(&TaskContext {
            workdir: &self.workdir,
            output: partial.to_path_buf(),
        })?;
        if self.faults.hang_in.as_deref() == Some(task.name) {
            // A worker that stops after writing its output under the temporary name and before
            // moving it into place; the process is killed from outside. The bound only keeps an
            // orphan from living forever.
            std::thread::sleep(Duration::from_secs(120));
            return Err(TaskError::Permanent("hung".to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_ok(ctx: &TaskContext) -> Result<(), TaskError> {
        std::fs::write(ctx.output(), b"ok")?;
        Ok(())
    }

    fn always_broken(_: &TaskContext) -> Result<(), TaskError> {
        Err(TaskError::Permanent("bad data".to_string()))
    }

    /// A fresh folder under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "orchestrator-{name}-{}-{}",
            std::process::id(),
            now_us()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn quick_retry() -> RetryPolicy {
        RetryPolicy::new(3, Duration::from_millis(1), 2.0)
    }

    #[test]
    fn a_pipeline_is_checked_and_ordered_by_its_dependencies() {
        let pipeline = Pipeline::new(vec![
            Task::new("c", &["b"], "c", write_ok),
            Task::new("b", &["a"], "b", write_ok),
            Task::new("a", &[], "a", write_ok),
        ])
        .unwrap();
        assert_eq!(pipeline.run_order(), ["a", "b", "c"]);
        let cycle = Pipeline::new(vec![
            Task::new("a", &["b"], "a", write_ok),
            Task::new("b", &["a"], "b", write_ok),
            Task::new("c", &[], "c", write_ok),
        ]);
        assert!(matches!(cycle, Err(Error::Cycle(names)) if names == "a, b"));
        let unknown = Pipeline::new(vec![Task::new("a", &["z"], "a", write_ok)]);
        assert!(matches!(unknown, Err(Error::UnknownDependency { .. })));
        let twice = Pipeline::new(vec![
            Task::new("a", &[], "a", write_ok),
            Task::new("a", &[], "b", write_ok),
        ]);
        assert!(matches!(twice, Err(Error::DuplicateTask(name)) if name == "a"));
    }

    #[test]
    fn back_off_doubles() {
        let policy = RetryPolicy::new(5, Duration::from_millis(20), 2.0);
        let waits: Vec<u128> = (1..=4).map(|k| policy.wait_after(k).as_millis()).collect();
        assert_eq!(waits, [20, 40, 80, 160]);
    }

    #[test]
    fn transient_failures_are_retried_and_permanent_ones_are_not() {
        let dir = scratch("retry");
        let pipeline = Pipeline::new(vec![
            Task::new("flaky", &[], "flaky", write_ok),
            Task::new("broken", &["flaky"], "broken", always_broken),
        ])
        .unwrap();
        let faults = Faults::none().failing_first("flaky", 2);
        let state_path = dir.join("state.sqlite");
        let mut runner = Runner::new(
            &pipeline,
            &dir.join("out"),
            &state_path,
            quick_retry(),
            faults,
        )
        .unwrap();
        let failed = runner.run("r").unwrap_err();
        assert!(
            matches!(failed, Error::TaskFailed { ref task, attempts: 1, .. } if task == "broken")
        );
        let log = attempts(&open_state(&state_path).unwrap(), "r").unwrap();
        let states: Vec<(&str, &str)> = log
            .iter()
            .map(|a| (a.task.as_str(), a.state.as_str()))
            .collect();
        assert_eq!(
            states,
            [
                ("flaky", "failed"),
                ("flaky", "failed"),
                ("flaky", "success"),
                ("broken", "failed")
            ]
        );
        assert!(!dir.join("out").join("broken").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_resumed_run_skips_finished_tasks_unless_their_output_changed() {
        let dir = scratch("resume");
        let pipeline = Pipeline::new(vec![
            Task::new("a", &[], "a.txt", write_ok),
            Task::new("b", &["a"], "b.txt", write_ok),
        ])
        .unwrap();
        let (out, state_path) = (dir.join("out"), dir.join("state.sqlite"));
        let mut runner =
            Runner::new(&pipeline, &out, &state_path, quick_retry(), Faults::none()).unwrap();
        assert_eq!(runner.run("r").unwrap().ran, ["a", "b"]);
        let again = runner.run("r").unwrap();
        assert!(again.ran.is_empty());
        assert_eq!(again.skipped, ["a", "b"]);
        // An output edited behind the runner's back no longer matches its digest: that task
        // runs again (and, being idempotent, writes the same bytes).
        std::fs::write(out.join("b.txt"), b"edited").unwrap();
        assert_eq!(runner.run("r").unwrap().ran, ["b"]);
        assert_eq!(std::fs::read(out.join("b.txt")).unwrap(), b"ok");
        // An attempt left running by a process that is gone is marked interrupted.
        open_state(&state_path)
            .unwrap()
            .execute(
                "INSERT INTO attempts (run_id, task, attempt, state, started_us, pid)
                 VALUES ('r', 'b', 99, 'running', 0, 1)",
                [],
            )
            .unwrap();
        assert_eq!(runner.run("r").unwrap().interrupted, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
