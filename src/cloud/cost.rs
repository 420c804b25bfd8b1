//! What a MediaConvert job will cost, read off the CreateJob request itself (so whatever the
//! job asks for is priced: the MP4 rungs, the CMAF renditions encoded beside them, stills,
//! automated ABR) and a dated [`PriceSnapshot`].
//!
//! Billing as MediaConvert states it: each output is billed per second of output, 10 s
//! minimum; its class is the job's tier, the codec, the resolution band, single- or multi-pass
//! and the frame-rate band. A job is Professional when any of its outputs or settings needs
//! the Professional tier (HEVC, AV1, multi-pass, HDR or tone mapping, 10-bit, automated ABR,
//! audio normalisation); then every output is billed at Professional rates.

use serde::Serialize;
use serde_json::Value;

use super::prices::{Band, BilledCodec, FpsBand, PriceClass, PriceSnapshot, Quality, Tier};
use crate::plan::Plan;

/// MediaConvert's smallest bill for one output.
pub const MIN_BILLED_SECS: u64 = 10;

/// Automated ABR's rendition limit when the job names none (MediaConvert's default).
pub const AUTO_ABR_DEFAULT_RENDITIONS: u64 = 15;

/// One output's share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputCost {
    /// The output group's name.
    pub group: String,
    /// The output (its name modifier, or what it is).
    pub output: String,
    /// How many outputs of this kind (automated ABR: the most renditions it may make).
    pub count: u64,
    /// The billing class (`Professional-AVC-HD-SinglePass-30fps`).
    pub class: String,
    /// The class in words.
    pub class_text: String,
    /// Billed minutes for all `count` outputs.
    pub minutes: f64,
    /// USD, when the snapshot has the class's price.
    pub usd: Option<f64>,
}

/// A job's estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostEstimate {
    /// The region priced.
    pub region: String,
    /// The snapshot's publication date, when there is a snapshot.
    pub prices_published: Option<String>,
    /// Basic or Professional, and why Professional.
    pub tier: Tier,
    /// What made the job Professional.
    pub professional_because: Option<String>,
    /// Seconds billed per output.
    pub billed_secs: u64,
    /// Every output.
    pub outputs: Vec<OutputCost>,
    /// The total in USD, when every output has a price.
    pub total_usd: Option<f64>,
    /// Outputs' classes with no price in the snapshot (or every class without a snapshot).
    pub unpriced: Vec<String>,
    /// Bytes the job leaves in S3 (the plan's estimate for each group holding the rungs).
    pub stored_bytes: u64,
    /// S3 Standard storage of those bytes per month, in USD.
    pub storage_usd_per_month: Option<f64>,
}

impl CostEstimate {
    /// The estimate in a few lines, with the snapshot's date.
    pub fn describe(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let tier = match &self.professional_because {
            Some(why) => format!("{:?} tier ({why})", self.tier),
            None => format!("{:?} tier", self.tier),
        };
        let _ = writeln!(
            s,
            "MediaConvert estimate, {}, {tier}, {} s billed per output:",
            self.region, self.billed_secs
        );
        for o in &self.outputs {
            let usd = o.usd.map_or("no price".into(), |u| format!("${u:.4}"));
            let count = if o.count > 1 {
                format!(" x{}", o.count)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "  {:<14} {:<18}{count:<5} {:<40} {:>7.2} min  {usd}",
                o.group, o.output, o.class_text, o.minutes
            );
        }
        if self.outputs.is_empty() {
            s.push_str("  nothing to price: the cloud backend runs video presets\n");
            return s;
        }
        match (self.total_usd, &self.prices_published) {
            (Some(t), Some(date)) => {
                let _ = write!(
                    s,
                    "  total ${} (on-demand prices as published {date}",
                    usd(t)
                );
                let _ = writeln!(s, ", before volume discounts)");
            }
            (None, Some(date)) => {
                let _ = writeln!(
                    s,
                    "  total unknown: the {date} price snapshot has no price for {} in {}",
                    self.unpriced.join(", "),
                    self.region
                );
            }
            (_, None) => {
                let _ = writeln!(
                    s,
                    "  no MediaConvert price snapshot: run `vodkit cloud prices --refresh` (online) to price these minutes"
                );
            }
        }
        let stored = crate::units::human_bytes(self.stored_bytes);
        match self.storage_usd_per_month {
            Some(usd) => {
                let _ = writeln!(s, "  S3 storage: {stored}, ${usd:.3} a month (Standard)");
            }
            None => {
                let _ = writeln!(s, "  S3 storage: {stored} (no S3 price in the snapshot)");
            }
        }
        s
    }
}

