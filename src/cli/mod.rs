//! The command line: subcommands over the library, rendered as text for people or as JSON
//! lines for scripts. `vodkit` with no subcommand opens the desktop app.

mod cloud_cmd;
mod encode_cmd;
mod library_cmd;
mod package_cmd;
mod plan_cmd;
mod presets_cmd;
mod probe_cmd;
mod progress_view;
mod quality_cmd;
mod queue_cmd;
mod serve_cmd;
mod watch_cmd;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde::Serialize;

/// Vodkit: turn any video into files people can share and into HLS + DASH ladders.
#[derive(Debug, Parser)]
#[command(name = "vodkit", version, about, long_about = None)]
#[command(after_help = "Run `vodkit` with no command to open the desktop app.\n\
Examples:\n  vodkit probe holiday.mov\n  vodkit plan movie.mkv --preset web-ladder\n  vodkit presets show phone-share")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what media files hold: container, streams, rotation, HDR, interlacing, tags.
    #[command(
        after_help = "Examples:\n  vodkit probe clip.mov\n  vodkit probe *.mp4 --json | jq .duration_secs"
    )]
    Probe {
        /// Files to probe.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
    },
    /// Show what a preset would make from each file: rungs kept, resized, capped or dropped.
    #[command(
        after_help = "With --per-title (or a preset with fit.mode = \"per-title\"), samples of each file are encoded at every\nsize of the preset at three quality points and scored with VMAF; the ladder is read off the\nrate-quality hull and shown beside the preset's fixed one; encode and cloud submit/job-json take --per-title too.\n\nExamples:\n  vodkit plan movie.mkv --preset web-ladder\n  vodkit plan phone.mov --preset phone-share --json\n  vodkit plan talk.mp4 --preset web-ladder --per-title --target-vmaf 93"
    )]
    Plan {
        /// Source files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Preset name (see `vodkit presets`) or path to a preset .toml file.
        #[arg(long, short)]
        preset: String,
        #[command(flatten)]
        fit: FitArgs,
        /// Predict the local encode's time on this machine (encodes a timed 4 s sample).
        #[arg(long)]
        estimate: bool,
        /// Also price the MediaConvert job in REGION (default: the Cloud settings' region):
        /// per output and in total, from the price snapshot (`vodkit cloud prices`).
        #[arg(long, value_name = "REGION", num_args = 0..=1, default_missing_value = "")]
        cloud: Option<String>,
        /// One JSON object per file, one per line.
        #[arg(long)]
        json: bool,
    },
    /// Encode files locally with a preset: one MP4 per rung, stills and a manifest.json.
    #[command(
        after_help = "Files are written to DIR/<title>/<title>_<height>p.mp4. Re-running the same command skips\nrungs already complete and identical, so an interrupted batch resumes. Ctrl-C cancels cleanly.\n\nExamples:\n  vodkit encode phone.mov --preset phone-share --out shared/\n  vodkit encode *.mkv --preset web-ladder --out ladders/ --jobs 2 --json"
    )]
    Encode {
        /// Source files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Preset name or path to a preset .toml file.
        #[arg(long, short)]
        preset: String,
        /// Output folder.
        #[arg(long, short)]
        out: PathBuf,
        /// Files encoded at once.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Redo rungs an earlier run already made from the same source and settings.
        #[arg(long)]
        force: bool,
        /// Measure VMAF, SSIM and PSNR of every rung while encoding (manifest.json, quality.html).
        #[arg(long, conflicts_with = "no_quality")]
        quality: bool,
        /// Do not measure quality, even when the preset does (web-ladder does).
        #[arg(long)]
        no_quality: bool,
        /// With quality measured: score every N-th frame (faster; default: the preset's, 1).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1000))]
        every: Option<u32>,
        #[command(flatten)]
        fit: FitArgs,
        /// Make one MP4 that fits this size (25MB, 8MB, 1.5GB; sound and MP4 tables counted):
        /// the picture size the samples score best at that bitrate, two passes.
        #[arg(long, value_parser = parse_size, conflicts_with = "per_title")]
        target_size: Option<u64>,
        /// Encode from this time on (seconds, m:ss or h:mm:ss).
        #[arg(long, value_parser = parse_time)]
        start: Option<f64>,
        /// Encode up to this time (seconds, m:ss or h:mm:ss).
        #[arg(long, value_parser = parse_time)]
        end: Option<f64>,
        /// Predict the encode's time first (a timed 4 s sample) and compare afterwards: the
        /// manifest keeps the prediction and the truth.
        #[arg(long, conflicts_with = "target_size")]
        estimate: bool,
        /// Events as JSON lines on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Package encoded titles as HLS + DASH (sharing one set of CMAF media) and SMIL.
    #[command(
        after_help = "DIR is a title folder made by vodkit encode (DIR/<title>_<rung>.mp4).\nWrites DIR/index.m3u8, DIR/index.mpd, DIR/index.smil and DIR/stream/.\n\nExample:\n  vodkit package ladders/movie"
    )]
    Package {
        /// Title folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// One JSON object per title.
        #[arg(long)]
        json: bool,
    },
    /// Measure VMAF, SSIM and PSNR of rung files against their source.
    #[command(
        after_help = "The source is prepared as the encode prepared it (upright, deinterlaced, square pixels, tone-mapped,\nBT.709; a title's manifest.json says how) and every rung is upscaled (bicubic) to its size. VMAF uses\nlibvmaf's vmaf_v0.6.1 model, or vmaf_4k_v0.6.1 for references above 1080p.\n\nExamples:\n  vodkit quality phone.mov out/phone/phone_*.mp4\n  vodkit quality movie.mkv ladders/movie/movie_720p.mp4 --every 5 --json\n  vodkit quality movie.mkv ladders/movie/*.mp4 --html report.html"
    )]
    Quality {
        /// The source the rungs were made from.
        source: PathBuf,
        /// Rung files to score.
        #[arg(required = true)]
        rungs: Vec<PathBuf>,
        /// Score every N-th frame (faster; 1 scores all).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        every: u32,
        /// Also write the report with its plots to this HTML file.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write the compared pictures as Y4M into DIR (<rung>.reference.y4m and
        /// <rung>.distorted.y4m), to check the scores with libvmaf's own `vmaf` tool.
        #[arg(long, value_name = "DIR")]
        dump_y4m: Option<PathBuf>,
        /// One JSON object per rung.
        #[arg(long)]
        json: bool,
    },
    /// Serve every title under DIR as HLS and DASH, packaged on request from the MP4 rungs.
    #[command(
        after_help = "Nothing is written to disk. Manifests take filters:\n  /<title>/index.m3u8?max_height=720&order=asc\n  /<title>/index.mpd?min_bitrate=500000&max_bitrate=4000000\nThe player page is /<title>/ (?format=dash for DASH).\n\nExample:\n  vodkit serve ladders/ --port 8080"
    )]
    Serve {
        /// The folder vodkit encode wrote titles into.
        dir: PathBuf,
        /// Port; 0 picks a free one.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on; 0.0.0.0 opens it to the network.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Folder with hls.min.js and dash.all.min.js for the player page (default: the copies
        /// inside vodkit, hls.js 1.7.4 and dash.js 4.7.4).
        #[arg(long, conflicts_with = "player_cdn")]
        player_dir: Option<PathBuf>,
        /// Load the player page's scripts from jsDelivr instead (needs internet in the browser).
        #[arg(long)]
        player_cdn: bool,
        /// Seconds a client has to send its request headers before it is dropped.
        #[arg(long, default_value_t = 10)]
        header_timeout_secs: u64,
        /// Connections served at once; beyond, clients get 503 with Retry-After.
        #[arg(long, default_value_t = 256)]
        max_connections: usize,
    },
    /// Take evenly spaced stills from a video (seeks to keyframes: fast on long files).
    #[command(
        after_help = "Example:\n  vodkit stills movie.mp4 --count 8 --width 320 --out thumbs/"
    )]
    Stills {
        /// Source file.
        file: PathBuf,
        /// How many.
        #[arg(long, default_value_t = 5)]
        count: u32,
        /// Width in pixels.
        #[arg(long, default_value_t = 640)]
        width: u32,
        /// Output folder.
        #[arg(long, short)]
        out: PathBuf,
        /// JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// The cloud backend (AWS S3 + Elemental MediaConvert).
    #[command(
        after_help = "Credentials come from the standard AWS chain (environment, --profile, SSO, instance role);\nbucket, prefix, role, queue, region and endpoints default to the app's Cloud settings.\n\nExamples:\n  vodkit cloud check --bucket my-vod --region eu-west-1\n  vodkit cloud submit movie.mov --preset web-ladder --bucket my-vod \\\n    --role arn:aws:iam::123456789012:role/MediaConvertRole\n  vodkit cloud status\n  vodkit cloud download JOB_ID --out ladders/movie"
    )]
    Cloud {
        #[command(subcommand)]
        action: cloud_cmd::Action,
        #[command(flatten)]
        aws: Box<cloud_cmd::AwsArgs>,
    },
    /// What Vodkit made: titles, their files, sizes and packages, from the library database.
    #[command(
        after_help = "The library lives in the data folder (~/.local/share/vodkit/library.sqlite; VODKIT_DATA_DIR moves it).\nEvery encode records its title; manifest.json files in title folders stay the truth on disk.\n\nExamples:\n  vodkit library list\n  vodkit library search holiday 2026\n  vodkit library show IMG_0001\n  vodkit library rescan ~/Videos/Vodkit --json"
    )]
    Library {
        #[command(subcommand)]
        action: library_cmd::Action,
        /// One JSON object per line.
        #[arg(long, global = true)]
        json: bool,
    },
    /// The job queue the app and the command line share; it survives restarts and crashes.
    #[command(
        after_help = "Every `vodkit encode` file and every app job is a queue row before it starts. A batch killed\nmid-way (a crash, a power cut) is finished by `vodkit queue run`, skipping the rungs already made.\n\nExamples:\n  vodkit queue list\n  vodkit queue add *.mov --preset phone-share --out shared/\n  vodkit queue run --jobs 2\n  vodkit queue move 12 -3\n  vodkit queue pause"
    )]
    Queue {
        #[command(subcommand)]
        action: queue_cmd::Action,
        /// One JSON object per line.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Encode every video that lands in a folder, once it stopped growing, once per content.
    #[command(
        after_help = "The watch is remembered: `vodkit watch` alone resumes every stored watch. The jobs join the\nshared queue (the app shows them); this command runs the queue while it watches.\n\nExamples:\n  vodkit watch ~/Camera --preset phone-share --out ~/Videos/Vodkit\n  vodkit watch --list\n  vodkit watch --remove 2"
    )]
    Watch {
        /// The folder to watch (none: every stored watch).
        dir: Option<PathBuf>,
        /// Preset for its files.
        #[arg(long, short)]
        preset: Option<String>,
        /// Output folder.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Seconds a file must keep its size before it is queued.
        #[arg(long, default_value_t = 3.0)]
        settle_secs: f64,
        /// Files encoded at once.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// List stored watches.
        #[arg(long, conflicts_with_all = ["dir", "remove"])]
        list: bool,
        /// Forget a stored watch (its id from --list).
        #[arg(long, conflicts_with = "dir")]
        remove: Option<i64>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout.
    #[command(after_help = "Example:\n  vodkit completions bash > /etc/bash_completion.d/vodkit")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout.
    #[command(after_help = "Example:\n  vodkit man | man -l -")]
    Man,
    /// Open the desktop app (the same as no command), optionally with files already added.
    #[command(
        after_help = "Examples:\n  vodkit gui\n  vodkit gui ~/Videos/holiday/\n  vodkit gui --quality ladders/movie movie.mkv"
    )]
    Gui {
        /// Videos or folders to add.
        files: Vec<PathBuf>,
        /// Open the Quality tab of a title folder made earlier (give its source too, for the
        /// before/after view).
        #[arg(long, value_name = "TITLE_DIR")]
        quality: Option<PathBuf>,
        /// Open on this view.
        #[arg(long, value_enum)]
        view: Option<crate::gui::View>,
    },
    /// List, show, import, export or delete presets.
    #[command(
        after_help = "Examples:\n  vodkit presets\n  vodkit presets show web-ladder\n  vodkit presets export web-ladder --out mine.toml\n  vodkit presets import mine.toml"
    )]
    Presets {
        #[command(subcommand)]
        action: Option<presets_cmd::Action>,
        /// JSON instead of a table.
        #[arg(long, global = true)]
        json: bool,
    },
}

