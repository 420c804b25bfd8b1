//! The cloud backend without AWS.
//!
//! - MediaConvert jobs from presets: the CreateJob request `vodkit cloud job-json` prints, and
//!   its wire form, are validated against the official service model (botocore's, installed by
//!   `make test-deps`) with zero violations for every built-in preset on several sources; the
//!   reference pipeline's settings are checked member by member.
//! - S3 against moto's S3 server: multipart upload with progress, skip when present, retries on
//!   injected 503 SlowDown, an upload killed midway and resumed, an upload S3 forgot restarted,
//!   cancel leaving no multipart upload behind.
//! - MediaConvert against a stand-in that records what the SDK sends and replays GetJob
//!   answers: a signed CreateJob valid against the model, progress events, the SMIL, a failed
//!   job's code and message, cancel, and the command line's check/submit/status/download.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::aws::{ENV, FakeMediaConvert, Fault, FaultProxy, Moto, s3_client, sdk_config, step};
use serde_json::Value;
use vodkit::cloud::submit::{SubmitOptions, submit};
use vodkit::cloud::upload::{UploadOptions, UploadOutcome, upload};
use vodkit::cloud::{Clients, CloudError, CloudSettings};
use vodkit::job::{CancelToken, EventSink, JobEvent};

const ROLE: &str = "arn:aws:iam::123456789012:role/MediaConvertRole";

fn job_json(file: &Path, preset: &str, config: &Path) -> Value {
    let (code, stdout, stderr) = common::vodkit(
        &[
            "cloud",
            "job-json",
            file.to_str().expect("utf-8"),
            "--preset",
            preset,
            "--bucket",
            "my-vod",
            "--prefix",
            "vod",
            "--role",
            ROLE,
        ],
        config,
    );
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).expect("JSON")
}

#[test]
fn every_builtin_preset_makes_a_valid_job_on_several_sources() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    let mut wire_files = Vec::new();
    // A source with two sidecar subtitle files: caption selectors, a WebVTT group per track,
    // and (with a burn-in preset) captions burned into every rung.
    let subbed = dir.path().join("subbed.mp4");
    std::fs::copy(common::basic(), &subbed).expect("copy");
    std::fs::write(
        dir.path().join("subbed.en.srt"),
        "1\n00:00:01,000 --> 00:00:02,000\nHello\n",
    )
    .expect("srt");
    std::fs::write(
        dir.path().join("subbed.fr.vtt"),
        "WEBVTT\n\n00:01.000 --> 00:02.000\nBonjour\n",
    )
    .expect("vtt");
    let burn = dir.path().join("burn-share.toml");
    std::fs::write(
        &burn,
        "name = \"burn-share\"\n[subtitles]\nburn = \"en\"\n[[rung]]\nwidth = 320\nheight = 240\nmax_bitrate_bps = 800000\n",
    )
    .expect("preset");
    let sources = [
        common::uhd(),
        common::basic(),
        common::rotated(),
        common::interlaced(),
        common::hdr_hevc(),
        common::no_audio(),
        common::vfr(),
        subbed.clone(),
    ];
    let burn_preset = burn.to_str().expect("utf-8").to_owned();
    for source in &sources {
        let mut presets = vec![
            "web-ladder",
            "web-ladder-av1",
            "phone-share",
            "share-1080p",
            "hevc-archive",
        ];
        if *source == subbed {
            presets.push(&burn_preset);
        }
        for preset in presets {
            let job = job_json(source, preset, dir.path());
            if *source == subbed {
                let selectors = &job["Settings"]["Inputs"][0]["CaptionSelectors"];
                assert_eq!(
                    selectors.as_object().map_or(0, serde_json::Map::len),
                    2,
                    "{job}"
                );
                let groups = job["Settings"]["OutputGroups"].as_array().expect("groups");
                let vtt_groups = groups
                    .iter()
                    .filter(|g| {
                        g["Name"]
                            .as_str()
                            .is_some_and(|n| n.starts_with("Subtitles "))
                    })
                    .count();
                let burned = preset == burn_preset;
                assert_eq!(vtt_groups, if burned { 1 } else { 2 }, "{preset}: {job}");
                assert_eq!(
                    groups[0]["Outputs"][0]["CaptionDescriptions"][0]["DestinationSettings"]["DestinationType"]
                        == "BURN_IN",
                    burned,
                    "{preset}"
                );
            }
            if preset == "web-ladder-av1" {
                // AV1 rungs are MediaConvert AV1 outputs (QVBR, GOP in frames) beside H.264 ones.
                let codecs: Vec<&str> = job["Settings"]["OutputGroups"][0]["Outputs"]
                    .as_array()
                    .expect("outputs")
                    .iter()
                    .filter_map(|o| o["VideoDescription"]["CodecSettings"]["Codec"].as_str())
                    .collect();
                assert!(codecs.contains(&"AV1"), "{}: {codecs:?}", source.display());
                assert!(
                    codecs.contains(&"H_264"),
                    "{}: {codecs:?}",
                    source.display()
                );
            }
            let preset = Path::new(preset)
                .file_stem()
                .map_or_else(|| preset.to_owned(), |s| s.to_string_lossy().into_owned());
            let preset = preset.as_str();
            let stem = source.file_stem().expect("stem").to_string_lossy();
            let path = dir.path().join(format!("{stem}-{preset}.json"));
            std::fs::write(&path, serde_json::to_vec_pretty(&job).expect("json")).expect("write");
            files.push(path);
            let wire = dir.path().join(format!("{stem}-{preset}.wire.json"));
            let body = vodkit::cloud::wire::to_wire(&job);
            std::fs::write(&wire, serde_json::to_vec(&body).expect("json")).expect("write");
            wire_files.push(wire);
        }
    }
    let out = Command::new(common::pyenv_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cloud/validate_mediaconvert.py"))
        .args(&files)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "violations of the MediaConvert model:\n{report}"
    );
    assert_eq!(
        report.lines().filter(|l| l.ends_with(": valid")).count(),
        files.len(),
        "{report}"
    );
    // The same requests as they travel (lowerCamelCase member names) are valid too.
    let out = Command::new(common::pyenv_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cloud/validate_mediaconvert.py"))
        .arg("--wire")
        .args(&wire_files)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "violations in the wire form:\n{report}"
    );
    assert_eq!(
        report.lines().filter(|l| l.ends_with(": valid")).count(),
        wire_files.len(),
        "{report}"
    );
}

