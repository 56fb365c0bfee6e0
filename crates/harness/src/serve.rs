//! Loopback only, and nothing left running: the guard for servers and child processes.
//!
//! A lesson that serves binds 127.0.0.1 on an ephemeral port ([`loopback_listener`]); a lesson
//! that starts a process does it through [`spawn`]; an in-process server registers how to stop it
//! with [`ServerGuard::new`]. Each guard stops its server when dropped — also when the lesson
//! fails half-way and returns early — and [`crate::Lesson::finish`] stops whatever is still
//! registered, so no lesson leaves a listening socket or a child process behind.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Error;

enum Stopper {
    Process(u32),
    /// A process that leads a group of its own, and everything it started in that group.
    ProcessGroup(u32),
    Server(Box<dyn FnOnce() + Send>),
}

struct Registered {
    id: u64,
    name: String,
    stopper: Stopper,
}

static REGISTRY: Mutex<Vec<Registered>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn register(name: String, stopper: Stopper) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    registry().push(Registered { id, name, stopper });
    id
}

fn unregister(id: u64) -> Option<Registered> {
    let mut registry = registry();
    let at = registry.iter().position(|r| r.id == id)?;
    Some(registry.remove(at))
}

fn registry() -> std::sync::MutexGuard<'static, Vec<Registered>> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Stops everything still registered and returns the names of what was still running.
pub(crate) fn stop_all() -> Vec<String> {
    let drained: Vec<Registered> = registry().drain(..).collect();
    drained
        .into_iter()
        .map(|registered| {
            match registered.stopper {
                Stopper::Process(pid) => kill_and_reap(pid),
                Stopper::ProcessGroup(pid) => {
                    kill_group(pid);
                    kill_and_reap(pid);
                }
                Stopper::Server(stop) => stop(),
            }
            registered.name
        })
        .collect()
}

fn kill_and_reap(pid: u32) {
    #[cfg(unix)]
    // SAFETY: kill and waitpid take a process id and a plain status pointer; the process is our
    // own child, registered by `spawn` and not yet reaped.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
        let mut status = 0;
        libc::waitpid(pid as libc::pid_t, &mut status, 0);
    }
}

/// Kills every process of the group `pid` leads (its helpers, say, which outlive it).
fn kill_group(pid: u32) {
    #[cfg(unix)]
    // SAFETY: kill with a negative id signals the process group; the group is one this module
    // created for a child it started.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

/// A TCP listener on 127.0.0.1 and a port the system picks, so that lessons never clash over a
/// port and never listen beyond this machine.
pub fn loopback_listener() -> Result<TcpListener, Error> {
    TcpListener::bind((IpAddr::from([127, 0, 0, 1]), 0))
        .map_err(|e| Error::io(std::path::Path::new("127.0.0.1:0"), e))
}

/// Refuses any address outside 127.0.0.0/8 and ::1.
pub fn check_loopback(address: SocketAddr) -> Result<(), Error> {
    if address.ip().is_loopback() {
        Ok(())
    } else {
        Err(Error::NotLoopback(address.to_string()))
    }
}

/// Refuses a URL whose host is not a loopback address (`localhost` is refused too: it may
/// resolve elsewhere, and lessons name the address they bound).
pub fn check_loopback_url(url: &str) -> Result<(), Error> {
    let refuse = || Error::NotLoopback(url.to_string());
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(refuse)?;
    let authority = rest.split('/').next().unwrap_or_default();
    let address: SocketAddr = authority.parse().map_err(|_| refuse())?;
    check_loopback(address).map_err(|_| refuse())
}

/// What a loopback HTTP server answered: the status, the content type and the body as text.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    status: u16,
    content_type: String,
    body: String,
}

impl HttpAnswer {
    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    pub fn body(&self) -> &str {
        &self.body
    }
}

/// A plain HTTP/1.1 GET to a server on loopback (a URL such as `http://127.0.0.1:PORT/api?x=1`),
/// one connection per request. Anything but a loopback address is refused before connecting.
pub fn http_get(url: &str) -> Result<HttpAnswer, Error> {
    http_request("GET", url, b"")
}

