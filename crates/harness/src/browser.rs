//! A real browser for the lessons that must check a page as a reader sees it: headless Chromium
//! from Debian's `chromium` package, started as a guarded child process, with every network
//! request it makes sent to a counting proxy on loopback — so a lesson can show both what the
//! page drew and that it fetched nothing.
//!
//! No browser is downloaded: without one, [`Browser::find`] says so and the lesson skips its
//! browser claims — unless `WORKBOOK_REQUIRE_BROWSER=1` (set by `.ci/run`), which makes a missing
//! browser an error, so CI always runs them.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::Error;
use crate::serve::{ServerGuard, loopback_listener, spawn_process_group};

/// Where Debian's package puts it, and the names other systems use.
const CANDIDATES: [&str; 4] = [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/chromium-headless-shell",
];

/// An installed Chromium.
#[derive(Debug, Clone)]
pub struct Browser {
    program: PathBuf,
}

/// A page after its scripts ran: the DOM as text, and how many connections the page tried to
/// open to anywhere (through the counting proxy).
#[derive(Debug, Clone)]
pub struct Rendered {
    dom: String,
    page_requests: Vec<String>,
    browser_requests: Vec<String>,
}

impl Rendered {
    pub fn dom(&self) -> &str {
        &self.dom
    }

    /// The first line of each request the page made (`CONNECT host:443 HTTP/1.1`, `GET
    /// http://host/… HTTP/1.1`): none for a page that is truly self-contained.
    pub fn page_requests(&self) -> &[String] {
        &self.page_requests
    }

    /// The requests Chromium made for itself (to hosts an empty page also contacted).
    pub fn browser_requests(&self) -> &[String] {
        &self.browser_requests
    }
}

impl Browser {
    /// The browser named by `WORKBOOK_CHROMIUM`, else the first of the usual places that exists.
    /// None when there is none — an error instead when `WORKBOOK_REQUIRE_BROWSER=1`.
    pub fn find() -> Result<Option<Browser>, Error> {
        let named = std::env::var_os("WORKBOOK_CHROMIUM").map(PathBuf::from);
        let found = named
            .into_iter()
            .chain(CANDIDATES.iter().map(PathBuf::from))
            .find(|p| p.is_file());
        match found {
            Some(program) => Ok(Some(Browser { program })),
            None if std::env::var("WORKBOOK_REQUIRE_BROWSER").is_ok_and(|v| v == "1") => {
                Err(Error::Browser(
                    "no Chromium found and WORKBOOK_REQUIRE_BROWSER=1: install Debian's `chromium` package (or set WORKBOOK_CHROMIUM)".into(),
                ))
            }
            None => Ok(None),
        }
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Loads `url` headless, lets its scripts run for up to `budget` of virtual time, and returns
    /// the DOM. Every request — to any host, loopback included — goes to a proxy on 127.0.0.1
    /// that notes it and answers nothing, so a page that needs the network fails to draw and shows
    /// up in the list. Chromium itself also calls a few Google services (its clock, component
    /// updates, sign-in) whatever the page; to tell those apart, an empty page is loaded first
    /// with the same settings, and the page's own requests are those to hosts the empty page did
    /// not contact.
    pub fn render_offline(&self, url: &str, budget: Duration) -> Result<Rendered, Error> {
        let (_, browser_own) = self.load("data:text/html,<html><body></body></html>", budget)?;
        let own_hosts: Vec<String> = browser_own.iter().map(|r| request_host(r)).collect();
        let (dom, requests) = self.load(url, budget)?;
        let (page, browser): (Vec<String>, Vec<String>) = requests
            .into_iter()
            .partition(|r| !own_hosts.contains(&request_host(r)));
        Ok(Rendered {
            dom,
            page_requests: page,
            browser_requests: browser,
        })
    }

    /// One headless load through the recording proxy: the DOM and the request lines.
    fn load(&self, url: &str, budget: Duration) -> Result<(String, Vec<String>), Error> {
        let proxy = loopback_listener()?;
        let port = proxy
            .local_addr()
            .map_err(|e| Error::Browser(format!("proxy address: {e}")))?
            .port();
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (attempts, stop) = (attempts.clone(), stop.clone());
            std::thread::spawn(move || count_connections(proxy, &attempts, &stop))
        };
        let guard = {
            let stop = stop.clone();
            ServerGuard::new("counting proxy", move || {
                stop.store(true, Ordering::SeqCst);
                let _ = thread.join();
            })
        };
        let profile =
            std::env::temp_dir().join(format!("workbook-chromium-{}-{port}", std::process::id()));
        let mut command = Command::new(&self.program);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--disable-extensions",
                "--metrics-recording-only",
                "--mute-audio",
                // Chromium's own background traffic (clock, updates, sign-in, safe browsing), so
                // that what reaches the proxy is what the page asked for.
                "--disable-domain-reliability",
                "--disable-client-side-phishing-detection",
                "--disable-breakpad",
                "--no-pings",
                "--bwsi",
                "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,OptimizationGuideModelDownloading,Translate,MediaRouter,DialMediaRouteProvider,AccountConsistency,SafeBrowsing,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
                &format!("--proxy-server=http://127.0.0.1:{port}"),
                "--proxy-bypass-list=<-loopback>",
                &format!("--virtual-time-budget={}", budget.as_millis()),
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = spawn_process_group(&mut command)?;
        let mut dom = String::new();
        let stdout = child.child_mut().stdout.take();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut out) = stdout {
                let _ = out.read_to_string(&mut text);
            }
            text
        });
        let status = child.wait_or_kill(budget + Duration::from_secs(60))?;
        if let Ok(text) = reader.join() {
            dom = text;
        }
        guard.stop();
        let _ = std::fs::remove_dir_all(&profile);
        if !status.success() {
            return Err(Error::Browser(format!(
                "{} exited with {status} while loading {url}",
                self.program.display()
            )));
        }
        let requests = attempts
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        Ok((dom, requests))
    }
}

/// The host a proxy request line names: `CONNECT host:443 …` or `GET http://host/… …`.
/// Anything that is not a request line stands for itself.
fn request_host(line: &str) -> String {
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or("");
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
        return line.to_string();
    }
    let target = words.next().unwrap_or("");
    let without_scheme = target.split("://").last().unwrap_or(target);
    let authority = without_scheme.split('/').next().unwrap_or("");
    authority
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Accepts connections until told to stop, keeps the first line of each request and closes it
/// without an answer.
fn count_connections(listener: TcpListener, requests: &Mutex<Vec<String>>, stop: &AtomicBool) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((mut connection, _)) => {
                let _ = connection.set_nonblocking(false);
                let _ = connection.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buffer = [0u8; 512];
                let read = connection.read(&mut buffer).unwrap_or(0);
                let text = String::from_utf8_lossy(&buffer[..read]);
                let line = text
                    .lines()
                    .next()
                    .unwrap_or("(no request line)")
                    .to_string();
                if let Ok(mut list) = requests.lock() {
                    list.push(line);
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_name_their_host() {
        assert_eq!(
            request_host("CONNECT cdn.plot.ly:443 HTTP/1.1"),
            "cdn.plot.ly"
        );
        assert_eq!(
            request_host("GET http://clients2.google.com/time/1 HTTP/1.1"),
            "clients2.google.com"
        );
        assert_eq!(request_host("(no request line)"), "(no request line)");
    }
}
