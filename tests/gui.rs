//! The desktop app driven by egui_kittest, by role and label, as a person would: drop clips
//! (through the raw input's hovered and dropped files), see them read, select one, see its
//! rungs for two presets, start, follow progress to 100 % and find the outputs, cancel a second
//! job and see nothing finished left behind, drop a broken file and see its error. The preset
//! editor shows an invalid rung's problem inline. The cloud backend tests its connection and
//! runs a job against moto's S3 server and a MediaConvert stand-in.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use vodkit::gui::{FileStatus, JobState, Layout, PresetEditor, Settings, Tab, VodkitApp};

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

fn drop_files(harness: &mut Harness<'_, VodkitApp>, files: &[PathBuf]) {
    harness.input_mut().hovered_files = files
        .iter()
        .map(|p| egui::HoveredFile {
            path: Some(p.clone()),
            ..Default::default()
        })
        .collect();
    harness.run_steps(3);
    harness.input_mut().hovered_files.clear();
    harness.input_mut().dropped_files = files
        .iter()
        .map(|p| Arc::new(Dropped(p.clone())) as _)
        .collect();
    harness.run_steps(2);
}

/// Steps the app (its workers run on their own threads) until `done` or a minute passes.
fn step_until(harness: &mut Harness<'_, VodkitApp>, what: &str, done: impl Fn(&VodkitApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(harness.state()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; jobs: {:?}; status: {}",
            harness
                .state()
                .jobs
                .iter()
                .map(|j| (format!("{:?}", j.state), j.cloud_status.clone()))
                .collect::<Vec<_>>(),
            harness.state().status
        );
        harness.run_steps(1);
        std::thread::sleep(Duration::from_millis(30));
    }
    harness.run_steps(2);
}

/// Clicks Start and steps until job `index` has ended; it must have succeeded.
fn start_and_finish(harness: &mut Harness<'_, VodkitApp>, index: usize) {
    click_start(harness);
    harness.run_steps(2);
    step_until(harness, "the job to finish", |a| {
        a.jobs
            .get(index)
            .is_some_and(|j| matches!(j.state, JobState::Done(_) | JobState::Failed(_)))
    });
    let job = &harness.state().jobs[index];
    assert!(matches!(job.state, JobState::Done(_)), "{:?}", job.state);
}

/// Clicks the Start button ("Start (N)" for a selection, "Start all (N)" without one).
fn click_start(harness: &mut Harness<'_, VodkitApp>) {
    let label = harness
        .query_all_by_label_contains("Start")
        .filter_map(|n| n.accesskit_node().label())
        .find(|l| l.starts_with("Start (") || l.starts_with("Start all ("))
        .expect("a Start button");
    harness.get_by_label(&label).click();
}

/// Keeps the app's settings and presets away from the real config folder.
fn private_config() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gui-config");
        let _ = std::fs::remove_dir_all(&dir);
        // SAFETY: set once, before any app in this test binary reads them. The AWS variables
        // give the cloud backend static test credentials (no profile files, no instance role).
        unsafe {
            std::env::set_var("VODKIT_CONFIG_DIR", &dir);
            for (k, v) in common::aws::ENV {
                std::env::set_var(k, v);
            }
        }
        // The Cloud plan is priced from the test excerpt of AWS's offer file (round numbers).
        let snapshot = price_snapshot();
        let file = vodkit::cloud::prices::snapshot_file().expect("data folder");
        assert!(file.starts_with(&dir), "{}", file.display());
        vodkit::cloud::prices::write_snapshot(&snapshot, &file).expect("price snapshot");
    });
}

fn price_snapshot() -> vodkit::cloud::prices::PriceSnapshot {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    vodkit::cloud::prices::snapshot_from_offer(
        &fixtures.join("mediaconvert-offer-excerpt.json"),
        &[fixtures.join("s3-offer-excerpt.json")],
    )
    .expect("offer excerpt")
}

fn app(out: &Path) -> Harness<'static, VodkitApp> {
    app_with(Settings {
        output_dir: out.to_owned(),
        preset: "web-ladder".to_owned(),
        ..Settings::default()
    })
}

/// A library database of its own for each app of this test binary.
fn fresh_library() -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gui-libraries");
    std::fs::create_dir_all(&dir).expect("dir");
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("library-{}-{n}.sqlite", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

fn app_with(settings: Settings) -> Harness<'static, VodkitApp> {
    app_with_library(settings, fresh_library())
}

fn app_with_library(settings: Settings, library: PathBuf) -> Harness<'static, VodkitApp> {
    private_config();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, app: &mut VodkitApp| app.show(ui),
            VodkitApp::with_library(settings, Some(library), || {}),
        );
    harness.run_steps(2);
    harness
}