#[test]
fn the_reference_settings_member_by_member() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_json(&common::uhd(), "web-ladder", dir.path());
    assert_eq!(job["Role"], ROLE);
    // Keys unique per source content (and preset): see `JobPlace`.
    assert_eq!(
        job["Settings"]["Inputs"][0]["FileInput"],
        format!(
            "s3://my-vod/vod/inputs/{}/uhd.mp4",
            content_folder(&common::uhd())
        )
    );
    assert_eq!(job["UserMetadata"]["title"], "uhd");
    assert_eq!(job["UserMetadata"]["preset"], "web-ladder");
    let group = &job["Settings"]["OutputGroups"][0];
    let destination = group["OutputGroupSettings"]["FileGroupSettings"]["Destination"]
        .as_str()
        .expect("destination");
    let run = destination
        .strip_prefix("s3://my-vod/vod/outputs/uhd-")
        .and_then(|d| d.strip_suffix("/uhd"))
        .unwrap_or_else(|| panic!("{destination}"));
    assert!(
        run.len() == 10 && run.chars().all(|c| c.is_ascii_hexdigit()),
        "{destination}"
    );
    let outputs = group["Outputs"].as_array().expect("outputs");
    let names: Vec<&str> = outputs
        .iter()
        .filter_map(|o| o["NameModifier"].as_str())
        .collect();
    assert_eq!(
        names,
        vec!["_270p", "_360p", "_480p", "_720p", "_1080p", "_2160p"]
    );

    let fhd = &outputs[4];
    let v = &fhd["VideoDescription"];
    assert_eq!(
        (v["Width"].as_u64(), v["Height"].as_u64()),
        (Some(1920), Some(1080))
    );
    assert_eq!(v["AntiAlias"], "ENABLED");
    assert_eq!(v["Sharpness"], 50);
    assert_eq!(v["ColorMetadata"], "INSERT");
    let h = &v["CodecSettings"]["H264Settings"];
    assert_eq!(v["CodecSettings"]["Codec"], "H_264");
    for (member, expected) in [
        ("RateControlMode", serde_json::json!("QVBR")),
        ("MaxBitrate", serde_json::json!(6_000_000)),
        ("HrdBufferSize", serde_json::json!(12_000_000)),
        ("HrdBufferInitialFillPercentage", serde_json::json!(90)),
        ("GopSize", serde_json::json!(2.0)),
        ("GopSizeUnits", serde_json::json!("SECONDS")),
        ("GopClosedCadence", serde_json::json!(1)),
        ("NumberBFramesBetweenReferenceFrames", serde_json::json!(1)),
        ("NumberReferenceFrames", serde_json::json!(3)),
        ("CodecProfile", serde_json::json!("HIGH")),
        ("CodecLevel", serde_json::json!("LEVEL_4_2")),
        ("EntropyEncoding", serde_json::json!("CABAC")),
        ("Slices", serde_json::json!(1)),
        ("AdaptiveQuantization", serde_json::json!("HIGH")),
        ("SpatialAdaptiveQuantization", serde_json::json!("ENABLED")),
        ("TemporalAdaptiveQuantization", serde_json::json!("ENABLED")),
        ("FlickerAdaptiveQuantization", serde_json::json!("ENABLED")),
        ("SceneChangeDetect", serde_json::json!("ENABLED")),
        ("InterlaceMode", serde_json::json!("PROGRESSIVE")),
        ("ParControl", serde_json::json!("SPECIFIED")),
        ("ParNumerator", serde_json::json!(1)),
        ("ParDenominator", serde_json::json!(1)),
    ] {
        assert_eq!(h[member], expected, "H264Settings.{member}");
    }
    assert_eq!(h["QvbrSettings"]["QvbrQualityLevel"], 8);
    let a = &fhd["AudioDescriptions"][0]["CodecSettings"];
    assert_eq!(a["Codec"], "AAC");
    let aac = &a["AacSettings"];
    for (member, expected) in [
        ("Bitrate", serde_json::json!(160_000)),
        ("SampleRate", serde_json::json!(48_000)),
        ("CodingMode", serde_json::json!("CODING_MODE_2_0")),
        ("CodecProfile", serde_json::json!("LC")),
        ("RateControlMode", serde_json::json!("CBR")),
        ("Specification", serde_json::json!("MPEG4")),
    ] {
        assert_eq!(aac[member], expected, "AacSettings.{member}");
    }
    let mp4 = &fhd["ContainerSettings"]["Mp4Settings"];
    assert_eq!(mp4["MoovPlacement"], "PROGRESSIVE_DOWNLOAD");
    assert_eq!(mp4["FreeSpaceBox"], "EXCLUDE");
    assert_eq!(mp4["CslgAtom"], "INCLUDE");

    // The 270p rung is 15 fps, the SD rungs Main 3.1, the 4K rung H.265 Main, hvc1.
    let sd = &outputs[0]["VideoDescription"]["CodecSettings"]["H264Settings"];
    assert_eq!(sd["FramerateControl"], "SPECIFIED");
    assert_eq!(
        (
            sd["FramerateNumerator"].as_u64(),
            sd["FramerateDenominator"].as_u64()
        ),
        (Some(15000), Some(1001))
    );
    assert_eq!(sd["CodecProfile"], "MAIN");
    assert_eq!(sd["CodecLevel"], "LEVEL_3_1");
    assert_eq!(sd["MaxBitrate"], 400_000);
    let uhd = &outputs[5]["VideoDescription"]["CodecSettings"];
    assert_eq!(uhd["Codec"], "H_265");
    assert_eq!(uhd["H265Settings"]["CodecProfile"], "MAIN_MAIN");
    assert_eq!(uhd["H265Settings"]["WriteMp4PackagingType"], "HVC1");
    assert_eq!(uhd["H265Settings"]["MaxBitrate"], 20_000_000);

    // Stills as a frame-capture group.
    let named = |name: &str| {
        job["Settings"]["OutputGroups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["Name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name} group: {job}"))
    };
    let stills = &named("Stills");
    assert_eq!(
        stills["Outputs"][0]["VideoDescription"]["CodecSettings"]["Codec"],
        "FRAME_CAPTURE"
    );
    assert_eq!(
        stills["Outputs"][0]["VideoDescription"]["CodecSettings"]["FrameCaptureSettings"]["MaxCaptures"],
        10,
        "twice the five stills: the odd captures are at the local stills' times"
    );

    // The packaged output, as a local package of the same plan: one CMAF set for HLS and
    // DASH, 2 s segments on the 2 s GOPs, index.m3u8 and index.mpd beside the rungs, the
    // same rungs by name, I-frame playlists, audio as a rendition group, minBufferTime 30 s.
    let cmaf = named("CMAF");
    let settings = &cmaf["OutputGroupSettings"]["CmafGroupSettings"];
    let folder = group["OutputGroupSettings"]["FileGroupSettings"]["Destination"]
        .as_str()
        .and_then(|d| d.rsplit_once('/'))
        .map(|(folder, _)| folder.to_owned())
        .expect("file group destination");
    assert_eq!(settings["Destination"], format!("{folder}/index"));
    assert_eq!(settings["SegmentLength"], 2);
    assert_eq!(settings["FragmentLength"], 2);
    assert_eq!(settings["SegmentControl"], "SEGMENTED_FILES");
    assert_eq!(settings["WriteHlsManifest"], "ENABLED");
    assert_eq!(settings["WriteDashManifest"], "ENABLED");
    assert_eq!(settings["MinBufferTime"], 30_000);
    let names: Vec<&str> = cmaf["Outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .filter_map(|o| o["NameModifier"].as_str())
        .collect();
    let mp4_names: Vec<&str> = group["Outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .filter_map(|o| o["NameModifier"].as_str())
        .collect();
    assert_eq!(names[..names.len() - 1], mp4_names[..], "the same rungs");
    assert_eq!(names.last(), Some(&"_audio"));
    for (video, mp4) in cmaf["Outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .zip(group["Outputs"].as_array().expect("outputs"))
    {
        assert_eq!(video["VideoDescription"], mp4["VideoDescription"]);
        assert_eq!(
            video["ContainerSettings"]["CmfcSettings"]["IFrameOnlyManifest"],
            "INCLUDE"
        );
        assert!(video.get("AudioDescriptions").is_none(), "video only");
    }
    let audio = cmaf["Outputs"]
        .as_array()
        .and_then(|o| o.last())
        .expect("audio");
    assert_eq!(
        audio["ContainerSettings"]["CmfcSettings"]["AudioTrackType"],
        "ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT"
    );
    // A preset that packages nothing gets no CMAF group.
    let phone = job_json(&common::uhd(), "phone-share", dir.path());
    assert!(
        phone["Settings"]["OutputGroups"]
            .as_array()
            .expect("groups")
            .iter()
            .all(|g| g["Name"] != "CMAF"),
        "{phone}"
    );
}

// ---------------------------------------------------------------------------------------------
#[test]
fn places_are_unique_per_content_and_preset() {
    let t = vodkit::cloud::JobTarget {
        bucket: "b".into(),
        prefix: "vod".into(),
        role_arn: ROLE.into(),
        queue: None,
    };
    let info = vodkit::probe::probe(&common::basic()).expect("probe");
    let mut plan = vodkit::plan::plan(&info, &common::small_ladder()).expect("plan");
    let (one, two) = ("1".repeat(16), "2".repeat(16));
    let a = t.place(&plan, &one);
    assert_eq!(
        a.input_url,
        format!(
            "s3://b/vod/inputs/1111111111111111/{}",
            common::basic().file_name().expect("name").to_string_lossy()
        )
    );
    assert!(
        a.output_url
            .starts_with(&format!("s3://b/vod/outputs/{}-", plan.title)),
        "{a:?}"
    );
    assert_eq!(t.place(&plan, &one), a, "same file and preset: same place");
    let by_template = t.place_for_template(&plan, &one, "vodkit-web-ladder");
    assert_eq!(by_template.input_url, a.input_url, "one upload");
    assert_ne!(
        by_template.output_url, a.output_url,
        "a template's outputs get their own folder"
    );
    let b = t.place(&plan, &two);
    assert_ne!(b.input_url, a.input_url);
    assert_ne!(b.output_url, a.output_url);
    "another-preset".clone_into(&mut plan.preset);
    let c = t.place(&plan, &one);
    assert_eq!(c.input_url, a.input_url, "one upload serves both presets");
    assert_ne!(c.output_url, a.output_url, "one folder per preset");
}

// S3 against moto's server, MediaConvert against a stand-in that records what the SDK sends.

const MIB: u64 = 1024 * 1024;

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("sum")
        .to_owned()
}

async fn make_bucket(endpoint: &str, bucket: &str) -> aws_sdk_s3::Client {
    let s3 = s3_client(endpoint).await;
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("create bucket");
    s3
}

/// The JSON lines of a `--json` run.
fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

async fn no_multipart_uploads_left(s3: &aws_sdk_s3::Client, bucket: &str) {
    let open = s3
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("list multipart uploads");
    assert!(
        open.uploads().is_empty(),
        "orphan uploads: {:?}",
        open.uploads()
    );
}

async fn object_sha256(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, dir: &Path) -> String {
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("get object");
    let bytes = got.body.collect().await.expect("body").into_bytes();
    let path = dir.join("downloaded.bin");
    std::fs::write(&path, &bytes).expect("write");
    sha256_hex(&path)
}

/// Asserts that a CreateJob body as it went over the wire (written to `file`) has no
/// violation of MediaConvert's botocore model.
fn assert_valid_wire(body: &[u8], file: &Path) {
    std::fs::write(file, body).expect("write");
    let out = Command::new(common::pyenv_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cloud/validate_mediaconvert.py"))
        .arg("--wire")
        .arg(file)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "violations of the MediaConvert model:\n{report}"
    );
}

/// The folder `vodkit cloud upload` and `submit` put a source in: its fingerprint.
fn content_folder(path: &Path) -> String {
    vodkit::cloud::upload::source_fingerprint(path).expect("fingerprint")
}

/// The records of unfinished uploads (not the file of known checksums next to them).
fn upload_records(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n != "checksums.json"))
                .collect()
        })
        .unwrap_or_default()
}

/// Where `vodkit cloud upload` puts the noisy clip: `inputs/<content>/<file name>`.
fn noisy_key() -> String {
    format!("vod/inputs/{}/noisy.mp4", content_folder(&common::noisy()))
}