/// A plain HTTP/1.1 POST of `body` to a server on loopback, as [`http_get`]; the whole answer is
/// read, so a streamed one is returned once the server ends it.
pub fn http_post(url: &str, body: &[u8]) -> Result<HttpAnswer, Error> {
    http_request("POST", url, body)
}

fn http_request(method: &str, url: &str, body: &[u8]) -> Result<HttpAnswer, Error> {
    check_loopback_url(url)?;
    let fail = |message: String| Error::Http {
        request: format!("{method} {url}"),
        message,
    };
    let rest = url.trim_start_matches("http://");
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let address: SocketAddr = authority.parse().map_err(|_| fail("no address".into()))?;
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .map_err(|e| fail(e.to_string()))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| fail(e.to_string()))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    // A server may answer (413, say) without reading a large body and close: its answer counts.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| fail(e.to_string()))?;
    parse_answer(&raw).map_err(fail)
}

/// One kept-alive HTTP/1.1 connection to a server on loopback, for many requests in a row (a
/// load test's client, say): no connection set-up per request, as a real client pool would do.
pub struct HttpConnection {
    authority: String,
    reader: std::io::BufReader<TcpStream>,
}

impl HttpConnection {
    /// Connects to `base_url` (`http://127.0.0.1:PORT`); anything but loopback is refused.
    pub fn open(base_url: &str) -> Result<HttpConnection, Error> {
        check_loopback_url(base_url)?;
        let authority = base_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let fail = |message: String| Error::Http {
            request: format!("connect {base_url}"),
            message,
        };
        let address: SocketAddr = authority.parse().map_err(|_| fail("no address".into()))?;
        let stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
            .map_err(|e| fail(e.to_string()))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| fail(e.to_string()))?;
        stream.set_nodelay(true).map_err(|e| fail(e.to_string()))?;
        Ok(HttpConnection {
            authority,
            reader: std::io::BufReader::new(stream),
        })
    }

    /// Sends one request on the connection and reads its whole answer (which must carry a
    /// `Content-Length` or be chunked).
    pub fn request(&mut self, method: &str, path: &str, body: &[u8]) -> Result<HttpAnswer, Error> {
        use std::io::BufRead;
        let fail = |message: String| Error::Http {
            request: format!("{method} http://{}{path}", self.authority),
            message,
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.authority,
            body.len()
        );
        let stream = self.reader.get_mut();
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body))
            .map_err(|e| fail(e.to_string()))?;
        let mut raw = Vec::new();
        let mut content_length = None;
        let mut chunked = false;
        loop {
            let before = raw.len();
            let read = self
                .reader
                .read_until(b'\n', &mut raw)
                .map_err(|e| fail(e.to_string()))?;
            if read == 0 {
                return Err(fail("the server closed the connection".into()));
            }
            let line = String::from_utf8_lossy(&raw[before..])
                .trim_end()
                .to_string();
            if line.is_empty() {
                break;
            }
            if let Some((key, value)) = line.split_once(':') {
                if key.trim().eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse::<usize>().ok();
                } else if key.trim().eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.trim().eq_ignore_ascii_case("chunked");
                }
            }
        }
        if chunked {
            loop {
                let before = raw.len();
                self.reader
                    .read_until(b'\n', &mut raw)
                    .map_err(|e| fail(e.to_string()))?;
                let size_line = String::from_utf8_lossy(&raw[before..]).trim().to_string();
                let size = usize::from_str_radix(size_line.split(';').next().unwrap_or(""), 16)
                    .map_err(|_| fail(format!("bad chunk size {size_line:?}")))?;
                let at = raw.len();
                raw.resize(at + size + 2, 0);
                self.reader
                    .read_exact(&mut raw[at..])
                    .map_err(|e| fail(e.to_string()))?;
                if size == 0 {
                    break;
                }
            }
        } else {
            let length = content_length.ok_or_else(|| fail("an answer without a length".into()))?;
            let at = raw.len();
            raw.resize(at + length, 0);
            self.reader
                .read_exact(&mut raw[at..])
                .map_err(|e| fail(e.to_string()))?;
        }
        parse_answer(&raw).map_err(fail)
    }
}

