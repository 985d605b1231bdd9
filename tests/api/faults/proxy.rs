//! A TCP proxy in front of PostgreSQL that the test can cut: every connection dropped and the
//! port closed (new connections refused), then restored on the same port. To the app this is
//! a PostgreSQL restart, without touching the cluster the other tests share.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};

pub struct PgProxy {
    pub port: u16,
    upstream: SocketAddr,
    inner: Mutex<Inner>,
    /// While set, bytes are held in both directions: connections stay open and silent.
    stalled: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[derive(Default)]
struct Inner {
    accept: Option<JoinHandle<()>>,
    /// The copying tasks of every open connection, shared with the accept task.
    conns: std::sync::Arc<std::sync::Mutex<JoinSet<()>>>,
}

impl PgProxy {
    /// Listens on a free port and forwards to `upstream` (`127.0.0.1:5432`).
    pub async fn start(upstream: SocketAddr) -> PgProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = PgProxy {
            port,
            upstream,
            inner: Mutex::new(Inner::default()),
            stalled: Default::default(),
        };
        proxy.serve(listener).await;
        proxy
    }

    async fn serve(&self, listener: TcpListener) {
        let mut inner = self.inner.lock().await;
        let conns = inner.conns.clone();
        let upstream = self.upstream;
        let stalled = self.stalled.clone();
        inner.accept = Some(tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let stalled = stalled.clone();
                conns.lock().unwrap().spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::select! {
                        () = pump(cr, sw, stalled.clone()) => {}
                        () = pump(sr, cw, stalled) => {}
                    }
                });
            }
        }));
    }

    /// PostgreSQL "goes away": the port closes and every connection through it is dropped
    /// (the server side sees its client vanish and rolls back what was open).
    pub async fn cut(&self) {
        let mut inner = self.inner.lock().await;
        if let Some(accept) = inner.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
        let mut conns = std::mem::take(&mut *inner.conns.lock().unwrap());
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }

    /// PostgreSQL is back, on the same address.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the proxy's port is free again");
        self.serve(listener).await;
    }
}

impl PgProxy {
    /// The network goes silent: every connection stays open but nothing passes either way
    /// (new connections are accepted and hang too) until [`PgProxy::unstall`].
    pub fn stall(&self) {
        self.stalled
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn unstall(&self) {
        self.stalled
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Copies one direction, holding what it read while the proxy is stalled.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    stalled: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while stalled.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
