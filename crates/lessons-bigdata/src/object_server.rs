//! The S3 server `cloud_storage` starts: s3s answering the S3 protocol over objects kept in a
//! folder (s3s-fs), on 127.0.0.1 and an ephemeral port, with signed requests (AWS Signature
//! Version 4) checked against one static key pair, and a counting layer in front of it that logs
//! every request the server answers: its method, its object key, the byte range asked, the status
//! and the bytes of the body sent back. The log is what the lesson's pruning claims count.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use harness::serve::{ServerGuard, loopback_listener};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ObjectServerError {
    #[error("the object store's folder: {0}")]
    Folder(String),
    #[error("the loopback listener: {0}")]
    Listener(String),
}

/// One request the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedRequest {
    method: String,
    path: String,
    range: Option<String>,
    status: u16,
    body_bytes: u64,
}

impl ServedRequest {
    /// GET, PUT, HEAD, …
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request's path, `/bucket/key`, percent-decoded (`month%3D7` reads `month=7`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `Range` header, if the client asked for part of an object.
    pub fn range(&self) -> Option<&str> {
        self.range.as_deref()
    }

    /// The response's HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Bytes in the response's body (its `Content-Length`).
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes
    }

    /// Whether this is a read of an object's bytes (a GET of a key, not a listing).
    pub fn is_object_read(&self) -> bool {
        self.method == "GET" && self.path.trim_start_matches('/').contains('/')
    }
}

/// A running S3 server; dropping it (or [`ObjectServer::stop`]) stops it.
pub struct ObjectServer {
    address: SocketAddr,
    log: Arc<Mutex<Vec<ServedRequest>>>,
    guard: ServerGuard,
}

impl ObjectServer {
    /// Serves the folder `root` (each sub-folder a bucket) to clients that sign with
    /// `access_key` and `secret_key`.
    pub fn start(
        root: &Path,
        access_key: &str,
        secret_key: &str,
    ) -> Result<ObjectServer, ObjectServerError> {
        let store = s3s_fs::FileSystem::new(root)
            .map_err(|e| ObjectServerError::Folder(format!("{}: {e:?}", root.display())))?;
        let mut builder = S3ServiceBuilder::new(store);
        builder.set_auth(SimpleAuth::from_single(access_key, secret_key.to_string()));
        let s3 = builder.build();

        let listener =
            loopback_listener().map_err(|e| ObjectServerError::Listener(e.to_string()))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| ObjectServerError::Listener(e.to_string()))?;
        let address = listener
            .local_addr()
            .map_err(|e| ObjectServerError::Listener(e.to_string()))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let served = log.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server_thread = std::thread::spawn(move || -> std::io::Result<()> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let mut stopped = std::pin::pin!(stopped);
                loop {
                    let socket = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((socket, _)) => socket,
                            Err(_) => continue,
                        },
                        _ = stopped.as_mut() => return Ok(()),
                    };
                    let s3 = s3.clone();
                    let served = served.clone();
                    // The counting layer: every request goes to s3s, and what came back is logged.
                    let counting =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let s3 = s3.clone();
                            let served = served.clone();
                            async move {
                                let method = request.method().to_string();
                                let path = percent_decoded(request.uri().path());
                                let range = request
                                    .headers()
                                    .get(hyper::header::RANGE)
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_string);
                                let response = hyper::service::Service::call(&s3, request).await?;
                                let body_bytes = response
                                    .headers()
                                    .get(hyper::header::CONTENT_LENGTH)
                                    .and_then(|v| v.to_str().ok())
                                    .and_then(|v| v.parse().ok())
                                    .unwrap_or(0);
                                served
                                    .lock()
                                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                                    .push(ServedRequest {
                                        method,
                                        path,
                                        range,
                                        status: response.status().as_u16(),
                                        body_bytes,
                                    });
                                Ok::<_, s3s::HttpError>(response)
                            }
                        });
                    tokio::spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(socket), counting)
                            .await;
                    });
                }
            })
        });
        let guard = ServerGuard::new("S3 server (s3s)", move || {
            let _ = stop.send(());
            let _ = server_thread.join();
        });
        Ok(ObjectServer {
            address,
            log,
            guard,
        })
    }

    /// The endpoint clients are given: `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Takes the log of the requests answered since the last call, leaving it empty.
    pub fn take_log(&self) -> Vec<ServedRequest> {
        std::mem::take(
            &mut *self
                .log
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Stops the server now.
    pub fn stop(self) {
        self.guard.stop();
    }
}

/// `text` with each `%XX` escape replaced by its byte (an invalid escape is kept as written).
fn percent_decoded(text: &str) -> String {
    let raw = text.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let escaped = (raw[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_decoded() {
        assert_eq!(
            percent_decoded("/b/flights/month%3D7/part-0.parquet"),
            "/b/flights/month=7/part-0.parquet"
        );
        assert_eq!(percent_decoded("/a%20b%2"), "/a b%2");
        assert_eq!(percent_decoded("%zz%41"), "%zzA");
    }
}