/// Builds a binary of the workspace (`cargo build -p PACKAGE --bin BIN`, in the profile this
/// lesson was built in) and returns its path. After the lessons are built this compiles only the
/// binary's own code: its dependencies are the lessons' and already built.
pub fn workspace_binary(package: &str, bin: &str) -> Result<std::path::PathBuf, Error> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    // Under `cargo test` or `cargo run`, this process inherits the variables cargo sets for the
    // package it runs (CARGO_MANIFEST_DIR, CARGO_PKG_NAME, OUT_DIR, …). Some build scripts ask to
    // rerun when those change in cargo's own environment (ring's does, and polars depends on
    // ring through object_store): passed on, they rebuilt ring and all of polars for a worker
    // binary built from a test, once taking 585 s. Without them the build is the one a shell
    // would make.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let per_package = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_")
            || name.starts_with("CARGO_MANIFEST_")
            || name.starts_with("CARGO_CFG_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref());
        if per_package {
            command.env_remove(name.as_ref());
        }
    }
    command.current_dir(crate::workspace_root()).args([
        "build",
        "--quiet",
        "--message-format=json",
        "-p",
        package,
        "--bin",
        bin,
    ]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let fail = |message: String| Error::Build {
        command: format!("cargo build -p {package} --bin {bin}"),
        message,
    };
    let output = command.output().map_err(|e| fail(e.to_string()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(fail(
            stderr
                .lines()
                .find(|l| l.contains("error"))
                .unwrap_or("failed")
                .to_string(),
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == bin)
        .find_map(|message| message["executable"].as_str().map(std::path::PathBuf::from))
        .ok_or_else(|| fail("cargo named no executable".into()))
}

/// Splits a whole HTTP/1.1 response (the connection closed after it) into status, content type
/// and body, undoing chunked transfer encoding.
fn parse_answer(raw: &[u8]) -> Result<HttpAnswer, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer has no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or("the answer has no status line")?;
    let header = |name: &str| {
        head.lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim().to_string())
    };
    let mut body = raw[split + 4..].to_vec();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = unchunk(&body)?;
    }
    Ok(HttpAnswer {
        status,
        content_type: header("content-type").unwrap_or_default(),
        body: String::from_utf8(body).map_err(|_| "the body is not UTF-8")?,
    })
}

