//! A MediaConvert CreateJob request from a plan: one MP4 output per made rung with the reference
//! pipeline's settings (QVBR at the preset's quality level capped at the rung's max bitrate, HRD
//! buffer, 2 s closed GOP, B-frames, reference frames, CABAC, adaptive quantisation, scene change
//! detection, profile and level; H.265 tagged hvc1), AAC-LC audio, MP4 with the index first, a
//! frame-capture output for the stills, and user metadata naming the source.
//!
//! Member names are the API reference's (`Settings`, `OutputGroups`, ...), as the console's job
//! JSON and `--cli-input-json` use them.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::plan::{Plan, PlannedRung};
use crate::preset::{AdaptiveQuantization, Codec, Preset, Profile};

/// Where one source's job reads and writes in the bucket, unique per source content and
/// preset, so that two phones' `IMG_0001.MOV` (in one batch or in runs days apart) never share
/// an input object or an output folder:
/// - the source goes to `inputs/<content>/<file name>`, `<content>` being its fingerprint (16
///   hex digits from its size and 4 MiB sampled through it; see
///   [`crate::cloud::upload::source_fingerprint`]), with its full checksum added when another
///   file had the same fingerprint: the same bytes always have the same key (uploaded once),
///   other bytes never do;
/// - the outputs go to `outputs/<title>-<run>/`, `<run>` being 10 hex digits of the SHA-256 of
///   `<content>` and the preset's name (and `per-title` for a fitted ladder): submitting the same file with the same preset
///   again replaces its own outputs, another file or another preset gets its own folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPlace {
    /// `s3://bucket/prefix/inputs/<content>/<file name>`.
    pub input_url: String,
    /// `s3://bucket/prefix/outputs/<title>-<run>/`, with the trailing slash.
    pub output_url: String,
}

/// `inputs/<content>/<file name>`: where a source goes under the prefix (`vodkit cloud upload`
/// and `submit` alike, so an uploaded file is not sent again); `content_id` as
/// [`crate::cloud::upload::Uploaded::content_id`].
pub fn input_path(file_name: &str, content_id: &str) -> String {
    format!("inputs/{content_id}/{file_name}")
}

/// Where a subtitle track's WebVTT goes for the job: beside the source, as
/// `inputs/<content>/<title>.<id>.vtt`. It holds the cues as the local encode places them
/// (the source's own streams, which MediaConvert does not read from MP4 and Matroska, and the
/// sidecars alike), so cloud and local outputs carry the same cues at the same times.
pub fn caption_url(
    place: &JobPlace,
    plan: &Plan,
    track: &crate::subtitles::PlannedSubtitle,
) -> String {
    let folder = place
        .input_url
        .rsplit_once('/')
        .map_or(place.input_url.as_str(), |(f, _)| f);
    format!("{folder}/{}.{}.vtt", plan.title, track.id)
}

/// The caption selector of the k-th subtitle track.
fn caption_selector(k: usize) -> String {
    format!("Captions Selector {}", k + 1)
}

/// The bucket, prefix, role and queue jobs use.
#[derive(Debug, Clone, PartialEq)]
pub struct JobTarget {
    /// S3 bucket.
    pub bucket: String,
    /// Key prefix (no leading or trailing slash needed).
    pub prefix: String,
    /// IAM role MediaConvert assumes.
    pub role_arn: String,
    /// Queue ARN, if not the default queue.
    pub queue: Option<String>,
}

impl JobTarget {
    /// The target of saved or given settings; an error names what is missing.
    pub fn from_settings(s: &super::CloudSettings) -> Result<Self, super::CloudError> {
        Ok(Self {
            bucket: s.require_bucket()?.to_owned(),
            prefix: s.prefix.clone(),
            role_arn: s.require_role()?.to_owned(),
            queue: (!s.queue.trim().is_empty()).then(|| s.queue.trim().to_owned()),
        })
    }

    fn key(&self, rest: &str) -> String {
        super::settings::prefixed_key(&self.prefix, rest)
    }

    /// Where a job running the job template `template` on one source reads and writes: the
    /// same input, an output folder of its own (a template's outputs are not the preset's).
    pub fn place_for_template(&self, plan: &Plan, content_id: &str, template: &str) -> JobPlace {
        self.place_keyed(plan, content_id, &format!("\ntemplate:{template}"))
    }

    /// Where one source's job reads and writes (see [`JobPlace`]); `content_id` names the
    /// source's content, as the upload found it ([`crate::cloud::upload::Uploaded::content_id`]).
    pub fn place(&self, plan: &Plan, content_id: &str) -> JobPlace {
        self.place_keyed(plan, content_id, "")
    }

