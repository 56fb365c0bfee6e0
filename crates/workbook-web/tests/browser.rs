//! `workbook serve` end to end: the server binary on 127.0.0.1, its answers to good and bad
//! requests, and the pages in headless Chromium — the index with no network request, every ready
//! topic's page with no broken image, and Run streaming a lesson's output and refreshing its
//! claims. Screenshots of the index and one topic page go to `target/tmp/workbook-web/`.
//!
//! Every ready lesson is run once first (quick mode, the binaries `cargo test` built), so that
//! every page has a report and figures to show. Without Chromium the browser part is skipped with
//! a message, unless WORKBOOK_REQUIRE_BROWSER=1 (CI).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use catalogue::Catalogue;
use harness::browser::Browser;
use harness::serve::{ChildGuard, http_get, http_post, spawn_process_group};

fn scratch() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("workbook-web")
}

fn lesson_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_workbook-web"))
        .parent()
        .expect("the binary has a folder")
        .join("examples")
}

/// Runs every ready lesson in quick mode into `reports/<lesson>`, each of which must write its
/// report.
fn run_every_lesson(reports: &Path, catalogue: &Catalogue) {
    for lesson in catalogue.ready_lessons() {
        let binary = lesson_dir().join(lesson);
        assert!(
            binary.is_file(),
            "{} is not built: run `cargo test` at the workspace root, which builds every lesson",
            binary.display()
        );
        let output = Command::new(&binary)
            .args(["--quick", "--out"])
            .arg(reports.join(lesson))
            .output()
            .unwrap();
        // The pages need each lesson's report; whether its claims held is the lessons test's
        // check (same binaries, same seed), so a failed claim is shown here, not judged twice.
        let report = catalogue::Report::read(&reports.join(lesson).join("report.json"));
        assert!(
            report.is_ok(),
            "{lesson} wrote no report: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() {
            eprintln!(
                "{lesson} exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
    }
}

/// The server, with its reports in `reports`, and the address it printed.
fn start_server(reports: &Path) -> (ChildGuard, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_workbook-web"));
    command
        .args(["--port", "0"])
        .env("WORKBOOK_OUT_DIR", reports)
        .env("WORKBOOK_LESSON_DIR", lesson_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut server = spawn_process_group(&mut command).unwrap();
    let stdout = server.child_mut().stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .trim_end_matches('/')
        .to_string();
    (server, base)
}

/// The status of a POST with `body` to `path`.
fn post(base: &str, path: &str, body: &[u8]) -> u16 {
    http_post(&format!("{base}{path}"), body).unwrap().status()
}

#[test]
fn the_served_workbook_answers_runs_and_renders() {
    let catalogue = Catalogue::load().unwrap();
    let reports = scratch().join("reports");
    let _ = std::fs::remove_dir_all(&reports);
    run_every_lesson(&reports, &catalogue);
    let (server, base) = start_server(&reports);

    // Good and bad requests: pages, 404s for what does not exist (a traversal included), 400 for
    // a planned lesson or a bad mode, 413 for a large body, 409 for a second run.
    let index = http_get(&format!("{base}/")).unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.content_type().starts_with("text/html"));
    let topic = http_get(&format!("{base}/topic/broadcasting")).unwrap();
    assert_eq!(topic.status(), 200);
    for missing in [
        "/topic/no_such_topic",
        "/artefact/broadcasting/report.json",
        "/artefact/broadcasting/..%2Freport.json",
        "/artefact/broadcasting/%2E%2E%2F%2E%2E%2FCargo.toml",
        "/artefact/no_such_lesson/a.png",
        "/no/such/page",
    ] {
        let answer = http_get(&format!("{base}{missing}")).unwrap();
        assert_eq!(answer.status(), 404, "{missing}");
    }
    // A planned lesson gets 400: checked by the unit test of `runnable`, since every topic of the
    // workbook is now written.
    assert_eq!(post(&base, "/api/run/no_such_lesson", b""), 404);
    assert_eq!(post(&base, "/api/run/broadcasting?mode=fast", b""), 400);
    assert_eq!(post(&base, "/api/run/broadcasting", &[b'x'; 4096]), 413);

    // One run at a time: while a run streams, a second is refused.
    let authority = base.trim_start_matches("http://");
    let mut first = TcpStream::connect(authority).unwrap();
    write!(
        first,
        "POST /api/run/interactive_plots?mode=quick HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut first = BufReader::new(first);
    let mut line = String::new();
    while !line.starts_with("data: ") {
        line.clear();
        assert!(
            first.read_line(&mut line).unwrap() > 0,
            "the run ended early"
        );
    }
    assert_eq!(post(&base, "/api/run/broadcasting", b""), 409);
    let mut rest = String::new();
    first.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("event: done"), "{rest}");

    let Some(browser) = Browser::find().unwrap() else {
        eprintln!(
            "no Chromium here: the browser checks are skipped (install Debian's `chromium` package)"
        );
        drop(server);
        return;
    };
    let shots = scratch().join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let address = authority.parse().unwrap();

    // The index loads with nothing asked of the network, and shows every ready topic's thumbnail.
    let mut tab = browser.open(&format!("{base}/"), address).unwrap();
    let cards = tab
        .evaluate("document.querySelectorAll('.card.ready').length")
        .unwrap();
    assert_eq!(
        cards.as_u64(),
        Some(
            catalogue
                .entries
                .iter()
                .filter(|e| e.status == catalogue::Status::Ready)
                .count() as u64
        )
    );
    let broken_images =
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)";
    assert_eq!(tab.evaluate(broken_images).unwrap(), serde_json::json!([]));
    let thumbnails = tab.evaluate("document.images.length").unwrap();
    assert!(
        thumbnails.as_u64().unwrap_or(0) > 30,
        "{thumbnails} thumbnails"
    );
    tab.screenshot(&shots.join("index.png")).unwrap();

    // Every ready topic's page renders its figures: no image that failed to load.
    let mut figures = 0;
    for entry in catalogue
        .entries
        .iter()
        .filter(|e| e.status == catalogue::Status::Ready)
    {
        tab.goto(&format!("{base}/topic/{}", entry.id)).unwrap();
        let broken = tab.evaluate(broken_images).unwrap();
        assert_eq!(broken, serde_json::json!([]), "{}", entry.id);
        figures += tab
            .evaluate("document.querySelectorAll('#report figure img').length")
            .unwrap()
            .as_u64()
            .unwrap_or(0);
    }
    assert!(figures > 40, "only {figures} figures on the topic pages");

    // Run streams the lesson's output into the page and refreshes its claims.
    tab.goto(&format!("{base}/topic/broadcasting")).unwrap();
    tab.evaluate("document.querySelector('#report').dataset.old = 'yes'; true")
        .unwrap();
    let started = Instant::now();
    tab.evaluate("document.querySelector('button.run[data-mode=quick]').click(); true")
        .unwrap();
    let outcome = tab
        .wait_until("document.body.dataset.runDone", Duration::from_secs(120))
        .unwrap();
    assert_eq!(outcome, serde_json::json!("ok"));
    let first_line_ms = tab
        .evaluate("Number(document.body.dataset.firstLineMs)")
        .unwrap();
    let output = tab
        .evaluate("document.getElementById('output').textContent")
        .unwrap();
    assert!(
        output.as_str().unwrap_or_default().contains("claims held"),
        "{output}"
    );
    let refreshed = tab
        .evaluate("document.querySelector('#report').dataset.old === undefined && document.querySelectorAll('#report tr.held').length")
        .unwrap();
    assert!(refreshed.as_u64().unwrap_or(0) > 0, "{refreshed}");
    tab.screenshot(&shots.join("topic_broadcasting.png"))
        .unwrap();
    // The presenter view: A reveals the answer; choosing an option reveals the measured value and
    // marks the nearest option right.
    tab.goto(&format!("{base}/present/memory_layout")).unwrap();
    tab.evaluate("document.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' })); true")
        .unwrap();
    let revealed = tab
        .evaluate("!document.getElementById('answer').hidden")
        .unwrap();
    assert_eq!(revealed, serde_json::json!(true));
    let predicted = tab
        .evaluate(
            "const p = document.querySelector('.prediction'); p.querySelector('button.option').click(); \
             [!p.querySelector('.reveal').hidden, p.querySelectorAll('.right').length, p.dataset.measured]",
        )
        .unwrap();
    assert_eq!(predicted[0], serde_json::json!(true), "{predicted}");
    assert_eq!(predicted[1], serde_json::json!(1), "{predicted}");
    assert!(
        predicted[2]
            .as_str()
            .is_some_and(|m| m.parse::<f64>().is_ok()),
        "{predicted}"
    );
    assert!(tab.page_requests().is_empty(), "{:?}", tab.page_requests());
    eprintln!(
        "index {:.0} kB, broadcasting page {:.0} kB; Run → first streamed line in {} ms, whole run {:.1} s; {figures} figures on {} pages",
        index.body().len() as f64 / 1e3,
        topic.body().len() as f64 / 1e3,
        first_line_ms,
        started.elapsed().as_secs_f64(),
        cards
    );
    tab.close();
    drop(server);
}
