//! Vodkit turns any video into files people can share and into adaptive streaming ladders
//! (HLS + DASH), locally on the FFmpeg libraries or in the cloud.
//!
//! The library holds everything; the `vodkit` binary only parses arguments and hands over.
//! Data flows `probe` -> `plan` (with a `preset`) -> a backend -> events.

pub mod av;
pub mod catalog;
pub mod cli;
pub mod cloud;
pub mod dirs;
pub mod gui;
pub mod job;
pub mod local;
pub mod package;
pub mod plan;
pub mod preset;
pub mod priority;
pub mod probe;
pub mod quality;
pub mod runner;
pub mod serve;
pub mod subtitles;
pub mod timing;
pub mod units;
pub mod watcher;