    /// [`Self::place`], with `extra` added to what names the output folder.
    fn place_keyed(&self, plan: &Plan, content_id: &str, extra: &str) -> JobPlace {
        let name = plan
            .source
            .file_name()
            .map_or_else(|| plan.title.clone(), |n| n.to_string_lossy().into_owned());
        // A per-title ladder is another set of rungs: its own folder, so no fixed rung lingers.
        let fitted = if plan.per_title.is_some() {
            "\nper-title"
        } else {
            ""
        };
        let run = Sha256::digest(format!("{content_id}\n{}{fitted}{extra}", plan.preset));
        let run: String = run.iter().take(5).map(|b| format!("{b:02x}")).collect();
        JobPlace {
            input_url: format!(
                "s3://{}/{}",
                self.bucket,
                self.key(&input_path(&name, content_id))
            ),
            output_url: format!(
                "s3://{}/{}/",
                self.bucket,
                self.key(&format!("outputs/{}-{run}", plan.title))
            ),
        }
    }
}

/// MediaConvert's name for an H.264 level (`4.2` → `LEVEL_4_2`); levels it does not list
/// (1b, 6 and up) become `AUTO`.
fn h264_level(level: &str) -> String {
    const KNOWN: [&str; 16] = [
        "1", "1.1", "1.2", "1.3", "2", "2.1", "2.2", "3", "3.1", "3.2", "4", "4.1", "4.2", "5",
        "5.1", "5.2",
    ];
    if KNOWN.contains(&level) {
        format!("LEVEL_{}", level.replace('.', "_"))
    } else {
        "AUTO".to_owned()
    }
}

fn aq(mode: AdaptiveQuantization) -> &'static str {
    match mode {
        AdaptiveQuantization::Off => "OFF",
        AdaptiveQuantization::Low => "LOW",
        AdaptiveQuantization::Medium => "MEDIUM",
        AdaptiveQuantization::High => "HIGH",
        AdaptiveQuantization::Higher => "HIGHER",
        AdaptiveQuantization::Max => "MAX",
    }
}

fn enabled(on: bool) -> &'static str {
    if on { "ENABLED" } else { "DISABLED" }
}

fn codec_settings(r: &PlannedRung, p: &Preset, source_rate_changed: bool) -> Value {
    let v = &p.video;
    let aq_on = enabled(v.adaptive_quantization != AdaptiveQuantization::Off);
    let baseline = r.codec == Codec::H264 && r.profile == Profile::Baseline;
    if r.codec == Codec::Av1 {
        return av1_settings(r, p, source_rate_changed);
    }
    // What H.264 and H.265 share: QVBR under the rung's cap, HRD buffer, GOP, references,
    // adaptive quantisation, scene cuts, progressive square pixels.
    let mut s = serde_json::Map::new();
    for (k, val) in [
        ("RateControlMode", json!("QVBR")),
        (
            "QvbrSettings",
            json!({ "QvbrQualityLevel": r.quality_level.unwrap_or(v.quality_level) }),
        ),
        ("MaxBitrate", json!(r.max_bitrate_bps)),
        (
            "HrdBufferInitialFillPercentage",
            json!(i64::from(v.hrd_initial_fill_percent)),
        ),
        ("GopSize", json!(v.gop_secs)),
        ("GopSizeUnits", json!("SECONDS")),
        ("GopClosedCadence", json!(i64::from(v.closed_gop))),
        (
            "NumberBFramesBetweenReferenceFrames",
            json!(if baseline { 0 } else { v.b_frames.min(7) }),
        ),
        (
            "NumberReferenceFrames",
            json!(v.reference_frames.clamp(1, 6)),
        ),
        ("Slices", json!(1)),
        ("AdaptiveQuantization", json!(aq(v.adaptive_quantization))),
        ("SpatialAdaptiveQuantization", json!(aq_on)),
        ("TemporalAdaptiveQuantization", json!(aq_on)),
        ("FlickerAdaptiveQuantization", json!(aq_on)),
        (
            "SceneChangeDetect",
            json!(enabled(v.scene_change_detection)),
        ),
        ("InterlaceMode", json!("PROGRESSIVE")),
        ("ParControl", json!("SPECIFIED")),
        ("ParNumerator", json!(1)),
        ("ParDenominator", json!(1)),
        ("QualityTuningLevel", json!("SINGLE_PASS_HQ")),
    ] {
        s.insert(k.into(), val);
    }
    insert_frame_rate(&mut s, r, source_rate_changed);
    let buffer = i64::try_from(r.buffer_bits).unwrap_or(i64::MAX);
    match r.codec {
        Codec::H264 => {
            for (k, val) in [
                ("HrdBufferSize", json!(buffer.min(1_152_000_000))),
                (
                    "CodecProfile",
                    json!(match r.profile {
                        Profile::Baseline => "BASELINE",
                        Profile::Main | Profile::Main10 => "MAIN",
                        Profile::High => "HIGH",
                    }),
                ),
                ("CodecLevel", json!(h264_level(&r.level))),
                (
                    "EntropyEncoding",
                    json!(if baseline { "CAVLC" } else { "CABAC" }),
                ),
                ("Syntax", json!("DEFAULT")),
            ] {
                s.insert(k.into(), val);
            }
            json!({ "Codec": "H_264", "H264Settings": Value::Object(s) })
        }
        Codec::H265 => {
            for (k, val) in [
                ("HrdBufferSize", json!(buffer.min(1_466_400_000))),
                (
                    "CodecProfile",
                    json!(if r.hdr.is_some() {
                        "MAIN10_MAIN"
                    } else {
                        "MAIN_MAIN"
                    }),
                ),
                ("CodecLevel", json!("AUTO")),
                ("Tiles", json!("ENABLED")),
                ("WriteMp4PackagingType", json!("HVC1")),
            ] {
                s.insert(k.into(), val);
            }
            json!({ "Codec": "H_265", "H265Settings": Value::Object(s) })
        }
        Codec::Av1 => unreachable!("AV1 rungs return above"),
    }
}