/// Why a job needs the Professional tier, if it does.
fn professional_reason(settings: &Value) -> Option<String> {
    let mut reasons = Vec::new();
    let mut note = |r: &str| {
        if !reasons.contains(&r.to_owned()) {
            reasons.push(r.to_owned());
        }
    };
    for group in settings["OutputGroups"].as_array().into_iter().flatten() {
        if !group["AutomatedEncodingSettings"].is_null() {
            note("automated ABR");
        }
        for output in group["Outputs"].as_array().into_iter().flatten() {
            let video = &output["VideoDescription"];
            let codec = video["CodecSettings"]["Codec"].as_str().unwrap_or_default();
            match codec {
                "H_265" => note("HEVC"),
                "AV1" => note("AV1"),
                _ => {}
            }
            let text = video["CodecSettings"].to_string();
            if text.contains("MULTI_PASS_HQ") {
                note("multi-pass");
            }
            if text.contains("BIT_10") || text.contains("MAIN10") {
                note("10-bit");
            }
            let colour = &video["VideoPreprocessors"]["ColorCorrector"];
            if colour["HdrToSdrToneMapper"].is_string() {
                note("HDR tone mapping");
            }
            if matches!(
                colour["ColorSpaceConversion"].as_str(),
                Some("FORCE_HDR10" | "FORCE_HLG_2020")
            ) {
                note("HDR");
            }
            for a in output["AudioDescriptions"].as_array().into_iter().flatten() {
                if !a["AudioNormalizationSettings"].is_null() {
                    note("audio normalisation");
                }
            }
        }
    }
    (!reasons.is_empty()).then(|| reasons.join(", "))
}

/// The billed quality of an output: its codec settings' `QualityTuningLevel`. MediaConvert's
/// AV1 settings have none; its AV1 encodes are billed as single pass HQ (the class the H.264
/// and HEVC outputs beside them use) until a real offer file says otherwise. Other codecs
/// without one default to single pass, as MediaConvert does.
fn tuning_quality(codec: BilledCodec, codec_settings: &Value) -> Quality {
    let level = codec_settings
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .find_map(|v| v["QualityTuningLevel"].as_str());
    match (level, codec) {
        (Some(level), _) => Quality::of_tuning(level),
        (None, BilledCodec::AV1) => Quality::SinglePassHq,
        (None, _) => Quality::SinglePass,
    }
}

/// The frame rate an output is encoded at: its own when it sets one, else the source's.
fn output_fps(codec_settings: &Value, source_fps: f64) -> f64 {
    let inner = codec_settings
        .as_object()
        .and_then(|m| m.values().find(|v| v.is_object()));
    let rate = inner.and_then(|s| {
        let n = s["FramerateNumerator"].as_f64()?;
        let d = s["FramerateDenominator"].as_f64()?;
        (d > 0.0).then_some(n / d)
    });
    rate.unwrap_or(source_fps)
}

/// The largest rendition automated ABR's rules allow (`AllowedRenditions`,
/// `ForceIncludeRenditions`), if they name any.
fn largest_allowed(abr: &Value) -> Option<(u32, u32)> {
    abr["Rules"]
        .as_array()?
        .iter()
        .flat_map(|rule| {
            ["AllowedRenditions", "ForceIncludeRenditions"]
                .iter()
                .filter_map(move |k| rule[*k].as_array())
                .flatten()
        })
        .filter_map(|size| {
            let w = u32::try_from(size["Width"].as_u64()?).ok()?;
            let h = u32::try_from(size["Height"].as_u64()?).ok()?;
            Some((w, h))
        })
        .max_by_key(|(w, h)| u64::from(*w) * u64::from(*h))
}