/// Installs Ctrl-C to cancel every job (a second Ctrl-C is left to the default: exit).
fn cancel_on_ctrl_c() -> crate::job::CancelToken {
    let token = crate::job::CancelToken::new();
    let t = token.clone();
    let _ = ctrlc::set_handler(move || {
        if t.is_cancelled() {
            std::process::exit(130);
        }
        eprintln!("\nvodkit: cancelling (unfinished files are removed)...");
        t.cancel();
    });
    token
}

/// Where command output goes: stdout for results, stderr for errors; JSON lines or text.
pub struct Output {
    /// JSON lines instead of text.
    pub json: bool,
}

impl Output {
    fn json_line<T: Serialize>(&self, value: &T) {
        // Serialising our own plain types cannot fail.
        let line = serde_json::to_string(value).unwrap_or_default();
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }

    fn text(&self, text: &str) {
        let _ = write!(std::io::stdout().lock(), "{text}");
    }

    /// Reports a failure about one file: on stderr always, and as a JSON line in JSON mode
    /// so scripts reading stdout see every file.
    fn error(&self, file: &Path, message: &str) {
        eprintln!("vodkit: {message}");
        if self.json {
            self.json_line(&serde_json::json!({ "path": file, "error": message }));
        }
    }
}

/// The CLI definition with the version line naming the FFmpeg libraries in use.
pub fn command() -> clap::Command {
    let version = format!(
        "{}\nFFmpeg libraries: {}",
        env!("CARGO_PKG_VERSION"),
        crate::av::library_versions()
    );
    <Cli as clap::CommandFactory>::command().version(version)
}

