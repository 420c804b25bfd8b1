//! Everything slow the app does, off the UI thread: probing, stills, planning input, folder
//! scans, file dialogs and encodes. The UI sends requests and drains [`UiEvent`]s at the start
//! of each frame; workers wake it through the repaint callback.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::job::{CancelToken, EventSink, JobEvent, Summary};
use crate::plan::Plan;
use crate::probe::MediaInfo;

/// What the background reports to the UI.
pub enum UiEvent {
    /// A file was probed.
    Probed(PathBuf, Result<MediaInfo, String>),
    /// Stills of a file, as RGBA pictures (width, height, pixels).
    Stills(PathBuf, Vec<(usize, usize, Vec<u8>)>),
    /// Files found in dropped or picked folders, or picked in a dialog.
    Found(Vec<PathBuf>),
    /// An output folder was picked.
    OutputPicked(PathBuf),
    /// An event of a running job.
    Job(u64, JobEvent),
    /// A job ended (the summary is also sent as a `Finished` event when it ran).
    JobEnded(u64, Result<Summary, String>),
    /// A note for the status line (dialogs, opening folders).
    Status(String),
    /// The preset list changed.
    Presets(Vec<crate::preset::store::Entry>),
    /// The result of a cloud connection test.
    CloudCheck(Vec<crate::cloud::check::CheckLine>),
    /// Every measured rung of a finished local job (from its manifest, skipped rungs too).
    Qualities(u64, Vec<crate::quality::RungQuality>),
    /// The before/after viewer's pictures for a job.
    FramePair(u64, Result<crate::quality::viewer::FramePair, String>),
    /// A plan fitted per title or estimated for a file with a preset (as it was then).
    Analysed(
        PathBuf,
        Box<crate::preset::Preset>,
        Result<Box<Plan>, String>,
    ),
}

/// How a local job encodes beyond its preset.
#[derive(Debug, Clone, Default)]
pub struct JobSetup {
    /// Redo rungs an earlier run made.
    pub force: bool,
    /// A plan the inspector fitted or estimated, used instead of planning again.
    pub plan: Option<Plan>,
    /// One MP4 of this size instead of the ladder.
    pub target: Option<crate::local::target_size::Target>,
    /// Only this part of the source (seconds).
    pub range: (Option<f64>, Option<f64>),
}

/// What the inspector asks to be worked out for a file.
#[derive(Debug, Clone)]
pub enum Analysis {
    /// Fit the ladder per title (samples encoded and scored), then predict its time.
    Fit,
    /// Predict this plan's time, sizes and (when the preset measures) VMAF from a timed sample.
    Estimate(Box<Plan>),
}