/// Prices `request` (a CreateJob request as [`crate::cloud::create_job_request`] makes it) for
/// the source of `plan`, in `region`.
pub fn estimate(
    request: &Value,
    plan: &Plan,
    region: &str,
    snapshot: Option<&PriceSnapshot>,
) -> CostEstimate {
    let settings = &request["Settings"];
    let because = professional_reason(settings);
    let tier = if because.is_some() {
        Tier::Professional
    } else {
        Tier::Basic
    };
    let billed_secs = (plan.duration_secs.max(0.0).ceil() as u64).max(MIN_BILLED_SECS);
    let billed_minutes = billed_secs as f64 / 60.0;
    let source_fps = plan.source_frame_rate.map_or(30.0, |r| r.fps());
    let (source_w, source_h) = plan.source_display.unwrap_or((1920, 1080));
    let prices = snapshot.and_then(|s| s.regions.get(region));
    let mut outputs = Vec::new();
    let mut rung_copies = 0u64;
    for group in settings["OutputGroups"].as_array().into_iter().flatten() {
        let group_name = group["Name"].as_str().unwrap_or("Output group").to_owned();
        let auto = &group["AutomatedEncodingSettings"]["AbrSettings"];
        let mut holds_rungs = false;
        for output in group["Outputs"].as_array().into_iter().flatten() {
            let video = &output["VideoDescription"];
            let codec = video["CodecSettings"]["Codec"].as_str();
            let name = output["NameModifier"]
                .as_str()
                .map(|n| n.trim_start_matches('_').to_owned());
            let (class, count, label) = match codec {
                None if output["AudioDescriptions"].is_array() => (
                    PriceClass::AudioOnly(tier),
                    1,
                    name.unwrap_or_else(|| "audio".into()),
                ),
                // Caption-only outputs (WebVTT files) are not billed as output minutes.
                None => continue,
                Some("FRAME_CAPTURE") => (
                    PriceClass::FrameCapture(tier),
                    1,
                    name.unwrap_or_else(|| "stills".into()),
                ),
                Some(codec) => {
                    holds_rungs = true;
                    let codec = match codec {
                        "H_265" => BilledCodec::HEVC,
                        "AV1" => BilledCodec::AV1,
                        _ => BilledCodec::AVC,
                    };
                    let fps = FpsBand::of(output_fps(&video["CodecSettings"], source_fps));
                    if auto.is_object() {
                        // MediaConvert picks the sizes; every rendition may be as large as
                        // the largest size its rules allow (else the source), and each is a
                        // 2-pass Professional encode.
                        let count = auto["MaxRenditions"]
                            .as_u64()
                            .unwrap_or(AUTO_ABR_DEFAULT_RENDITIONS);
                        let (w, h) = largest_allowed(auto).unwrap_or((source_w, source_h));
                        let class = PriceClass::Video {
                            tier: Tier::Professional,
                            codec,
                            band: Band::of(w, h),
                            quality: Quality::MultiPassHq,
                            fps,
                        };
                        (class, count, "automated ABR renditions".to_owned())
                    } else {
                        let w = video["Width"].as_u64().unwrap_or(u64::from(source_w));
                        let h = video["Height"].as_u64().unwrap_or(u64::from(source_h));
                        let class = PriceClass::Video {
                            tier,
                            codec,
                            band: Band::of(w as u32, h as u32),
                            quality: tuning_quality(codec, &video["CodecSettings"]),
                            fps,
                        };
                        (class, 1, name.unwrap_or_else(|| format!("{w}x{h}")))
                    }
                }
            };
            let minutes = billed_minutes * count as f64;
            outputs.push(OutputCost {
                group: group_name.clone(),
                output: label,
                count,
                class: class.key(),
                class_text: class.to_string(),
                minutes,
                usd: prices.and_then(|p| p.minute(&class)).map(|m| m * minutes),
            });
        }
        rung_copies += u64::from(holds_rungs && auto.is_null());
    }
    let mut unpriced: Vec<String> = outputs
        .iter()
        .filter(|o| o.usd.is_none())
        .map(|o| o.class.clone())
        .collect();
    unpriced.sort();
    unpriced.dedup();
    let total_usd = (unpriced.is_empty() && !outputs.is_empty())
        .then(|| outputs.iter().filter_map(|o| o.usd).sum());
    let stored_bytes = plan.estimated_bytes.saturating_mul(rung_copies.max(1));
    CostEstimate {
        region: region.to_owned(),
        prices_published: snapshot.map(|s| s.published.clone()),
        tier,
        professional_because: because,
        billed_secs,
        outputs,
        total_usd,
        unpriced,
        stored_bytes,
        storage_usd_per_month: prices
            .and_then(|p| p.s3_standard_gb_month_usd)
            .map(|gb| gb * stored_bytes as f64 / 1e9),
    }
}