#[test]
fn drop_inspect_encode_cancel_and_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let mut harness = app(&out);
    harness.get_by_label_contains("Drag videos or folders here");

    // Two clips dropped: both are read in the background and listed.
    let (basic, long) = (common::basic(), common::ladder_source());
    drop_files(&mut harness, &[basic.clone(), long]);
    step_until(&mut harness, "both clips probed", |a| {
        a.files.len() == 2
            && a.files
                .iter()
                .all(|f| matches!(f.status, FileStatus::Ready(_)))
    });
    harness.get_by_label("basic.mp4");
    harness.get_by_label("ladder_source.mp4");
    // Dropping the same file again adds nothing.
    drop_files(&mut harness, std::slice::from_ref(&basic));
    for _ in 0..20 {
        harness.run_steps(1);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(harness.state().files.len(), 2);

    // The first is selected: its probe and its web-ladder plan are shown.
    harness.get_by_label("basic.mp4").click();
    harness.run_steps(2);
    if harness.state().selected != Some(0) {
        harness.get_by_label("basic.mp4").click();
        harness.run_steps(2);
    }
    assert_eq!(harness.state().selected, Some(0));
    harness.get_by_label("Plan with web-ladder");
    assert!(
        harness.query_all_by_label("dropped").count() >= 4,
        "the large rungs are dropped"
    );
    harness.get_by_label("240p");
    // phone-share: one rung, resized to the source.
    harness.state_mut().settings.preset = "phone-share".to_owned();
    harness.run_steps(2);
    harness.get_by_label("Plan with phone-share");
    harness.get_by_label("resized");

    // Start: progress reaches 100 % and the outputs exist.
    start_and_finish(&mut harness, 0);
    let job = &harness.state().jobs[0];
    assert!((job.overall - 1.0).abs() < 1e-9);
    assert!(out.join("basic/basic_240p.mp4").exists());
    harness.get_by_label("Open folder");

    // A second job on the longer clip, cancelled while it runs: nothing finished is left.
    harness.get_by_label("ladder_source.mp4").click();
    harness.run_steps(2);
    harness.state_mut().settings.preset = "web-ladder".to_owned();
    click_start(&mut harness);
    step_until(&mut harness, "the second job to run", |a| {
        a.jobs
            .get(1)
            .is_some_and(|j| j.state == JobState::Running && j.overall > 0.0)
    });
    // Start again while it runs: the same file is not queued twice.
    click_start(&mut harness);
    harness.run_steps(2);
    assert_eq!(harness.state().jobs.len(), 2);
    harness.get_by_label("that file is already queued");
    harness.get_by_label("Cancel ladder_source.mp4").click();
    step_until(&mut harness, "the cancel", |a| {
        a.jobs.get(1).is_some_and(|j| j.state != JobState::Running)
    });
    assert_eq!(harness.state().jobs[1].state, JobState::Cancelled);
    harness.get_by_label("cancelled");
    let leftovers: Vec<PathBuf> = common::files_under(&out.join("ladder_source"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "mp4" || e == "part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A broken file shows its error.
    drop_files(&mut harness, &[common::zero_bytes()]);
    step_until(&mut harness, "the broken file to be read", |a| {
        a.files
            .iter()
            .any(|f| matches!(f.status, FileStatus::Failed(_)))
    });
    harness.get_by_label("cannot read");
    harness.get_by_label("zero.mp4").click();
    harness.run_steps(2);
    harness.get_by_label_contains("is empty (0 bytes)");

    // The first clip again: its rung is skipped; with "Redo" ticked it is made again.
    let basic = harness
        .state()
        .files
        .iter()
        .position(|f| f.path.ends_with("basic.mp4"));
    harness.state_mut().selected = basic;
    harness.run_steps(2);
    harness.state_mut().settings.preset = "phone-share".to_owned();
    for (redo, index) in [(false, 2), (true, 3)] {
        if redo {
            harness.get_by_label("Redo").click();
            harness.run_steps(1);
        }
        click_start(&mut harness);
        harness.run_steps(2);
        step_until(&mut harness, "the job to finish", |a| {
            a.jobs
                .get(index)
                .is_some_and(|j| matches!(j.state, JobState::Done(_) | JobState::Failed(_)))
        });
        match &harness.state().jobs[index].state {
            JobState::Done(summary) => assert_eq!(
                (summary.made.len(), summary.skipped.len()),
                if redo { (1, 0) } else { (0, 1) },
                "redo {redo}: {summary:?}"
            ),
            other => panic!("{other:?}"),
        }
    }

    // A changed setting is remembered once the settings have settled. (The other apps of this
    // test binary share the config folder and may save theirs meanwhile: wait for ours.)
    harness.state_mut().settings.jobs_at_once = 3;
    let saved = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gui-config/settings.json");
    let deadline = Instant::now() + Duration::from_secs(10);
    let ours = |text: &str| text.contains("\"jobs_at_once\": 3");
    let mut text = String::new();
    while !ours(&text) && Instant::now() < deadline {
        harness.run_steps(1);
        std::thread::sleep(Duration::from_millis(100));
        text = std::fs::read_to_string(&saved).unwrap_or_default();
    }
    assert!(ours(&text), "settings saved: {text}");
}

#[test]
fn a_finished_job_shows_its_quality_plots_table_and_before_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    // web-ladder measures quality while it encodes.
    let mut harness = app(&out);
    drop_files(&mut harness, &[common::basic()]);
    step_until(&mut harness, "the clip probed, with its stills", |a| {
        a.files
            .first()
            .is_some_and(|f| matches!(f.status, FileStatus::Ready(_)) && !f.stills.is_empty())
    });
    harness.get_by_label("basic.mp4").click();
    harness.run_steps(2);
    start_and_finish(&mut harness, 0);
    let job = &harness.state().jobs[0];
    assert_eq!(job.quality.len(), 1, "the 240p rung was scored");

    harness.get_by_label("Quality").click();
    harness.run_steps(3);
    assert_eq!(harness.state().tab, Tab::Quality);
    harness.get_by_label_contains("Quality of basic");
    harness.get_by_label("Rate-quality: mean VMAF per rung");
    harness.get_by_label("VMAF over time (mean of each 2 s segment)");
    harness.get_by_label_contains("VMAF vmaf_v0.6.1 at 320x240");
    let vmaf = format!("{:.2}", harness.state().jobs[0].quality[0].vmaf.mean);
    assert!(
        harness.query_all_by_label(&vmaf).count() >= 1,
        "the table shows the mean VMAF {vmaf}"
    );

    // Before/after: the source and the rung at the first still's time, with that picture's
    // VMAF, decoded off the UI thread; then the split view.
    harness.get_by_label("Show").click();
    harness.run_steps(1);
    step_until(&mut harness, "the pictures", |a| {
        a.quality.as_ref().is_some_and(|q| !q.loading)
    });
    let tab = harness.state().quality.as_ref().expect("tab");
    assert!(tab.error.is_none(), "{:?}", tab.error);
    harness.get_by_label_contains("(this picture)");
    harness.get_by_label("source (prepared)");
    harness.get_by_label("Split").click();
    harness.run_steps(2);
    assert_eq!(
        harness.state().quality.as_ref().map(|q| q.layout),
        Some(Layout::Split)
    );
    assert!(harness.query_all_by_label("split line").count() >= 1);
    // Back to the file tab.
    harness.get_by_label("File").click();
    harness.run_steps(2);
    assert_eq!(harness.state().tab, Tab::File);
}

#[test]
fn the_preset_editor_sets_languages_5_1_burn_in_hdr_av1_and_clean_up() {
    let mut preset = vodkit::preset::store::builtin("web-ladder").expect("web-ladder");
    preset.name = "my-ladder".to_owned();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 800.0))
        .build_ui_state(
            |ui, editor: &mut PresetEditor| {
                let _ = editor.show(ui);
            },
            PresetEditor::new(preset),
        );
    harness.run_steps(2);
    harness.get_by_label("audio languages").focus();
    harness.run_steps(1);
    harness.get_by_label("audio languages").type_text("en, fr");
    harness.run_steps(2);
    harness.get_by_label("burn in").focus();
    harness.run_steps(1);
    harness.get_by_label("burn in").type_text("en");
    harness.run_steps(2);
    harness.get_by_label("Keep 5.1").click();
    harness.run_steps(1);
    harness.get_by_label("HDR sources").click();
    harness.run_steps(2);
    harness.get_by_label("Keep (H.265, AV1)").click();
    harness.run_steps(2);
    harness.get_by_label("rung 1 codec").click();
    harness.run_steps(2);
    harness.get_by_label("AV1").click();
    harness.run_steps(3);
    harness.get_by_label("Denoise strength").click();
    harness.run_steps(2);
    harness.get_by_label("Medium").click();
    harness.run_steps(2);
    harness.get_by_label("Deblock").click();
    harness.run_steps(2);
    harness.get_by_label("Black borders").click();
    harness.run_steps(2);
    harness.get_by_label("Keep every pixel").click();
    harness.run_steps(2);
    assert_eq!(
        harness.state().preset.video.crop,
        vodkit::preset::Crop::Mode(vodkit::preset::CropMode::None)
    );
    let p = &harness.state().preset;
    assert_eq!(p.video.denoise, vodkit::preset::Denoise::Medium);
    assert!(p.video.deblock);
    assert_eq!(p.audio.languages, ["en", "fr"]);
    assert_eq!(p.subtitles.burn.as_deref(), Some("en"));
    assert!(p.audio.surround);
    assert_eq!(p.video.hdr, vodkit::preset::HdrMode::Keep);
    // The profile follows the codec: AV1 rungs are Main.
    assert_eq!(p.rungs[0].codec, vodkit::preset::Codec::Av1);
    assert_eq!(p.rungs[0].profile, Some(vodkit::preset::Profile::Main));
    harness.get_by_label("Valid: ready to save");
    // A language the tables do not know is named, with the field.
    harness.get_by_label("audio languages").focus();
    harness.run_steps(1);
    harness.get_by_label("audio languages").type_text(", xx");
    harness.run_steps(3);
    harness.get_by_label_contains("xx");
    assert!(harness.query_by_label("Valid: ready to save").is_none());
}

