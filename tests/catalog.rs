//! The library database from the outside: migrations from every committed earlier schema, a
//! batch killed with SIGKILL mid-way and finished by `vodkit queue run` (nothing redone, the
//! database intact), the library's records of what was made (rescan, missing, search,
//! forget), and a watch folder fed by a slow copy and a duplicate.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use vodkit::catalog::Catalog;
use vodkit::catalog::queue::QueueState;
use vodkit::catalog::titles::TitleFilter;

fn mtimes(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    common::files_under(dir)
        .into_iter()
        .map(|p| {
            let t = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .expect("mtime");
            (p, t)
        })
        .collect()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn every_committed_schema_opens_with_its_rows() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(&fixtures).expect("fixtures") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if !(name.starts_with("catalog-v") && name.ends_with(".sql")) {
            continue;
        }
        seen += 1;
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("library.sqlite");
        {
            let conn = rusqlite::Connection::open(&db).expect("sqlite");
            conn.execute_batch(&std::fs::read_to_string(&path).expect("sql"))
                .expect("the dump loads");
        }
        let c = Catalog::open(&db).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            c.version().expect("version"),
            vodkit::catalog::schema::latest(),
            "{name}"
        );
        assert_eq!(c.integrity_check().expect("check"), "ok", "{name}");
        let titles = c.titles(&TitleFilter::default()).expect("titles");
        assert_eq!(titles.len(), 1, "{name}");
        assert_eq!(titles[0].title, "IMG_0001");
        assert_eq!(titles[0].renditions[0].size_bytes, 8_123_456);
        assert_eq!(titles[0].packages[0].kind, "hls");
        let jobs = c.jobs().expect("jobs");
        assert_eq!(
            jobs.iter().map(|j| j.state).collect::<Vec<_>>(),
            [QueueState::Queued, QueueState::Done],
            "{name}"
        );
        assert_eq!(c.history(1).expect("history").len(), 3);
        assert!(c.is_paused().expect("paused"), "{name}: the pause survives");
        assert_eq!(c.cloud_jobs().expect("cloud").len(), 1);
        let version: u32 = name
            .trim_start_matches("catalog-v")
            .trim_end_matches(".sql")
            .parse()
            .expect("catalog-vN.sql");
        if version >= 2 {
            let watches = c.watches().expect("watches");
            assert_eq!(watches.len(), 1, "{name}: the watch folder survives");
            let seen = Path::new("/home/ana/Camera/IMG_0002.MOV");
            assert!(
                c.watch_saw(watches[0].id, seen, 1000, 1_796_000_250)
                    .expect("seen")
            );
            // Stopping it and watching again (version 4) keeps what it saw.
            assert!(c.remove_watch(watches[0].id).expect("stop"));
            assert!(c.watches().expect("watches").is_empty(), "{name}");
            let again = c
                .add_watch(
                    &watches[0].dir,
                    &watches[0].preset,
                    &watches[0].out_dir,
                    watches[0].kind,
                )
                .expect("watch again");
            assert!(
                c.watch_saw(again.id, seen, 1000, 1_796_000_250)
                    .expect("seen")
            );
        }
        // What later versions added works on the migrated file.
        c.add_watch(
            Path::new("/in"),
            "phone-share",
            Path::new("/out"),
            vodkit::catalog::queue::JobKind::Local,
        )
        .expect("watch folders exist after migrating");
    }
    // One dump per earlier version: a new migration comes with the dump of the version before.
    assert_eq!(
        seen,
        vodkit::catalog::schema::latest() as usize - 1,
        "schema dumps in {}",
        fixtures.display()
    );
}

