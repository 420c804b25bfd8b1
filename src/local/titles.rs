//! Which title folder each source's outputs go to, and the lock that keeps two jobs out of one
//! folder. Phones number every DCIM folder from IMG_0001, so a batch of `a/IMG_0001.MOV` and
//! `b/IMG_0001.MOV` must make two titles, and the same clip made with two presets must not
//! overwrite one preset's files with the other's.
//!
//! The rule: a title folder belongs to one source file and one preset (what its `manifest.json`
//! or `.vodkit-owner.json` records). A source gets its file name's stem (`IMG_0001`) unless that
//! folder belongs to another source, or is taken earlier in the same batch; then it gets the
//! first free `IMG_0001-2`, `IMG_0001-3`, ... The same source with another preset gets
//! `IMG_0001-<preset>`. Re-running a batch gives every source the folder it had.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Records who a title folder belongs to, written when a job starts (the manifest comes later).
const OWNER_FILE: &str = ".vodkit-owner.json";
/// Present while a job writes into the folder.
const LOCK_FILE: &str = ".vodkit-lock";

/// Who a title folder belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The source file (absolute when it could be resolved).
    pub source: PathBuf,
    /// The preset's name.
    pub preset: String,
}

impl Owner {
    /// The owner of a job: the source made absolute, so `a/x.mov` and `./a/x.mov` are one.
    pub fn new(source: &Path, preset: &str) -> Self {
        Self {
            source: std::fs::canonicalize(source).unwrap_or_else(|_| source.to_owned()),
            preset: preset.to_owned(),
        }
    }
}

/// The owner recorded in a title folder, if any: `.vodkit-owner.json`, else the source and
/// preset of its `manifest.json`.
pub fn owner_of(dir: &Path) -> Option<Owner> {
    if let Some(owner) = std::fs::read(dir.join(OWNER_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<Owner>(&b).ok())
    {
        return Some(owner);
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).ok()?).ok()?;
    let source = PathBuf::from(manifest["plan"]["source"].as_str()?);
    let preset = manifest["plan"]["preset"].as_str()?.to_owned();
    Some(Owner::new(&source, &preset))
}

/// Records the owner of a title folder (best effort: the manifest says it too, later).
pub fn record_owner(dir: &Path, owner: &Owner) {
    if let Ok(bytes) = serde_json::to_vec_pretty(owner) {
        let _ = super::write_atomically(&dir.join(OWNER_FILE), &bytes);
    }
}

/// The title for one job: `stem`, or the first of `stem-2`, `stem-3`, ... that `free` accepts
/// (`stem-<preset>` first when the stem's folder holds this source made with another preset).
fn choose(out_dir: &Path, stem: &str, owner: &Owner, free: impl Fn(&str) -> bool) -> String {
    let fits = |name: &str| free(name) && owner_of(&out_dir.join(name)).is_none_or(|o| o == *owner);
    let same_source_other_preset = owner_of(&out_dir.join(stem))
        .is_some_and(|o| o.source == owner.source && o.preset != owner.preset);
    let base = if same_source_other_preset {
        format!("{stem}-{}", owner.preset)
    } else {
        stem.to_owned()
    };
    if fits(&base) {
        return base;
    }
    (2u32..10_000)
        .map(|n| format!("{base}-{n}"))
        .find(|n| fits(n))
        .unwrap_or(base)
}

/// Titles for a batch of jobs (stem of each source, its owner), in order, writing into
/// `out_dir`, without claiming them (for plans shown before anything runs).
pub fn assign(out_dir: &Path, jobs: &[(String, Owner)]) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(jobs.len());
    for (stem, owner) in jobs {
        let name = choose(out_dir, stem, owner, |n| !taken.contains(n));
        taken.insert(name.clone());
        out.push(name);
    }
    out
}

/// Titles for a batch with nowhere to look for owners (the cloud): each stem once, repeats
/// numbered `-2`, `-3`, ... in the order given.
pub fn unique_in_batch(stems: &[String]) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    stems
        .iter()
        .map(|stem| {
            let name = if taken.contains(stem) {
                (2u32..)
                    .map(|n| format!("{stem}-{n}"))
                    .find(|n| !taken.contains(n) && !stems.contains(n))
                    .unwrap_or_else(|| stem.clone())
            } else {
                stem.clone()
            };
            taken.insert(name.clone());
            name
        })
        .collect()
}

/// Titles held by running jobs of this process (output folder joined with the title).
static HELD: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A title folder claimed by one job: its name, the folder, and the lock that keeps other jobs
/// (of this process and of others) out until it is dropped.
#[derive(Debug)]
pub struct Claim {
    /// The title (folder name).
    pub title: String,
    /// `<out_dir>/<title>`, created.
    pub dir: PathBuf,
    _lock: TitleLock,
}