#[test]
fn the_preset_editor_shows_an_invalid_rung_inline() {
    let mut preset = vodkit::preset::store::builtin("phone-share").expect("phone-share");
    preset.name = "my-share".to_owned();
    preset.rungs[0].width = 1281;
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1000.0, 700.0))
        .build_ui_state(
            |ui, editor: &mut PresetEditor| {
                let _ = editor.show(ui);
            },
            PresetEditor::new(preset),
        );
    harness.run_steps(3);
    harness.get_by_label_contains("rung 1: width: (1281x720) 1281 is odd");
    // Fixing it makes the preset valid again.
    harness.state_mut().preset.rungs[0].width = 1280;
    harness.run_steps(3);
    harness.get_by_label("Valid: ready to save");
    assert!(harness.query_by_label_contains("is odd").is_none());
    // Letters typed into a number stay on screen with their problem named, the preset keeps
    // its last readable value, and saving waits until the field reads as a number again.
    harness.get_by_label("rung 1 width").focus();
    harness.run_steps(1);
    harness.get_by_label("rung 1 width").type_text("abc");
    harness.run_steps(2);
    harness.get_by_label("rung 1 width: '1280abc' is not a number");
    assert!(harness.query_by_label("Valid: ready to save").is_none());
    assert!(
        harness
            .get_by_label("Save as…")
            .accesskit_node()
            .is_disabled()
    );
    assert_eq!(harness.state().preset.rungs[0].width, 1280);
    for _ in 0..3 {
        harness.key_press(egui::Key::Backspace);
    }
    harness.run_steps(2);
    harness.get_by_label("Valid: ready to save");
    // A number read as typed lands in the preset at once, and one out of range is named.
    harness.get_by_label("rung 1 width").type_text("0");
    harness.run_steps(2);
    harness.get_by_label_contains("12800 is outside 2-");
    harness.key_press(egui::Key::Backspace);
    harness.key_press(egui::Key::Backspace);
    harness.get_by_label("rung 1 width").type_text("4");
    harness.run_steps(2);
    assert_eq!(harness.state().preset.rungs[0].width, 1284);
    harness.get_by_label("Valid: ready to save");
    // Save as… open, then a field made unreadable: its Save waits too.
    harness.get_by_label("Save as…").click();
    harness.run_steps(2);
    assert!(!harness.get_by_label("Save").accesskit_node().is_disabled());
    harness.get_by_label("rung 1 width").focus();
    harness.get_by_label("rung 1 width").type_text("x");
    harness.run_steps(2);
    harness.get_by_label("rung 1 width: '1284x' is not a number");
    assert!(harness.get_by_label("Save").accesskit_node().is_disabled());
}

