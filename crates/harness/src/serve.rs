//! Loopback only, and nothing left running: the guard for servers and child processes.
//!
//! A lesson that serves binds 127.0.0.1 on an ephemeral port ([`loopback_listener`]); a lesson
//! that starts a process does it through [`spawn`]; an in-process server registers how to stop it
//! with [`ServerGuard::new`]. Each guard stops its server when dropped — also when the lesson
//! fails half-way and returns early — and [`crate::Lesson::finish`] stops whatever is still
//! registered, so no lesson leaves a listening socket or a child process behind.

use std::net::{IpAddr, SocketAddr, TcpListener};
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
