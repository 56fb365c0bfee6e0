//! Every ready lesson, run once in quick mode: one named test per lesson, listed from the
//! catalogue at run time (a lesson is added by writing it and marking its entry ready). Each test
//! checks the lesson's exit status, that every claim held with its evidence, that it produced
//! exactly the artefact kinds its catalogue entry lists, and that it left no process behind.
//!
//! `cargo test --test lessons -- broadcasting` runs one lesson.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use catalogue::{ArtefactKind, Catalogue, Prediction, Report};
use libtest_mimic::{Arguments, Failed, Trial};

/// Lessons time things, so they run one at a time even though the runner has several threads;
/// otherwise two lessons would share the two cores and skew each other's ratios.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn main() {
    let arguments = Arguments::from_args();
    let catalogue = match Catalogue::load() {
        Ok(catalogue) => catalogue,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let trials = catalogue
        .ready_sites()
        .into_iter()
        .map(|site| {
            let name = site.name.to_string();
            let artefacts: BTreeSet<ArtefactKind> = site.artefacts.iter().copied().collect();
            let predictions = catalogue
                .find(&name)
                .map(|owner| owner.predictions.clone())
                .unwrap_or_default();
            Trial::test(name.clone(), move || {
                run_and_check(&name, &artefacts, &predictions)
            })
        })
        .collect();
    libtest_mimic::run(&arguments, trials).exit();
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_workbook"))
        .parent()
        .expect("the binary has a folder")
        .join("examples")
}

fn run_and_check(
    lesson: &str,
    expected: &BTreeSet<ArtefactKind>,
    predictions: &[Prediction],
) -> Result<(), Failed> {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("lessons")
        .join(lesson);
    let _ = std::fs::remove_dir_all(&out);
    let binary = examples_dir().join(lesson);
    if !binary.is_file() {
        return Err(format!(
            "{} is not built: run `cargo test` at the workspace root, which builds every lesson",
            binary.display()
        )
        .into());
    }
    let mut command = Command::new(&binary);
    command
        .args(["--quick", "--seed", "42", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // The lesson leads a process group of its own, so that anything it leaves running can be found.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command
        .spawn()
        .map_err(|e| format!("{lesson} does not start: {e}"))?;
    let group = child.id();
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let leftover = processes_left_in_group(group);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "{lesson} exited with {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            output.status
        )
        .into());
    }
    if leftover {
        return Err(format!("{lesson} left a process running in its group").into());
    }

    let report = Report::read(&out.join("report.json")).map_err(|e| e.to_string())?;
    check(report.lesson == lesson, "the report names another lesson")?;
    check(report.quick, "the report does not record quick mode")?;
    check(report.seed == 42, "the report does not record the seed")?;
    check(!report.claims.is_empty(), "the lesson checks no claims")?;
    for claim in &report.claims {
        check(claim.holds, &format!("claim failed: {claim}"))?;
        check(
            !claim.evidence.trim().is_empty(),
            &format!("claim without evidence: {}", claim.claim),
        )?;
    }
    let produced: BTreeSet<ArtefactKind> = report.artefacts.iter().map(|a| a.kind).collect();
    check(
        &produced == expected,
        &format!("artefact kinds {produced:?}, but the catalogue lists {expected:?}"),
    )?;
    for artefact in &report.artefacts {
        if artefact.kind != ArtefactKind::Endpoint {
            let path = out.join(&artefact.location);
            check(
                path.metadata().is_ok_and(|m| m.len() > 0),
                &format!("artefact {} is missing or empty", path.display()),
            )?;
        }
    }
    let figures = report.artefacts_of(ArtefactKind::Figure).count();
    check(figures % 2 == 0, "every figure comes as a PNG and an SVG")?;
    // The quiz's predict-then-reveal questions read numbers from this report: each must be there.
    for prediction in predictions {
        prediction
            .measured(&report)
            .map_err(|e| format!("quiz prediction {:?}: {e}", prediction.question))?;
    }
    eprintln!(
        "{lesson}: {} claims held in {:.2} s",
        report.claims.len(),
        report.duration_s
    );
    Ok(())
}

fn check(condition: bool, message: &str) -> Result<(), Failed> {
    if condition {
        Ok(())
    } else {
        Err(message.into())
    }
}

/// Whether any process of the group led by the lesson is still alive after the lesson exited.
fn processes_left_in_group(group: u32) -> bool {
    #[cfg(unix)]
    {
        // Signal 0 to a negative pid asks whether any process of that group exists.
        // SAFETY: kill with signal 0 sends nothing; it only checks for existence.
        unsafe { libc::kill(-(group as libc::pid_t), 0) == 0 }
    }
    #[cfg(not(unix))]
    {
        let _ = group;
        false
    }
}
