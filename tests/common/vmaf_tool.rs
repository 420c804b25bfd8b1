//! libvmaf's own `vmaf` command-line tool, the reference the quality tests and the bench
//! compare Vodkit's scores with.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// libvmaf's `vmaf` tool, built once per target folder from the vendored source of the
/// `vmaf-head-sys` crate Vodkit links (meson + ninja, as its build script uses).
pub fn path() -> PathBuf {
    static TOOL: OnceLock<PathBuf> = OnceLock::new();
    TOOL.get_or_init(|| {
        let build = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vmaf-tool");
        let tool = build.join("tools/vmaf");
        if tool.exists() {
            return tool;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--locked"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo metadata");
        let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata json");
        let manifest = meta["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["name"] == "vmaf-head-sys")
            .and_then(|p| p["manifest_path"].as_str())
            .expect("vmaf-head-sys is a dependency");
        let source = Path::new(manifest)
            .parent()
            .expect("crate folder")
            .join("vendored/vmaf/libvmaf");
        let _ = std::fs::remove_dir_all(&build);
        let setup = Command::new("meson")
            .arg("setup")
            .arg(&build)
            .arg(&source)
            .args([
                "--buildtype=release",
                "-Denable_tests=false",
                "-Denable_docs=false",
                "-Denable_tools=true",
                "-Dbuilt_in_models=true",
                "-Denable_float=false",
                "-Ddefault_library=static",
            ])
            .output()
            .expect("meson (make test-deps installs it)");
        assert!(
            setup.status.success(),
            "meson setup: {}",
            String::from_utf8_lossy(&setup.stdout)
        );
        let ninja = Command::new("ninja")
            .arg("-C")
            .arg(&build)
            .arg("tools/vmaf")
            .output()
            .expect("ninja");
        assert!(
            ninja.status.success(),
            "ninja: {}",
            String::from_utf8_lossy(&ninja.stdout)
        );
        tool
    })
    .clone()
}

/// The tool scoring `reference` against `distorted` (Y4M) with the features Vodkit reports
/// (`vmaf_v0.6.1`, `psnr`, `float_ssim`) on `threads` threads, as JSON into `json`.
pub fn command(reference: &Path, distorted: &Path, threads: usize, json: &Path) -> Command {
    let mut c = Command::new(path());
    c.arg("-r")
        .arg(reference)
        .arg("-d")
        .arg(distorted)
        .args([
            "--model",
            "version=vmaf_v0.6.1",
            "--feature",
            "psnr",
            "--feature",
            "float_ssim",
            "--threads",
            &threads.to_string(),
            "--json",
            "-q",
            "-o",
        ])
        .arg(json);
    c
}