/// The body of a chunked transfer: hexadecimal sizes, each followed by that many bytes.
fn unchunk(mut chunked: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let end = chunked
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk without a size line")?;
        let size_text = String::from_utf8_lossy(&chunked[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        chunked = &chunked[end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let data = chunked.get(..size).ok_or("a chunk shorter than its size")?;
        body.extend_from_slice(data);
        chunked = chunked
            .get(size + 2..)
            .ok_or("a chunk without its line end")?;
    }
}

/// A child process that is killed when the guard is dropped or the lesson finishes.
pub struct ChildGuard {
    id: u64,
    program: String,
    child: Child,
    /// Whether the child leads a process group of its own, to be killed with it.
    leads_group: bool,
}

/// Starts `command` as a guarded child process.
pub fn spawn(command: &mut Command) -> Result<ChildGuard, Error> {
    let program = command.get_program().to_string_lossy().into_owned();
    let child = command
        .spawn()
        .map_err(|e| Error::io(std::path::Path::new(&program), e))?;
    let id = register(program.clone(), Stopper::Process(child.id()));
    Ok(ChildGuard {
        id,
        program,
        child,
        leads_group: false,
    })
}

/// Starts `command` as a guarded child process leading a process group of its own: everything it
/// starts (a browser's renderer and helper processes, which may outlive it) is killed with it,
/// when it exits through [`ChildGuard::wait_or_kill`] or when the guard stops it.
pub fn spawn_process_group(command: &mut Command) -> Result<ChildGuard, Error> {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    let program = command.get_program().to_string_lossy().into_owned();
    let child = command
        .spawn()
        .map_err(|e| Error::io(std::path::Path::new(&program), e))?;
    let id = register(program.clone(), Stopper::ProcessGroup(child.id()));
    Ok(ChildGuard {
        id,
        program,
        child,
        leads_group: true,
    })
}

impl ChildGuard {
    /// The running process, to talk to it (its pipes) or ask after it.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Waits up to `timeout` for the process to exit by itself, then kills it. Returns its exit
    /// status, or [`Error::ChildStillRunning`] if it had to be killed.
    pub fn wait_or_kill(mut self, timeout: Duration) -> Result<ExitStatus, Error> {
        let deadline = Instant::now() + timeout;
        let program = self.program.clone();
        let still_running = |message: String| Error::ChildStillRunning { program, message };
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    unregister(self.id);
                    if self.leads_group {
                        kill_group(self.child.id());
                    }
                    return Ok(status);
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => {
                    let message = format!("no exit within {timeout:?}; killed");
                    self.stop();
                    return Err(still_running(message));
                }
                Err(e) => return Err(still_running(e.to_string())),
            }
        }
    }

    /// Kills the process and reaps it.
    pub fn stop(&mut self) {
        if unregister(self.id).is_some() {
            if self.leads_group {
                kill_group(self.child.id());
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An in-process server (a thread accepting on a loopback listener, say) and how to stop it.
pub struct ServerGuard {
    id: u64,
}

impl ServerGuard {
    /// Registers a running server called `name`; `stop` must make it stop and return once it has.
    pub fn new(name: impl Into<String>, stop: impl FnOnce() + Send + 'static) -> ServerGuard {
        ServerGuard {
            id: register(name.into(), Stopper::Server(Box::new(stop))),
        }
    }

    /// Stops the server now.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        if let Some(Registered {
            stopper: Stopper::Server(stop),
            ..
        }) = unregister(self.id)
        {
            stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn only_loopback_urls_pass() {
        assert!(check_loopback_url("http://127.0.0.1:8080/api").is_ok());
        assert!(check_loopback_url("http://[::1]:80/").is_ok());
        for bad in [
            "http://10.1.2.3:80/",
            "http://localhost:80/",
            "ftp://127.0.0.1:1/",
            "http://8.8.8.8/",
        ] {
            assert!(check_loopback_url(bad).is_err(), "{bad}");
        }
        let listener = loopback_listener().unwrap();
        let address = listener.local_addr().unwrap();
        assert!(address.ip().is_loopback() && address.port() != 0);
    }

    #[test]
    fn answers_parse_plain_and_chunked() {
        let plain = parse_answer(
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        )
        .unwrap();
        assert_eq!(
            (plain.status(), plain.content_type(), plain.body()),
            (400, "application/json", "{}")
        );
        let chunked = parse_answer(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=1\r\n world\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(chunked.body(), "hello world");
        assert!(parse_answer(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(
            parse_answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
        assert!(matches!(
            http_get("http://10.0.0.1:80/"),
            Err(Error::NotLoopback(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn guarded_children_and_servers_are_stopped() {
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = stopped.clone();
        let server = ServerGuard::new("demo server", move || flag.store(true, Ordering::SeqCst));
        let child = spawn(Command::new("sleep").arg("30")).unwrap();
        let pid = child.child.id();
        // Dropping a guard stops what it guards.
        drop(server);
        assert!(stopped.load(Ordering::SeqCst));
        // A child still registered is stopped by stop_all, as `finish` does.
        std::mem::forget(child);
        let names = stop_all();
        assert!(names.iter().any(|n| n == "sleep"), "{names:?}");
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
        assert!(!alive, "the child {pid} survived");
        // A child that exits by itself is reaped and unregistered.
        let quick = spawn(&mut Command::new("true")).unwrap();
        assert!(
            quick
                .wait_or_kill(Duration::from_secs(5))
                .unwrap()
                .success()
        );
    }
}