/// Prices the job `plan` and `preset` make, wherever its source and outputs would go (the
/// request's shape does not depend on the bucket).
pub fn estimate_plan(
    plan: &Plan,
    preset: &crate::preset::Preset,
    region: &str,
    snapshot: Option<&PriceSnapshot>,
) -> CostEstimate {
    let target = crate::cloud::JobTarget {
        bucket: "estimate".into(),
        prefix: String::new(),
        role_arn: "arn:aws:iam::000000000000:role/estimate".into(),
        queue: None,
    };
    let place = target.place(plan, &"0".repeat(64));
    let request = crate::cloud::create_job_request(plan, preset, &target, &place);
    estimate(&request, plan, region, snapshot)
}

/// The region jobs would run in: the settings' region, else `AWS_REGION`, else `us-east-1`
/// (for estimates made before any AWS configuration exists).
pub fn pricing_region(settings: &crate::cloud::CloudSettings) -> String {
    let from_env = || {
        ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|r| !r.trim().is_empty()))
    };
    Some(settings.region.trim().to_owned())
        .filter(|r| !r.is_empty())
        .or_else(from_env)
        .unwrap_or_else(|| "us-east-1".into())
}

/// Dollars to the cent, or to a hundredth of a cent below a dollar.
pub fn usd(amount: f64) -> String {
    if amount < 1.0 {
        format!("{amount:.4}")
    } else {
        format!("{amount:.2}")
    }
}