/// MediaConvert's AV1: QVBR only, the GOP in frames (AV1 takes no seconds), no HRD buffer or
/// reference count; the same quality level and cap as the local SVT-AV1 encode.
fn av1_settings(r: &PlannedRung, p: &Preset, source_rate_changed: bool) -> Value {
    let v = &p.video;
    let mut s = serde_json::Map::new();
    for (k, val) in [
        ("RateControlMode", json!("QVBR")),
        (
            "QvbrSettings",
            json!({ "QvbrQualityLevel": r.quality_level.unwrap_or(v.quality_level) }),
        ),
        ("MaxBitrate", json!(r.max_bitrate_bps.max(1000))),
        ("GopSize", json!(f64::from(r.gop_frames))),
        (
            "NumberBFramesBetweenReferenceFrames",
            json!(v.b_frames.min(15)),
        ),
        ("Slices", json!(1)),
        ("AdaptiveQuantization", json!(aq(v.adaptive_quantization))),
        (
            "SpatialAdaptiveQuantization",
            json!(enabled(
                v.adaptive_quantization != AdaptiveQuantization::Off
            )),
        ),
        (
            "BitDepth",
            json!(if r.hdr.is_some() { "BIT_10" } else { "BIT_8" }),
        ),
    ] {
        s.insert(k.into(), val);
    }
    insert_frame_rate(&mut s, r, source_rate_changed);
    json!({ "Codec": "AV1", "Av1Settings": Value::Object(s) })
}

/// The rung's frame rate (when it differs from the source's) or the source's, as H.264, H.265
/// and AV1 settings all name it.
fn insert_frame_rate(
    s: &mut serde_json::Map<String, Value>,
    r: &PlannedRung,
    source_rate_changed: bool,
) {
    if source_rate_changed {
        s.insert("FramerateControl".into(), json!("SPECIFIED"));
        s.insert("FramerateNumerator".into(), json!(r.frame_rate.num));
        s.insert("FramerateDenominator".into(), json!(r.frame_rate.den));
        s.insert(
            "FramerateConversionAlgorithm".into(),
            json!("DUPLICATE_DROP"),
        );
    } else {
        s.insert("FramerateControl".into(), json!("INITIALIZE_FROM_SOURCE"));
    }
}

/// The burned-in subtitle track's caption description, when the plan burns one in.
fn burn_in(plan: &Plan) -> Option<Value> {
    let k = plan.subtitles.iter().position(|t| t.burned)?;
    Some(json!({
        "CaptionSelectorName": caption_selector(k),
        "DestinationSettings": {
            "DestinationType": "BURN_IN",
            "BurninDestinationSettings": {
                "Alignment": "CENTERED",
                "FontSize": 0,
                "FontColor": "WHITE",
                "OutlineColor": "BLACK",
                "OutlineSize": 2,
                "ShadowOpacity": 0,
                "BackgroundOpacity": 0,
                "TeletextSpacing": "PROPORTIONAL",
                "StylePassthrough": "DISABLED",
            }
        },
    }))
}

/// The CMAF group's audio rendition group: every audio track, the main one its default.
const CMAF_AUDIO_GROUP: &str = "audio";

