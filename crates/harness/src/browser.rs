//! A real browser for the lessons that must check a page as a reader sees it: headless Chromium
//! from Debian's `chromium` package, started as a guarded child process, with every network
//! request it makes sent to a counting proxy on loopback — so a lesson can show both what the
//! page drew and that it fetched nothing.
//!
//! Two ways to use it: [`Browser::render_offline`] loads a page and returns its DOM after the
//! scripts ran; [`Browser::open`] keeps a [`Tab`] open to drive through the DevTools protocol
//! (run a script that picks an option, wait for the page to redraw, read what it drew).
//!
//! No browser is downloaded: without one, [`Browser::find`] says so and the lesson skips its
//! browser claims — unless `WORKBOOK_REQUIRE_BROWSER=1` (set by `.ci/run`), which makes a missing
//! browser an error, so CI always runs them.

use std::io::{BufRead, BufReader, PipeReader, PipeWriter, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::Error;
use crate::serve::{
    ChildGuard, ServerGuard, check_loopback, loopback_listener, spawn_process_group,
};

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
        let own_hosts = self.own_hosts(budget)?;
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

    /// The hosts Chromium contacts by itself, whatever the page: those an empty page loaded with
    /// the same settings asks for within `budget`.
    fn own_hosts(&self, budget: Duration) -> Result<Vec<String>, Error> {
        let (_, requests) = self.load(EMPTY_PAGE, budget)?;
        Ok(requests.iter().map(|r| request_host(r)).collect())
    }

    /// One headless load through the recording proxy: the DOM and the request lines.
    fn load(&self, url: &str, budget: Duration) -> Result<(String, Vec<String>), Error> {
        let proxy = RecordingProxy::start()?;
        let profile = Profile::new(proxy.port);
        let mut command = self.headless(&proxy, None, &profile);
        command
            .args([
                &format!("--virtual-time-budget={}", budget.as_millis()),
                "--dump-dom",
            ])
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = spawn_process_group(&mut command)?;
        let stdout = child.child_mut().stdout.take();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut out) = stdout {
                let _ = out.read_to_string(&mut text);
            }
            text
        });
        let status = child.wait_or_kill(budget + Duration::from_secs(60))?;
        let dom = reader.join().unwrap_or_default();
        if !status.success() {
            return Err(Error::Browser(format!(
                "{} exited with {status} while loading {url}",
                self.program.display()
            )));
        }
        Ok((dom, proxy.stop()))
    }

    /// Opens `url` in headless Chromium and hands back the tab, to be driven through the DevTools
    /// protocol: run scripts in the page, wait for it, take a screenshot. The page may talk to
    /// the server at `server` (on loopback) directly; every other request goes to the recording
    /// proxy, which answers nothing. As for [`Browser::render_offline`], an empty page is loaded
    /// first, so that [`Tab::page_requests`] leaves out what Chromium asks for by itself.
    pub fn open(&self, url: &str, server: SocketAddr) -> Result<Tab, Error> {
        check_loopback(server)?;
        let own_hosts = self.own_hosts(Duration::from_secs(2))?;
        let proxy = RecordingProxy::start()?;
        let profile = Profile::new(proxy.port);
        let mut command = self.headless(&proxy, Some(server), &profile);
        // The DevTools protocol over pipes: Chromium reads commands from its descriptor 3 and
        // writes answers and events to its descriptor 4, each message ended by a NUL byte. No
        // debugging port is opened.
        let (commands_read, commands) =
            std::io::pipe().map_err(|e| Error::Browser(format!("pipe: {e}")))?;
        let (answers, answers_write) =
            std::io::pipe().map_err(|e| Error::Browser(format!("pipe: {e}")))?;
        command
            .args(["--remote-debugging-pipe", "--window-size=1280,900"])
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        give_pipes_to_child(
            &mut command,
            commands_read.as_raw_fd(),
            answers_write.as_raw_fd(),
        );
        let child = spawn_process_group(&mut command)?;
        // The child holds its own copies now; closing ours lets the reader see the end when the
        // browser exits.
        drop((commands_read, answers_write));
        let (sender, received) = mpsc::channel();
        std::thread::spawn(move || read_messages(answers, &sender));
        let mut tab = Tab {
            child,
            commands,
            received,
            session: String::new(),
            next_id: 0,
            proxy,
            own_hosts,
            _profile: profile,
        };
        let target = tab
            .send(json!({ "method": "Target.createTarget", "params": { "url": "about:blank" } }))?;
        let target_id = target["targetId"].clone();
        let attached = tab.send(json!({
            "method": "Target.attachToTarget",
            "params": { "targetId": target_id, "flatten": true },
        }))?;
        tab.session = attached["sessionId"]
            .as_str()
            .ok_or_else(|| Error::Browser("Chromium attached no session".into()))?
            .to_string();
        tab.goto(url)?;
        Ok(tab)
    }

    /// The command for headless Chromium with its background traffic off, every request sent to
    /// `proxy` except those to `direct` (a loopback server the page may use), and a fresh profile.
    fn headless(
        &self,
        proxy: &RecordingProxy,
        direct: Option<SocketAddr>,
        profile: &Profile,
    ) -> Command {
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
                &format!("--proxy-server=http://127.0.0.1:{}", proxy.port),
            ])
            .arg(format!("--user-data-dir={}", profile.path.display()));
        // `<-loopback>` sends loopback through the proxy too (Chromium bypasses it by default);
        // the one server the page may use is named as the only exception.
        match direct {
            Some(server) => command.arg(format!("--proxy-bypass-list=<-loopback>;{server}")),
            None => command.arg("--proxy-bypass-list=<-loopback>"),
        };
        command
    }
}