/// Sends events to the UI and wakes it.
#[derive(Clone)]
pub struct Outbox {
    tx: Sender<UiEvent>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Outbox {
    /// Sends one event; a closed UI is not an error.
    pub fn send(&self, event: UiEvent) {
        let _ = self.tx.send(event);
        (self.wake)();
    }
}

/// The app's background side.
pub struct Worker {
    outbox: Outbox,
    /// The player servers started so far: one per output folder, reused for every title in
    /// it (they end with the app).
    player: Arc<std::sync::Mutex<std::collections::HashMap<PathBuf, std::net::SocketAddr>>>,
    /// Files waiting to be probed by the pool (at most one probe per core at once, so a
    /// folder of 500 clips does not start 500 decoders).
    probes: std::sync::mpsc::Sender<PathBuf>,
    /// Events for the UI.
    pub inbox: Receiver<UiEvent>,
}

pub use crate::probe::files::{VIDEO_EXTENSIONS, is_video, scan};

/// Files as they are and folders scanned for videos.
fn expand_all(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for p in paths {
        if p.is_dir() {
            found.extend(scan(&p));
        } else {
            found.push(p);
        }
    }
    found
}

/// A job's plan: the one the inspector made (fitted or estimated), else the preset's, fitted
/// first when the preset is per-title (the job shows the stage).
fn given_or_planned(
    given: Option<Plan>,
    info: &MediaInfo,
    preset: &crate::preset::Preset,
    sink: &EventSink,
    cancel: &CancelToken,
) -> Result<Plan, String> {
    match given {
        Some(p) => Ok(p),
        None => crate::local::per_title::plan_for(
            info,
            preset,
            &crate::local::per_title::FitChoice::default(),
            sink,
            cancel,
        ),
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    // A thread that cannot start leaves its request unanswered; the UI shows it pending.
    let _ = std::thread::Builder::new().name(name.to_owned()).spawn(f);
}

impl Worker {
    /// A worker whose events wake the UI through `wake`.
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        let (tx, inbox) = channel();
        let outbox = Outbox {
            tx,
            wake: Arc::new(wake),
        };
        let (probes, queue) = channel::<PathBuf>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        for i in 0..cores {
            let (queue, out) = (Arc::clone(&queue), outbox.clone());
            spawn(&format!("vodkit-probe-{i}"), move || {
                loop {
                    // The queue ends when the worker (the app) goes.
                    let next = queue.lock().ok().and_then(|q| q.recv().ok());
                    let Some(path) = next else { return };
                    probe_one(path, &out);
                }
            });
        }
        Self {
            outbox,
            player: Arc::default(),
            probes,
            inbox,
        }
    }

    /// Probes a file, then takes a strip of stills from it, on the probe pool.
    pub fn probe(&self, path: PathBuf) {
        // The pool outlives every caller; a send can only fail once the app is going away.
        let _ = self.probes.send(path);
    }
}

/// One probe: the file's information, then its still strip.
fn probe_one(path: PathBuf, out: &Outbox) {
    let result = crate::probe::probe(&path).map_err(|e| e.to_string());
    let stills_plan = result.as_ref().ok().and_then(|info| {
        let mut preset = crate::preset::store::builtins().into_iter().next()?;
        preset.stills.count = 4;
        preset.stills.width = 160;
        preset.stills.format = crate::preset::StillFormat::Png;
        crate::plan::plan(info, &preset).ok()
    });
    out.send(UiEvent::Probed(path.clone(), result));
    if let Some(plan) = stills_plan
        && let Some(s) = &plan.stills
    {
        let images = crate::local::stills::rgba(&plan, s);
        out.send(UiEvent::Stills(path, images));
    }
}

impl Worker {
    /// Adds dropped or picked paths: files as they are, folders scanned for videos.
    pub fn expand(&self, paths: Vec<PathBuf>) {
        let out = self.outbox.clone();
        spawn("vodkit-scan", move || {
            out.send(UiEvent::Found(expand_all(paths)));
        });
    }

    /// Shows a file dialog (files or a folder) without blocking the UI.
    pub fn pick(&self, folder: bool) {
        let out = self.outbox.clone();
        spawn("vodkit-dialog", move || {
            let picked = if folder {
                rfd::FileDialog::new().pick_folder().map(|f| vec![f])
            } else {
                rfd::FileDialog::new()
                    .add_filter("Video", &VIDEO_EXTENSIONS)
                    .add_filter("All files", &["*"])
                    .pick_files()
            };
            if let Some(paths) = picked {
                out.send(UiEvent::Found(expand_all(paths)));
            }
        });
    }

    /// Asks for the output folder.
    pub fn pick_output(&self) {
        let out = self.outbox.clone();
        spawn("vodkit-dialog", move || {
            if let Some(dir) = rfd::FileDialog::new().pick_folder() {
                out.send(UiEvent::OutputPicked(dir));
            }
        });
    }

    /// Opens a folder in the desktop's file manager.
    pub fn open_folder(&self, dir: PathBuf) {
        let out = self.outbox.clone();
        spawn("vodkit-open", move || {
            if let Err(e) = std::process::Command::new("xdg-open").arg(&dir).status() {
                out.send(UiEvent::Status(format!(
                    "cannot open {}: {e}",
                    dir.display()
                )));
            }
        });
    }