/// Steps the app until a label containing `text` is shown.
fn step_until_label(harness: &mut Harness<'_, VodkitApp>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while harness.query_by_label_contains(text).is_none() {
        assert!(Instant::now() < deadline, "timed out waiting for '{text}'");
        harness.run_steps(1);
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Puts what MediaConvert would write for `plan` under `out_key`: each rung a real MP4 of its
/// size made from the plan's source, so a download makes a title that probes like a local one.
fn put_rungs(
    rt: &tokio::runtime::Runtime,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    out_key: &str,
    plan: &vodkit::plan::Plan,
) {
    let made = tempfile::tempdir().expect("tempdir");
    for r in plan.made_rungs() {
        let rung = made.path().join(format!("{}.mp4", r.name));
        common::scaled_copy(&plan.source, r.width, r.height, &rung);
        rt.block_on(
            s3.put_object()
                .bucket(bucket)
                .key(format!("{out_key}{}_{}.mp4", plan.title, r.name))
                .body(std::fs::read(&rung).expect("rung").into())
                .send(),
        )
        .expect("put");
    }
}

#[test]
fn the_cloud_backend_tests_its_connection_and_runs_a_job() {
    use common::aws::{FakeMediaConvert, Moto, s3_client, step};
    private_config();
    let moto = Moto::start();
    let mc = FakeMediaConvert::start(vec![
        step("PROGRESSING", 40, Some("TRANSCODING")),
        step("COMPLETE", 100, None),
    ]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let s3 = rt.block_on(s3_client(&moto.url()));
    rt.block_on(s3.create_bucket().bucket("gui-vod").send())
        .expect("bucket");
    // What MediaConvert would write for phone-share on the basic clip.
    let source = common::basic();
    let preset = vodkit::preset::store::builtin("phone-share").expect("phone-share");
    let plan =
        vodkit::plan::plan(&vodkit::probe::probe(&source).expect("probe"), &preset).expect("plan");
    let content = vodkit::cloud::upload::source_fingerprint(&source).expect("fingerprint");
    let place = vodkit::cloud::JobTarget {
        bucket: "gui-vod".into(),
        prefix: "vod".into(),
        role_arn: "arn:aws:iam::123456789012:role/MediaConvertRole".into(),
        queue: None,
    }
    .place(&plan, &content);
    let out_key = place.output_url.trim_start_matches("s3://gui-vod/");
    put_rungs(&rt, &s3, "gui-vod", out_key, &plan);

    let dir = tempfile::tempdir().expect("tempdir");
    let settings = Settings {
        output_dir: dir.path().to_owned(),
        preset: "phone-share".to_owned(),
        backend: vodkit::gui::Backend::Cloud,
        cloud: vodkit::cloud::CloudSettings {
            bucket: "gui-vod".into(),
            prefix: "vod".into(),
            role_arn: "arn:aws:iam::123456789012:role/MediaConvertRole".into(),
            endpoint: moto.url(),
            mediaconvert_endpoint: mc.url(),
            ..Default::default()
        },
        ..Settings::default()
    };
    let library = fresh_library();
    let mut harness = app_with_library(settings, library.clone());

    // Test connection, in the Settings view.
    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    harness.get_by_label("Test connection").click();
    harness.run_steps(1);
    step_until_label(&mut harness, "reachable in us-east-1");
    harness.get_by_label("bucket gui-vod");
    harness.get_by_label_contains("write to s3://gui-vod/vod/");
    assert!(
        harness.query_by_label("FAIL").is_none(),
        "every check passes"
    );
    // A cost limit per source is set (and cleared) here; queued jobs carry it.
    harness.get_by_label("Refuse jobs estimated above").click();
    harness.run_steps(1);
    assert_eq!(harness.state().settings.cloud.max_cost_usd, Some(10.0));
    harness.get_by_label("Refuse jobs estimated above").click();
    harness.run_steps(1);
    assert_eq!(harness.state().settings.cloud.max_cost_usd, None);

    // A job: upload, MediaConvert, outputs with the SMIL.
    drop_files(&mut harness, std::slice::from_ref(&source));
    step_until(&mut harness, "the clip probed", |a| {
        a.files
            .iter()
            .all(|f| matches!(f.status, FileStatus::Ready(_)))
            && !a.files.is_empty()
    });
    harness.get_by_label("Files").click();
    harness.run_steps(2);
    click_start(&mut harness);
    harness.run_steps(2);
    step_until(&mut harness, "the cloud job to finish", |a| {
        a.jobs
            .first()
            .is_some_and(|j| matches!(j.state, JobState::Done(_) | JobState::Failed(_)))
    });
    let job = &harness.state().jobs[0];
    assert!(matches!(job.state, JobState::Done(_)), "{:?}", job.state);
    assert!(
        harness
            .query_all_by_label_contains(&place.output_url)
            .count()
            >= 1
    );
    let smil = rt
        .block_on(
            s3.get_object()
                .bucket("gui-vod")
                .key(format!("{out_key}index.smil"))
                .send(),
        )
        .expect("index.smil written next to the outputs");
    assert!(smil.content_length().unwrap_or(0) > 0);
    // Download: the outputs land in the output folder under the title.
    harness.get_by_label("Download").click();
    harness.run_steps(1);
    step_until(&mut harness, "the download", |a| {
        a.status.starts_with("downloaded")
    });
    assert!(
        dir.path().join("basic/index.smil").exists(),
        "{}",
        harness.state().status
    );
    // A title like a local encode's: its manifest, and a record in the app's library.
    assert!(
        harness.state().status.ends_with("; in the library"),
        "{}",
        harness.state().status
    );
    assert!(dir.path().join("basic/manifest.json").exists());
    let title = vodkit::catalog::Catalog::open(&library)
        .expect("library")
        .title("basic")
        .expect("query")
        .expect("the downloaded title");
    assert_eq!(title.renditions.len(), plan.made_rungs().count());
    let source_key = rt.block_on(
        s3.head_object()
            .bucket("gui-vod")
            .key(place.input_url.trim_start_matches("s3://gui-vod/"))
            .send(),
    );
    assert!(source_key.is_ok(), "the source was uploaded");
    // The library remembers the upload and the MediaConvert job with its outputs.
    let c = vodkit::catalog::Catalog::open(&library).expect("library");
    let uploads = c.uploads().expect("uploads");
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    assert_eq!(uploads[0].bucket, "gui-vod");
    assert_eq!(uploads[0].source, source);
    assert_eq!(
        uploads[0].key,
        format!(
            "vod/inputs/{content}/{}",
            source.file_name().expect("name").to_string_lossy()
        )
    );
    assert!(
        uploads[0].etag.as_ref().is_some_and(|sum| sum.len() == 12),
        "the object's CRC-64/NVME (base64) is recorded: {:?}",
        uploads[0].etag
    );
    let jobs = c.cloud_jobs().expect("cloud jobs");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, "COMPLETE");
    assert!(
        jobs[0].outputs.iter().any(|o| o.ends_with("index.smil")),
        "{:?}",
        jobs[0].outputs
    );
}

#[test]
fn the_inspector_fits_per_title_estimates_trims_and_fits_a_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let mut harness = app_with(Settings {
        output_dir: out.clone(),
        preset: "phone-share".to_owned(),
        ..Settings::default()
    });
    drop_files(&mut harness, &[common::basic()]);
    step_until(&mut harness, "the clip probed, with its stills", |a| {
        a.files
            .first()
            .is_some_and(|f| matches!(f.status, FileStatus::Ready(_)) && !f.stills.is_empty())
    });
    assert_eq!(
        harness.state().selected,
        Some(0),
        "a first file is selected as it comes"
    );

    // Fit per title: samples encoded and scored in the background; the plan shows the fitted
    // ladder with its predicted VMAF and time, and the curves.
    harness.get_by_label("Fit per title").click();
    harness.run_steps(2);
    assert!(harness.state().files[0].analysing);
    harness.get_by_label_contains("working in the background");
    step_until(&mut harness, "the fit", |a| !a.files[0].analysing);
    let plan = match &harness.state().files[0].analysed {
        Some((preset, Ok(plan))) if preset.name == "phone-share" => plan.clone(),
        other => panic!("no fitted plan: {other:?}"),
    };
    assert!(plan.per_title.is_some());
    assert!(plan.predicted_encode_secs.is_some_and(|t| t > 0.0));
    harness.get_by_label("Plan with phone-share, fitted per title");
    harness.get_by_label("Est. VMAF");
    harness.get_by_label_contains("local encode about");
    harness.get_by_label_contains("Per-title fit from");
    harness.get_by_label("Back to the preset's plan").click();
    harness.run_steps(2);
    assert!(harness.state().files[0].analysed.is_none());

    // The part to encode, as the stills strip's handles set it.
    harness.state_mut().files[0].range = Some((1.0, 3.0));
    harness.run_steps(2);
    harness.get_by_label("Part: 1.0 s to 3.0 s (2.0 s)");

    // A built-in size, then one typed in.
    harness.get_by_label("Fit to size").click();
    harness.run_steps(2);
    harness.get_by_label("8 MB").click();
    harness.run_steps(2);
    assert_eq!(harness.state().target_bytes, Some(8_000_000));
    // Typed: the field is read when typing ends, not at "150" on the way.
    // (The field holds "8 MB" from the choice; it is emptied as select-all + delete would.)
    harness.state_mut().target_text.clear();
    harness.run_steps(1);
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .focus();
    harness.run_steps(1);
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .type_text("150kB");
    harness.run_steps(1);
    assert_eq!(harness.state().target_text, "150kB");
    assert_eq!(
        harness.state().target_bytes,
        Some(8_000_000),
        "not yet read"
    );
    harness.key_press(egui::Key::Enter);
    harness.run_steps(2);
    assert_eq!(harness.state().target_bytes, Some(150_000));
    start_and_finish(&mut harness, 0);
    // A folder of its own: the size-fitted copy never replaces a ladder of the same source.
    let title = out.join("basic-150kB");
    let mp4s: Vec<PathBuf> = common::files_under(&title)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
        .collect();
    assert_eq!(mp4s.len(), 1, "{mp4s:?}");
    let size = std::fs::metadata(&mp4s[0]).expect("size").len();
    let share = size as f64 / 150_000.0;
    assert!(
        (0.95..=1.0).contains(&share),
        "{size} B is {share} of 150 kB"
    );
    let duration: f64 = common::ffprobe(&mp4s[0])["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("duration");
    assert!((duration - 2.0).abs() < 0.1, "the part only: {duration} s");
}

/// The pid of a process that has ended (a stand-in for an app that crashed).
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().expect("true");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

#[test]
fn a_cloud_job_running_when_the_app_closed_is_followed_again_and_offers_download() {
    use common::aws::{FakeMediaConvert, Moto, s3_client, step};
    use vodkit::catalog::{Catalog, cloud_jobs::CloudJobRecord, queue::JobKind};
    use vodkit::runner::JobSpec;
    private_config();
    let moto = Moto::start();
    let mc = FakeMediaConvert::start(vec![
        step("PROGRESSING", 30, Some("TRANSCODING")),
        step("PROGRESSING", 70, Some("TRANSCODING")),
        step("COMPLETE", 100, None),
    ]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let s3 = rt.block_on(s3_client(&moto.url()));
    rt.block_on(s3.create_bucket().bucket("gui-vod2").send())
        .expect("bucket");
    let dir = tempfile::tempdir().expect("tempdir");
    // The source is moved away after submitting: following the job needs only the record.
    let source = dir.path().join("basic.mp4");
    std::fs::copy(common::basic(), &source).expect("copy");
    let preset = vodkit::preset::store::builtin("phone-share").expect("phone-share");
    let plan =
        vodkit::plan::plan(&vodkit::probe::probe(&source).expect("probe"), &preset).expect("plan");
    let cloud = vodkit::cloud::CloudSettings {
        bucket: "gui-vod2".into(),
        prefix: "vod".into(),
        role_arn: "arn:aws:iam::123456789012:role/MediaConvertRole".into(),
        endpoint: moto.url(),
        mediaconvert_endpoint: mc.url(),
        ..Default::default()
    };

    // An earlier session submitted the job (upload, CreateJob), then its process died.
    let said = Arc::new(std::sync::Mutex::new(Vec::new()));
    let heard = Arc::clone(&said);
    let quiet: vodkit::job::EventSink = Arc::new(move |e| heard.lock().expect("events").push(e));
    let submitted = rt
        .block_on(async {
            let clients = vodkit::cloud::Clients::connect(&cloud).await?;
            let options = vodkit::cloud::submit::SubmitOptions {
                wait: false,
                ..Default::default()
            };
            vodkit::cloud::submit::submit(
                &clients,
                &plan,
                &preset,
                &options,
                &quiet,
                &vodkit::job::CancelToken::new(),
            )
            .await
        })
        .expect("submitted");
    let out_key = submitted
        .output_url
        .trim_start_matches("s3://gui-vod2/")
        .to_owned();
    put_rungs(&rt, &s3, "gui-vod2", &out_key, &plan);
    let library = fresh_library();
    {
        let c = Catalog::open(&library).expect("library");
        let spec = JobSpec {
            kind: JobKind::Cloud,
            cloud: Some(cloud.clone()),
            plan: Some(plan),
            ..JobSpec::local(&source, &preset, dir.path())
        };
        let row = c.enqueue(&spec.new_job()).expect("row");
        c.claim(row, dead_pid()).expect("claim").expect("claimed");
        c.record_cloud_job(
            &CloudJobRecord {
                service_id: submitted.job_id,
                region: None,
                job_id: Some(row),
                status: "SUBMITTED".into(),
                percent: 0,
                // What the job said when it was created (as the library records it).
                output_url: said.lock().expect("events").iter().find_map(|e| match e {
                    vodkit::job::JobEvent::CloudJob { output_url, .. } => output_url.clone(),
                    _ => None,
                }),
                outputs: Vec::new(),
                updated_secs: 0,
            },
            None,
        )
        .expect("record");
    }
    std::fs::rename(&source, dir.path().join("moved.mp4")).expect("move the source");

    // The app starts again: the job comes back, is followed to its end, offers Download.
    let settings = Settings {
        output_dir: dir.path().to_owned(),
        preset: "phone-share".to_owned(),
        backend: vodkit::gui::Backend::Cloud,
        cloud,
        ..Settings::default()
    };
    let mut harness = app_with_library(settings, library.clone());
    step_until(&mut harness, "the re-attached job to end", |a| {
        a.jobs
            .first()
            .is_some_and(|j| matches!(j.state, JobState::Done(_) | JobState::Failed(_)))
    });
    let job = &harness.state().jobs[0];
    assert!(matches!(job.state, JobState::Done(_)), "{:?}", job.state);
    harness.get_by_label("Download");
    let creates = mc
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.target.ends_with("/jobs"))
        .count();
    assert_eq!(creates, 1, "followed again, never submitted twice");
    let c = Catalog::open(&library).expect("library");
    let record = c.cloud_jobs().expect("cloud jobs");
    assert_eq!(record.len(), 1);
    assert_eq!(record[0].status, "COMPLETE");
    let row = c.jobs().expect("jobs")[0].id;
    let events: Vec<String> = c
        .history(row)
        .expect("history")
        .into_iter()
        .map(|h| h.event)
        .collect();
    assert_eq!(
        events,
        ["queued", "started", "interrupted", "started", "done"]
    );
}

#[test]
fn the_queue_comes_back_after_a_restart_and_runs_when_resumed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let library = fresh_library();
    let settings = Settings {
        output_dir: out.clone(),
        preset: "phone-share".to_owned(),
        ..Settings::default()
    };
    {
        let mut harness = app_with_library(settings.clone(), library.clone());
        harness.get_by_label("Files").click();
        // Paused: the jobs are rows, none starts.
        harness.get_by_label("Pause queue").click();
        harness.run_steps(2);
        drop_files(&mut harness, &[common::basic(), common::portrait()]);
        step_until(&mut harness, "both probed", |a| {
            a.files.len() == 2
                && a.files
                    .iter()
                    .all(|f| matches!(f.status, FileStatus::Ready(_)))
        });
        // Nothing selected: the button says it starts them all.
        harness.key_press(egui::Key::Escape);
        harness.run_steps(2);
        harness.get_by_label("Start all (2)").click();
        harness.run_steps(2);
        harness.get_by_label("2 jobs queued");
        step_until(&mut harness, "both rows written", |a| {
            a.jobs.len() == 2 && a.jobs.iter().all(|j| j.row != vodkit::gui::Row::Pending)
        });
        // The second goes first.
        harness.get_by_label("Queue (2)").click();
        for _ in 0..20 {
            harness.run_steps(1);
            if harness.query_all_by_label("Earlier").count() == 2 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let later: Vec<_> = harness.query_all_by_label("Earlier").collect();
        assert_eq!(
            later.len(),
            2,
            "{:?}",
            harness
                .state()
                .jobs
                .iter()
                .map(|j| (j.id, j.state.clone(), j.row))
                .collect::<Vec<_>>()
        );
        later[1].click();
        harness.run_steps(2);
        assert_eq!(harness.state().jobs[0].state, JobState::Queued);
        assert!(
            harness
                .state()
                .jobs
                .iter()
                .all(|j| matches!(j.row, vodkit::gui::Row::Saved(_))),
            "rows saved: {}",
            harness.state().status
        );
    }
    {
        let c = vodkit::catalog::Catalog::open(&library).expect("library");
        let rows = c.jobs().expect("jobs");
        assert_eq!(rows.len(), 2, "{rows:?}");
    }
    // A new app on the same library: the queue is back, in its order, still paused.
    let mut harness = app_with_library(settings, library);
    step_until(&mut harness, "the queue loaded", |a| a.jobs.len() == 2);
    assert!(harness.state().paused);
    harness.get_by_label("Queue (2)").click();
    harness.run_steps(2);
    harness.get_by_label("Resume queue").click();
    harness.run_steps(2);
    step_until(&mut harness, "both done", |a| {
        a.jobs.iter().all(|j| matches!(j.state, JobState::Done(_)))
    });
    // portrait was moved first: it finished first.
    assert!(
        out.join("portrait/manifest.json").is_file() && out.join("basic/manifest.json").is_file()
    );
    let first = std::fs::metadata(out.join("portrait/manifest.json"))
        .and_then(|m| m.modified())
        .expect("t");
    let second = std::fs::metadata(out.join("basic/manifest.json"))
        .and_then(|m| m.modified())
        .expect("t");
    assert!(first <= second, "the moved job ran first");
    // The overall line and the finished jobs' files and sizes.
    harness.get_by_label("Files").click();
    harness.run_steps(2);
    assert!(
        harness.query_all_by_label_contains("basic_").count() >= 1,
        "file names with sizes"
    );
    assert!(harness.query_all_by_label("Copy path").count() >= 2);
    // Files added again: the list says done, not ready.
    drop_files(&mut harness, &[common::basic(), common::portrait()]);
    step_until(&mut harness, "both probed", |a| {
        a.files.len() == 2
            && a.files
                .iter()
                .all(|f| matches!(f.status, FileStatus::Ready(_)))
    });
    assert_eq!(harness.query_all_by_label("done").count(), 2);
}

#[test]
fn the_library_view_lists_searches_and_deletes_with_confirmation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let mut harness = app_with(Settings {
        output_dir: out.clone(),
        preset: "phone-share".to_owned(),
        ..Settings::default()
    });
    harness.get_by_label("Library").click();
    harness.run_steps(3);
    harness.get_by_label_contains("Nothing made yet");
    harness.get_by_label("Files").click();
    drop_files(&mut harness, &[common::basic()]);
    step_until(&mut harness, "probed", |a| {
        a.files
            .first()
            .is_some_and(|f| matches!(f.status, FileStatus::Ready(_)))
    });
    start_and_finish(&mut harness, 0);
    harness.get_by_label("Library").click();
    step_until(&mut harness, "the title listed", |a| {
        a.library.titles.len() == 1
    });
    harness.get_by_label("basic");
    harness.get_by_label("phone-share");
    // Search narrows; a word that matches nothing says so.
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .focus();
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .type_text("zzz");
    harness.run_steps(1);
    step_until(&mut harness, "the search", |a| {
        a.library.titles.is_empty() && !a.library.loading
    });
    harness.get_by_label("No title matches.");
    harness.state_mut().library.search.clear();
    harness.get_by_label("Files").click();
    harness.run_steps(1);
    harness.get_by_label("Library").click();
    step_until(&mut harness, "the title again", |a| {
        a.library.titles.len() == 1
    });
    // Delete asks first; Esc keeps it; "Delete the folder" removes it.
    harness.get_by_label("Delete…").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Delete basic?");
    harness.key_press(egui::Key::Escape);
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("Delete basic?").is_none());
    assert!(out.join("basic").is_dir());
    harness.get_by_label("Delete…").click();
    harness.run_steps(2);
    harness.get_by_label("Delete the folder").click();
    step_until(&mut harness, "the folder gone", |a| {
        a.status.starts_with("deleted")
    });
    assert!(!out.join("basic").exists());
}