#[test]
fn a_batch_killed_mid_way_is_finished_by_queue_run_without_redoing_anything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let first = common::basic();
    let second = common::ladder_source();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vodkit"))
        .args(["encode", "--preset", "web-ladder", "--json", "--out"])
        .arg(&out)
        .arg(&first)
        .arg(&second)
        .env("VODKIT_CONFIG_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("vodkit starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut second_started = false;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if line.contains("\"event\":\"started\"") && line.contains("ladder_source") {
            second_started = true;
        }
        if second_started && line.contains("\"event\":\"progress\"") {
            break;
        }
    }
    assert!(second_started, "the second file started");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let db = dir.path().join("library.sqlite");
    let c = Catalog::open(&db).expect("the database opens after SIGKILL");
    assert_eq!(c.integrity_check().expect("check"), "ok");
    let jobs = c.jobs().expect("jobs");
    let state_of = |jobs: &[vodkit::catalog::queue::QueuedJob], name: &str| {
        jobs.iter()
            .find(|j| j.source.to_string_lossy().contains(name))
            .map(|j| j.state)
    };
    assert_eq!(state_of(&jobs, "basic"), Some(QueueState::Done));
    assert_eq!(
        state_of(&jobs, "ladder_source"),
        Some(QueueState::Running),
        "the killed job is still marked running: {jobs:?}"
    );
    drop(c);
    let before = mtimes(&out.join("basic"));
    assert!(!before.is_empty());

    let (code, listed, _) = common::vodkit(&["queue", "list", "--json"], dir.path());
    assert_eq!(code, 0);
    assert_eq!(json_lines(&listed).len(), 2);
    let (code, stdout, stderr) = common::vodkit(&["queue", "run", "--json"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let events = json_lines(&stdout);
    let started: Vec<String> = events
        .iter()
        .filter(|e| e["event"] == "started")
        .map(|e| e["source"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        started.len(),
        1,
        "only the interrupted job runs: {started:?}"
    );
    assert!(started[0].contains("ladder_source"));
    assert_eq!(
        mtimes(&out.join("basic")),
        before,
        "the finished title is untouched"
    );
    assert!(out.join("ladder_source/manifest.json").is_file());

    let c = Catalog::open(&db).expect("open");
    assert_eq!(c.integrity_check().expect("check"), "ok");
    let jobs = c.jobs().expect("jobs");
    assert!(jobs.iter().all(|j| j.state == QueueState::Done), "{jobs:?}");
    let second_job = jobs
        .iter()
        .find(|j| j.source.to_string_lossy().contains("ladder_source"))
        .expect("row");
    let history: Vec<String> = c
        .history(second_job.id)
        .expect("history")
        .into_iter()
        .map(|h| h.event)
        .collect();
    assert_eq!(
        history,
        ["queued", "started", "interrupted", "started", "done"]
    );
    drop(c);

    // The library knows both titles with their files and sizes.
    let (code, listed, _) = common::vodkit(&["library", "list", "--json"], dir.path());
    assert_eq!(code, 0);
    let titles = json_lines(&listed);
    assert_eq!(titles.len(), 2, "{listed}");
    for t in &titles {
        let title_dir = PathBuf::from(t["dir"].as_str().expect("dir"));
        assert!(title_dir.is_absolute());
        let renditions = t["renditions"].as_array().expect("renditions");
        assert!(!renditions.is_empty());
        for r in renditions {
            let file = title_dir.join(r["file"].as_str().expect("file"));
            assert_eq!(
                r["size_bytes"].as_u64(),
                Some(std::fs::metadata(&file).expect("file").len())
            );
        }
        assert!(
            t["source_path"].as_str().is_some(),
            "an encode knows its source"
        );
    }
    let (_, shown, _) = common::vodkit(&["library", "show", "basic"], dir.path());
    assert!(shown.contains("basic_240p.mp4"), "{shown}");
    let (_, found, _) = common::vodkit(
        &["library", "search", "ladder_source", "--json"],
        dir.path(),
    );
    assert_eq!(json_lines(&found).len(), 1, "{found}");

    // A folder deleted by hand: marked missing by a rescan, not dropped.
    std::fs::remove_dir_all(out.join("basic")).expect("remove");
    let (code, rescan, _) = common::vodkit(&["library", "rescan", "--json"], dir.path());
    assert_ne!(code, 0, "rescan needs a folder");
    let _ = rescan;
    let (code, rescan, stderr) = common::vodkit(
        &["library", "rescan", out.to_str().expect("utf-8"), "--json"],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let report = &json_lines(&rescan)[0];
    assert_eq!(report["recorded"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["missing"].as_array().map(Vec::len), Some(1));
    let (_, missing, _) = common::vodkit(&["library", "list", "--missing", "--json"], dir.path());
    let missing = json_lines(&missing);
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["title"], "basic");
    let (code, _, _) = common::vodkit(&["library", "forget", "basic"], dir.path());
    assert_eq!(code, 0);
    let (_, listed, _) = common::vodkit(&["library", "list", "--json"], dir.path());
    assert_eq!(json_lines(&listed).len(), 1);
}

#[test]
fn a_watched_folder_queues_a_slow_copy_once_and_skips_a_duplicate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inbox = dir.path().join("in");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vodkit"))
        .args([
            "watch",
            "--preset",
            "phone-share",
            "--settle-secs",
            "1.5",
            "--json",
            "--out",
        ])
        .arg(&out)
        .arg(&inbox)
        .env("VODKIT_CONFIG_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("vodkit starts");
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, String)>();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send((Instant::now(), line));
        }
    });
    // A camera's file arrives slowly: a quarter every 0.8 s.
    let bytes = std::fs::read(common::basic()).expect("clip");
    let target = inbox.join("clip.mp4");
    let quarter = bytes.len() / 4 + 1;
    for chunk in bytes.chunks(quarter) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&target)
            .expect("open");
        f.write_all(chunk).expect("write");
        drop(f);
        std::thread::sleep(Duration::from_millis(800));
    }
    let last_write = Instant::now() - Duration::from_millis(800);
    let wait_for = |what: &str, rx: &std::sync::mpsc::Receiver<(Instant, String)>| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok((at, line)) = rx.recv_timeout(Duration::from_secs(1))
                && line.contains(what)
            {
                return (at, line);
            }
        }
        panic!("no '{what}' from vodkit watch");
    };
    let (queued_at, line) = wait_for("\"watch\":\"queued\"", &rx);
    assert!(line.contains("clip.mp4"), "{line}");
    assert!(
        queued_at > last_write,
        "queued only once the copy stopped growing"
    );
    wait_for("\"event\":\"finished\"", &rx);
    assert!(out.join("clip/manifest.json").is_file());

    std::fs::copy(&target, inbox.join("the same clip.mp4")).expect("copy");
    let (_, line) = wait_for("\"watch\":\"copy\"", &rx);
    assert!(line.contains("the same clip.mp4"), "{line}");
    // SAFETY: sending SIGINT to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let _ = child.wait();

    let c = Catalog::open(&dir.path().join("library.sqlite")).expect("open");
    let jobs = c.jobs().expect("jobs");
    assert_eq!(jobs.len(), 1, "one job for one content: {jobs:?}");
    assert_eq!(jobs[0].state, QueueState::Done);
    assert_eq!(
        c.watches().expect("watches").len(),
        1,
        "the watch is remembered"
    );
    let (_, listed, _) = common::vodkit(&["watch", "--list", "--json"], dir.path());
    assert_eq!(json_lines(&listed).len(), 1);
}

