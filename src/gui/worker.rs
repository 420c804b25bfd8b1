//! Everything slow the app does, off the UI thread: probing, stills, planning input, folder
//! scans, file dialogs and encodes. The UI sends requests and drains [`UiEvent`]s at the start
//! of each frame; workers wake it through the repaint callback.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::catalog::Catalog;
use crate::catalog::queue::JobKind;
use crate::job::{CancelToken, EventSink, JobEvent, Summary};
use crate::plan::Plan;
use crate::probe::MediaInfo;
use crate::runner::{self, JobSpec};

/// What the background reports to the UI.
pub enum UiEvent {
    /// A file was probed.
    Probed(PathBuf, Result<Box<MediaInfo>, String>),
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
    /// Something that failed, in words, with a path or URL the user can copy to do it by hand.
    Failure(String, Option<String>),
    /// The preset list changed.
    Presets(Vec<crate::preset::store::Entry>),
    /// The result of a cloud connection test.
    CloudCheck(Vec<crate::cloud::check::CheckLine>),
    /// Every measured rung of a finished local job (from its manifest, skipped rungs too) and
    /// the plan it followed.
    Qualities(u64, Vec<crate::quality::RungQuality>, Box<Plan>),
    /// The before/after viewer's pictures for a job.
    FramePair(u64, Result<crate::quality::viewer::FramePair, String>),
    /// The queue as the library holds it (at start: jobs from earlier sessions, those a
    /// crash left running put back first), whether it is paused, and how many were recovered.
    QueueLoaded(Vec<crate::catalog::queue::QueuedJob>, bool, usize),
    /// A job another Vodkit process claimed first (it runs there).
    JobTaken(u64),
    /// The queue changed in the library (a watched folder queued a file): read it again.
    QueueChanged,
    /// A job's queue row (an error in words, or empty when there is no library: the job runs
    /// unsaved).
    Enqueued(u64, Result<i64, String>),
    /// Titles of the library matching the Library view's filter, and the presets in use.
    Library(Vec<crate::catalog::titles::TitleRecord>),
    /// The watched folders.
    Watches(Vec<crate::catalog::watch::WatchFolder>),
    /// A plan fitted per title or estimated for a file with a preset (as it was then).
    Analysed(
        PathBuf,
        Box<crate::preset::Preset>,
        Result<Box<Plan>, String>,
    ),
}

/// What the preset editor asks the worker to do.
pub enum PresetAction {
    /// Save as a user preset (replacing one of the same name).
    Save(crate::preset::Preset),
    /// Delete the user preset of this name.
    Delete(String),
    /// Import a preset file chosen in a dialog.
    Import,
    /// Export this preset to a file chosen in a dialog.
    Export(crate::preset::Preset),
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
    /// Calls on the library database, run in order on its own thread.
    catalog: Sender<CatalogCall>,
    /// The library database file (`None`: no data folder).
    catalog_path: Option<PathBuf>,
    /// Stops the watched-folders thread (replaced when the list changes).
    watching: std::sync::Mutex<CancelToken>,
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

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    // A thread that cannot start leaves its request unanswered; the UI shows it pending.
    let _ = std::thread::Builder::new().name(name.to_owned()).spawn(f);
}

impl Worker {
    /// A worker whose events wake the UI through `wake`, keeping its queue and library in
    /// `catalog_path` (`None`: nothing is saved).
    pub fn new(wake: impl Fn() + Send + Sync + 'static, catalog_path: Option<PathBuf>) -> Self {
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
        let (catalog, calls) = channel::<CatalogCall>();
        let (path, out) = (catalog_path.clone(), outbox.clone());
        spawn("vodkit-library", move || {
            catalog_thread(path.as_deref(), &calls, &out);
        });
        Self {
            outbox,
            player: Arc::default(),
            probes,
            inbox,
            catalog,
            catalog_path,
            watching: std::sync::Mutex::new(CancelToken::new()),
        }
    }

    /// Runs `call` on the library thread (in order with the other calls); what it returns is
    /// sent to the UI. `None` reaches `call` when the library cannot be opened.
    pub fn with_catalog(
        &self,
        call: impl FnOnce(Option<&Catalog>) -> Option<UiEvent> + Send + 'static,
    ) {
        let out = self.outbox.clone();
        let _ = self.catalog.send(Box::new(move |c| {
            if let Some(event) = call(c) {
                out.send(event);
            }
        }));
    }

    /// Probes a file, then takes a strip of stills from it, on the probe pool.
    pub fn probe(&self, path: PathBuf) {
        // The pool outlives every caller; a send can only fail once the app is going away.
        let _ = self.probes.send(path);
    }
}