#[test]
fn words_a_person_reads() {
    // Dropped rungs by their height, not "#5"; an MP4 is an MP4; reason text at full size.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = app(&dir.path().join("out"));
    drop_files(&mut harness, &[common::basic()]);
    step_until(&mut harness, "probed", |a| {
        a.files
            .first()
            .is_some_and(|f| matches!(f.status, FileStatus::Ready(_)))
    });
    harness.get_by_label("Plan with web-ladder");
    harness.get_by_label("1080p");
    assert!(harness.query_by_label_contains("#5").is_none());
    harness.get_by_label("MP4");
    // The size guess is a range up to what the caps allow (busy content reaches it), and the
    // folder counts the HLS/DASH copy too.
    let web_ladder = vodkit::preset::store::builtin("web-ladder").expect("web-ladder");
    let plan = match &harness.state().files[0].status {
        FileStatus::Ready(info) => vodkit::plan::plan(info, &web_ladder).expect("plan"),
        _ => panic!("the file was probed"),
    };
    let range = format!(
        "Estimated MP4s: {} to {} (typical to busy content",
        vodkit::units::human_bytes(plan.estimated_bytes),
        vodkit::units::human_bytes(plan.most_bytes())
    );
    harness.get_by_label_contains(&range);
    harness.get_by_label_contains("the folder holds");
    assert_eq!(
        harness.query_all_by_label("File size").count(),
        2,
        "bytes in both places"
    );
    assert_eq!(
        harness.query_all_by_label("Picture").count(),
        2,
        "dimensions in both places"
    );
    // The output folder is absolute and shown whole.
    let shown = harness.state().settings.output_dir.clone();
    assert!(shown.is_absolute());
    harness.get_by_label(&shown.display().to_string());
    assert!(vodkit::gui::Settings::default().output_dir.is_absolute());
    // Multi-select: Ctrl-click adds, the button counts, Esc clears.
    drop_files(&mut harness, &[common::portrait()]);
    step_until(&mut harness, "two files", |a| a.files.len() == 2);
    harness.state_mut().click_file(1, true, false);
    harness.run_steps(2);
    harness.get_by_label("Start (2)");
    harness.key_press(egui::Key::Escape);
    harness.run_steps(2);
    harness.get_by_label("Start all (2)");
    // An unreadable file says why it was not started.
    drop_files(&mut harness, &[common::zero_bytes()]);
    step_until(&mut harness, "the broken file read", |a| {
        a.files
            .iter()
            .any(|f| matches!(f.status, FileStatus::Failed(_)))
    });
    let broken = harness
        .state()
        .files
        .iter()
        .position(|f| matches!(f.status, FileStatus::Failed(_)));
    harness.state_mut().selected = broken;
    harness.run_steps(2);
    click_start(&mut harness);
    harness.run_steps(2);
    assert!(
        harness.state().status.contains("cannot encode zero.mp4"),
        "{}",
        harness.state().status
    );
    // Each view opens by its label.
    for view in ["Queue", "Library", "Presets", "Settings", "Files"] {
        harness.get_by_label(view).click();
        harness.run_steps(2);
    }
    harness.get_by_label("Presets").click();
    harness.run_steps(2);
    harness.get_by_label_contains("Editing a copy of");
    harness.get_by_label("Save as…").click();
    harness.run_steps(2);
    // Save as… asks for a name (a built-in's copy gets its own) and a description.
    harness.get_by_label("Save as");
    assert!(
        harness
            .query_by_label_contains("built-in preset's name")
            .is_none()
    );
    harness.get_by_label("Cancel").click();
    harness.run_steps(2);
}

