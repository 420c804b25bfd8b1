//! `vodkit serve DIR [--port P] [--bind ADDR] [--player-dir DIR]`: just-in-time HLS and DASH.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::serve::{Config, serve};

/// Serves until Ctrl-C. Returns 1 when the server cannot start.
pub fn run(root: PathBuf, bind: IpAddr, port: u16, player_dir: Option<PathBuf>) -> usize {
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