/// The packaged output, as locally: one set of CMAF segments for HLS and DASH (an output per
/// rung, video only with the MP4 rung's description, and one per audio track), segments of
/// the preset's DASH length cut on the GOPs (which are whole multiples of it, checked by the
/// preset), `index.m3u8` and `index.mpd` beside the rungs (the local layout's names, so `vodkit
/// serve`, the players and the README's URLs work the same on a downloaded title), I-frame
/// playlists when the preset asks, audio as a rendition group, `minBufferTime` from the
/// preset. `None` when the preset packages neither format, or makes no video.
fn cmaf_group(
    plan: &Plan,
    preset: &Preset,
    output_url: &str,
    videos: &[(&PlannedRung, Value)],
) -> Option<Value> {
    let k = &preset.packaging;
    if !(k.hls || k.dash) || videos.is_empty() {
        return None;
    }
    // Whole seconds, rounded down: GOP_MULTIPLE then rounds up to the next GOP boundary, which
    // is the preset's segment length (a whole number of GOPs, checked by the preset).
    let segment_secs = k.dash_segment_secs.floor().max(1.0) as i64;
    let audio = audio_descriptions(plan);
    let burn = burn_in(plan);
    let mut outputs: Vec<Value> = videos
        .iter()
        .map(|(r, video)| {
            let mut cmfc = json!({
                "IFrameOnlyManifest": if k.hls_iframe_playlists { "INCLUDE" } else { "EXCLUDE" },
            });
            if !audio.is_empty() {
                cmfc["AudioRenditionSets"] = json!(CMAF_AUDIO_GROUP);
            }
            let mut output = json!({
                "NameModifier": format!("_{}", r.name),
                "ContainerSettings": { "Container": "CMFC", "CmfcSettings": cmfc },
                "VideoDescription": video,
            });
            // The same pictures as the MP4 rungs: a burned-in track is in these too.
            if let Some(b) = &burn {
                output["CaptionDescriptions"] = json!([b]);
            }
            output
        })
        .collect();
    for (track, description) in audio.into_iter().enumerate() {
        outputs.push(json!({
            "NameModifier": if track == 0 { "_audio".to_owned() } else { format!("_audio_{track}") },
            "ContainerSettings": {
                "Container": "CMFC",
                "CmfcSettings": {
                    "AudioGroupId": CMAF_AUDIO_GROUP,
                    "AudioTrackType": if track == 0 {
                        "ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT"
                    } else {
                        "ALTERNATE_AUDIO_AUTO_SELECT"
                    },
                }
            },
            "AudioDescriptions": [description],
        }));
    }
    Some(json!({
        "Name": "CMAF",
        "OutputGroupSettings": {
            "Type": "CMAF_GROUP_SETTINGS",
            "CmafGroupSettings": {
                "Destination": format!("{output_url}index"),
                "SegmentControl": "SEGMENTED_FILES",
                "SegmentLength": segment_secs,
                "FragmentLength": segment_secs,
                "SegmentLengthControl": "GOP_MULTIPLE",
                "WriteHlsManifest": enabled(k.hls),
                "WriteDashManifest": enabled(k.dash),
                "MinBufferTime": (k.dash_min_buffer_secs * 1000.0).round() as i64,
                "MpdProfile": "MAIN_PROFILE",
                "WriteSegmentTimelineInRepresentation": "ENABLED",
                "ManifestDurationFormat": "FLOATING_POINT",
                "CodecSpecification": "RFC_6381",
                "StreamInfResolution": "INCLUDE",
                "ManifestCompression": "NONE",
                "ClientCache": "ENABLED",
                "TargetDurationCompatibilityMode": "SPEC_COMPLIANT",
            }
        },
        "Outputs": outputs,
    }))
}

/// Automated ABR's average bitrate range, bits per second (MediaConvert's limits).
pub const AUTO_ABR_MIN_BPS: u64 = 100_000;
/// See [`AUTO_ABR_MIN_BPS`].
pub const AUTO_ABR_MAX_BPS: u64 = 100_000_000;

/// Whether MediaConvert builds the ladder (`fit.mode = "mediaconvert-auto"`).
pub fn is_auto(preset: &Preset) -> bool {
    preset.fit.mode == crate::preset::FitMode::MediaconvertAuto
}