fn upload_args<'a>(file: &'a str, endpoint: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "cloud",
        "upload",
        file,
        "--bucket",
        "uploads",
        "--prefix",
        "vod",
        "--endpoint-url",
        endpoint,
        "--part-size-mib",
        "5",
        "--json",
    ];
    args.extend_from_slice(extra);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_with_progress_then_skipped_when_present() {
    let moto = Moto::start();
    let s3 = make_bucket(&moto.url(), "uploads").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let source = common::noisy();
    let size = std::fs::metadata(&source).expect("meta").len();
    assert!(
        size > 15 * MIB,
        "the noisy clip should need several parts ({size} bytes)"
    );
    let before = sha256_hex(&source);
    let url = moto.url();
    let file = source.to_str().expect("utf-8");

    let (code, stdout, stderr) =
        common::vodkit_env(&upload_args(file, &url, &[]), dir.path(), &ENV);
    assert_eq!(code, 0, "{stderr}");
    let lines = json_lines(&stdout);
    let done: Vec<u64> = lines
        .iter()
        .filter(|l| l["event"] == "transfer")
        .map(|l| l["done_bytes"].as_u64().expect("done"))
        .collect();
    assert!(done.len() >= 2, "progress by bytes: {stdout}");
    assert!(
        done.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back: {done:?}"
    );
    assert_eq!(done.last().copied(), Some(size));
    let result = lines.last().expect("result line");
    assert_eq!(result["outcome"], "uploaded", "{result}");
    assert_eq!(result["parts"].as_u64(), Some(size.div_ceil(5 * MIB)));

    let key = &noisy_key();
    let head = s3
        .head_object()
        .bucket("uploads")
        .key(key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_length(), Some(size as i64));
    assert_eq!(head.content_type(), Some("video/mp4"));
    // S3 keeps the whole object's CRC-64/NVME, combined from the parts the SDK checksummed as
    // they streamed: the one the upload reports.
    assert_eq!(
        head.checksum_type(),
        Some(&aws_sdk_s3::types::ChecksumType::FullObject)
    );
    assert!(head.checksum_crc64_nvme().is_some(), "{head:?}");
    assert_eq!(
        result["crc64nvme"].as_str(),
        head.checksum_crc64_nvme(),
        "{result}"
    );
    assert_eq!(object_sha256(&s3, "uploads", key, dir.path()).await, before);
    no_multipart_uploads_left(&s3, "uploads").await;

    // Again: the same object is there, nothing is sent.
    let (code, stdout, stderr) =
        common::vodkit_env(&upload_args(file, &url, &[]), dir.path(), &ENV);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        json_lines(&stdout).last().expect("result")["outcome"],
        "already_there"
    );
    // Text mode says so in words.
    let (code, stdout, _) = common::vodkit_env(
        &[
            "cloud",
            "upload",
            file,
            "--bucket",
            "uploads",
            "--prefix",
            "vod",
            "--endpoint-url",
            &url,
        ],
        dir.path(),
        &ENV,
    );
    assert_eq!(code, 0);
    assert!(
        stdout.contains("already there (same size and CRC-64/NVME), skipped"),
        "{stdout}"
    );
    assert_eq!(sha256_hex(&source), before, "the source is never modified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_answers_are_retried() {
    let moto = Moto::start();
    let s3 = make_bucket(&moto.url(), "uploads").await;
    let proxy = FaultProxy::start(moto.port, Fault::SlowDown(3));
    let dir = tempfile::tempdir().expect("tempdir");
    let source = common::noisy();
    let file = source.to_str().expect("utf-8");
    let url = proxy.url();
    let (code, stdout, stderr) =
        common::vodkit_env(&upload_args(file, &url, &[]), dir.path(), &ENV);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(proxy.injected.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(
        json_lines(&stdout).last().expect("result")["outcome"],
        "uploaded"
    );
    assert_eq!(
        object_sha256(&s3, "uploads", &noisy_key(), dir.path()).await,
        sha256_hex(&source)
    );
    no_multipart_uploads_left(&s3, "uploads").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_killed_midway_resumes_with_the_parts_already_sent() {
    let (_moto, s3, proxy, dir) = killed_upload().await;
    let source = common::noisy();
    let size = std::fs::metadata(&source).expect("meta").len();
    let file = source.to_str().expect("utf-8");
    let url = proxy.url();
    let records = upload_records(&dir.path().join("uploads"));
    assert_eq!(records.len(), 1, "an upload record was kept");
    let record_path = records[0].clone();
    let record = std::fs::read(&record_path).expect("record");
    // A record that claims a part S3 never got (part 3, as if recorded just before the kill):
    // S3's list of parts wins, and part 3 is sent again instead of failing the completion.
    let mut claimed: serde_json::Value = serde_json::from_slice(&record).expect("record json");
    claimed["parts"]
        .as_array_mut()
        .expect("parts")
        .push(serde_json::json!({ "number": 3, "e_tag": "\"bogus\"", "checksum_crc64nvme": null }));
    std::fs::write(&record_path, serde_json::to_vec(&claimed).expect("json")).expect("write");

    // The network is back: the two parts on S3 are not sent again.
    proxy.heal();
    let (code, stdout, stderr) =
        common::vodkit_env(&upload_args(file, &url, &[]), dir.path(), &ENV);
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    assert!(
        format!("{stdout}{stderr}").contains("does not hold 1 part(s)"),
        "{stdout}{stderr}"
    );
    let lines = json_lines(&stdout);
    let result = lines.last().expect("result");
    assert_eq!(result["outcome"], "uploaded", "{result}");
    assert_eq!(result["resumed_parts"], 2, "{stdout}");
    assert_eq!(result["parts"].as_u64(), Some(size.div_ceil(5 * MIB)));
    let first = lines
        .iter()
        .find(|l| l["event"] == "transfer")
        .expect("progress");
    assert_eq!(
        first["done_bytes"].as_u64(),
        Some(10 * MIB),
        "starts from the parts sent"
    );
    assert_eq!(
        object_sha256(&s3, "uploads", &noisy_key(), dir.path()).await,
        sha256_hex(&source)
    );
    no_multipart_uploads_left(&s3, "uploads").await;
    assert_eq!(
        upload_records(&dir.path().join("uploads")).len(),
        0,
        "the record is removed once the upload completes"
    );

    // A record whose upload S3 no longer has (expired, aborted elsewhere): S3 answers the
    // resume's ListParts with NoSuchUpload, and the upload starts again at once instead of
    // failing forever (nothing is sent to the old upload).
    std::fs::write(&record_path, &record).expect("restore the old record");
    s3.delete_object()
        .bucket("uploads")
        .key(noisy_key())
        .send()
        .await
        .expect("delete");
    let (code, stdout, stderr) = common::vodkit_env(
        &upload_args(file, &url, &["--parts-in-flight", "1"]),
        dir.path(),
        &ENV,
    );
    assert_eq!(code, 0, "{stderr}");
    let lines = json_lines(&stdout);
    assert!(
        lines.iter().any(|l| l["event"] == "warning"
            && l["message"]
                .as_str()
                .is_some_and(|m| m.contains("no longer on S3; starting again"))),
        "{stdout}"
    );
    assert_eq!(lines.last().expect("result")["resumed_parts"], 0);
    assert_eq!(
        object_sha256(&s3, "uploads", &noisy_key(), dir.path()).await,
        sha256_hex(&source)
    );
}

/// An upload of the noisy clip through a proxy that holds every part after the first two,
/// killed (SIGKILL) once parts 1 and 2 are on S3 and in the record.
async fn killed_upload() -> (Moto, aws_sdk_s3::Client, FaultProxy, tempfile::TempDir) {
    use std::sync::atomic::Ordering;
    let moto = Moto::start();
    let s3 = make_bucket(&moto.url(), "uploads").await;
    let proxy = FaultProxy::start(moto.port, Fault::StallAfter(2));
    let dir = tempfile::tempdir().expect("tempdir");
    let source = common::noisy();
    let file = source.to_str().expect("utf-8");
    let url = proxy.url();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vodkit"))
        .args(upload_args(file, &url, &["--parts-in-flight", "2"]))
        .env("VODKIT_CONFIG_DIR", dir.path())
        .envs(ENV)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("vodkit starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    // Parts 3 and 4 are only started once parts 1 and 2 are in the record: both held means both
    // recorded.
    while proxy.passed.load(Ordering::SeqCst) < 2 || proxy.stalled.load(Ordering::SeqCst) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the upload did not get going"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().expect("kill");
    let _ = child.wait();
    (moto, s3, proxy, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_list_parts_resumes_from_the_record_and_a_wrong_record_starts_again() {
    let (_moto, s3, proxy, dir) = killed_upload().await;
    let source = common::noisy();
    let file = source.to_str().expect("utf-8");
    let url = proxy.url();
    // The store answers ListParts 501, and the record claims a part S3 never got: the resume
    // trusts the record, S3 refuses the completion (InvalidPart), and the upload starts again
    // instead of failing on every run.
    let records = upload_records(&dir.path().join("uploads"));
    let mut claimed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&records[0]).expect("record")).expect("json");
    claimed["parts"]
        .as_array_mut()
        .expect("parts")
        .push(serde_json::json!({ "number": 3, "e_tag": "\"bogus\"", "checksum_crc64nvme": null }));
    std::fs::write(&records[0], serde_json::to_vec(&claimed).expect("json")).expect("write");
    proxy.refuse_list_parts();
    proxy.heal();
    let (code, stdout, stderr) =
        common::vodkit_env(&upload_args(file, &url, &[]), dir.path(), &ENV);
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    for said in [
        "did not list the parts",
        "no longer on S3 as recorded; starting again",
    ] {
        assert!(stdout.contains(said), "{said}: {stdout}");
    }
    let lines = json_lines(&stdout);
    assert_eq!(
        lines.last().expect("result")["resumed_parts"],
        0,
        "{stdout}"
    );
    assert_eq!(
        object_sha256(&s3, "uploads", &noisy_key(), dir.path()).await,
        sha256_hex(&source)
    );
    no_multipart_uploads_left(&s3, "uploads").await;
}

fn settings_for(moto: &Moto, mc: Option<&FakeMediaConvert>) -> CloudSettings {
    CloudSettings {
        bucket: "vod-bucket".into(),
        prefix: "vod".into(),
        role_arn: ROLE.into(),
        endpoint: moto.url(),
        mediaconvert_endpoint: mc.map(FakeMediaConvert::url).unwrap_or_default(),
        ..CloudSettings::default()
    }
}

fn recorder() -> (EventSink, Arc<Mutex<Vec<JobEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = Arc::clone(&events);
    let sink: EventSink = Arc::new(move |ev| e.lock().expect("lock").push(ev));
    (sink, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_an_upload_aborts_it_and_leaves_nothing() {
    use std::sync::atomic::Ordering;
    let moto = Moto::start();
    let s3 = make_bucket(&moto.url(), "vod-bucket").await;
    let proxy = FaultProxy::start(moto.port, Fault::StallAfter(1));
    let mut settings = settings_for(&moto, None);
    settings.endpoint = proxy.url();
    let clients = Clients::from_sdk_config(&sdk_config().await, &settings).expect("clients");
    let dir = tempfile::tempdir().expect("tempdir");
    let options = UploadOptions {
        part_size_bytes: 5 * MIB,
        parts_in_flight: 2,
        records_dir: Some(dir.path().join("uploads")),
    };
    let cancel = CancelToken::new();
    let c = cancel.clone();
    let passed = Arc::clone(&proxy.passed);
    let sink: EventSink = Arc::new(move |e| {
        if matches!(e, JobEvent::Transfer { .. }) && passed.load(Ordering::SeqCst) >= 1 {
            c.cancel();
        }
    });
    let result = upload(&clients, &common::noisy(), &options, &sink, &cancel).await;
    assert_eq!(result, Err(CloudError::Cancelled));
    no_multipart_uploads_left(&s3, "vod-bucket").await;
    let listed = s3
        .list_objects_v2()
        .bucket("vod-bucket")
        .send()
        .await
        .expect("list");
    assert!(
        listed.contents().is_empty(),
        "no object after a cancelled upload"
    );
    assert_eq!(upload_records(&dir.path().join("uploads")).len(), 0);
}

/// The output folder's key (`vod/outputs/<title>-<run>/`) of a plan's job in `vod-bucket`.
fn output_dir_key(plan: &vodkit::plan::Plan) -> String {
    let target = vodkit::cloud::JobTarget {
        bucket: "vod-bucket".to_owned(),
        prefix: "vod".to_owned(),
        role_arn: ROLE.to_owned(),
        queue: None,
    };
    let place = target.place(plan, &content_folder(&plan.source));
    place
        .output_url
        .trim_start_matches("s3://vod-bucket/")
        .to_owned()
}

/// Puts stand-ins for what MediaConvert writes: one MP4 per rung and four captures (two
/// stills: the odd captures).
async fn put_outputs(s3: &aws_sdk_s3::Client, plan: &vodkit::plan::Plan) -> Vec<(String, u64)> {
    // Real files, as MediaConvert writes them: each rung an MP4 of its size made from the
    // source, the stills JPEGs; a download then makes a title that probes like a local one.
    let made = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    let dir = output_dir_key(plan);
    for r in plan.made_rungs() {
        let path = made.path().join(format!("{}.mp4", r.name));
        common::scaled_copy(&plan.source, r.width, r.height, &path);
        files.push((format!("{dir}{t}_{}.mp4", r.name, t = plan.title), path));
    }
    for n in 0..4 {
        let path = made.path().join(format!("still{n}.jpg"));
        common::ffmpeg(
            &[
                "-ss",
                &n.to_string(),
                "-i",
                plan.source.to_str().expect("utf-8"),
                "-frames:v",
                "1",
            ],
            &path,
        );
        files.push((
            format!("{dir}stills/{t}_capture.000000{n}.jpg", t = plan.title),
            path,
        ));
    }
    let mut put = Vec::new();
    for (key, path) in files {
        let body = std::fs::read(&path).expect("made");
        let size = body.len() as u64;
        s3.put_object()
            .bucket("vod-bucket")
            .key(&key)
            .body(body.into())
            .send()
            .await
            .expect("put");
        put.push((key, size));
    }
    put
}

/// A cloud job on the basic clip with the small ladder: moto with the bucket, the MediaConvert
/// stand-in answering GetJob from `script`, clients on both, the plan, quick polling and a
/// private folder for upload records.
struct SubmitFixture {
    _moto: Moto,
    s3: aws_sdk_s3::Client,
    mc: FakeMediaConvert,
    clients: Clients,
    source: std::path::PathBuf,
    preset: vodkit::preset::Preset,
    plan: vodkit::plan::Plan,
    options: SubmitOptions,
    _dir: tempfile::TempDir,
}

impl SubmitFixture {
    async fn new(script: Vec<common::aws::Step>) -> Self {
        let moto = Moto::start();
        let s3 = make_bucket(&moto.url(), "vod-bucket").await;
        let mc = FakeMediaConvert::start(script);
        let clients =
            Clients::from_sdk_config(&sdk_config().await, &settings_for(&moto, Some(&mc)))
                .expect("clients");
        let source = common::basic();
        let preset = common::small_ladder();
        let plan = vodkit::plan::plan(&vodkit::probe::probe(&source).expect("probe"), &preset)
            .expect("plan");
        let dir = tempfile::tempdir().expect("tempdir");
        let options = SubmitOptions {
            upload: UploadOptions {
                records_dir: Some(dir.path().join("uploads")),
                ..UploadOptions::default()
            },
            poll: std::time::Duration::from_millis(20),
            wait: true,
            ..SubmitOptions::default()
        };
        Self {
            _moto: moto,
            s3,
            mc,
            clients,
            source,
            preset,
            plan,
            options,
            _dir: dir,
        }
    }

    async fn submit(
        &self,
        sink: &EventSink,
        cancel: &CancelToken,
    ) -> Result<vodkit::cloud::submit::Submitted, CloudError> {
        submit(
            &self.clients,
            &self.plan,
            &self.preset,
            &self.options,
            sink,
            cancel,
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subtitle_tracks_travel_beside_the_source_as_webvtt() {
    let fx = SubmitFixture::new(vec![step("COMPLETE", 100, None)]).await;
    // The basic clip with a French sidecar (Windows line ends, as such files come).
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("film.mp4");
    std::fs::copy(common::basic(), &source).expect("copy");
    std::fs::write(
        dir.path().join("film.fr.srt"),
        "1\r\n00:00:01,000 --> 00:00:02,500\r\nBonjour à tous\r\n",
    )
    .expect("srt");
    let plan = vodkit::plan::plan(&vodkit::probe::probe(&source).expect("probe"), &fx.preset)
        .expect("plan");
    assert_eq!(plan.subtitles.len(), 1);
    let (sink, _) = recorder();
    submit(
        &fx.clients,
        &plan,
        &fx.preset,
        &fx.options,
        &sink,
        &CancelToken::new(),
    )
    .await
    .expect("the job completes");
    // The cues, placed as locally, wait beside the source.
    let key = format!("vod/inputs/{}/film.fr.vtt", content_folder(&source));
    let object = fx
        .s3
        .get_object()
        .bucket("vod-bucket")
        .key(&key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key}: {e:?}"));
    let body = object.body.collect().await.expect("body").into_bytes();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(
        text, "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nBonjour à tous\n",
        "the same bytes as the local subtitles/fr.vtt"
    );
    // The job reads them through a caption selector and writes subtitles/fr.vtt.
    let create = fx
        .mc
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.target.ends_with("/jobs"))
        .expect("CreateJob");
    let job: Value = serde_json::from_slice(&create.body).expect("json");
    let selector = &job["settings"]["inputs"][0]["captionSelectors"]["Captions Selector 1"];
    assert_eq!(
        selector["sourceSettings"]["fileSourceSettings"]["sourceFile"],
        format!("s3://vod-bucket/{key}"),
        "{job}"
    );
    let group = job["settings"]["outputGroups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["name"] == "Subtitles fr")
        .expect("a WebVTT group");
    assert!(
        group["outputGroupSettings"]["fileGroupSettings"]["destination"]
            .as_str()
            .is_some_and(|d| d.ends_with("/subtitles/fr")),
        "{group}"
    );
    assert_eq!(
        group["outputs"][0]["captionDescriptions"][0]["languageCode"],
        "FRA"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_job_reports_progress_and_writes_the_smil() {
    let fx = SubmitFixture::new(vec![
        step("PROGRESSING", 10, Some("PROBING")),
        step("PROGRESSING", 60, Some("TRANSCODING")),
        step("COMPLETE", 100, None),
    ])
    .await;
    let (s3, mc, source, plan) = (&fx.s3, &fx.mc, &fx.source, &fx.plan);
    let put = put_outputs(s3, plan).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (sink, events) = recorder();
    let done = fx
        .submit(&sink, &CancelToken::new())
        .await
        .expect("the job completes");
    assert_eq!(done.job_id, "1764403200000-test01");
    assert_eq!(
        done.output_url,
        format!("s3://vod-bucket/{}", output_dir_key(plan))
    );

    // The source went up first.
    let head = s3
        .head_object()
        .bucket("vod-bucket")
        .key(format!(
            "vod/inputs/{}/{}",
            content_folder(source),
            source.file_name().expect("name").to_string_lossy()
        ))
        .send()
        .await
        .expect("the source is on S3");
    assert_eq!(
        head.content_length(),
        Some(std::fs::metadata(source).expect("meta").len() as i64)
    );

    // The events a local encode would send, plus the cloud job's states.
    let events = events.lock().expect("lock").clone();
    let kinds: Vec<String> = events
        .iter()
        .map(|e| {
            serde_json::to_value(e).expect("json")["event"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("started"));
    assert_eq!(kinds.last().map(String::as_str), Some("finished"));
    let states: Vec<(String, Option<String>, u32)> = events
        .iter()
        .filter_map(|e| match e {
            JobEvent::CloudJob {
                status,
                phase,
                percent,
                ..
            } => Some((status.clone(), phase.clone(), *percent)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("SUBMITTED".into(), None, 0),
            ("PROGRESSING".into(), Some("PROBING".into()), 10),
            ("PROGRESSING".into(), Some("TRANSCODING".into()), 60),
            ("COMPLETE".into(), None, 100),
        ]
    );
    let overall: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Progress { overall, rungs } => {
                assert_eq!(rungs.len(), plan.made_rungs().count(), "one entry per rung");
                Some(*overall)
            }
            _ => None,
        })
        .collect();
    assert_eq!(overall, vec![0.1, 0.6, 1.0]);
    let JobEvent::Finished { summary } = events.last().expect("finished") else {
        panic!("the last event is the summary");
    };
    let rungs: Vec<String> = plan.made_rungs().map(|r| r.name.clone()).collect();
    assert_eq!(summary.made, rungs);
    assert!(summary.failed.is_empty());

    // index.smil next to the rungs, with their sizes and bitrates.
    let smil_key = format!("{}index.smil", output_dir_key(plan));
    assert!(
        done.outputs
            .contains(&format!("s3://vod-bucket/{smil_key}"))
    );
    let got = s3
        .get_object()
        .bucket("vod-bucket")
        .key(&smil_key)
        .send()
        .await
        .expect("smil");
    let smil = String::from_utf8(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .to_vec(),
    )
    .expect("utf-8");
    for (r, (key, size)) in plan.made_rungs().zip(&put) {
        let src = key.rsplit('/').next().expect("name");
        let bitrate = (*size as f64 * 8.0 / plan.duration_secs) as u64;
        let expected = format!(
            "<video src=\"{src}\" system-bitrate=\"{bitrate}\" width=\"{}\" height=\"{}\">",
            r.width, r.height
        );
        assert!(smil.contains(&expected), "{expected} in\n{smil}");
        assert!(
            smil.contains(&format!("<param name=\"size\" value=\"{size}\"")),
            "{smil}"
        );
    }

    // What the SDK sent: a signed CreateJob whose body passes the official model.
    let requests = mc.requests();
    let create = requests
        .iter()
        .find(|r| r.method == "POST" && r.target == "/2017-08-29/jobs")
        .expect("CreateJob was sent");
    let auth = create.header("authorization").unwrap_or_default();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 "), "{auth}");
    assert!(
        auth.contains("/us-east-1/mediaconvert/aws4_request"),
        "{auth}"
    );
    let body: Value = serde_json::from_slice(&create.body).expect("JSON body");
    assert_eq!(body["role"], ROLE);
    assert!(
        body["clientRequestToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(body["userMetadata"]["title"], plan.title.as_str());
    assert_eq!(
        body["settings"]["inputs"][0]["fileInput"],
        format!(
            "s3://vod-bucket/vod/inputs/{}/{}",
            content_folder(source),
            source.file_name().expect("n").to_string_lossy()
        )
    );
    let outputs = body["settings"]["outputGroups"][0]["outputs"]
        .as_array()
        .expect("outputs");
    assert_eq!(outputs.len(), rungs.len());
    assert_valid_wire(&create.body, &dir.path().join("create-job-wire.json"));
    // Polled until complete, then stopped.
    let polls = requests
        .iter()
        .filter(|r| r.method == "GET" && r.target.starts_with("/2017-08-29/jobs/"))
        .count();
    assert_eq!(polls, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_says_why_with_mediaconverts_code() {
    let fx = SubmitFixture::new(vec![
        step("PROGRESSING", 5, Some("PROBING")),
        common::aws::Step {
            status: "ERROR",
            percent: 5,
            phase: None,
            error: Some((1030, "Failed probe/open: [Failed to open input file]")),
        },
    ])
    .await;
    let (sink, events) = recorder();
    let err = fx
        .submit(&sink, &CancelToken::new())
        .await
        .expect_err("the job fails");
    let text = err.to_string();
    assert!(text.contains("1764403200000-test01"), "{text}");
    assert!(text.contains("error 1030: Failed probe/open"), "{text}");
    let last_state = events
        .lock()
        .expect("lock")
        .iter()
        .rev()
        .find_map(|e| match e {
            JobEvent::CloudJob { status, .. } => Some(status.clone()),
            _ => None,
        });
    assert_eq!(last_state.as_deref(), Some("ERROR"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_job_cancels_it_on_mediaconvert() {
    let fx = SubmitFixture::new(vec![step("PROGRESSING", 30, Some("TRANSCODING"))]).await;
    let cancel = CancelToken::new();
    let c = cancel.clone();
    let sink: EventSink = Arc::new(move |e| {
        if matches!(e, JobEvent::CloudJob { .. }) {
            c.cancel();
        }
    });
    let result = fx.submit(&sink, &cancel).await;
    assert_eq!(result.map(|_| ()), Err(CloudError::Cancelled));
    assert!(fx.mc.cancelled(), "CancelJob reached MediaConvert");
    assert!(
        fx.mc
            .requests()
            .iter()
            .any(|r| r.method == "DELETE" && r.target == "/2017-08-29/jobs/1764403200000-test01")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_checks_submits_lists_and_downloads() {
    let moto = Moto::start();
    let s3 = make_bucket(&moto.url(), "vod-bucket").await;
    let mc = FakeMediaConvert::start(vec![
        step("PROGRESSING", 50, Some("TRANSCODING")),
        step("COMPLETE", 100, None),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (moto_url, mc_url) = (moto.url(), mc.url());
    let common_args = [
        "--bucket",
        "vod-bucket",
        "--prefix",
        "vod",
        "--role",
        ROLE,
        "--endpoint-url",
        moto_url.as_str(),
        "--mediaconvert-endpoint-url",
        mc_url.as_str(),
    ];
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&common_args);
        common::vodkit_env(&all, dir.path(), &ENV)
    };

    let (code, stdout, stderr) = run(&["cloud", "check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for what in [
        "credentials",
        "bucket vod-bucket",
        "write to s3://vod-bucket/vod/",
        "MediaConvert",
        "role",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("ok") && l.contains(what)),
            "{what}:\n{stdout}"
        );
    }

    let source = common::basic();
    let info = vodkit::probe::probe(&source).expect("probe");
    let preset_path = dir.path().join("test-ladder.toml");
    std::fs::write(&preset_path, common::SMALL_LADDER).expect("preset");
    let plan = vodkit::plan::plan(&info, &common::small_ladder()).expect("plan");
    let put = put_outputs(&s3, &plan).await;
    let out_dir = dir.path().join("downloads");
    let (code, stdout, stderr) = run(&[
        "cloud",
        "submit",
        source.to_str().expect("utf-8"),
        "--preset",
        preset_path.to_str().expect("utf-8"),
        "--poll-secs",
        "0.02",
        "--download",
        out_dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("job 1764403200000-test01 complete"),
        "{stdout}"
    );
    assert!(
        stderr.contains("MediaConvert job 1764403200000-test01: COMPLETE"),
        "{stderr}"
    );
    for (key, size) in &put {
        let rel = key.trim_start_matches(&output_dir_key(&plan));
        let mut local = out_dir.join(&plan.title).join(rel);
        // The odd captures are at the local stills' times and become the stills (capture 2k+1
        // is still k); the even ones, in between, are removed.
        let capture = rel
            .split("_capture.")
            .nth(1)
            .and_then(|n| n.trim_end_matches(".jpg").parse::<u32>().ok());
        if let Some(k) = capture.filter(|k| k % 2 == 1) {
            local = out_dir.join(&plan.title).join(format!(
                "stills/{}_still.{:07}.jpg",
                plan.title,
                k / 2
            ));
        }
        let want = capture.is_none_or(|k| k % 2 == 1).then_some(*size);
        assert!(
            capture.is_none_or(|k| k % 2 == 1) || !out_dir.join(&plan.title).join(rel).exists(),
            "an in-between capture was kept: {rel}"
        );
        assert_eq!(
            std::fs::metadata(&local).map(|m| m.len()).ok(),
            want,
            "{}",
            local.display()
        );
    }
    assert!(out_dir.join(&plan.title).join("index.smil").exists());
    // The download is a title like a local encode's: a manifest of the rungs that arrived,
    // and a record in the library.
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out_dir.join(&plan.title).join("manifest.json")).expect("a manifest"),
    )
    .expect("json");
    assert_eq!(
        manifest["rungs"].as_array().expect("rungs").len(),
        plan.made_rungs().count(),
        "{manifest}"
    );
    assert_eq!(manifest["stills"].as_array().expect("stills").len(), 2);
    let (code, stdout, stderr) =
        common::vodkit_env(&["library", "list", "--json"], dir.path(), &ENV);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("\"{}\"", plan.title))
            && stdout.contains(&out_dir.join(&plan.title).display().to_string()),
        "{stdout}"
    );
    assert!(
        common::files_under(&out_dir)
            .iter()
            .all(|f| !f.to_string_lossy().ends_with(".part")),
        "no partial files are left"
    );

    // Several files at once, without waiting: a job each, reported in the order given.
    let no_audio = common::no_audio();
    let (code, stdout, stderr) = run(&[
        "cloud",
        "submit",
        source.to_str().expect("utf-8"),
        no_audio.to_str().expect("utf-8"),
        "--preset",
        preset_path.to_str().expect("utf-8"),
        "--no-wait",
        "--jobs",
        "2",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for (line, file) in lines.iter().zip([&source, &no_audio]) {
        assert!(
            line.starts_with(&format!("{}: MediaConvert job ", file.display()))
                && line.contains("created; follow it with `vodkit cloud status"),
            "{line}"
        );
    }

    // Both are in the library: the followed one done, these two running (submitted, not
    // followed), each with its MediaConvert id, for the app or `vodkit queue run` to follow.
    {
        let c =
            vodkit::catalog::Catalog::open(&dir.path().join("library.sqlite")).expect("library");
        let jobs = c.jobs().expect("jobs");
        let running: Vec<_> = jobs
            .iter()
            .filter(|j| j.state == vodkit::catalog::queue::QueueState::Running)
            .collect();
        assert_eq!(running.len(), 2, "{jobs:?}");
        for j in running {
            assert_eq!(j.kind, vodkit::catalog::queue::JobKind::Cloud);
            let record = c
                .cloud_job_of(j.id)
                .expect("query")
                .expect("its MediaConvert job");
            assert!(!record.service_id.is_empty());
            assert!(
                record
                    .output_url
                    .is_some_and(|u| u.starts_with("s3://vod-bucket/"))
            );
        }
        assert!(c.uploads().expect("uploads").len() >= 2);
        // `vodkit queue list` shows each cloud row's MediaConvert job and status.
        let (code, stdout, stderr) = common::vodkit_env(&["queue", "list"], dir.path(), &ENV);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            jobs.iter()
                .filter(|j| j.kind == vodkit::catalog::queue::JobKind::Cloud)
                .count()
                >= 2
        );
        for j in jobs
            .iter()
            .filter(|j| j.kind == vodkit::catalog::queue::JobKind::Cloud)
        {
            let record = c.cloud_job_of(j.id).expect("query").expect("record");
            assert!(
                stdout.contains(&format!("MediaConvert job {}", record.service_id)),
                "{stdout}"
            );
        }
        let (code, stdout, stderr) =
            common::vodkit_env(&["queue", "list", "--json"], dir.path(), &ENV);
        assert_eq!(code, 0, "{stderr}");
        let rows: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert!(
            rows.iter().filter(|r| r["kind"] == "cloud").count() >= 2,
            "{stdout}"
        );
        assert!(
            rows.iter()
                .filter(|r| r["kind"] == "cloud")
                .all(|r| r["cloud"]["status"].is_string() && r["cloud"]["service_id"].is_string()),
            "{stdout}"
        );
    }

    // Two phones' IMG_0001 in one batch: two input objects with their own bytes, not one
    // overwritten by the other.
    let phones = dir.path().join("phones");
    let (a, b) = (phones.join("a/IMG_0001.mp4"), phones.join("b/IMG_0001.mp4"));
    for (path, clip) in [(&a, common::basic()), (&b, common::no_audio())] {
        std::fs::create_dir_all(path.parent().expect("folder")).expect("dir");
        std::fs::copy(clip, path).expect("copy");
    }
    let (code, stdout, stderr) = run(&[
        "cloud",
        "submit",
        a.to_str().expect("utf-8"),
        b.to_str().expect("utf-8"),
        "--preset",
        preset_path.to_str().expect("utf-8"),
        "--no-wait",
        "--jobs",
        "2",
    ]);
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let input_key = |file: &Path| format!("vod/inputs/{}/IMG_0001.mp4", content_folder(file));
    for file in [&a, &b] {
        let key = input_key(file);
        let held = s3
            .head_object()
            .bucket("vod-bucket")
            .key(&key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        assert_eq!(
            held.content_length().and_then(|n| u64::try_from(n).ok()),
            std::fs::metadata(file).ok().map(|m| m.len()),
            "{key} holds {}",
            file.display()
        );
    }
    // The jobs MediaConvert was given, newest last: (input, output folder).
    let created = || -> Vec<(String, String)> {
        mc.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.target == "/2017-08-29/jobs")
            .map(|r| {
                let body: Value = serde_json::from_slice(&r.body).expect("json");
                let settings = &body["settings"];
                let destination = settings["outputGroups"][0]["outputGroupSettings"]
                    ["fileGroupSettings"]["destination"]
                    .as_str()
                    .expect("destination");
                (
                    settings["inputs"][0]["fileInput"]
                        .as_str()
                        .expect("input")
                        .to_owned(),
                    destination[..=destination.rfind('/').expect("folder")].to_owned(),
                )
            })
            .collect()
    };
    let batch: Vec<(String, String)> = created().split_off(created().len() - 2);
    let for_a = batch
        .iter()
        .find(|(input, _)| *input == format!("s3://vod-bucket/{}", input_key(&a)))
        .expect("a's job")
        .clone();
    let for_b = batch
        .iter()
        .find(|(input, _)| *input == format!("s3://vod-bucket/{}", input_key(&b)))
        .expect("b's job")
        .clone();
    assert_ne!(for_a.1, for_b.1, "one output folder per source");

    // A week later, another run with the second phone's IMG_0001 alone: its title is IMG_0001
    // again, yet its input and outputs are its own, not the first phone's.
    let (code, stdout, stderr) = run(&[
        "cloud",
        "submit",
        b.to_str().expect("utf-8"),
        "--preset",
        preset_path.to_str().expect("utf-8"),
        "--no-wait",
    ]);
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let (input, output) = created().pop().expect("the new job");
    assert_eq!(input, for_b.0);
    assert!(
        output.starts_with("s3://vod-bucket/vod/outputs/IMG_0001-") && output != for_a.1,
        "{output} (the first phone's: {})",
        for_a.1
    );

    let (code, stdout, stderr) = run(&["cloud", "status"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("1764403200000-test01") && stdout.contains("COMPLETE"),
        "{stdout}"
    );
    assert!(stdout.contains(&plan.title), "{stdout}");

    let again = dir.path().join("again");
    let (code, stdout, stderr) = run(&[
        "cloud",
        "download",
        "1764403200000-test01",
        "--out",
        again.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("{} files in", put.len() + 1)),
        "{stdout}"
    );
    assert!(again.join("stills").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_file_or_the_missing_setting() {
    let moto = Moto::start();
    let _s3 = make_bucket(&moto.url(), "vod-bucket").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = moto.url();

    // Not a video, and empty: refused before anything is sent.
    for bad in [common::text_file(), common::zero_bytes()] {
        let (code, _, stderr) = common::vodkit_env(
            &[
                "cloud",
                "upload",
                bad.to_str().expect("utf-8"),
                "--bucket",
                "vod-bucket",
                "--endpoint-url",
                &url,
            ],
            dir.path(),
            &ENV,
        );
        assert_eq!(code, 1);
        assert!(stderr.contains(&bad.display().to_string()), "{stderr}");
    }
    // A bucket that does not exist.
    let (code, stdout, _) = common::vodkit_env(
        &[
            "cloud",
            "check",
            "--bucket",
            "no-such-bucket",
            "--endpoint-url",
            &url,
        ],
        dir.path(),
        &ENV,
    );
    assert_ne!(code, 0);
    assert!(
        stdout.contains("bucket 'no-such-bucket' does not exist"),
        "{stdout}"
    );
    // No bucket at all.
    let (code, _, stderr) = common::vodkit_env(
        &[
            "cloud",
            "upload",
            common::basic().to_str().expect("utf-8"),
            "--endpoint-url",
            &url,
        ],
        dir.path(),
        &ENV,
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no S3 bucket set: pass --bucket"),
        "{stderr}"
    );
    // No credentials anywhere.
    let no_creds: Vec<(&str, &str)> = ENV
        .iter()
        .copied()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET"))
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_vodkit"))
        .args([
            "cloud",
            "upload",
            common::basic().to_str().expect("utf-8"),
            "--bucket",
            "vod-bucket",
            "--endpoint-url",
            &url,
        ])
        .env("VODKIT_CONFIG_DIR", dir.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .envs(no_creds)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("no AWS credentials found"), "{stderr}");
}

#[test]
fn templates_are_pushed_updated_listed_and_valid() {
    let mc = FakeMediaConvert::start(vec![step("COMPLETE", 100, None)]);
    let dir = tempfile::tempdir().expect("tempdir");
    let mc_url = mc.url();
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["--mediaconvert-endpoint-url", mc_url.as_str()]);
        common::vodkit_env(&all, dir.path(), &ENV)
    };
    // Created, then updated (the same name again), then listed.
    let (code, stdout, stderr) = run(&["cloud", "template", "push", "web-ladder"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("job template vodkit-web-ladder created"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&["cloud", "template", "push", "web-ladder"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("vodkit-web-ladder updated"), "{stdout}");
    let (code, stdout, stderr) = run(&["cloud", "template", "push", "hevc-archive"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = run(&["cloud", "template", "list"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let names: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        ["vodkit-web-ladder", "vodkit-hevc-archive"],
        "{stdout}"
    );
    // AV1's GOP is counted in frames in MediaConvert: a template cannot keep it on the grid.
    let (code, _, stderr) = run(&["cloud", "template", "push", "web-ladder-av1"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("counts an AV1 GOP in frames"), "{stderr}");
    // An audio-only preset makes no template, and says why.
    let (code, _, stderr) = run(&["cloud", "template", "push", "podcast-audio"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("makes no video"), "{stderr}");
    // What went over the wire is a valid CreateJobTemplate body for every built-in preset
    // with video (checked offline with `template json`, in API names).
    let mut files = Vec::new();
    for preset in ["web-ladder", "phone-share", "share-1080p", "hevc-archive"] {
        let (code, stdout, stderr) = run(&["cloud", "template", "json", preset]);
        assert_eq!(code, 0, "{stderr}");
        let file = dir.path().join(format!("{preset}.template.json"));
        std::fs::write(&file, stdout).expect("write");
        files.push(file);
    }
    let out = Command::new(common::pyenv_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cloud/validate_mediaconvert.py"))
        .arg("--template")
        .args(&files)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "violations:\n{report}");
    assert_eq!(
        report.lines().filter(|l| l.ends_with(": valid")).count(),
        files.len(),
        "{report}"
    );
    // Three creates (web-ladder twice: the second refused as existing, then updated), one
    // update; the podcast-audio template was never sent.
    let requests = mc.requests();
    let count = |method: &str| {
        requests
            .iter()
            .filter(|r| r.method == method && r.target.starts_with("/2017-08-29/jobTemplates"))
            .count()
    };
    assert_eq!((count("POST"), count("PUT")), (3, 1));
}

/// `cloud submit --template`: the pushed template gives the outputs, the job the source and
/// where each of the template's groups writes.
#[tokio::test(flavor = "multi_thread")]
async fn a_source_is_submitted_by_its_presets_template() {
    let moto = Moto::start();
    let s3 = make_bucket(&moto.url(), "vod-bucket").await;
    let mc = FakeMediaConvert::start(vec![step("SUBMITTED", 0, None)]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (moto_url, mc_url) = (moto.url(), mc.url());
    // A UHD landscape clip with sound: what the template was planned for.
    let source = common::uhd();
    let src = source.to_str().expect("utf-8");
    let sd = common::basic();
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["--mediaconvert-endpoint-url", mc_url.as_str()]);
        common::vodkit_env(&all, dir.path(), &ENV)
    };
    let submit = |file: &str, extra: &[&str]| {
        let mut args = vec![
            "cloud",
            "submit",
            file,
            "--no-wait",
            "--bucket",
            "vod-bucket",
            "--prefix",
            "vod",
            "--role",
            ROLE,
            "--endpoint-url",
            moto_url.as_str(),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    // Before the template is pushed: the error says how to make it.
    let (code, _, stderr) = submit(src, &["--template", "vodkit-web-ladder"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("no job template 'vodkit-web-ladder'"),
        "{stderr}"
    );
    assert!(stderr.contains("vodkit cloud template push"), "{stderr}");
    // A template not made from a preset needs the preset that plans its outputs.
    let (code, _, stderr) = submit(src, &["--template", "team-ladder"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--preset"), "{stderr}");

    let (code, _, stderr) = run(&["cloud", "template", "push", "web-ladder"]);
    assert_eq!(code, 0, "{stderr}");
    // A source the template would not make as planned (an untagged SD clip, whose colours
    // Vodkit's own job converts from BT.601) is refused before anything is uploaded, with why;
    // so is a cost limit, which a template's outputs cannot be priced against.
    let (code, _, stderr) = submit(
        sd.to_str().expect("utf-8"),
        &["--template", "vodkit-web-ladder"],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("colours need converting"), "{stderr}");
    assert!(stderr.contains("--preset"), "{stderr}");
    let (code, _, stderr) = submit(
        src,
        &["--template", "vodkit-web-ladder", "--max-cost", "100"],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("cannot be priced"), "{stderr}");
    let listed = s3
        .list_objects_v2()
        .bucket("vod-bucket")
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.key_count(),
        Some(0),
        "nothing uploaded for the refused ones"
    );
    let (code, stdout, stderr) = submit(src, &["--template", "vodkit-web-ladder"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let created = mc
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.target.starts_with("/2017-08-29/jobs"))
        .expect("CreateJob");
    let body: Value = serde_json::from_slice(&created.body).expect("json");
    assert_eq!(body["jobTemplate"], "vodkit-web-ladder");
    let input = body["settings"]["inputs"][0]["fileInput"]
        .as_str()
        .expect("input");
    assert_eq!(
        input,
        format!(
            "s3://vod-bucket/vod/inputs/{}/uhd.mp4",
            content_folder(&source)
        )
    );
    let groups = body["settings"]["outputGroups"].as_array().expect("groups");
    let names: Vec<&str> = groups.iter().filter_map(|g| g["name"].as_str()).collect();
    assert_eq!(names, ["File Group", "CMAF", "Stills"], "{body}");
    let file_group = &groups[0]["outputGroupSettings"];
    assert_eq!(file_group["type"], "FILE_GROUP_SETTINGS");
    let out = file_group["fileGroupSettings"]["destination"]
        .as_str()
        .expect("destination");
    // The layout of a job of the preset itself (rungs after the title, the CMAF package as
    // index.*), in an output folder of its own: a template's outputs are not the preset's.
    let (folder, _) = out.rsplit_once('/').expect("folder");
    assert!(
        folder.starts_with("s3://vod-bucket/vod/outputs/uhd-"),
        "{out}"
    );
    assert_eq!(out, format!("{folder}/uhd"));
    assert_eq!(
        groups[1]["outputGroupSettings"]["cmafGroupSettings"]["destination"],
        format!("{folder}/index")
    );
    assert!(groups[0].get("outputs").is_none(), "the template's outputs");
    // What went over the wire is a valid CreateJob request.
    assert_valid_wire(&created.body, &dir.path().join("by-template.wire.json"));
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_are_priced_from_the_snapshot_and_max_cost_refuses_before_uploading() {
    let moto = Moto::start();
    let s3 = make_bucket(&moto.url(), "priced").await;
    let mc = FakeMediaConvert::start(vec![step("SUBMITTED", 0, None)]);
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let offer = fixtures.join("mediaconvert-offer-excerpt.json");
    let s3_offer = fixtures.join("s3-offer-excerpt.json");
    let run = |args: &[&str]| common::vodkit_env(args, dir.path(), &ENV);

    // No snapshot yet: the estimate says how to get one, and a limit cannot be honoured.
    let (code, _, stderr) = run(&["cloud", "prices"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("vodkit cloud prices --refresh"), "{stderr}");

    // The snapshot is made from the offer file (here the test excerpt, with round prices).
    let (code, stdout, stderr) = run(&[
        "cloud",
        "prices",
        "--refresh",
        "--offer-file",
        offer.to_str().expect("utf-8"),
        "--s3-offer-file",
        s3_offer.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("price snapshot of 2026-11-01"), "{stdout}");
    let (code, stdout, _) = run(&["cloud", "prices"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("us-east-1: 48 classes, S3 Standard $0.023/GB-month"),
        "{stdout}"
    );

    // job-json --cost: per output and in total, dated.
    let source = common::basic();
    let src = source.to_str().expect("utf-8");
    let (code, stdout, stderr) =
        run(&["cloud", "job-json", src, "--preset", "web-ladder", "--cost"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("MediaConvert estimate, us-east-1, Basic tier"),
        "{stdout}"
    );
    assert!(
        stdout.contains("on-demand prices as published 2026-11-01"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&[
        "cloud",
        "job-json",
        src,
        "--preset",
        "web-ladder",
        "--cost",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let estimate: Value = serde_json::from_str(&stdout).expect("JSON");
    let total = estimate["total_usd"].as_f64().expect("total");
    let sum: f64 = estimate["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .map(|o| o["usd"].as_f64().expect("priced"))
        .sum();
    assert!((total - sum).abs() < 1e-12);
    // The same figure from `vodkit plan --cloud`.
    let (code, stdout, stderr) = run(&["plan", src, "--preset", "web-ladder", "--cloud", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(plan["cloud_cost"]["total_usd"].as_f64(), Some(total));
    assert!(plan["rungs"].is_array(), "the plan itself is still there");

    // --max-cost below the estimate: refused with the figure, before anything is uploaded.
    let (moto_url, mc_url) = (moto.url(), mc.url());
    // `cloud submit` with --max-cost LIMIT, or with none (the settings' limit applies).
    let submit = |limit: Option<&str>| {
        let mut args = vec![
            "cloud",
            "submit",
            src,
            "--preset",
            "web-ladder",
            "--no-wait",
            "--bucket",
            "priced",
            "--prefix",
            "vod",
            "--role",
            ROLE,
            "--endpoint-url",
            moto_url.as_str(),
            "--mediaconvert-endpoint-url",
            mc_url.as_str(),
        ];
        args.extend(limit.iter().flat_map(|l| ["--max-cost", l]));
        run(&args)
    };
    let (code, _, stderr) = submit(Some("0.001"));
    assert_ne!(code, 0);
    assert!(stderr.contains("above the limit of $0.0010"), "{stderr}");
    assert!(
        stderr.contains(&format!("${}", vodkit::cloud::cost::usd(total))),
        "{stderr}"
    );
    assert!(stderr.contains("basic.mp4"), "{stderr}");
    let listed = s3
        .list_objects_v2()
        .bucket("priced")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.key_count(), Some(0), "nothing uploaded");
    // The app's Cloud settings hold a limit too: `cloud submit` (and every queued job or
    // retry, which carry the settings) keeps to it without --max-cost.
    std::fs::write(
        dir.path().join("settings.json"),
        serde_json::json!({ "cloud": { "max_cost_usd": 0.001 } }).to_string(),
    )
    .expect("settings");
    let (code, _, stderr) = submit(None);
    assert_ne!(code, 0);
    assert!(stderr.contains("above the limit of $0.0010"), "{stderr}");
    let listed = s3
        .list_objects_v2()
        .bucket("priced")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.key_count(), Some(0), "nothing uploaded");
    // --max-cost overrides the settings' limit. Under it: submitted as usual.
    let (code, stdout, stderr) = submit(Some("100"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("1764403200000-test01"), "{stdout}");
}

/// web-ladder with MediaConvert's automated ABR building the ladder.
const AUTO_LADDER: &str = r#"
name = "auto-ladder"
[packaging]
hls = true
dash = true
[fit]
mode = "mediaconvert-auto"
max_renditions = 4
min_bitrate_bps = 200000
[[rung]]
width = 320
height = 180
max_bitrate_bps = 300000
[[rung]]
width = 480
height = 270
max_bitrate_bps = 500000
[[rung]]
width = 640
height = 360
max_bitrate_bps = 800000
[[rung]]
width = 854
height = 480
max_bitrate_bps = 1200000
[[rung]]
width = 1280
height = 720
max_bitrate_bps = 3000000
"#;

#[test]
fn automated_abr_jobs_are_valid_priced_and_refused_where_mediaconvert_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let preset = dir.path().join("auto-ladder.toml");
    std::fs::write(&preset, AUTO_LADDER).expect("preset");
    let source = common::uhd();
    let (request, text) = common::cloud_job_json(&source, &preset, dir.path());
    common::assert_valid_mediaconvert(&text, dir.path());
    let groups = request["Settings"]["OutputGroups"]
        .as_array()
        .expect("groups");
    let names: Vec<&str> = groups.iter().filter_map(|g| g["Name"].as_str()).collect();
    assert!(!names.contains(&"File Group"), "no MP4 rungs: {names:?}");
    let auto = groups
        .iter()
        .find(|g| g["AutomatedEncodingSettings"].is_object())
        .expect("an automated ABR group");
    assert_eq!(auto["OutputGroupSettings"]["Type"], "CMAF_GROUP_SETTINGS");
    let abr = &auto["AutomatedEncodingSettings"]["AbrSettings"];
    assert_eq!(abr["MaxRenditions"], 4);
    assert_eq!(abr["MinAbrBitrate"], 200_000);
    assert_eq!(abr["MaxAbrBitrate"], 3_000_000);
    // Five sizes, four renditions at most: the smallest and largest stay.
    let allowed: Vec<(u64, u64)> = abr["Rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["Type"] == "ALLOWED_RENDITIONS")
        .expect("allowed sizes")["AllowedRenditions"]
        .as_array()
        .expect("sizes")
        .iter()
        .map(|s| {
            (
                s["Width"].as_u64().expect("w"),
                s["Height"].as_u64().expect("h"),
            )
        })
        .collect();
    assert_eq!(allowed.len(), 4, "{allowed:?}");
    assert_eq!(allowed.first(), Some(&(320, 180)));
    assert_eq!(allowed.last(), Some(&(1280, 720)));
    // One base video output, 2-pass QVBR, sized by MediaConvert; the audio as renditions.
    let outputs = auto["Outputs"].as_array().expect("outputs");
    let videos: Vec<&Value> = outputs
        .iter()
        .filter(|o| o["VideoDescription"].is_object())
        .collect();
    assert_eq!(videos.len(), 1);
    let video = &videos[0]["VideoDescription"];
    assert!(video["Width"].is_null() && video["Height"].is_null());
    let h264 = &video["CodecSettings"]["H264Settings"];
    assert_eq!(h264["QualityTuningLevel"], "MULTI_PASS_HQ");
    assert_eq!(h264["RateControlMode"], "QVBR");
    assert!(outputs.iter().any(|o| o["AudioDescriptions"].is_array()));

    // Priced as MediaConvert bills it: every possible rendition at the 2-pass Professional rate.
    let (code, stdout, stderr) = common::vodkit(
        &[
            "cloud",
            "job-json",
            source.to_str().expect("utf-8"),
            "--preset",
            preset.to_str().expect("utf-8"),
            "--cost",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let estimate: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(estimate["tier"], "Professional");
    let auto_row = estimate["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .find(|o| o["count"] == 4)
        .expect("the renditions row");
    assert_eq!(auto_row["class"], "Professional-AVC-HD-MHQ-30fps");

    // What automated ABR cannot do is refused when the preset is read.
    for (change, what) in [
        ("max_renditions = 4", "max_renditions = 20"),
        (
            "[[rung]]\nwidth = 320",
            "[[rung]]\ncodec = \"av1\"\nwidth = 320",
        ),
    ] {
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, AUTO_LADDER.replacen(change, what, 1)).expect("preset");
        let (code, _, stderr) = common::vodkit(
            &[
                "plan",
                source.to_str().expect("utf-8"),
                "--preset",
                bad.to_str().expect("utf-8"),
            ],
            dir.path(),
        );
        assert_ne!(code, 0, "{what}");
        assert!(stderr.contains("fit."), "{what}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_automated_abr_job_is_done_when_its_manifests_are_there() {
    let mut fx = SubmitFixture::new(vec![step("COMPLETE", 100, None)]).await;
    let mut preset = vodkit::preset::Preset::from_toml(AUTO_LADDER, "auto").expect("preset");
    preset.stills.count = 0;
    fx.plan = vodkit::plan::plan(&vodkit::probe::probe(&fx.source).expect("probe"), &preset)
        .expect("plan");
    assert!(fx.plan.automated_abr);
    fx.preset = preset;
    let dir_key = output_dir_key(&fx.plan);
    for name in ["index.m3u8", "index.mpd", "index_auto_1.m3u8"] {
        fx.s3
            .put_object()
            .bucket("vod-bucket")
            .key(format!("{dir_key}{name}"))
            .body(aws_sdk_s3::primitives::ByteStream::from_static(
                b"#EXTM3U\n",
            ))
            .send()
            .await
            .expect("put");
    }
    let (sink, _) = recorder();
    let done = fx
        .submit(&sink, &CancelToken::new())
        .await
        .expect("completes");
    let summary = done.summary.expect("followed");
    assert_eq!(summary.made, ["index.m3u8", "index.mpd"]);
    assert!(summary.failed.is_empty());
    assert!(
        done.outputs.iter().all(|o| !o.ends_with("index.smil")),
        "no SMIL without MP4 rungs: {:?}",
        done.outputs
    );
    // The request MediaConvert got is the automated ABR one.
    let body = fx
        .mc
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.target.contains("/jobs"))
        .expect("CreateJob")
        .body;
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("automatedEncodingSettings"), "{text}");
}

/// Moto with the bucket `vod-bucket`, clients for it, a fresh folder, and upload options
/// keeping their records there (5 MiB parts, two in flight).
async fn upload_setup() -> (
    Moto,
    aws_sdk_s3::Client,
    Clients,
    tempfile::TempDir,
    UploadOptions,
) {
    let moto = Moto::start();
    let s3 = make_bucket(&moto.url(), "vod-bucket").await;
    let clients =
        Clients::from_sdk_config(&sdk_config().await, &settings_for(&moto, None)).expect("clients");
    let dir = tempfile::tempdir().expect("tempdir");
    let options = UploadOptions {
        part_size_bytes: 5 * MIB,
        parts_in_flight: 2,
        records_dir: Some(dir.path().join("uploads")),
    };
    (moto, s3, clients, dir, options)
}

/// `bytes` written to `dir/<folder>/<name>`.
fn put_file(dir: &Path, folder: &str, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(folder).join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, bytes).expect("write");
    path
}

/// Two phones' clips called `name`, in `dir/<tag>a` and `dir/<tag>b`: `size` varied bytes,
/// one byte apart between two of the fingerprint's samples, so the fingerprint cannot tell
/// them apart. Returns both paths and the first one's bytes.
fn fingerprint_twins(
    dir: &Path,
    tag: &str,
    name: &str,
    size: u64,
) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let a: Vec<u8> = (0..size).map(|i| (i * 7 + i / 4093) as u8).collect();
    let ranges = vodkit::cloud::upload::fingerprint_ranges(size);
    let gap = usize::try_from((ranges[1].0 + ranges[1].1 + ranges[2].0) / 2).expect("offset");
    let mut b = a.clone();
    b[gap] ^= 0x55;
    let (phone_a, phone_b) = (
        put_file(dir, &format!("{tag}a"), name, &a),
        put_file(dir, &format!("{tag}b"), name, &b),
    );
    assert_eq!(
        content_folder(&phone_a),
        content_folder(&phone_b),
        "the test needs a fingerprint collision"
    );
    (phone_a, phone_b, a)
}

/// Two phones' `IMG_0001.MOV`: other bytes never share a key, even when the sampled
/// fingerprint cannot tell them apart, and the same bytes from another folder are not sent
/// again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_named_sources_keep_their_own_objects() {
    let (_moto, s3, clients, dir, options) = upload_setup().await;
    let (sink, events) = recorder();
    let cancel = CancelToken::new();
    // 12 MiB (three parts) each.
    let size = 12 * MIB;
    let (phone_a, phone_b, a) = fingerprint_twins(dir.path(), "", "IMG_0001.MOV", size);
    let put = |folder: &str, bytes: &[u8]| put_file(dir.path(), folder, "IMG_0001.MOV", bytes);
    let copy_a = put("c", &a);

    let first = upload(&clients, &phone_a, &options, &sink, &cancel)
        .await
        .expect("upload a");
    assert_eq!(
        first.key,
        format!("vod/inputs/{}/IMG_0001.MOV", content_folder(&phone_a))
    );
    assert!(matches!(
        first.outcome,
        UploadOutcome::Uploaded { parts: 3, .. }
    ));

    let second = upload(&clients, &phone_b, &options, &sink, &cancel)
        .await
        .expect("upload b");
    assert_ne!(second.key, first.key, "other bytes, another key");
    assert!(
        second
            .key
            .starts_with(&format!("vod/inputs/{}-", content_folder(&phone_b))),
        "{}",
        second.key
    );
    assert!(matches!(second.outcome, UploadOutcome::Uploaded { .. }));
    assert!(
        events
            .lock()
            .expect("lock")
            .iter()
            .any(|e| matches!(e, JobEvent::Warning { message } if message.contains("holds other content"))),
        "the move is said"
    );
    let sum = |path: &Path| sha256_hex(path);
    assert_eq!(
        object_sha256(&s3, "vod-bucket", &first.key, dir.path()).await,
        sum(&phone_a),
        "phone a's object is untouched"
    );
    assert_eq!(
        object_sha256(&s3, "vod-bucket", &second.key, dir.path()).await,
        sum(&phone_b)
    );

    // The same bytes from another folder, and phone b again: found, not sent.
    let copy = upload(&clients, &copy_a, &options, &sink, &cancel)
        .await
        .expect("upload copy");
    assert_eq!(
        (copy.key.as_str(), &copy.outcome),
        (first.key.as_str(), &UploadOutcome::AlreadyThere)
    );
    // With no remembered checksums (another machine), phone b is recognised by S3's checksum.
    let fresh = UploadOptions {
        records_dir: Some(dir.path().join("elsewhere")),
        ..options.clone()
    };
    let again = upload(&clients, &phone_b, &fresh, &sink, &cancel)
        .await
        .expect("upload b again");
    assert_eq!(
        (again.key.as_str(), &again.outcome),
        (second.key.as_str(), &UploadOutcome::AlreadyThere)
    );
    assert_eq!(again.crc64nvme, second.crc64nvme);
    let listed = s3
        .list_objects_v2()
        .bucket("vod-bucket")
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.contents().len(),
        2,
        "two objects: {:?}",
        listed.contents()
    );
    no_multipart_uploads_left(&s3, "vod-bucket").await;

    // An object another tool put at a source's key, of its size, without a CRC-64/NVME:
    // whether it holds the file cannot be told, and the error says so instead of guessing.
    let other = put("d", &a[..usize::try_from(size - 1).expect("size")]);
    let key = format!("vod/inputs/{}/IMG_0001.MOV", content_folder(&other));
    s3.put_object()
        .bucket("vod-bucket")
        .key(&key)
        .body(aws_sdk_s3::primitives::ByteStream::from(
            a[..a.len() - 1].to_vec(),
        ))
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Crc32)
        .send()
        .await
        .expect("put by another tool");
    let e = upload(&clients, &other, &options, &sink, &cancel)
        .await
        .expect_err("cannot tell");
    assert!(e.to_string().contains("without a CRC-64/NVME"), "{e}");
    assert!(e.to_string().contains("IMG_0001.MOV"), "{e}");
}

/// Starts uploading `file` through a proxy that holds its PUTs, and returns once the first
/// is held (it looked at S3 and began sending): `proxy.heal()` lets it go on.
async fn held_upload(
    moto: &Moto,
    file: &Path,
    options: &UploadOptions,
    sink: &EventSink,
) -> (
    FaultProxy,
    tokio::task::JoinHandle<Result<vodkit::cloud::upload::Uploaded, CloudError>>,
) {
    use std::sync::atomic::Ordering;
    let proxy = FaultProxy::start(moto.port, Fault::HoldUntilHealed);
    let mut settings = settings_for(moto, None);
    settings.endpoint = proxy.url();
    let held = Clients::from_sdk_config(&sdk_config().await, &settings).expect("clients");
    let (file, options, sink) = (file.to_owned(), options.clone(), Arc::clone(sink));
    let sending =
        tokio::spawn(
            async move { upload(&held, &file, &options, &sink, &CancelToken::new()).await },
        );
    while proxy.stalled.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    (proxy, sending)
}

/// Two files with the same name and fingerprint sent at the same moment: whichever S3 gets
/// first keeps the fingerprint's key, the other goes beside it (S3's conditional writes), in
/// one request and in parts alike. Phone b looks first and finds nothing, its bytes are held
/// on the way while phone a is uploaded whole, then let through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_fingerprint_files_sent_at_once_keep_their_own_objects() {
    let (moto, s3, direct, dir, options) = upload_setup().await;
    let cancel = CancelToken::new();
    let (sink, events) = recorder();
    for (round, size) in [(0, 12 * MIB), (1, 4 * MIB + 4096)] {
        let (phone_a, phone_b, _) =
            fingerprint_twins(dir.path(), &round.to_string(), "IMG_0002.MOV", size);
        let (proxy, b_upload) = held_upload(&moto, &phone_b, &options, &sink).await;
        let ua = upload(&direct, &phone_a, &options, &sink, &cancel)
            .await
            .expect("a");
        proxy.heal();
        let ub = b_upload.await.expect("task").expect("b");
        assert_eq!(
            ua.key,
            format!("vod/inputs/{}/IMG_0002.MOV", content_folder(&phone_a))
        );
        assert_ne!(ub.key, ua.key, "round {round}: one key each");
        assert!(
            events.lock().expect("lock").iter().any(
                |e| matches!(e, JobEvent::Warning { message } if message.contains("wrote") && message.contains("first"))
            ),
            "round {round}: the lost race is said"
        );
        assert_eq!(
            object_sha256(&s3, "vod-bucket", &ua.key, dir.path()).await,
            sha256_hex(&phone_a)
        );
        assert_eq!(
            object_sha256(&s3, "vod-bucket", &ub.key, dir.path()).await,
            sha256_hex(&phone_b)
        );
        events.lock().expect("lock").clear();
    }
    no_multipart_uploads_left(&s3, "vod-bucket").await;
}

/// A file that changes while it goes out (a camera still writing it, an editor saving over
/// it) is not kept as uploaded: in one request the object is removed, in parts the upload is
/// aborted before it completes; either way the error says so and a re-run sends the file as
/// it now is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_changes_while_it_uploads_is_not_kept() {
    let (moto, s3, direct, dir, options) = upload_setup().await;
    let cancel = CancelToken::new();
    let (sink, _) = recorder();
    for (round, size) in [(0, 12 * MIB), (1, 3 * MIB)] {
        let bytes: Vec<u8> = (0..size).map(|i| (i * 13 + i / 997) as u8).collect();
        let file = put_file(
            dir.path(),
            &format!("change{round}"),
            "CLIP0001.MP4",
            &bytes,
        );
        let (proxy, sending) = held_upload(&moto, &file, &options, &sink).await;
        // The camera appends while the first bytes are on their way.
        let mut grown = bytes.clone();
        grown.extend_from_slice(&[9u8; 4096]);
        std::fs::write(&file, &grown).expect("rewrite");
        proxy.heal();
        let e = sending
            .await
            .expect("task")
            .expect_err("a changed file is refused");
        assert!(
            e.to_string().contains("changed while it was uploading"),
            "round {round}: {e}"
        );
        assert!(e.to_string().contains("CLIP0001.MP4"), "{e}");
        let listed = s3
            .list_objects_v2()
            .bucket("vod-bucket")
            .send()
            .await
            .expect("list");
        assert_eq!(listed.key_count(), Some(0), "round {round}: nothing kept");
        no_multipart_uploads_left(&s3, "vod-bucket").await;
        // Sent again, it goes up as it now is.
        let again = upload(&direct, &file, &options, &sink, &cancel)
            .await
            .expect("again");
        assert_eq!(again.size_bytes, size + 4096);
        assert_eq!(
            object_sha256(&s3, "vod-bucket", &again.key, dir.path()).await,
            sha256_hex(&file)
        );
        s3.delete_object()
            .bucket("vod-bucket")
            .key(&again.key)
            .send()
            .await
            .expect("delete");
    }
}