#[test]
fn ctrl_enter_on_one_file_then_another_queues_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = app_with(Settings {
        output_dir: dir.path().join("out"),
        preset: "phone-share".to_owned(),
        ..Settings::default()
    });
    harness.get_by_label("Pause queue").click();
    harness.run_steps(2);
    drop_files(&mut harness, &[common::basic(), common::portrait()]);
    step_until(&mut harness, "both probed", |a| {
        a.files.len() == 2
            && a.files
                .iter()
                .all(|f| matches!(f.status, FileStatus::Ready(_)))
    });
    for name in ["basic.mp4", "portrait.mp4"] {
        let i = harness
            .state()
            .files
            .iter()
            .position(|f| f.path.ends_with(name))
            .expect("listed");
        harness.state_mut().selected = Some(i);
        harness.run_steps(1);
        harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
        harness.run_steps(1);
    }
    let sources: Vec<String> = harness
        .state()
        .jobs
        .iter()
        .map(|j| {
            j.source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(sources, ["basic.mp4", "portrait.mp4"]);
    // Cancel all says what it did (no stale "2 jobs queued").
    harness.get_by_label("Cancel all").click();
    harness.run_steps(2);
    harness.get_by_label("cancelled 2 job(s)");
}

#[test]
fn a_folder_watched_by_the_app_queues_what_lands_in_it() {
    use vodkit::catalog::{Catalog, queue::JobKind};
    let dir = tempfile::tempdir().expect("tempdir");
    let inbox = dir.path().join("camera");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let library = fresh_library();
    Catalog::open(&library)
        .expect("library")
        .add_watch(&inbox, "phone-share", &out, JobKind::Local)
        .expect("watch");
    let mut harness = app_with_library(
        Settings {
            output_dir: out.clone(),
            preset: "phone-share".to_owned(),
            ..Settings::default()
        },
        library,
    );
    harness.get_by_label("Settings").click();
    step_until(&mut harness, "the watch listed", |a| a.watches.len() == 1);
    harness.get_by_label_contains(&inbox.display().to_string());
    std::fs::copy(common::basic(), inbox.join("clip.mp4")).expect("copy");
    step_until(&mut harness, "the file queued and encoded", |a| {
        a.jobs
            .first()
            .is_some_and(|j| matches!(j.state, JobState::Done(_) | JobState::Failed(_)))
    });
    assert!(matches!(harness.state().jobs[0].state, JobState::Done(_)));
    assert!(out.join("clip/manifest.json").is_file());
    // Stop watching: the list empties.
    harness.get_by_label("Stop watching").click();
    step_until(&mut harness, "the watch gone", |a| a.watches.is_empty());
}

#[test]
fn a_long_queue_lays_out_only_the_rows_in_view() {
    // 400 queued jobs kept by the library (paused, so none starts).
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let library = fresh_library();
    {
        let c = vodkit::catalog::Catalog::open(&library).expect("library");
        c.set_paused(true).expect("pause");
        let preset = vodkit::preset::store::builtin("phone-share").expect("phone-share");
        for n in 0..400 {
            let spec = vodkit::runner::JobSpec::local(
                &dir.path().join(format!("clip-{n}.mp4")),
                &preset,
                &out,
            );
            c.enqueue(&spec.new_job()).expect("enqueue");
        }
    }
    let mut harness = app_with_library(
        Settings {
            output_dir: out,
            preset: "phone-share".to_owned(),
            ..Settings::default()
        },
        library,
    );
    step_until(&mut harness, "the queue loaded", |a| a.jobs.len() == 400);
    harness.state_mut().switch_to(vodkit::gui::View::Queue);
    harness.run_steps(3);
    let drawn = harness.query_all_by_label_contains("Cancel clip-").count();
    assert!(
        (5..60).contains(&drawn),
        "{drawn} of 400 rows laid out: only those in view should be"
    );
    harness.get_by_label("Cancel clip-0.mp4");
    assert!(harness.query_by_label("Cancel clip-399.mp4").is_none());
    // Scrolled to the end, the last rows are there and the first are not.
    harness.get_by_label("Cancel clip-0.mp4").hover();
    for _ in 0..200 {
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Page,
            delta: egui::vec2(0.0, -1.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        harness.run_steps(1);
        if harness.query_by_label("Cancel clip-399.mp4").is_some() {
            break;
        }
    }
    harness.get_by_label("Cancel clip-399.mp4");
    assert!(harness.query_by_label("Cancel clip-0.mp4").is_none());
    assert!(harness.query_all_by_label_contains("Cancel clip-").count() < 60);
}

#[test]
fn the_inspector_lists_subtitle_tracks() {
    // A clip with a French sidecar: the plan names the track and where it comes from.
    let dir = tempfile::tempdir().expect("tempdir");
    let clip = dir.path().join("film.mp4");
    std::fs::copy(common::basic(), &clip).expect("copy");
    std::fs::write(
        dir.path().join("film.fr.srt"),
        "1\n00:00:01,000 --> 00:00:02,000\nBonjour\n",
    )
    .expect("srt");
    let mut harness = app(&dir.path().join("out"));
    drop_files(&mut harness, &[clip]);
    step_until(&mut harness, "probed", |a| {
        a.files
            .first()
            .is_some_and(|f| matches!(f.status, FileStatus::Ready(_)))
    });
    harness.run_steps(2);
    harness.get_by_label("Subtitles: French (file beside it)");
}

#[test]
fn the_cloud_plan_shows_what_the_job_will_cost() {
    // Cloud chosen: the inspector prices the job the plan makes, output by output, with the
    // date of the prices; Local: no price.
    let dir = tempfile::tempdir().expect("tempdir");
    let source = common::basic();
    let settings = Settings {
        output_dir: dir.path().to_owned(),
        preset: "web-ladder".to_owned(),
        backend: vodkit::gui::Backend::Cloud,
        cloud: vodkit::cloud::CloudSettings {
            region: "eu-west-1".into(),
            ..Default::default()
        },
        ..Settings::default()
    };
    let mut harness = app_with(settings);
    drop_files(&mut harness, std::slice::from_ref(&source));
    step_until(&mut harness, "probed", |a| {
        a.files
            .first()
            .is_some_and(|f| matches!(f.status, FileStatus::Ready(_)))
    });
    harness.run_steps(2);
    let preset = vodkit::preset::store::builtin("web-ladder").expect("web-ladder");
    let plan =
        vodkit::plan::plan(&vodkit::probe::probe(&source).expect("probe"), &preset).expect("plan");
    let e =
        vodkit::cloud::cost::estimate_plan(&plan, &preset, "eu-west-1", Some(&price_snapshot()));
    let total = e.total_usd.expect("priced");
    assert!(total > 0.0);
    harness.get_by_label_contains(&format!("Cloud cost: ${total:.4} in eu-west-1"));
    harness.get_by_label("On-demand prices as published 2026-11-01, before volume discounts.");
    // A row per output: the MP4 rungs and the CMAF renditions beside them, each billed as
    // its class.
    let class = &e.outputs[0].class_text;
    let rows = e.outputs.iter().filter(|o| &o.class_text == class).count();
    assert!(rows >= 2, "{:?}", e.outputs);
    assert_eq!(harness.query_all_by_label(class).count(), rows, "{class}");

    // A job template instead of the preset's own job: the inspector says before Start why
    // this file cannot run it (an untagged SD clip's colours are converted per output), and
    // the queued job carries the template, which refuses it the same way.
    harness.get_by_label("Template").focus();
    harness.run_steps(1);
    harness
        .get_by_label("Template")
        .type_text("vodkit-web-ladder");
    harness.run_steps(3);
    assert_eq!(harness.state().cloud_template, "vodkit-web-ladder");
    harness.get_by_label_contains("colours need converting");
    assert!(harness.query_by_label_contains("Cloud cost").is_none());
    {
        let c = &mut harness.state_mut().settings.cloud;
        c.bucket = "vod".into();
        c.role_arn = "arn:aws:iam::123456789012:role/MediaConvertRole".into();
        // Nothing listens there: nothing may be sent anyway.
        c.endpoint = "http://127.0.0.1:9".into();
        c.mediaconvert_endpoint = "http://127.0.0.1:9".into();
    }
    click_start(&mut harness);
    harness.run_steps(2);
    assert_eq!(
        harness.state().jobs[0].spec.template.as_deref(),
        Some("vodkit-web-ladder")
    );
    step_until(
        &mut harness,
        "the template job to be refused",
        |a| matches!(&a.jobs[0].state, JobState::Failed(e) if e.contains("colours need converting")),
    );
    harness.state_mut().cloud_template.clear();
    harness.state_mut().settings.backend = vodkit::gui::Backend::Local;
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("Cloud cost").is_none());
}

#[test]
fn the_inspector_shows_the_black_borders_the_preset_crops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut harness = app(&dir.path().join("out"));
    drop_files(&mut harness, &[common::letterboxed()]);
    step_until(&mut harness, "probed", |a| {
        a.files
            .first()
            .is_some_and(|f| matches!(f.status, FileStatus::Ready(_)))
    });
    harness.run_steps(2);
    harness.get_by_label("black, top 48, bottom 48: content 640x264");
    harness.get_by_label_contains("black borders cropped (top 48, bottom 48: content 640x264)");
}
