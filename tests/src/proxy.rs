//! A TCP proxy on loopback that a test can cut (every connection dropped,
//! new ones refused) and heal, placed between a replica and its receiver.

use anyhow::Result;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
struct State {
    target: Mutex<String>,
    down: AtomicBool,
    conns: Mutex<Vec<JoinHandle<()>>>,
}

pub struct Proxy {
    /// `127.0.0.1:port`: point the replica at `http://{addr}`.
    pub addr: String,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: &str) -> Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let state = Arc::new(State::default());
        *state.target.lock().unwrap() = target.to_string();
        let st = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if st.down.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = st.target.lock().unwrap().clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut conns = st.conns.lock().unwrap();
                conns.retain(|c| !c.is_finished());
                conns.push(task);
            }
        });
        Ok(Proxy {
            addr,
            state,
            accept,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where new connections go (a restarted receiver listens elsewhere).
    pub fn set_target(&self, target: &str) {
        *self.state.target.lock().unwrap() = target.to_string();
    }

    /// Drops every open connection and refuses new ones until [`Proxy::heal`].
    pub fn cut(&self) {
        self.state.down.store(true, Ordering::SeqCst);
        for c in self.state.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    pub fn heal(&self) {
        self.state.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
