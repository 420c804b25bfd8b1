//! The Debian package: built from the CLI definition (man page, completions) with cargo-deb,
//! unpacked into a scratch root, and run from there: `vodkit --version` and `vodkit probe`.
//! Its dependencies are FFmpeg's runtime libraries, never -dev packages.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn the_package_installs_and_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let deb = dir.path().join("vodkit.deb");
    // The binary the tests already built (dev profile) is what gets packaged: no second build.
    let status = Command::new(root.join("packaging/build-deb.sh"))
        .arg("dev")
        .env("DEB_OUT", &deb)
        .status()
        .expect("packaging/build-deb.sh runs (make test-deps installs cargo-deb)");
    assert!(status.success(), "building the package failed");

    let field = |name: &str| {
        let out = Command::new("dpkg-deb")
            .args(["-f"])
            .arg(&deb)
            .arg(name)
            .output()
            .expect("dpkg-deb");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let depends = field("Depends");
    assert!(
        depends.contains("libavcodec"),
        "FFmpeg runtime libraries: {depends}"
    );
    assert!(
        !depends.contains("-dev"),
        "no development packages: {depends}"
    );
    assert_eq!(field("Package"), "vodkit");

    let list = Command::new("dpkg-deb")
        .arg("-c")
        .arg(&deb)
        .output()
        .expect("dpkg-deb -c");
    let list = String::from_utf8_lossy(&list.stdout);
    for path in [
        "./usr/bin/vodkit",
        "./usr/share/applications/vodkit.desktop",
        "./usr/share/icons/hicolor/256x256/apps/vodkit.png",
        "./usr/share/icons/hicolor/scalable/apps/vodkit.svg",
        "./usr/share/man/man1/vodkit.1",
        "./usr/share/bash-completion/completions/vodkit",
        "./usr/share/zsh/vendor-completions/_vodkit",
        "./usr/share/fish/vendor_completions.d/vodkit.fish",
    ] {
        assert!(
            list.contains(path),
            "{path} missing from the package:\n{list}"
        );
    }

    let scratch = dir.path().join("root");
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&scratch)
        .status()
        .expect("dpkg-deb -x");
    assert!(status.success());
    let vodkit = scratch.join("usr/bin/vodkit");
    let version = Command::new(&vodkit)
        .arg("--version")
        .output()
        .expect("installed vodkit runs");
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.contains(env!("CARGO_PKG_VERSION")) && version.contains("libavcodec"),
        "{version}"
    );
    let probe = Command::new(&vodkit)
        .args(["probe", "--json"])
        .arg(common::basic())
        .env("VODKIT_CONFIG_DIR", dir.path())
        .output()
        .expect("probe");
    assert!(probe.status.success());
    let info: serde_json::Value = serde_json::from_slice(&probe.stdout).expect("json");
    assert_eq!(info["title"], "basic");
    let desktop = std::fs::read_to_string(scratch.join("usr/share/applications/vodkit.desktop"))
        .expect("desktop");
    assert!(desktop.contains("MimeType=video/mp4;") && desktop.contains("Exec=vodkit gui %F"));
}

#[test]
fn help_is_complete_with_examples() {
    let dir = tempfile::tempdir().expect("tempdir");
    for cmd in [
        "probe",
        "plan",
        "encode",
        "stills",
        "package",
        "serve",
        "presets",
        "completions",
        "man",
    ] {
        let (code, stdout, _) = common::vodkit(&[cmd, "--help"], dir.path());
        assert_eq!(code, 0, "{cmd} --help");
        assert!(
            stdout.contains("Example"),
            "{cmd} --help shows examples:\n{stdout}"
        );
    }
    let (_, top, _) = common::vodkit(&["--help"], dir.path());
    assert!(top.contains("Examples:"), "{top}");
}
