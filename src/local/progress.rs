//! Turns the rungs' frame counters into progress events: frames done and expected, fps over
//! the last interval, speed against real time, and time left.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::job::{JobEvent, RungProgress};

/// One rung being counted.
pub struct Counted {
    /// Rung name.
    pub name: String,
    /// Frames encoded so far (written by the rung's thread).
    pub done: Arc<AtomicU64>,
    /// Frames expected.
    pub total: u64,
    /// Output frame rate, to turn frames into seconds of video.
    pub fps: f64,
}

/// Remembers the last reading to compute rates.
pub struct Meter {
    rungs: Vec<Counted>,
    started: Instant,
    last_at: Instant,
    last_done: Vec<u64>,
}

impl Meter {
    /// Starts measuring now.
    pub fn new(rungs: Vec<Counted>) -> Self {
        let n = rungs.len();
        Self {
            rungs,
            started: Instant::now(),
            last_at: Instant::now(),
            last_done: vec![0; n],
        }
    }

    /// A progress event for now.
    pub fn reading(&mut self) -> JobEvent {
        let now = Instant::now();
        let dt = now.duration_since(self.last_at).as_secs_f64().max(1e-3);
        let elapsed = now.duration_since(self.started).as_secs_f64().max(1e-3);
        self.last_at = now;
        let mut overall = 0.0;
        let count = self.rungs.len().max(1) as f64;
        let rungs = self
            .rungs
            .iter()
            .zip(self.last_done.iter_mut())
            .map(|(r, last)| {
                let done = r.done.load(Ordering::Relaxed).min(r.total);
                let fps = done.saturating_sub(*last) as f64 / dt;
                *last = done;
                let share = done as f64 / r.total.max(1) as f64;
                overall += share / count;
                RungProgress {
                    rung: r.name.clone(),
                    frames_done: done,
                    frames_total: r.total,
                    fps,
                    speed: done as f64 / r.fps.max(1e-3) / elapsed,
                    eta_secs: (done > 0).then(|| elapsed / share - elapsed),
                }
            })
            .collect();
        JobEvent::Progress { rungs, overall }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halfway_means_as_long_again() {
        let done = Arc::new(AtomicU64::new(0));
        let mut m = Meter::new(vec![Counted {
            name: "720p".into(),
            done: Arc::clone(&done),
            total: 100,
            fps: 25.0,
        }]);
        std::thread::sleep(std::time::Duration::from_millis(50));
        done.store(50, Ordering::Relaxed);
        let JobEvent::Progress { rungs, overall } = m.reading() else {
            panic!("not progress");
        };
        assert!((overall - 0.5).abs() < 1e-9);
        let eta = rungs[0].eta_secs.expect("eta");
        let elapsed = 50.0 / 25.0 / rungs[0].speed;
        assert!(
            (eta - elapsed).abs() < 0.01,
            "eta {eta} vs elapsed {elapsed}"
        );
        assert!(rungs[0].fps > 0.0);
        // Nothing more done: fps drops to zero, the count stays.
        let JobEvent::Progress { rungs, .. } = m.reading() else {
            panic!("not progress");
        };
        assert_eq!(rungs[0].fps, 0.0);
        assert_eq!(rungs[0].frames_done, 50);
    }
}