    /// Saves, deletes, imports or exports a preset, then sends the new list and a status line.
    pub fn preset_action(&self, action: super::editor::Action) {
        use super::editor::Action;
        let out = self.outbox.clone();
        spawn("vodkit-presets", move || {
            let store = crate::preset::store::Store::open();
            let status = match action {
                Action::Save(p) => store
                    .save(&p, true)
                    .map(|path| format!("saved '{}' to {}", p.name, path.display()))
                    .unwrap_or_else(|e| e.to_string()),
                Action::Delete(name) => store
                    .delete(&name)
                    .map(|path| format!("deleted {}", path.display()))
                    .unwrap_or_else(|e| e.to_string()),
                Action::Import => match rfd::FileDialog::new()
                    .add_filter("Preset", &["toml"])
                    .pick_file()
                {
                    Some(f) => store
                        .import(&f, false)
                        .map(|(p, _)| format!("imported '{}'", p.name))
                        .unwrap_or_else(|e| e.to_string()),
                    None => return,
                },
                Action::Export(p) => match rfd::FileDialog::new()
                    .set_file_name(format!("{}.toml", p.name))
                    .save_file()
                {
                    Some(f) => std::fs::write(&f, p.to_toml())
                        .map(|()| format!("exported to {}", f.display()))
                        .unwrap_or_else(|e| format!("cannot write {}: {e}", f.display())),
                    None => return,
                },
            };
            out.send(UiEvent::Presets(store.list().0));
            out.send(UiEvent::Status(status));
        });
    }

    /// Plays a title in the browser: starts `vodkit serve` on the output folder (once, on a free
    /// loopback port) and opens the title's player page.
    pub fn play(&self, root: PathBuf, title: String) {
        let out = self.outbox.clone();
        let player = Arc::clone(&self.player);
        spawn("vodkit-play", move || {
            let running = player.lock().ok().and_then(|p| p.get(&root).copied());
            let addr = match running {
                Some(addr) => addr,
                None => {
                    let (tx, rx) = std::sync::mpsc::channel();
                    let config = crate::serve::Config {
                        root: root.clone(),
                        addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                        player_dir: None,
                        header_timeout: crate::serve::DEFAULT_HEADER_TIMEOUT,
                        max_connections: crate::serve::DEFAULT_MAX_CONNECTIONS,
                    };
                    spawn("vodkit-player-server", move || {
                        let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
                            .worker_threads(1)
                            .enable_all()
                            .build()
                        else {
                            return;
                        };
                        let _ = rt.block_on(crate::serve::serve(config, move |a| {
                            let _ = tx.send(a);
                        }));
                    });
                    let Ok(addr) = rx.recv_timeout(std::time::Duration::from_secs(5)) else {
                        out.send(UiEvent::Status(
                            "the player server did not start".to_owned(),
                        ));
                        return;
                    };
                    if let Ok(mut p) = player.lock() {
                        p.insert(root, addr);
                    }
                    addr
                }
            };
            let url = format!("http://{addr}/{title}/");
            match std::process::Command::new("xdg-open").arg(&url).status() {
                Ok(_) => out.send(UiEvent::Status(format!("playing {url}"))),
                Err(e) => out.send(UiEvent::Status(format!("open {url} in a browser ({e})"))),
            }
        });
    }