#[test]
fn two_phones_files_of_one_name_are_two_titles_never_guessed_between() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (
        dir.path().join("a/IMG_0001.mp4"),
        dir.path().join("b/IMG_0001.mp4"),
    );
    for (path, clip) in [(&a, common::basic()), (&b, common::no_audio())] {
        std::fs::create_dir_all(path.parent().expect("folder")).expect("dir");
        std::fs::copy(clip, path).expect("copy");
    }
    let out = dir.path().join("out");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            a.to_str().expect("utf-8"),
            b.to_str().expect("utf-8"),
            "--preset",
            "phone-share",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let (_, listed, _) = common::vodkit(&["library", "list", "--json"], dir.path());
    let titles = json_lines(&listed);
    assert_eq!(titles.len(), 2, "{listed}");
    let sources: Vec<&str> = titles
        .iter()
        .filter_map(|t| t["source_path"].as_str())
        .collect();
    assert!(
        sources.contains(&a.to_str().expect("utf-8"))
            && sources.contains(&b.to_str().expect("utf-8"))
    );
    // Each has a name of its own, and its name shows its own source.
    let names: Vec<&str> = titles.iter().filter_map(|t| t["title"].as_str()).collect();
    assert_ne!(names[0], names[1], "{names:?}");
    for t in &titles {
        let name = t["title"].as_str().expect("title");
        let (code, shown, stderr) =
            common::vodkit(&["library", "show", name, "--json"], dir.path());
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(json_lines(&shown)[0]["source_path"], t["source_path"]);
    }
    // The same title name in two output folders (encoded twice elsewhere): a name is refused
    // with both ids and folders, never guessed; an id picks one.
    let other = dir.path().join("other");
    let (code, _, stderr) = common::vodkit(
        &[
            "encode",
            a.to_str().expect("utf-8"),
            "--preset",
            "phone-share",
            "--out",
            other.to_str().expect("utf-8"),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = common::vodkit(&["library", "show", "IMG_0001"], dir.path());
    assert_ne!(code, 0);
    assert!(stderr.contains("2 titles are named 'IMG_0001'"), "{stderr}");
    let (code, _, _) = common::vodkit(&["library", "forget", "IMG_0001"], dir.path());
    assert_ne!(code, 0, "a forget by an ambiguous name forgets nothing");
    let (_, listed, _) = common::vodkit(&["library", "list", "--json"], dir.path());
    let all = json_lines(&listed);
    assert_eq!(all.len(), 3);
    let id = all[0]["id"].as_i64().expect("id").to_string();
    let (code, shown, _) = common::vodkit(&["library", "show", &id, "--json"], dir.path());
    assert_eq!(code, 0);
    assert_eq!(json_lines(&shown)[0]["dir"], all[0]["dir"]);
}