/// The automated ABR group: the CMAF group with one base video output MediaConvert scales to
/// each rendition it picks (2-pass QVBR, as automated ABR requires), the audio renditions as
/// usual, and rules keeping the renditions to the plan's rung sizes with the largest one on
/// top.
fn auto_abr_group(
    plan: &Plan,
    preset: &Preset,
    output_url: &str,
    videos: &[(&PlannedRung, Value)],
) -> Option<Value> {
    let (top, top_video) = videos.iter().max_by_key(|(r, _)| r.width * r.height)?;
    let mut base = top_video.clone();
    if let Some(m) = base.as_object_mut() {
        m.remove("Width");
        m.remove("Height");
        m.insert("ScalingBehavior".into(), json!("DEFAULT"));
    }
    if let Some(settings) = base["CodecSettings"]
        .as_object_mut()
        .and_then(|c| c.values_mut().find(|v| v.is_object()))
        .and_then(Value::as_object_mut)
    {
        settings.insert("QualityTuningLevel".into(), json!("MULTI_PASS_HQ"));
        settings.insert("RateControlMode".into(), json!("QVBR"));
        // Each rendition's cap is MediaConvert's to choose, under MaxAbrBitrate.
        settings.remove("MaxBitrate");
        settings.remove("HrdBufferSize");
        settings.remove("HrdBufferInitialFillPercentage");
        settings.remove("CodecLevel");
        // Each rendition's quality level is MediaConvert's to choose, up to MaxQualityLevel.
        settings.remove("QvbrSettings");
    }
    let fit = &preset.fit;
    let max_bps = fit.max_bitrate_bps.unwrap_or(top.max_bitrate_bps);
    let min_bps = fit
        .min_bitrate_bps
        .clamp(100_000, max_bps.saturating_sub(1).max(100_000));
    let renditions = fit.max_renditions.clamp(3, 15);
    let mut sizes: Vec<(u32, u32)> = videos.iter().map(|(r, _)| (r.width, r.height)).collect();
    sizes.sort_unstable();
    sizes.dedup();
    // MediaConvert takes no more allowed sizes than renditions: keep the smallest and the
    // largest and spread the rest evenly between them.
    let keep = renditions as usize;
    if sizes.len() > keep {
        let last = sizes.len() - 1;
        sizes = (0..keep)
            .map(|i| sizes[(i * last + (keep - 1) / 2) / (keep - 1)])
            .collect();
        sizes.dedup();
    }
    let allowed: Vec<Value> = sizes
        .iter()
        .map(|(w, h)| json!({ "Width": w, "Height": h, "Required": "DISABLED" }))
        .collect();
    let mut group = cmaf_group(plan, preset, output_url, &[(top, base)])?;
    group["Name"] = json!("CMAF automated ABR");
    group["AutomatedEncodingSettings"] = json!({
        "AbrSettings": {
            "MaxRenditions": renditions,
            "MaxAbrBitrate": max_bps,
            "MinAbrBitrate": min_bps,
            "MaxQualityLevel": f64::from(top.quality_level.unwrap_or(preset.video.quality_level)),
            "Rules": [
                { "Type": "ALLOWED_RENDITIONS", "AllowedRenditions": allowed },
                { "Type": "MIN_TOP_RENDITION_SIZE",
                  "MinTopRenditionSize": { "Width": top.width, "Height": top.height } },
            ],
        }
    });
    // The base output's name is the prefix of every rendition MediaConvert names.
    if let Some(first) = group["Outputs"].get_mut(0) {
        first["NameModifier"] = json!("_auto");
    }
    Some(group)
}

