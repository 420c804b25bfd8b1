//! `vodkit serve DIR [--port P] [--bind ADDR] [--player-dir DIR] [--header-timeout-secs S]
//! [--max-connections N]`: just-in-time HLS and DASH.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::serve::{Config, serve};

/// How `vodkit serve` was asked to run.
pub struct Options {
    /// The folder of titles.
    pub root: PathBuf,
    /// Address to listen on.
    pub bind: IpAddr,
    /// Port (0: any free one).
    pub port: u16,
    /// Local player scripts.
    pub player_dir: Option<PathBuf>,
    /// Player scripts from a CDN.
    pub player_cdn: bool,
    /// Seconds a client has to send its request headers.
    pub header_timeout_secs: u64,
    /// Connections at once.
    pub max_connections: usize,
}

/// Serves until Ctrl-C. Returns 1 when the server cannot start.
pub fn run(o: Options) -> usize {
    let Options {
        root,
        bind,
        port,
        player_dir,
        player_cdn,
        header_timeout_secs,
        max_connections,
    } = o;
    if !root.is_dir() {
        eprintln!(
            "vodkit: {} is not a folder; give the --out folder of vodkit encode",
            root.display()
        );
        return 1;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("vodkit-serve")
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vodkit: cannot start the server runtime: {e}");
            return 1;
        }
    };
    let config = Config {
        root: root.clone(),
        addr: SocketAddr::new(bind, port),
        player_dir,
        player_cdn,
        header_timeout: std::time::Duration::from_secs(header_timeout_secs.max(1)),
        max_connections: max_connections.max(1),
    };
    let result = runtime.block_on(async move {
        tokio::select! {
            r = serve(config, |addr| {
                println!("Serving {} at http://{addr}/ (Ctrl-C to stop)", root.display());
            }) => r,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!(
                "vodkit: cannot serve on {bind}:{port}: {e} (is the port in use? try --port 0 for any free port)"
            );
            1
        }
    }
}