/// A page open in headless Chromium, driven through the DevTools protocol. Dropping it stops the
/// browser and the proxy.
pub struct Tab {
    child: ChildGuard,
    commands: PipeWriter,
    received: mpsc::Receiver<Value>,
    session: String,
    next_id: u64,
    proxy: RecordingProxy,
    own_hosts: Vec<String>,
    _profile: Profile,
}

impl Tab {
    /// Runs `expression` in the page (awaiting it if it is a promise) and returns its value as
    /// JSON; an exception in the page is an error carrying its message.
    pub fn evaluate(&mut self, expression: &str) -> Result<Value, Error> {
        let answer = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        )?;
        if let Some(details) = answer.get("exceptionDetails") {
            let message = details["exception"]["description"]
                .as_str()
                .or(details["text"].as_str())
                .unwrap_or("an exception");
            return Err(Error::Browser(format!(
                "the page threw {}",
                message.lines().next().unwrap_or(message)
            )));
        }
        Ok(answer["result"]["value"].clone())
    }

    /// Evaluates `expression` every 25 ms until it is truthy and returns that value; an error if
    /// it is not within `timeout`.
    pub fn wait_until(&mut self, expression: &str, timeout: Duration) -> Result<Value, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.evaluate(expression)?;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(_) | Value::Object(_) => true,
            };
            if truthy {
                return Ok(value);
            }
            if Instant::now() >= deadline {
                return Err(Error::Browser(format!(
                    "the page did not make `{expression}` true within {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Loads `url` in the tab and waits until the new document and its images have loaded.
    pub fn goto(&mut self, url: &str) -> Result<(), Error> {
        // The old document is marked, so that its own "complete" is not taken for the new one's.
        self.evaluate("window.__workbookLeaving = true")?;
        let navigated = self.call("Page.navigate", json!({ "url": url }))?;
        if let Some(failure) = navigated["errorText"].as_str() {
            return Err(Error::Browser(format!("loading {url} failed: {failure}")));
        }
        self.wait_until(
            "!window.__workbookLeaving && document.readyState === 'complete'",
            Duration::from_secs(30),
        )
        .map(|_| ())
    }

    /// Writes what the tab shows, as a PNG, to `path` (atomically).
    pub fn screenshot(&mut self, path: &Path) -> Result<(), Error> {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }))?;
        let encoded = shot["data"]
            .as_str()
            .ok_or_else(|| Error::Browser("the screenshot came without data".into()))?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| Error::Browser(format!("the screenshot is not base64: {e}")))?;
        catalogue::write_atomically(path, png)?;
        Ok(())
    }

    /// The first line of each request the page made through the proxy so far (none when it
    /// talks only to its own server); requests to hosts that Chromium calls by itself are left
    /// out.
    pub fn page_requests(&self) -> Vec<String> {
        self.proxy
            .requests()
            .into_iter()
            .filter(|r| !self.own_hosts.contains(&request_host(r)))
            .collect()
    }

    /// Closes the browser and the proxy.
    pub fn close(self) {
        drop(self);
    }

    /// A command to the page's session; its result.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, Error> {
        let session = self.session.clone();
        self.send(json!({ "method": method, "params": params, "sessionId": session }))
    }

    /// Sends one message (given an id here) and waits for the answer with that id, passing over
    /// the events that come in between.
    fn send(&mut self, mut message: Value) -> Result<Value, Error> {
        self.next_id += 1;
        let id = self.next_id;
        message["id"] = id.into();
        let mut bytes = message.to_string().into_bytes();
        bytes.push(0);
        let method = message["method"].as_str().unwrap_or_default().to_string();
        let broken =
            |e: String| Error::Browser(format!("Chromium's DevTools pipe ({method}): {e}"));
        self.commands
            .write_all(&bytes)
            .map_err(|e| broken(e.to_string()))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let answer = self
                .received
                .recv_timeout(left)
                .map_err(|e| broken(format!("no answer ({e})")))?;
            if answer["id"].as_u64() != Some(id) {
                continue;
            }
            if let Some(error) = answer.get("error") {
                return Err(broken(error["message"].as_str().unwrap_or("error").into()));
            }
            return Ok(answer["result"].clone());
        }
    }
}