    /// Works out a fitted or estimated plan for a file in the background.
    pub fn analyse(&self, info: MediaInfo, preset: crate::preset::Preset, what: Analysis) {
        let out = self.outbox.clone();
        spawn("vodkit-analyse", move || {
            let cancel = CancelToken::new();
            let work = crate::local::per_title::Scratch::new("app");
            let result = (|| {
                let mut plan = match what {
                    Analysis::Fit => {
                        let rules = crate::local::per_title::rules_of(&preset, None, None)?;
                        crate::local::per_title::fitted_plan(
                            &info,
                            &preset,
                            &rules,
                            &crate::local::per_title::Options::default(),
                            &work.join("fit"),
                            &cancel,
                        )?
                        .0
                    }
                    Analysis::Estimate(plan) => *plan,
                };
                crate::local::estimate::encode_time(
                    &info,
                    &preset,
                    &plan,
                    &work.join("time"),
                    &cancel,
                )?
                .apply(&mut plan);
                Ok(plan)
            })();
            out.send(UiEvent::Analysed(
                info.path.clone(),
                Box::new(preset.clone()),
                result.map(Box::new),
            ));
        });
    }

    /// Runs a local encode job; events come back tagged with `id`.
    pub fn encode(
        &self,
        id: u64,
        info: MediaInfo,
        preset: crate::preset::Preset,
        out_dir: PathBuf,
        cancel: CancelToken,
        setup: JobSetup,
    ) {
        let out = self.outbox.clone();
        spawn("vodkit-job", move || {
            let events_out = out.clone();
            let sink: EventSink = Arc::new(move |e| events_out.send(UiEvent::Job(id, e)));
            let (start, end) = setup.range;
            let result = if let Some(target) = setup.target {
                let work = crate::local::per_title::Scratch::new("app-target");
                let r = crate::local::target_size::plan(
                    &info,
                    &preset,
                    target,
                    setup.range,
                    &work,
                    &cancel,
                )
                .and_then(|plan| {
                    crate::local::target_size::encode(
                        &info, &preset, &plan, target, &out_dir, &sink, &cancel,
                    )
                });
                drop(work);
                r
            } else {
                // The inspector's fitted plan, or the preset's (a per-title preset fits its
                // ladder first; the job shows the stage).
                given_or_planned(setup.plan, &info, &preset, &sink, &cancel)
                    .and_then(|mut plan| {
                        crate::plan::trim(&mut plan, start, end)?;
                        Ok(plan)
                    })
                    .and_then(|plan| {
                        crate::local::encode_with(
                            &info,
                            &preset,
                            &plan,
                            &out_dir,
                            &sink,
                            &cancel,
                            setup.force,
                        )
                        .map_err(|e| e.to_string())
                    })
            };
            if let Ok(summary) = &result {
                let measured: Vec<crate::quality::RungQuality> =
                    std::fs::read(summary.out_dir.join("manifest.json"))
                        .ok()
                        .and_then(|b| serde_json::from_slice::<crate::local::Manifest>(&b).ok())
                        .map(|m| m.rungs.into_iter().filter_map(|r| r.quality).collect())
                        .unwrap_or_default();
                if !measured.is_empty() {
                    out.send(UiEvent::Qualities(id, measured));
                }
            }
            out.send(UiEvent::JobEnded(id, result));
        });
    }
}

/// A finished cloud job's outputs to fetch.
#[derive(Debug, Clone)]
pub struct CloudDownload {
    /// The cloud settings the job ran with.
    pub settings: crate::cloud::CloudSettings,
    /// `s3://.../outputs/<title>-<run>/`.
    pub url: String,
    /// The output folder the title folder goes in.
    pub out_dir: PathBuf,
    /// The job's source file (the title folder's owner).
    pub source: PathBuf,
    /// The preset's name.
    pub preset: String,
}

impl Worker {
    /// Runs a cloud job (upload, MediaConvert, outputs); events come back tagged with `id`.
    /// `fitted`: a plan the inspector fitted per title, sent as it is.
    pub fn cloud_job(
        &self,
        id: u64,
        info: MediaInfo,
        preset: crate::preset::Preset,
        settings: crate::cloud::CloudSettings,
        cancel: CancelToken,
        fitted: Option<Plan>,
    ) {
        use crate::cloud::{Clients, CloudError};
        let out = self.outbox.clone();
        spawn("vodkit-cloud-job", move || {
            let result = (|| {
                let events_out = out.clone();
                let sink: EventSink = Arc::new(move |e| events_out.send(UiEvent::Job(id, e)));
                // The inspector's fitted plan, or the preset's (fitted first when per-title).
                let plan = given_or_planned(fitted, &info, &preset, &sink, &cancel)?;
                let rt = Clients::runtime().map_err(|e| e.to_string())?;
                let done = rt.block_on(async {
                    let clients = Clients::connect(&settings).await?;
                    let options = crate::cloud::submit::SubmitOptions::default();
                    crate::cloud::submit::submit(&clients, &plan, &preset, &options, &sink, &cancel)
                        .await
                });
                match done {
                    Ok(d) => d
                        .summary
                        .ok_or_else(|| "the job was not followed".to_owned()),
                    Err(CloudError::Cancelled) => Ok(Summary {
                        source: plan.source,
                        out_dir: PathBuf::new(),
                        made: Vec::new(),
                        skipped: Vec::new(),
                        failed: Vec::new(),
                        cancelled: true,
                        wall_secs: 0.0,
                    }),
                    Err(e) => Err(e.to_string()),
                }
            })();
            out.send(UiEvent::JobEnded(id, result));
        });
    }