/// `--max-cost`: refuses when the estimate is above `limit_usd` or cannot be known.
pub fn check_limit(estimate: &CostEstimate, title: &str, limit_usd: f64) -> Result<(), String> {
    match estimate.total_usd {
        Some(total) if total > limit_usd => Err(format!(
            "{title}: the MediaConvert estimate is ${} ({} outputs, {} s each, prices as published {}), above the limit of ${} (--max-cost, else the cost limit in the Cloud settings); not submitted",
            usd(total),
            estimate.outputs.iter().map(|o| o.count).sum::<u64>(),
            estimate.billed_secs,
            estimate.prices_published.as_deref().unwrap_or("?"),
            usd(limit_usd),
        )),
        Some(_) => Ok(()),
        None if estimate.prices_published.is_none() => Err(format!(
            "{title}: a cost limit (--max-cost, or the one in the Cloud settings) needs MediaConvert prices and there is no price snapshot; run `vodkit cloud prices --refresh` (online) or remove the limit"
        )),
        None => Err(format!(
            "{title}: the cost limit cannot be checked: the price snapshot of {} has no price for {} in {}",
            estimate.prices_published.as_deref().unwrap_or("?"),
            estimate.unpriced.join(", "),
            estimate.region
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::cloud::prices::snapshot_from_offer;

    fn snapshot() -> PriceSnapshot {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        snapshot_from_offer(
            &dir.join("mediaconvert-offer-excerpt.json"),
            &[dir.join("s3-offer-excerpt.json")],
        )
        .expect("fixture")
    }

    /// A plan of a 1080p 29.97 fps source of `secs` with stereo sound (web-ladder).
    fn plan_of(secs: f64) -> Plan {
        let info = crate::plan::tests::info_1080p(secs);
        let preset = crate::preset::store::builtin("web-ladder").expect("web-ladder");
        crate::plan::plan(&info, &preset).expect("plan")
    }

    #[test]
    fn every_builtin_preset_is_priced_from_the_snapshot() {
        // Priced from the job as built (AV1 settings carry no tuning level).
        let snap = snapshot();
        let info = crate::plan::tests::info_1080p(600.0);
        for preset in crate::preset::store::builtins() {
            let Ok(plan) = crate::plan::plan(&info, &preset) else {
                continue;
            };
            if plan.made_rungs().next().is_none() {
                continue;
            }
            let e = estimate_plan(&plan, &preset, "us-east-1", Some(&snap));
            assert!(
                e.unpriced.is_empty() && e.total_usd.is_some(),
                "{}: unpriced {:?}",
                preset.name,
                e.unpriced
            );
        }
    }

    fn video(codec: &str, w: u32, h: u32, extra: &Value) -> Value {
        let key = match codec {
            "H_265" => "H265Settings",
            "AV1" => "Av1Settings",
            _ => "H264Settings",
        };
        let mut settings = json!({ "QualityTuningLevel": "SINGLE_PASS_HQ" });
        for (k, v) in extra.as_object().into_iter().flatten() {
            settings[k] = v.clone();
        }
        json!({ "Width": w, "Height": h, "CodecSettings": { "Codec": codec, key: settings } })
    }

    fn job(outputs: &[Value]) -> Value {
        json!({ "Settings": { "OutputGroups": [{ "Name": "File Group", "Outputs": outputs }] } })
    }

    /// The fixture's prices are round numbers: SD 0.0075, HD 0.015, UHD 0.03 a minute for
    /// Basic AVC 1-pass <=30 fps; x2 Professional, x2 HEVC (x3 AV1), x2 multi-pass, x2 60 fps;
    /// audio-only 0.003 (Professional 0.006); eu-west-1 is 1.2x us-east-1.
    #[test]
    fn hand_computed_cases() {
        let snap = snapshot();
        let plan = plan_of(600.0);
        // Basic: AVC 1-pass SD and HD at 29.97 fps, 10 minutes each.
        let basic = job(&[
            json!({ "NameModifier": "_360p", "VideoDescription": video("H_264", 640, 360, &json!({})) }),
            json!({ "NameModifier": "_1080p", "VideoDescription": video("H_264", 1920, 1080, &json!({})) }),
        ]);
        let e = estimate(&basic, &plan, "us-east-1", Some(&snap));
        assert_eq!(e.tier, Tier::Basic);
        assert_eq!(e.billed_secs, 600);
        let total = e.total_usd.expect("priced");
        assert!(
            (total - (0.0075 * 10.0 + 0.015 * 10.0)).abs() < 1e-9,
            "{total}"
        );
        // One HEVC output makes the whole job Professional: the AVC output is billed at
        // Professional rates too.
        let pro = job(&[
            json!({ "NameModifier": "_360p", "VideoDescription": video("H_264", 640, 360, &json!({})) }),
            json!({ "NameModifier": "_2160p", "VideoDescription": video("H_265", 3840, 2160,
                &json!({ "FramerateControl": "SPECIFIED", "FramerateNumerator": 60000, "FramerateDenominator": 1001 })) }),
            json!({ "NameModifier": "_audio", "AudioDescriptions": [{ "CodecSettings": { "Codec": "AAC" } }] }),
        ]);
        let e = estimate(&pro, &plan, "us-east-1", Some(&snap));
        assert_eq!(e.tier, Tier::Professional);
        assert_eq!(e.professional_because.as_deref(), Some("HEVC"));
        let sd_avc = 0.0075 * 2.0;
        let uhd_hevc_60 = 0.03 * 2.0 * 2.0 * 2.0;
        let audio = 0.006;
        let total = e.total_usd.expect("priced");
        assert!(
            (total - 10.0 * (sd_avc + uhd_hevc_60 + audio)).abs() < 1e-9,
            "{total}"
        );
        // AV1 multi-pass HD <=30 fps in eu-west-1, a 25.4 s source billed as 26 s.
        let short = plan_of(25.4);
        let av1 = job(&[json!({ "NameModifier": "_720p",
            "VideoDescription": video("AV1", 1280, 720, &json!({ "QualityTuningLevel": "MULTI_PASS_HQ" })) })]);
        let e = estimate(&av1, &short, "eu-west-1", Some(&snap));
        assert_eq!(e.billed_secs, 26);
        assert_eq!(e.professional_because.as_deref(), Some("AV1, multi-pass"));
        let total = e.total_usd.expect("priced");
        let per_minute = 0.015 * 2.0 * 3.0 * 2.0 * 1.2;
        assert!((total - per_minute * 26.0 / 60.0).abs() < 1e-9, "{total}");
        // 10 s minimum per output.
        let tiny = plan_of(3.2);
        let e = estimate(&basic, &tiny, "us-east-1", Some(&snap));
        assert_eq!(e.billed_secs, MIN_BILLED_SECS);
        let total = e.total_usd.expect("priced");
        assert!((total - (0.0075 + 0.015) / 6.0).abs() < 1e-9, "{total}");
        // A region the snapshot does not have: minutes, no total, and the limit refuses.
        let e = estimate(&basic, &plan, "af-south-1", Some(&snap));
        assert_eq!(e.total_usd, None);
        let refused = check_limit(&e, "movie", 100.0).expect_err("unknown price");
        assert!(refused.contains("af-south-1"), "{refused}");
        assert!(e.describe().contains("no price"), "{}", e.describe());
    }

    #[test]
    fn automated_abr_bills_every_rendition_at_two_pass_professional() {
        let snap = snapshot();
        let plan = plan_of(600.0);
        let request = json!({ "Settings": { "OutputGroups": [{
            "Name": "CMAF",
            "AutomatedEncodingSettings": { "AbrSettings": { "MaxRenditions": 6 } },
            "Outputs": [{ "VideoDescription": { "CodecSettings": { "Codec": "H_264", "H264Settings": {} } } }],
        }] } });
        let e = estimate(&request, &plan, "us-east-1", Some(&snap));
        assert_eq!(e.outputs[0].count, 6);
        assert_eq!(e.outputs[0].class, "Professional-AVC-HD-MHQ-30fps");
        let total = e.total_usd.expect("priced");
        assert!(
            (total - 6.0 * 10.0 * 0.015 * 2.0 * 2.0).abs() < 1e-9,
            "{total}"
        );
    }

    #[test]
    fn a_built_in_job_is_priced_output_by_output_and_the_limit_names_the_figure() {
        let snap = snapshot();
        let plan = plan_of(600.0);
        let preset = crate::preset::store::builtin("web-ladder").expect("web-ladder");
        let target = crate::cloud::JobTarget {
            bucket: "b".into(),
            prefix: "vod".into(),
            role_arn: "arn:aws:iam::123456789012:role/MC".into(),
            queue: None,
        };
        let place = crate::cloud::JobPlace {
            input_url: "s3://b/vod/inputs/x/movie.mov".into(),
            output_url: "s3://b/vod/outputs/movie-0123456789/".into(),
        };
        let request = crate::cloud::create_job_request(&plan, &preset, &target, &place);
        let e = estimate(&request, &plan, "us-east-1", Some(&snap));
        let rungs = plan.made_rungs().count();
        // The MP4 rungs, the same rungs again as CMAF renditions, the CMAF audio, the stills.
        let groups: Vec<&str> = e.outputs.iter().map(|o| o.group.as_str()).collect();
        assert_eq!(e.outputs.len(), 2 * rungs + 2, "{groups:?}");
        let sum: f64 = e.outputs.iter().filter_map(|o| o.usd).sum();
        assert_eq!(e.total_usd, Some(sum));
        // Storage counts the rungs twice (MP4 and CMAF copies).
        assert_eq!(e.stored_bytes, 2 * plan.estimated_bytes);
        let gb_month = e.storage_usd_per_month.expect("S3 price");
        assert!((gb_month - 0.023 * e.stored_bytes as f64 / 1e9).abs() < 1e-12);
        let text = e.describe();
        assert!(text.contains("2026-11-01"), "{text}");
        let refused = check_limit(&e, "movie", 0.01).expect_err("above");
        assert!(refused.contains(&format!("${sum:.2}")), "{refused}");
        assert!(refused.contains("movie"), "{refused}");
        check_limit(&e, "movie", 100.0).expect("below the limit");
        // Without a snapshot: minutes but no price, and --max-cost cannot be honoured.
        let e = estimate(&request, &plan, "us-east-1", None);
        assert!(
            e.outputs
                .iter()
                .all(|o| o.usd.is_none() && o.minutes == 10.0)
        );
        assert!(e.describe().contains("vodkit cloud prices --refresh"));
        assert!(check_limit(&e, "movie", 100.0).is_err());
    }
}