impl Drop for Tab {
    fn drop(&mut self) {
        self.child.stop();
    }
}

/// An empty page, loaded to see what Chromium requests by itself.
const EMPTY_PAGE: &str = "data:text/html,<html><body></body></html>";

/// Chromium's profile folder for one run, removed when dropped.
struct Profile {
    path: PathBuf,
}

impl Profile {
    /// A folder named after this process and the proxy's port, so that two browsers never share
    /// one.
    fn new(port: u16) -> Profile {
        let path =
            std::env::temp_dir().join(format!("workbook-chromium-{}-{port}", std::process::id()));
        Profile { path }
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A proxy on loopback that notes the first line of every request and answers nothing, running
/// until stopped (or dropped, through its guard).
struct RecordingProxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    guard: ServerGuard,
}

impl RecordingProxy {
    fn start() -> Result<RecordingProxy, Error> {
        let listener = loopback_listener()?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Browser(format!("proxy address: {e}")))?
            .port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || count_connections(listener, &requests, &stop))
        };
        let guard = ServerGuard::new("counting proxy", move || {
            stop.store(true, Ordering::SeqCst);
            let _ = thread.join();
        });
        Ok(RecordingProxy {
            port,
            requests,
            guard,
        })
    }

    fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Stops the proxy and returns what it recorded.
    fn stop(self) -> Vec<String> {
        let requests = self.requests();
        self.guard.stop();
        requests
    }
}

/// Makes `commands` the child's descriptor 3 and `answers` its descriptor 4.
fn give_pipes_to_child(command: &mut Command, commands: RawFd, answers: RawFd) {
    // SAFETY: between fork and exec the closure calls only fcntl and dup2, which are
    // async-signal-safe, on descriptors the parent keeps open until the child has started. Both
    // are first copied above 10, so that moving one onto 3 or 4 cannot overwrite the other;
    // dup2 clears close-on-exec on the copies at 3 and 4, which the browser then inherits.
    unsafe {
        command.pre_exec(move || {
            let high_commands = libc::fcntl(commands, libc::F_DUPFD_CLOEXEC, 10);
            let high_answers = libc::fcntl(answers, libc::F_DUPFD_CLOEXEC, 10);
            if high_commands < 0
                || high_answers < 0
                || libc::dup2(high_commands, 3) < 0
                || libc::dup2(high_answers, 4) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Reads NUL-ended JSON messages from Chromium until the pipe closes, passing each on.
fn read_messages(answers: PipeReader, sender: &mpsc::Sender<Value>) {
    let mut reader = BufReader::new(answers);
    let mut message = Vec::new();
    loop {
        message.clear();
        match reader.read_until(0, &mut message) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if message.last() == Some(&0) {
                    message.pop();
                }
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && sender.send(value).is_err()
                {
                    return;
                }
            }
        }
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
/// without an answer. Each connection is read on a thread of its own for up to two seconds; one
/// that sends nothing in that time (Chromium opens spare connections to its proxy ahead of need)
/// carried no request and is not counted.
fn count_connections(listener: TcpListener, requests: &Arc<Mutex<Vec<String>>>, stop: &AtomicBool) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((mut connection, _)) => {
                let requests = requests.clone();
                std::thread::spawn(move || {
                    let _ = connection.set_nonblocking(false);
                    let _ = connection.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut buffer = [0u8; 512];
                    let read = connection.read(&mut buffer).unwrap_or(0);
                    let text = String::from_utf8_lossy(&buffer[..read]);
                    if let Some(line) = text.lines().next()
                        && let Ok(mut list) = requests.lock()
                    {
                        list.push(line.to_string());
                    }
                });
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
    }
}