/// Runs the command line; returns the process exit code (1 when any file failed).
pub fn run() -> ExitCode {
    crate::av::init();
    let matches = command().get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let failed = match cli.command {
        None => match crate::gui::run(Vec::new(), None, None) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        },
        Some(Command::Gui {
            files,
            quality,
            view,
        }) => match crate::gui::run(files, quality, view) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        },
        Some(Command::Cloud { action, aws }) => cloud_cmd::run(action, &aws),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut command(), "vodkit", &mut std::io::stdout());
            0
        }
        Some(Command::Man) => match clap_mangen::Man::new(
            <Cli as clap::CommandFactory>::command().version(env!("CARGO_PKG_VERSION")),
        )
        .render(&mut std::io::stdout())
        {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("vodkit: {e}");
                1
            }
        },
        Some(Command::Probe { files, json }) => probe_cmd::run(&files, &mut Output { json }),
        Some(Command::Plan {
            files,
            preset,
            fit,
            estimate,
            cloud,
            json,
        }) => plan_cmd::run(
            &files,
            &preset,
            &fit.choice(),
            &plan_cmd::Extras {
                estimate,
                cloud_region: cloud,
            },
            &mut Output { json },
        ),
        Some(Command::Encode {
            files,
            preset,
            out,
            jobs,
            force,
            quality,
            no_quality,
            every,
            fit,
            target_size,
            start,
            end,
            estimate,
            json,
        }) => encode_cmd::run(
            &files,
            &preset,
            &out,
            &encode_cmd::Choices {
                jobs,
                force,
                quality: encode_cmd::Quality {
                    measure: match (quality, no_quality) {
                        (true, _) => Some(true),
                        (_, true) => Some(false),
                        _ => None,
                    },
                    every,
                },
                fit: fit.choice(),
                target: target_size.map(|bytes| crate::local::target_size::Target { bytes }),
                start_secs: start,
                end_secs: end,
                estimate,
            },
            &Output { json },
        ),
        Some(Command::Package { dirs, json }) => package_cmd::run(&dirs, &Output { json }),
        Some(Command::Quality {
            source,
            rungs,
            every,
            html,
            dump_y4m,
            json,
        }) => quality_cmd::run(
            &source,
            &rungs,
            every,
            html.as_deref(),
            dump_y4m.as_deref(),
            &Output { json },
        ),
        Some(Command::Serve {
            dir,
            port,
            bind,
            player_dir,
            player_cdn,
            header_timeout_secs,
            max_connections,
        }) => serve_cmd::run(serve_cmd::Options {
            root: dir,
            bind,
            port,
            player_dir,
            player_cdn,
            header_timeout_secs,
            max_connections,
        }),
        Some(Command::Stills {
            file,
            count,
            width,
            out,
            json,
        }) => encode_cmd::stills(&file, count, width, &out, &Output { json }),
        Some(Command::Presets { action, json }) => presets_cmd::run(action, &mut Output { json }),
        Some(Command::Library { action, json }) => library_cmd::run(action, &Output { json }),
        Some(Command::Queue { action, json }) => queue_cmd::run(action, &Output { json }),
        Some(Command::Watch {
            dir,
            preset,
            out,
            settle_secs,
            jobs,
            list,
            remove,
            json,
        }) => watch_cmd::run(
            &watch_cmd::Options {
                dir,
                preset,
                out,
                settle_secs,
                jobs,
                list,
                remove,
            },
            &Output { json },
        ),
    };
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `--per-title` and its goals, shared by plan, encode and the cloud commands.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct FitArgs {
    /// Fit the ladder to each file from measured samples (minutes: samples of the source are
    /// encoded at every size of the preset at three quality points and scored with VMAF).
    #[arg(long)]
    per_title: bool,
    /// With --per-title: the top rung's VMAF (default: the preset's fit.target_vmaf, 95).
    #[arg(long)]
    target_vmaf: Option<f64>,
    /// With --per-title: the least VMAF a rung must add over the one below (default: the
    /// preset's fit.min_vmaf_step, 3).
    #[arg(long)]
    min_vmaf_step: Option<f64>,
}

impl FitArgs {
    /// As the planner takes it.
    pub fn choice(&self) -> crate::local::per_title::FitChoice {
        crate::local::per_title::FitChoice {
            per_title: self.per_title,
            target_vmaf: self.target_vmaf,
            min_vmaf_step: self.min_vmaf_step,
        }
    }
}

/// `--target-size` as clap parses it.
fn parse_size(text: &str) -> Result<u64, String> {
    crate::plan::target_size::parse_size(text)
}

/// `--start`/`--end` as clap parses them.
fn parse_time(text: &str) -> Result<f64, String> {
    crate::units::parse_time(text)
}