/// The frame-capture rate (numerator, denominator: captures per second) that takes `2 x count`
/// pictures evenly over `duration_secs`, to the millisecond.
pub fn capture_rate(count: u32, duration_secs: f64) -> (u32, u32) {
    let millis = (duration_secs * 1000.0)
        .round()
        .clamp(1.0, f64::from(i32::MAX)) as u32;
    let captures = 2 * count.max(1);
    let g = gcd(captures * 1000, millis);
    (captures * 1000 / g, millis / g)
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

fn preprocessors(plan: &Plan) -> Option<Value> {
    let mut p = serde_json::Map::new();
    if plan.transform.deinterlace {
        p.insert(
            "Deinterlacer".into(),
            json!({ "Algorithm": "INTERPOLATE", "Mode": "DEINTERLACE", "Control": "NORMAL" }),
        );
    }
    if plan.transform.hdr_to_sdr.is_some() {
        p.insert(
            "ColorCorrector".into(),
            json!({ "ColorSpaceConversion": "FORCE_709", "HdrToSdrToneMapper": "PRESERVE_DETAILS" }),
        );
    } else if plan.transform.colour.needs_conversion() {
        // The same conversion as the local encoder's: BT.709 limited range out.
        let mut c = json!({ "ColorSpaceConversion": "FORCE_709" });
        if plan.transform.colour.full_range {
            c["SampleRangeConversion"] = json!("LIMITED_RANGE_SQUEEZE");
        }
        p.insert("ColorCorrector".into(), c);
    }
    if let Some(n) = noise_reducer(plan.transform.denoise) {
        p.insert("NoiseReducer".into(), n);
    }
    (!p.is_empty()).then_some(Value::Object(p))
}

/// MediaConvert's spatial noise reducer at a strength matching the local filter's.
fn noise_reducer(d: crate::preset::Denoise) -> Option<Value> {
    use crate::preset::Denoise;
    let strength = match d {
        Denoise::Off => return None,
        Denoise::Light => 4,
        Denoise::Medium => 8,
        Denoise::Strong => 14,
    };
    Some(json!({
        "Filter": "SPATIAL",
        "SpatialFilterSettings": { "Strength": strength, "PostFilterSharpenStrength": 0, "Speed": 0 },
    }))
}

/// An HDR rung keeps the source's range: HDR10 (PQ, with the source's mastering display and
/// light levels) or HLG, BT.2020; the local encode's deinterlacing applies as for SDR rungs.
fn hdr_preprocessors(plan: &Plan, hdr: &crate::plan::KeptHdr) -> Value {
    let mut c = json!({
        "ColorSpaceConversion": if hdr.is_hlg() { "FORCE_HLG_2020" } else { "FORCE_HDR10" },
    });
    if !hdr.is_hlg() && !hdr.metadata.is_empty() {
        let mut m = serde_json::Map::new();
        if let Some(d) = hdr.metadata.mastering_display {
            let [g, b, r] = d.gbr_50000;
            for (k, v) in [
                ("GreenPrimaryX", g[0]),
                ("GreenPrimaryY", g[1]),
                ("BluePrimaryX", b[0]),
                ("BluePrimaryY", b[1]),
                ("RedPrimaryX", r[0]),
                ("RedPrimaryY", r[1]),
                ("WhitePointX", d.white_point_50000[0]),
                ("WhitePointY", d.white_point_50000[1]),
            ] {
                m.insert(k.into(), json!(v.min(50_000)));
            }
            m.insert(
                "MaxLuminance".into(),
                json!(d.max_luminance_10000.min(i32::MAX as u32)),
            );
            m.insert(
                "MinLuminance".into(),
                json!(d.min_luminance_10000.min(i32::MAX as u32)),
            );
        }
        if let Some(l) = hdr.metadata.content_light {
            m.insert("MaxContentLightLevel".into(), json!(l.max_cll.min(65_535)));
            m.insert(
                "MaxFrameAverageLightLevel".into(),
                json!(l.max_fall.min(65_535)),
            );
        }
        c["Hdr10Metadata"] = Value::Object(m);
    }
    let mut p = serde_json::Map::new();
    if plan.transform.deinterlace {
        p.insert(
            "Deinterlacer".into(),
            json!({ "Algorithm": "INTERPOLATE", "Mode": "DEINTERLACE", "Control": "NORMAL" }),
        );
    }
    p.insert("ColorCorrector".into(), c);
    if let Some(n) = noise_reducer(plan.transform.denoise) {
        p.insert("NoiseReducer".into(), n);
    }
    Value::Object(p)
}

/// Every audio track the outputs carry: the main one, then the other languages and commentary,
/// one selector each (`Audio Selector 1` for the main one), as the local rungs carry them.
fn audio_descriptions(plan: &Plan) -> Vec<Value> {
    plan.audio
        .iter()
        .chain(&plan.extra_audio)
        .enumerate()
        .map(|(k, a)| {
            let mut d = json!({
                "AudioSourceName": audio_selector(k),
                "LanguageCodeControl": "FOLLOW_INPUT",
                "CodecSettings": {
                    "Codec": "AAC",
                    "AacSettings": {
                        "Bitrate": a.bitrate_bps,
                        "CodingMode": match a.channels {
                            1 => "CODING_MODE_1_0",
                            6 => "CODING_MODE_5_1",
                            _ => "CODING_MODE_2_0",
                        },
                        "SampleRate": a.sample_rate_hz,
                        "CodecProfile": "LC",
                        "RateControlMode": "CBR",
                        "RawFormat": "NONE",
                        "Specification": "MPEG4",
                    }
                }
            });
            // The language and name the local rungs give the track, said outright.
            if let Some(lang) = a
                .language
                .as_deref()
                .and_then(crate::subtitles::languages::find)
            {
                // ISO 639-2, which CustomLanguageCode takes for every output type.
                d["LanguageCodeControl"] = json!("USE_CONFIGURED");
                d["CustomLanguageCode"] = json!(lang.three);
            }
            // StreamName takes letters, digits, `_` and spaces only.
            let name = match a.title.as_deref() {
                Some(crate::plan::SURROUND_TITLE) => Some("Surround".to_owned()),
                Some(t) => Some(
                    t.chars()
                        .filter(|c| c.is_alphanumeric() || *c == '_' || c.is_whitespace())
                        .collect::<String>(),
                )
                .filter(|n| !n.trim().is_empty()),
                None => None,
            };
            if let Some(name) = name {
                d["StreamName"] = json!(name);
            }
            // Loudness as locally: BS.1770 measured over the track, one gain, true peaks held.
            if let Some(l) = &a.loudness {
                d["AudioNormalizationSettings"] = json!({
                    "Algorithm": "ITU_BS_1770_4",
                    "AlgorithmControl": "CORRECT_AUDIO",
                    "TargetLkfs": l.target_lufs,
                    "PeakCalculation": "TRUE_PEAK",
                    "TruePeakLimiterThreshold": l.true_peak_dbtp,
                    "LoudnessLogging": "DONT_LOG",
                });
            }
            d
        })
        .collect()
}

fn audio_selector(k: usize) -> String {
    format!("Audio Selector {}", k + 1)
}

/// The CreateJob request for a plan, with the source already at `place.input_url`.
pub fn create_job_request(
    plan: &Plan,
    preset: &Preset,
    target: &JobTarget,
    place: &JobPlace,
) -> Value {
    let source_rate = plan.source_frame_rate;
    let mut outputs = Vec::new();
    let mut videos = Vec::new();
    for r in plan.made_rungs() {
        let mut video = json!({
            "Width": r.width,
            "Height": r.height,
            "ScalingBehavior": "STRETCH_TO_OUTPUT",
            "AntiAlias": "ENABLED",
            "Sharpness": 50,
            "AfdSignaling": "NONE",
            "RespondToAfd": "NONE",
            "ColorMetadata": "INSERT",
            "TimecodeInsertion": "DISABLED",
            "DropFrameTimecode": "ENABLED",
            "CodecSettings": codec_settings(r, preset, source_rate != Some(r.frame_rate) || plan.transform.constant_rate),
        });
        let pre = match &r.hdr {
            Some(hdr) => Some(hdr_preprocessors(plan, hdr)),
            None => preprocessors(plan),
        };
        if let Some(p) = pre {
            video["VideoPreprocessors"] = p;
        }
        videos.push((r, video.clone()));
        let mut output = json!({
            "NameModifier": format!("_{}", r.name),
            "ContainerSettings": {
                "Container": "MP4",
                "Mp4Settings": {
                    "MoovPlacement": "PROGRESSIVE_DOWNLOAD",
                    "FreeSpaceBox": "EXCLUDE",
                    "CslgAtom": "INCLUDE",
                    "AudioDuration": "DEFAULT_CODEC_DURATION",
                }
            },
            "VideoDescription": video,
        });
        let audio = audio_descriptions(plan);
        if !audio.is_empty() {
            output["AudioDescriptions"] = Value::Array(audio);
        }
        // A burned-in track is drawn into every rung's pictures, as locally.
        if let Some(burn) = burn_in(plan) {
            output["CaptionDescriptions"] = json!([burn]);
        }
        outputs.push(output);
    }
    let output_url = &place.output_url;
    let mut groups = Vec::new();
    if is_auto(preset) {
        // MediaConvert builds the ladder: one CMAF group and no MP4 rungs.
        groups.extend(auto_abr_group(plan, preset, output_url, &videos));
    } else {
        groups.push(json!({
            "Name": "File Group",
            "OutputGroupSettings": {
                "Type": "FILE_GROUP_SETTINGS",
                "FileGroupSettings": { "Destination": format!("{output_url}{}", plan.title) }
            },
            "Outputs": outputs,
        }));
        groups.extend(cmaf_group(plan, preset, output_url, &videos));
    }
    if let Some(s) = &plan.stills
        && !s.times_secs.is_empty()
        && plan.duration_secs > 0.0
    {
        // MediaConvert captures from the first frame on, at a fixed rate; the local stills are
        // at (i + 1/2) x duration / count. Capturing twice as often puts every odd capture on
        // a local still's time (k x duration / 2 count for k = 1, 3, ...); the download keeps
        // those as the stills (`downloaded::stills_in`). Their own name (`_capture`) keeps the
        // in-between captures apart from any still.
        let count = s.times_secs.len() as u32;
        let (numerator, denominator) = capture_rate(count, plan.duration_secs);
        groups.push(json!({
            "Name": "Stills",
            "OutputGroupSettings": {
                "Type": "FILE_GROUP_SETTINGS",
                "FileGroupSettings": { "Destination": format!("{output_url}stills/{}", plan.title) }
            },
            "Outputs": [{
                "NameModifier": "_capture",
                "ContainerSettings": { "Container": "RAW" },
                "VideoDescription": {
                    "Width": s.width,
                    "Height": s.height,
                    "ScalingBehavior": "STRETCH_TO_OUTPUT",
                    "CodecSettings": {
                        "Codec": "FRAME_CAPTURE",
                        "FrameCaptureSettings": {
                            "FramerateNumerator": numerator,
                            "FramerateDenominator": denominator,
                            "MaxCaptures": 2 * count,
                            "Quality": 80,
                        }
                    }
                }
            }],
        }));
    }
    // Each text track: a WebVTT file of its own, `subtitles/<id>.vtt`, as locally.
    for (k, t) in plan
        .subtitles
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is_text())
    {
        let mut caption = json!({
            "CaptionSelectorName": caption_selector(k),
            "DestinationSettings": {
                "DestinationType": "WEBVTT",
                "WebvttDestinationSettings": { "StylePassthrough": "DISABLED" }
            },
            "LanguageDescription": t.name,
        });
        if let Some(l) = t
            .language
            .as_deref()
            .and_then(crate::subtitles::languages::find)
        {
            caption["LanguageCode"] = json!(l.three.to_ascii_uppercase());
        }
        groups.push(json!({
            "Name": format!("Subtitles {}", t.id),
            "OutputGroupSettings": {
                "Type": "FILE_GROUP_SETTINGS",
                "FileGroupSettings": { "Destination": format!("{output_url}subtitles/{}", t.id) }
            },
            "Outputs": [{
                "ContainerSettings": { "Container": "RAW" },
                "Extension": "vtt",
                "CaptionDescriptions": [caption],
            }],
        }));
    }
    let mut input = json!({
        "FileInput": place.input_url,
        "TimecodeSource": "ZEROBASED",
        "VideoSelector": { "Rotate": "AUTO" },
    });
    // The same black borders off, before MediaConvert scales (stored pixels, even sizes).
    if let (Some(b), Some(v)) = (&plan.transform.crop, plan.source_stored) {
        // Even sizes (an odd source loses its last column or row).
        let (w, h) = b.inside(v.0, v.1);
        let (w, h) = (w & !1, h & !1);
        input["Crop"] = json!({ "X": b.left, "Y": b.top, "Width": w, "Height": h });
    }
    // Full-range pixels the tags do not announce (yuvj) are said to be full range, so the
    // squeeze to limited range below acts on them as it does locally.
    if plan.transform.colour.full_range && plan.transform.hdr_to_sdr.is_none() {
        input["VideoSelector"]["SampleRange"] = json!("FULL_RANGE");
    }
    // An untagged source is read the way the plan assumed (SD as BT.601, HD as BT.709).
    if plan.transform.colour.assumed.is_some() && plan.transform.hdr_to_sdr.is_none() {
        let space = match plan.transform.colour.matrix.as_str() {
            "bt601" => Some("REC_601"),
            "bt709" => Some("REC_709"),
            _ => None,
        };
        if let Some(space) = space {
            input["VideoSelector"]["ColorSpace"] = json!(space);
            input["VideoSelector"]["ColorSpaceUsage"] = json!("FALLBACK");
        }
    }
    if plan.extra_audio.is_empty() {
        if plan.audio.is_some() {
            input["AudioSelectors"] =
                json!({ "Audio Selector 1": { "DefaultSelection": "DEFAULT" } });
        }
    } else {
        // Several tracks: each selector names its stream by number (every track of the file
        // counts, as FFmpeg's stream index does, so the numbers do not shift).
        let selectors: serde_json::Map<String, Value> = plan
            .audio
            .iter()
            .chain(&plan.extra_audio)
            .enumerate()
            .map(|(k, a)| {
                let mut sel = json!({ "SelectorType": "STREAM", "Streams": [a.source_index + 1] });
                if k == 0 {
                    sel["DefaultSelection"] = json!("DEFAULT");
                }
                (audio_selector(k), sel)
            })
            .collect();
        input["AudioSelectors"] = Value::Object(selectors);
    }
    if !plan.subtitles.is_empty() {
        let selectors: serde_json::Map<String, Value> = plan
            .subtitles
            .iter()
            .enumerate()
            .map(|(k, t)| {
                (
                    caption_selector(k),
                    json!({
                        "SourceSettings": {
                            "SourceType": "WEBVTT",
                            "FileSourceSettings": { "SourceFile": caption_url(place, plan, t) }
                        }
                    }),
                )
            })
            .collect();
        input["CaptionSelectors"] = Value::Object(selectors);
    }
    let mut request = json!({
        "Role": target.role_arn,
        "UserMetadata": {
            // The file name only: no folders of the user's machine leave it.
            "source": plan.source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            "title": plan.title,
            "preset": preset.name,
            "createdBy": format!("vodkit {}", env!("CARGO_PKG_VERSION")),
        },
        "StatusUpdateInterval": "SECONDS_10",
        "AccelerationSettings": { "Mode": "DISABLED" },
        "Settings": {
            "TimecodeConfig": { "Source": "ZEROBASED" },
            "Inputs": [input],
            "OutputGroups": groups,
        },
    });
    if let Some(q) = &target.queue {
        request["Queue"] = json!(q);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_odd_capture_is_on_a_local_stills_time() {
        for (count, duration) in [(5u32, 12.0f64), (3, 61.3), (5, 3600.0), (1, 0.5)] {
            let (num, den) = capture_rate(count, duration);
            for i in 0..count {
                let local = duration * (f64::from(i) + 0.5) / f64::from(count);
                let k = 2 * i + 1;
                let captured = f64::from(k) * f64::from(den) / f64::from(num);
                assert!(
                    (captured - local).abs() < 0.002,
                    "{count} stills of {duration} s: capture {k} at {captured}, still at {local}"
                );
            }
        }
    }

    #[test]
    fn levels_and_urls() {
        assert_eq!(h264_level("4.2"), "LEVEL_4_2");
        assert_eq!(h264_level("3"), "LEVEL_3");
        assert_eq!(h264_level("6.1"), "AUTO");
        let t = JobTarget {
            bucket: "b".into(),
            prefix: "/vod/".into(),
            role_arn: "arn:aws:iam::123456789012:role/MC".into(),
            queue: None,
        };
        assert_eq!(t.key("inputs/x.mov"), "vod/inputs/x.mov");
    }

    #[test]
    fn input_paths_carry_the_content() {
        assert_eq!(
            input_path("IMG_0001.MOV", &"ab".repeat(8)),
            format!("inputs/{}/IMG_0001.MOV", "ab".repeat(8))
        );
    }
}