    /// Downloads a cloud job's outputs (`s3://.../outputs/<title>-<run>/`) into the output
    /// folder, under the title the local rule gives (another source's folder of that name is
    /// never written into); reports the result on the status line.
    pub fn cloud_download(&self, d: CloudDownload) {
        use crate::cloud::Clients;
        use crate::local::titles::{Claim, Owner};
        let out = self.outbox.clone();
        spawn("vodkit-cloud-download", move || {
            let quiet: EventSink = Arc::new(|_| {});
            let stem = d.source.file_stem().map_or_else(
                || "download".to_owned(),
                |s| s.to_string_lossy().into_owned(),
            );
            let result = Claim::take(&d.out_dir, &stem, &Owner::new(&d.source, &d.preset))
                .map_err(crate::cloud::CloudError::new)
                .and_then(|claim| {
                    let rt = Clients::runtime()?;
                    let files = rt.block_on(async {
                        let clients = Clients::connect(&d.settings).await?;
                        crate::cloud::outputs::download(
                            &clients,
                            std::slice::from_ref(&d.url),
                            &claim.dir,
                            &quiet,
                            &CancelToken::new(),
                        )
                        .await
                    })?;
                    Ok((files, claim.dir.clone()))
                });
            out.send(UiEvent::Status(match result {
                Ok((files, dir)) => {
                    format!("downloaded {} files to {}", files.len(), dir.display())
                }
                Err(e) => format!("download failed: {e}"),
            }));
        });
    }

    /// Decodes the source and a rung at one instant for the before/after viewer.
    pub fn frame_pair(&self, job: u64, plan: Plan, rung: PathBuf, fps: f64, time_secs: f64) {
        let out = self.outbox.clone();
        spawn("vodkit-viewer", move || {
            let pair = crate::quality::viewer::frame_pair(&plan, &rung, fps, time_secs);
            out.send(UiEvent::FramePair(job, pair));
        });
    }

    /// Tests the cloud settings in the background.
    pub fn cloud_check(&self, settings: crate::cloud::CloudSettings) {
        use crate::cloud::Clients;
        let out = self.outbox.clone();
        spawn("vodkit-cloud-check", move || {
            let lines = match Clients::runtime() {
                Ok(rt) => rt.block_on(async {
                    match Clients::connect(&settings).await {
                        Ok(c) => crate::cloud::check::check(&c).await,
                        Err(e) => vec![crate::cloud::check::CheckLine {
                            what: "settings".to_owned(),
                            ok: false,
                            detail: e.to_string(),
                        }],
                    }
                }),
                Err(e) => vec![crate::cloud::check::CheckLine {
                    what: "runtime".to_owned(),
                    ok: false,
                    detail: e.to_string(),
                }],
            };
            out.send(UiEvent::CloudCheck(lines));
        });
    }
}