impl Claim {
    /// Claims the title for a job: chosen by the rule above among folders no running job of
    /// this process holds, created, locked (another process writing into it is an error that
    /// says so) and marked with its owner.
    pub fn take(out_dir: &Path, stem: &str, owner: &Owner) -> Result<Self, String> {
        let mut held = HELD
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let title = choose(out_dir, stem, owner, |n| !held.contains(&out_dir.join(n)));
        let dir = out_dir.join(&title);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let lock = TitleLock::acquire(&dir)?;
        record_owner(&dir, owner);
        held.push(dir.clone());
        Ok(Self {
            title,
            dir,
            _lock: lock,
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut held = HELD
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.retain(|d| *d != self.dir);
    }
}

/// A title folder held by this job; released (the lock file removed) when dropped.
#[derive(Debug)]
pub struct TitleLock {
    path: PathBuf,
}

impl TitleLock {
    /// Takes the folder's lock, or says which process holds it. A lock left by a process that
    /// is gone (killed) is taken over.
    pub fn acquire(dir: &Path) -> Result<Self, String> {
        let path = dir.join(LOCK_FILE);
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|s| s.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if process_alive(pid) => {
                            return Err(format!(
                                "another Vodkit job (process {pid}) is writing into {}; wait for it to finish, or choose another output folder",
                                dir.display()
                            ));
                        }
                        // Left behind by a process that is gone: take it over.
                        _ => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => {
                    return Err(format!("cannot lock {}: {e}", dir.display()));
                }
            }
        }
        Err(format!("cannot lock {}", dir.display()))
    }
}

impl Drop for TitleLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(source: &str, preset: &str) -> Owner {
        Owner {
            source: source.into(),
            preset: preset.into(),
        }
    }

    #[test]
    fn same_named_sources_in_one_batch_get_two_titles() {
        let dir = tempfile::tempdir().expect("tempdir");
        let jobs = vec![
            (
                "IMG_0001".to_owned(),
                owner("/a/IMG_0001.MOV", "phone-share"),
            ),
            (
                "IMG_0001".to_owned(),
                owner("/b/IMG_0001.MOV", "phone-share"),
            ),
            (
                "IMG_0002".to_owned(),
                owner("/a/IMG_0002.MOV", "phone-share"),
            ),
        ];
        assert_eq!(
            assign(dir.path(), &jobs),
            ["IMG_0001", "IMG_0001-2", "IMG_0002"]
        );
    }

    #[test]
    fn a_batch_without_owners_numbers_repeats() {
        let stems: Vec<String> = ["IMG_0001", "IMG_0001", "IMG_0002", "IMG_0001"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(
            unique_in_batch(&stems),
            ["IMG_0001", "IMG_0001-2", "IMG_0002", "IMG_0001-3"]
        );
    }

    #[test]
    fn a_folder_keeps_its_owner_across_runs_and_presets_get_their_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let b = owner("/b/IMG_0001.MOV", "phone-share");
        let taken = dir.path().join("IMG_0001");
        std::fs::create_dir_all(&taken).expect("dir");
        record_owner(&taken, &b);
        // Another source with the same name: the next free name.
        let a = owner("/a/IMG_0001.MOV", "phone-share");
        assert_eq!(
            assign(dir.path(), &[("IMG_0001".into(), a)]),
            ["IMG_0001-2"]
        );
        // The owner again: its own folder.
        assert_eq!(assign(dir.path(), &[("IMG_0001".into(), b)]), ["IMG_0001"]);
        // The same source with another preset: a folder named for the preset.
        let web = owner("/b/IMG_0001.MOV", "web-ladder");
        assert_eq!(
            assign(dir.path(), &[("IMG_0001".into(), web)]),
            ["IMG_0001-web-ladder"]
        );
    }

    #[test]
    fn two_jobs_of_one_process_claim_two_folders_until_released() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = owner("/a/IMG_0001.MOV", "phone-share");
        let b = owner("/b/IMG_0001.MOV", "phone-share");
        let first = Claim::take(dir.path(), "IMG_0001", &a).expect("a");
        let second = Claim::take(dir.path(), "IMG_0001", &b).expect("b");
        assert_eq!(
            (first.title.as_str(), second.title.as_str()),
            ("IMG_0001", "IMG_0001-2")
        );
        drop((first, second));
        // In the other order on a re-run, each finds its own folder again.
        let b_again = Claim::take(dir.path(), "IMG_0001", &b).expect("b again");
        let a_again = Claim::take(dir.path(), "IMG_0001", &a).expect("a again");
        assert_eq!(
            (a_again.title.as_str(), b_again.title.as_str()),
            ("IMG_0001", "IMG_0001-2")
        );
    }

    #[test]
    fn a_second_job_sees_the_lock_and_a_dead_holder_is_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = TitleLock::acquire(dir.path()).expect("first");
        let err = TitleLock::acquire(dir.path()).expect_err("held");
        assert!(err.contains("another Vodkit job"), "{err}");
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        // A lock whose process is gone.
        std::fs::write(dir.path().join(LOCK_FILE), "4294967\n").expect("stale");
        let _again = TitleLock::acquire(dir.path()).expect("stale lock taken over");
    }
}