/// Opens a path or URL with the desktop's default application (`xdg-open`); an error in
/// words when there is no such tool or it failed.
fn open_with_desktop(what: &str) -> Result<(), String> {
    match std::process::Command::new("xdg-open")
        .arg(what)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!(
            "the desktop has no application for it (xdg-open ended with {})",
            s.code()
                .map_or_else(|| "a signal".to_owned(), |c| c.to_string())
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("no desktop opener (xdg-open) is installed".to_owned())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// A call on the library database.
type CatalogCall = Box<dyn FnOnce(Option<&Catalog>) + Send>;

/// The library thread: opens the database once and runs the calls in order until the app ends.
fn catalog_thread(path: Option<&std::path::Path>, calls: &Receiver<CatalogCall>, out: &Outbox) {
    let catalog = match path.map(Catalog::open) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            out.send(UiEvent::Status(format!(
                "{e}; jobs still run, but the queue and library are not saved"
            )));
            None
        }
        None => None,
    };
    for call in calls {
        call(catalog.as_ref());
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
        // The whole picture: the inspector draws the crop on it.
        preset.video.crop = crate::preset::Crop::Mode(crate::preset::CropMode::None);
        crate::plan::plan(info, &preset).ok()
    });
    out.send(UiEvent::Probed(path.clone(), result.map(Box::new)));
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

    /// Opens a folder in the desktop's file manager; says so in the window when there is
    /// none (with the path to copy).
    pub fn open_folder(&self, dir: PathBuf) {
        let out = self.outbox.clone();
        spawn("vodkit-open", move || {
            if let Err(e) = open_with_desktop(&dir.to_string_lossy()) {
                out.send(UiEvent::Failure(
                    format!("cannot open {}: {e}", dir.display()),
                    Some(dir.display().to_string()),
                ));
            }
        });
    }

    /// Asks for a folder to watch; it is stored with the preset and output folder, and the
    /// watching thread restarts with it.
    pub fn pick_watch_folder(&self, preset: String, out_dir: PathBuf, kind: JobKind) {
        let out = self.outbox.clone();
        let catalog = self.catalog.clone();
        spawn("vodkit-dialog", move || {
            let Some(dir) = rfd::FileDialog::new().pick_folder() else {
                return;
            };
            let out2 = out.clone();
            let _ = catalog.send(Box::new(move |c| {
                let Some(c) = c else { return };
                match c.add_watch(&dir, &preset, &out_dir, kind) {
                    Ok(_) => {
                        if let Ok(list) = c.watches() {
                            out2.send(UiEvent::Watches(list));
                        }
                        out2.send(UiEvent::Status(format!("watching {}", dir.display())));
                    }
                    Err(e) => out2.send(UiEvent::Status(e.to_string())),
                }
            }));
            let _ = out;
        });
    }

    /// (Re)starts the thread that watches the stored folders: files it queues reach the
    /// app's queue as the library's rows.
    pub fn restart_watching(&self) {
        let Some(path) = self.catalog_path.clone() else {
            return;
        };
        let stop = CancelToken::new();
        if let Ok(mut w) = self.watching.lock() {
            w.cancel();
            *w = stop.clone();
        }
        let out = self.outbox.clone();
        spawn("vodkit-watch", move || {
            let Ok(catalog) = Catalog::open(&path) else {
                return;
            };
            let folders = catalog.watches().unwrap_or_default();
            if folders.is_empty() {
                return;
            }
            let settle = std::time::Duration::from_secs(3);
            let rescan = std::time::Duration::from_secs(5);
            crate::watcher::watch(
                &catalog,
                folders,
                settle,
                rescan,
                &stop,
                |event| match event {
                    crate::watcher::WatchEvent::Queued { .. } => out.send(UiEvent::QueueChanged),
                    crate::watcher::WatchEvent::Copy { path, of } => {
                        out.send(UiEvent::Status(format!(
                            "{} is a copy of {}: not encoded again",
                            path.display(),
                            of.display()
                        )));
                    }
                    crate::watcher::WatchEvent::Failed { error, .. } => {
                        out.send(UiEvent::Status(error.clone()));
                    }
                    crate::watcher::WatchEvent::Stopped { dir } => {
                        out.send(UiEvent::Status(format!(
                            "{} is no longer watched (stopped from another Vodkit)",
                            dir.display()
                        )));
                    }
                },
            );
        });
    }

    /// Saves, deletes, imports or exports a preset, then sends the new list and a status line.
    pub fn preset_action(&self, action: PresetAction) {
        use PresetAction as Action;
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
                        player_cdn: false,
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
            match open_with_desktop(&url) {
                Ok(()) => out.send(UiEvent::Failure(
                    format!("playing in your browser: {url}"),
                    Some(url),
                )),
                Err(e) => out.send(UiEvent::Failure(
                    format!("no browser could be opened ({e}): open {url} yourself"),
                    Some(url),
                )),
            }
        });
    }

    /// Works out a fitted or estimated plan for a file in the background.
    pub fn analyse(&self, info: MediaInfo, preset: crate::preset::Preset, what: Analysis) {
        let out = self.outbox.clone();
        spawn("vodkit-analyse", move || {
            // Trial encodes run below the window's priority, like jobs.
            let _ = crate::priority::lower_this_thread();
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

    /// Runs a job (local or cloud); events come back tagged with `id`. With a queue `row`
    /// the job is claimed first and its row, history and title are kept in the library.
    pub fn run_job(&self, id: u64, row: Option<i64>, spec: JobSpec, cancel: CancelToken) {
        let out = self.outbox.clone();
        let path = self.catalog_path.clone();
        spawn("vodkit-job", move || {
            // The window keeps its full frame rate while every core encodes.
            if let Err(e) = crate::priority::lower_this_thread() {
                eprintln!("vodkit: the job runs at normal priority: {e}");
            }
            let events_out = out.clone();
            let sink: EventSink = Arc::new(move |e| events_out.send(UiEvent::Job(id, e)));
            let plain = |spec: &JobSpec| match spec.kind {
                JobKind::Local => runner::run_local(spec, &sink, &cancel),
                JobKind::Cloud => runner::run_cloud(spec, None, &|_| {}, &sink, &cancel),
            };
            let run = || match (row, &path) {
                (Some(row), Some(path)) => {
                    match Catalog::open(path).and_then(|c| c.claim(row, std::process::id())) {
                        Ok(Some(job)) => Some(runner::run_row(path, &job, &sink, &cancel)),
                        // Another runner (vodkit queue run, a watch, another window) has it.
                        Ok(None) => None,
                        // Never run a job whose row could not be claimed: it would stay queued
                        // and run again elsewhere.
                        Err(e) => Some(Err(format!(
                            "{}: did not start: {e}",
                            spec.source.display()
                        ))),
                    }
                }
                _ => Some(plain(&spec)),
            };
            // A panic in a job ends that job with an error, not the slot for good.
            let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                Ok(Some(result)) => result,
                Ok(None) => {
                    out.send(UiEvent::JobTaken(id));
                    return;
                }
                Err(_) => Err(format!(
                    "{}: the job stopped on an internal error (a bug: please report it)",
                    spec.source.display()
                )),
            };
            if let Ok(summary) = &result
                && spec.kind == JobKind::Local
                && let Some(m) = std::fs::read(summary.out_dir.join("manifest.json"))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<crate::local::Manifest>(&b).ok())
            {
                let mut plan = m.plan;
                plan.source.clone_from(&spec.source);
                let measured = m.rungs.into_iter().filter_map(|r| r.quality).collect();
                out.send(UiEvent::Qualities(id, measured, Box::new(plan)));
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
    /// The preset the job ran.
    pub preset: crate::preset::Preset,
    /// The plan it was submitted with (planned again from the source when not kept).
    pub plan: Option<Plan>,
    /// Per-title fitting it was submitted with (a fitted plan cannot be planned again).
    pub fit: crate::local::per_title::FitChoice,
    /// The cloud job's wall time, seconds.
    pub wall_secs: f64,
}

impl Worker {
    /// Downloads a cloud job's outputs (`s3://.../outputs/<title>-<run>/`) into the output
    /// folder, under the title the local rule gives (another source's folder of that name is
    /// never written into); reports the result on the status line.
    pub fn cloud_download(&self, d: CloudDownload) {
        use crate::cloud::Clients;
        use crate::local::titles::{Claim, Owner};
        let out = self.outbox.clone();
        let library = self.catalog_path.clone();
        spawn("vodkit-cloud-download", move || {
            let quiet: EventSink = Arc::new(|_| {});
            let stem = d.source.file_stem().map_or_else(
                || "download".to_owned(),
                |s| s.to_string_lossy().into_owned(),
            );
            let result = Claim::take(&d.out_dir, &stem, &Owner::new(&d.source, &d.preset.name))
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
                    // A title like a local encode's: a manifest and a library record.
                    let per_title =
                        d.fit.per_title || d.preset.fit.mode == crate::preset::FitMode::PerTitle;
                    let kept = crate::probe::probe(&d.source)
                        .map_err(|e| format!("the source cannot be read ({e})"))
                        .and_then(|info| {
                            let plan = match (d.plan.clone(), per_title) {
                                (Some(p), _) => p,
                                (None, false) => crate::plan::plan(&info, &d.preset)
                                    .map_err(|e| e.to_string())?,
                                (None, true) => {
                                    return Err(
                                        "the per-title plan it was submitted with was not kept"
                                            .to_owned(),
                                    );
                                }
                            };
                            crate::cloud::downloaded::record(
                                library.as_deref(),
                                &dir,
                                &d.source,
                                &info,
                                &d.preset,
                                &plan,
                                Some(d.wall_secs),
                            )
                        });
                    let note = match kept {
                        Ok((_, None)) => "; in the library".to_owned(),
                        Ok((_, Some(why))) | Err(why) => {
                            format!("; not added to the library: {why}")
                        }
                    };
                    format!(
                        "downloaded {} files to {}{note}",
                        files.len(),
                        dir.display()
                    )
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
