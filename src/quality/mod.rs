//! Quality measured, not guessed: VMAF (libvmaf's built-in Netflix models), SSIM and PSNR of
//! every rung against the source after the same preparation the encode used, each rung
//! upscaled (bicubic) to the reference size first.
//!
//! - [`vmaf`]: libvmaf behind a safe type.
//! - [`meter`]: pairs a rung's pictures with the reference pictures and scores them.
//! - [`stats`]: per-frame scores summed up (mean, harmonic mean, 1 % low, per 2 s segment).
//! - [`compare`]: `vodkit quality SOURCE RUNG...` on existing files.
//! - [`report`]: `quality.html`, a self-contained report with SVG plots.
//! - [`viewer`]: the source and a rung at one instant, for the app's before/after view.

pub mod compare;
pub mod meter;
pub mod report;
pub mod stats;
pub mod viewer;
pub mod vmaf;

pub use stats::{RungQuality, VmafSummary};
