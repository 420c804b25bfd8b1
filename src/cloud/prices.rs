//! MediaConvert on-demand prices: the snapshot Vodkit prices jobs with, and how it is made
//! from AWS's public Price List offer file (service code `AWSElementalMediaConvert`).
//!
//! A snapshot holds, per region, the USD price of one output minute for each billing class
//! (tier, codec, resolution band, passes, frame-rate band; audio-only; frame capture) and,
//! when the S3 offer file was read too, S3 Standard storage per GB-month. It is dated with the
//! offer file's publication date, and every estimate names that date.
//!
//! Volume discounts apply per account and month; a snapshot keeps each class's first (highest)
//! rate, so estimates are what a job costs before any discount.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the bulk offer file is published.
pub const OFFER_URL: &str = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AWSElementalMediaConvert/current/index.json";

/// The S3 offer file for one region (storage prices).
pub fn s3_offer_url(region: &str) -> String {
    format!(
        "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonS3/current/{region}/index.json"
    )
}

/// The regions a snapshot keeps (the offer file lists more; these are where MediaConvert
/// customers mostly run, and keep the snapshot small).
pub const MAIN_REGIONS: [&str; 10] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "eu-west-2",
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-south-1",
    "sa-east-1",
];

/// MediaConvert's two on-demand tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tier {
    /// AVC single-pass outputs with no Professional feature.
    Basic,
    /// Everything else (HEVC, AV1, multi-pass, HDR, 10-bit, automated ABR...).
    Professional,
}

/// The resolution band of an output (MediaConvert: SD below 720 lines, HD up to 1080,
/// UHD above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Band {
    /// Below 720 lines.
    SD,
    /// 720 to 1080 lines.
    HD,
    /// Above 1080 lines (up to 4K).
    UHD,
}

impl Band {
    /// The band of a picture `width_px` x `height_px`, by its frame size whichever way it
    /// stands: HD from 1280x720 (either side reaching it: a 1280x534 scope picture is HD),
    /// UHD past 1920x1080 (a 2560x1072 one is UHD); a portrait 1080x1920 rung is HD like its
    /// landscape twin.
    pub fn of(width_px: u32, height_px: u32) -> Self {
        let (long, short) = (width_px.max(height_px), width_px.min(height_px));
        if long > 1920 || short > 1080 {
            Self::UHD
        } else if long >= 1280 || short >= 720 {
            Self::HD
        } else {
            Self::SD
        }
    }
}

/// The frame-rate band: up to 30, up to 60, above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FpsBand {
    /// Up to 30 frames per second.
    Up30,
    /// Above 30, up to 60.
    Up60,
    /// Above 60.
    Up120,
}

impl FpsBand {
    /// The band of `fps` frames per second (30000/1001 is in the 30 band).
    pub fn of(fps: f64) -> Self {
        if fps <= 30.0 + 1e-6 {
            Self::Up30
        } else if fps <= 60.0 + 1e-6 {
            Self::Up60
        } else {
            Self::Up120
        }
    }

    fn token(self) -> &'static str {
        match self {
            Self::Up30 => "30fps",
            Self::Up60 => "60fps",
            Self::Up120 => "120fps",
        }
    }
}

/// The encoding quality MediaConvert bills (its `QualityTuningLevel`): the `S`, `SHQ` and `MHQ`
/// of its usage types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Quality {
    /// `SINGLE_PASS`: speed-optimised single pass (Basic tier).
    SinglePass,
    /// `SINGLE_PASS_HQ`: balanced single pass (Basic tier).
    SinglePassHq,
    /// `MULTI_PASS_HQ`: multi-pass (Professional tier).
    MultiPassHq,
}

impl Quality {
    /// The quality of an output's `QualityTuningLevel` (single pass when it names none).
    pub fn of_tuning(level: &str) -> Self {
        match level {
            "MULTI_PASS_HQ" => Self::MultiPassHq,
            "SINGLE_PASS_HQ" => Self::SinglePassHq,
            _ => Self::SinglePass,
        }
    }

    /// The usage-type code: `S`, `SHQ`, `MHQ`.
    pub fn code(self) -> &'static str {
        match self {
            Self::SinglePass => "S",
            Self::SinglePassHq => "SHQ",
            Self::MultiPassHq => "MHQ",
        }
    }
}

/// A video codec as MediaConvert bills it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BilledCodec {
    /// H.264.
    AVC,
    /// H.265.
    HEVC,
    /// AV1.
    AV1,
}

/// One billing class: what an output minute of some kind costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PriceClass {
    /// A video output (with or without audio).
    Video {
        /// Basic or Professional.
        tier: Tier,
        /// The codec.
        codec: BilledCodec,
        /// The resolution band.
        band: Band,
        /// Single pass, single pass HQ or multi-pass HQ.
        quality: Quality,
        /// The frame-rate band.
        fps: FpsBand,
    },
    /// An audio-only output.
    AudioOnly(Tier),
    /// A frame-capture (stills) output.
    FrameCapture(Tier),
}

impl PriceClass {
    /// The snapshot's key, e.g. `Professional-HEVC-UHD-MHQ-60fps`.
    pub fn key(&self) -> String {
        match self {
            Self::Video {
                tier,
                codec,
                band,
                quality,
                fps,
            } => format!(
                "{tier:?}-{codec:?}-{band:?}-{}-{}",
                quality.code(),
                fps.token()
            ),
            Self::AudioOnly(tier) => format!("{tier:?}-AudioOnly"),
            Self::FrameCapture(tier) => format!("{tier:?}-FrameCapture"),
        }
    }

    /// Reads a class from the tokens of an offer file's usage type or a snapshot key. AWS
    /// writes usage types as `<region>-<B|P>-<codec>-<SD|HD|4K>-<S|SHQ|MHQ>-<30|60|120>`
    /// (`IAD-P-AVC-HD-MHQ-60`, `DUB-B-AVC-SD-SHQ-30`; `AUD` for audio-only); snapshot keys
    /// spell the same out (`Professional-HEVC-UHD-MHQ-60fps`). The region prefix and unknown
    /// tokens are ignored; a usage type naming two tiers, codecs, bands, qualities or rates,
    /// or a band or quality Vodkit never makes (8K, VP8/VP9 multi-pass), is refused (`None`).
    pub fn parse(usage_type: &str) -> Option<Self> {
        fn set<T: PartialEq + Copy>(slot: &mut Option<T>, v: T) -> Result<(), ()> {
            match slot {
                Some(old) if *old != v => Err(()),
                _ => {
                    *slot = Some(v);
                    Ok(())
                }
            }
        }
        #[derive(Clone, Copy, PartialEq)]
        enum Kind {
            Video(BilledCodec),
            Audio,
            Capture,
        }
        let (mut tier, mut kind, mut band, mut quality, mut fps) = (None, None, None, None, None);
        for token in usage_type
            .split(['-', ':', ' '])
            .map(str::to_ascii_lowercase)
        {
            let r = match token.as_str() {
                "b" | "basic" => set(&mut tier, Tier::Basic),
                "p" | "professional" | "pro" => set(&mut tier, Tier::Professional),
                "avc" | "h264" => set(&mut kind, Kind::Video(BilledCodec::AVC)),
                "hevc" | "h265" => set(&mut kind, Kind::Video(BilledCodec::HEVC)),
                "av1" => set(&mut kind, Kind::Video(BilledCodec::AV1)),
                "aud" | "audioonly" | "audio" => set(&mut kind, Kind::Audio),
                "framecapture" | "capture" => set(&mut kind, Kind::Capture),
                "sd" => set(&mut band, Band::SD),
                "hd" => set(&mut band, Band::HD),
                "uhd" | "4k" => set(&mut band, Band::UHD),
                "s" => set(&mut quality, Quality::SinglePass),
                "shq" => set(&mut quality, Quality::SinglePassHq),
                "mhq" => set(&mut quality, Quality::MultiPassHq),
                // Not made by Vodkit: the class is not kept.
                "8k" | "m" | "vp8" | "vp9" | "mp2" | "pr" | "avci" | "vc3" | "xavc" | "gif"
                | "pass" => return None,
                t => match t
                    .strip_suffix("fps")
                    .unwrap_or(t)
                    .parse::<u32>()
                    .ok()
                    .filter(|n| [30, 60, 120].contains(n))
                {
                    Some(n) => set(&mut fps, FpsBand::of(f64::from(n))),
                    None => Ok(()),
                },
            };
            r.ok()?;
        }
        let tier = tier?;
        match kind? {
            Kind::Audio => Some(Self::AudioOnly(tier)),
            Kind::Capture => Some(Self::FrameCapture(tier)),
            Kind::Video(codec) => Some(Self::Video {
                tier,
                codec,
                band: band?,
                quality: quality?,
                fps: fps?,
            }),
        }
    }
}

impl PriceClass {
    /// Reads a class from an offer file product's attributes (`tier`, `videoCodec`,
    /// `videoResolution`, `videoQualitySetting`, `videoFrameRate`), when it has them all.
    pub fn from_attributes(attrs: &Value) -> Option<Self> {
        let text = |k: &str| attrs[k].as_str().filter(|v| !v.trim().is_empty());
        let quality = match text("videoQualitySetting")?
            .to_ascii_lowercase()
            .replace([' ', '-'], "")
            .as_str()
        {
            "singlepass" => "S",
            "singlepasshq" => "SHQ",
            "multipasshq" => "MHQ",
            _ => return None,
        };
        // "<=30 fps", ">30 fps and <=60 fps": the band is named by its upper bound; an open
        // ">60 fps" is the band above 60.
        let rate = text("videoFrameRate")?;
        let number_after = |mark: &str| -> Option<u32> {
            let rest = &rate[rate.rfind(mark)? + mark.len()..];
            let digits: String = rest
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        };
        let fps = match (number_after("<="), number_after(">")) {
            (Some(upper), _) => upper,
            (None, Some(lower)) if lower >= 60 => 120,
            (None, Some(lower)) if lower >= 30 => 60,
            _ => return None,
        };
        Self::parse(&format!(
            "{} {} {} {quality} {fps}",
            text("tier")?,
            text("videoCodec")?,
            text("videoResolution")?
        ))
    }
}

impl fmt::Display for PriceClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Video {
                tier,
                codec,
                band,
                quality,
                fps,
            } => {
                let fps = match fps {
                    FpsBand::Up30 => "<=30 fps",
                    FpsBand::Up60 => "<=60 fps",
                    FpsBand::Up120 => ">60 fps",
                };
                let quality = match quality {
                    Quality::SinglePass => "1-pass",
                    Quality::SinglePassHq => "1-pass HQ",
                    Quality::MultiPassHq => "multi-pass HQ",
                };
                write!(f, "{tier:?} {codec:?} {band:?} {quality} {fps}")
            }
            Self::AudioOnly(tier) => write!(f, "{tier:?} audio-only"),
            Self::FrameCapture(tier) => write!(f, "{tier:?} frame capture"),
        }
    }
}

/// One region's prices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionPrices {
    /// USD per output minute, by [`PriceClass::key`].
    pub minute_usd: BTreeMap<String, f64>,
    /// S3 Standard storage, USD per GB-month (first tier), when the S3 offer file was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_standard_gb_month_usd: Option<f64>,
}

impl RegionPrices {
    /// The price of one output minute of `class`.
    pub fn minute(&self, class: &PriceClass) -> Option<f64> {
        self.minute_usd.get(&class.key()).copied()
    }
}

/// A dated set of prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceSnapshot {
    /// The offer file's publication date (what "prices as of" means).
    pub published: String,
    /// Where the prices came from (the offer file's URL or path).
    pub source: String,
    /// Always `USD`.
    pub currency: String,
    /// Prices by region code.
    pub regions: BTreeMap<String, RegionPrices>,
}

/// Why a snapshot could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// The file is not there or unreadable.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not JSON, or not the expected shape.
    #[error("{path}: not a price list offer file or snapshot ({reason})")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The offer file is not MediaConvert's.
    #[error(
        "{path}: an offer file for {found}, not AWSElementalMediaConvert (download {OFFER_URL})"
    )]
    WrongService {
        /// The file.
        path: PathBuf,
        /// Its service code.
        found: String,
    },
    /// Nothing usable in it.
    #[error("{path}: no per-minute on-demand prices for the main regions were found in it")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The offer file prices normalized minutes only (`...-NTM` usage types).
    #[error(
        "{path}: its {rows} MediaConvert prices are per normalized minute (usage types ending in \
         -NTM), and the offer file does not say how many normalized minutes each kind of output \
         minute counts for; Vodkit keeps no snapshot it cannot price jobs with correctly"
    )]
    Normalized {
        /// The file.
        path: PathBuf,
        /// How many such prices it has.
        rows: usize,
    },
    /// Fetching failed.
    #[error("could not download {url}: {reason}; download it yourself and pass --offer-file")]
    Fetch {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

fn read_json(path: &Path) -> Result<Value, PriceError> {
    let text = std::fs::read(path).map_err(|source| PriceError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|e| PriceError::Format {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The first (lowest `beginRange`) USD price per `unit_ok` unit among an on-demand term's
/// dimensions.
fn first_tier_usd(terms: &Value, unit_ok: impl Fn(&str) -> bool) -> Option<f64> {
    let mut best: Option<(f64, f64)> = None;
    for term in terms.as_object()?.values() {
        for dim in term["priceDimensions"].as_object()?.values() {
            let unit = dim["unit"].as_str().unwrap_or_default();
            if !unit_ok(&unit.to_ascii_lowercase()) {
                continue;
            }
            let Some(usd) = dim["pricePerUnit"]["USD"]
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
            else {
                continue;
            };
            let begin = dim["beginRange"]
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0);
            if best.is_none_or(|(b, _)| begin < b) {
                best = Some((begin, usd));
            }
        }
    }
    best.map(|(_, usd)| usd)
}

/// Makes a snapshot from a MediaConvert offer file, and S3 regional offer files when given.
pub fn snapshot_from_offer(
    offer_path: &Path,
    s3_offers: &[PathBuf],
) -> Result<PriceSnapshot, PriceError> {
    let offer = read_json(offer_path)?;
    let format = |reason: &str| PriceError::Format {
        path: offer_path.to_owned(),
        reason: reason.to_owned(),
    };
    let code = offer["offerCode"]
        .as_str()
        .ok_or_else(|| format("no offerCode"))?;
    if code != "AWSElementalMediaConvert" {
        return Err(PriceError::WrongService {
            path: offer_path.to_owned(),
            found: code.to_owned(),
        });
    }
    let products = offer["products"]
        .as_object()
        .ok_or_else(|| format("no products"))?;
    let on_demand = &offer["terms"]["OnDemand"];
    let mut regions: BTreeMap<String, RegionPrices> = BTreeMap::new();
    let mut normalized_rows = 0usize;
    for (sku, product) in products {
        let attrs = &product["attributes"];
        let Some(region) = attrs["regionCode"].as_str() else {
            continue;
        };
        if !MAIN_REGIONS.contains(&region) {
            continue;
        }
        if attrs["transcodingResult"]
            .as_str()
            .is_some_and(|r| !r.eq_ignore_ascii_case("success"))
        {
            continue;
        }
        let usage = attrs["usagetype"].as_str().unwrap_or_default();
        let Some(class) = PriceClass::from_attributes(attrs).or_else(|| PriceClass::parse(usage))
        else {
            continue;
        };
        // A price per normalized minute needs the multiplier of each class, which the offer
        // file does not carry: such rows are counted, not used.
        if usage.to_ascii_uppercase().ends_with("-NTM") {
            normalized_rows += 1;
            continue;
        }
        let Some(usd) = first_tier_usd(&on_demand[sku], |u| {
            u.starts_with("min") && !u.contains("normalized")
        }) else {
            continue;
        };
        regions
            .entry(region.to_owned())
            .or_default()
            .minute_usd
            .insert(class.key(), usd);
    }
    if regions.is_empty() && normalized_rows > 0 {
        return Err(PriceError::Normalized {
            path: offer_path.to_owned(),
            rows: normalized_rows,
        });
    }
    if regions.is_empty() {
        return Err(PriceError::Empty {
            path: offer_path.to_owned(),
        });
    }
    for path in s3_offers {
        let s3 = read_json(path)?;
        for (sku, product) in s3["products"].as_object().into_iter().flatten() {
            let attrs = &product["attributes"];
            let standard = attrs["storageClass"].as_str() == Some("General Purpose")
                && attrs["volumeType"].as_str() == Some("Standard");
            let Some(prices) = attrs["regionCode"]
                .as_str()
                .filter(|_| standard)
                .and_then(|r| regions.get_mut(r))
            else {
                continue;
            };
            if let Some(usd) = first_tier_usd(&s3["terms"]["OnDemand"][sku], |u| u == "gb-mo") {
                prices.s3_standard_gb_month_usd = Some(usd);
            }
        }
    }
    Ok(PriceSnapshot {
        published: offer["publicationDate"]
            .as_str()
            .unwrap_or("unknown date")
            .chars()
            .take(10)
            .collect(),
        source: offer_path.display().to_string(),
        currency: "USD".into(),
        regions,
    })
}

/// Where `vodkit cloud prices --refresh` keeps the snapshot: the data folder.
pub fn snapshot_file() -> Option<PathBuf> {
    crate::dirs::data_dir().map(|d| d.join("prices").join("mediaconvert.json"))
}

/// The snapshot estimates use: the data folder's (from `--refresh`), else the one installed
/// with Vodkit (`presets/prices/mediaconvert.json` beside the built-in presets), else none.
pub fn load() -> Option<PriceSnapshot> {
    let candidates = snapshot_file().into_iter().chain(installed_snapshot());
    candidates
        .filter(|p| p.is_file())
        .find_map(|p| read_snapshot(&p).ok())
}

fn installed_snapshot() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let share = exe
        .parent()?
        .parent()?
        .join("share/vodkit/prices/mediaconvert.json");
    Some(share).filter(|p| p.is_file()).or_else(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/prices/mediaconvert.json");
        Some(repo)
    })
}

/// Reads a snapshot written by [`write_snapshot`]. One made before classes were named by
/// quality setting (`...-SinglePass-...`) prices nothing and is refused with what to do.
pub fn read_snapshot(path: &Path) -> Result<PriceSnapshot, PriceError> {
    let v = read_json(path)?;
    let snapshot: PriceSnapshot = serde_json::from_value(v).map_err(|e| PriceError::Format {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let outdated = snapshot.regions.values().any(|r| {
        r.minute_usd
            .keys()
            .any(|k| k.contains("-SinglePass-") || k.contains("-MultiPass-"))
    });
    if outdated {
        return Err(PriceError::Format {
            path: path.to_owned(),
            reason: "made by an earlier Vodkit, with other class names; run `vodkit cloud prices --refresh`".to_owned(),
        });
    }
    Ok(snapshot)
}

/// Writes a snapshot (atomically: a reader never sees half a file).
pub fn write_snapshot(snapshot: &PriceSnapshot, path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.part");
    let text = serde_json::to_string_pretty(snapshot).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, path)
}

/// Downloads `url` to `to` with curl (the offer file is public; no credentials).
pub fn fetch(url: &str, to: &Path) -> Result<(), PriceError> {
    let fail = |reason: String| PriceError::Fetch {
        url: url.to_owned(),
        reason,
    };
    let status = std::process::Command::new("curl")
        .args([
            "--fail",
            "--silent",
            "--show-error",
            "--location",
            "--max-time",
            "300",
            "-o",
        ])
        .arg(to)
        .arg(url)
        .status()
        .map_err(|e| fail(format!("curl could not run ({e})")))?;
    if status.success() {
        Ok(())
    } else {
        Err(fail(format!("curl {status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_types_read_as_classes() {
        // AWS's usage types: <region>-<B|P>-<codec>-<SD|HD|4K>-<S|SHQ|MHQ>-<fps>.
        let c = PriceClass::parse("PDX-P-HEVC-4K-MHQ-60");
        assert_eq!(
            c,
            Some(PriceClass::Video {
                tier: Tier::Professional,
                codec: BilledCodec::HEVC,
                band: Band::UHD,
                quality: Quality::MultiPassHq,
                fps: FpsBand::Up60
            })
        );
        assert_eq!(
            c.map(|c| c.key()).as_deref(),
            Some("Professional-HEVC-UHD-MHQ-60fps")
        );
        assert_eq!(
            PriceClass::parse("DUB-B-AVC-SD-SHQ-30").map(|c| c.key()),
            Some("Basic-AVC-SD-SHQ-30fps".into())
        );
        assert_eq!(
            PriceClass::parse("IAD-B-AVC-HD-S-30").map(|c| c.key()),
            Some("Basic-AVC-HD-S-30fps".into())
        );
        assert_eq!(
            PriceClass::parse("NRT-P-AUD"),
            Some(PriceClass::AudioOnly(Tier::Professional))
        );
        // Ambiguous, incomplete or never-made classes are not guessed at.
        assert_eq!(PriceClass::parse("IAD-B-P-AUD"), None);
        assert_eq!(PriceClass::parse("IAD-P-AVC-HD-60"), None, "no quality");
        assert_eq!(PriceClass::parse("IAD-P-AVC-8K-MHQ-60"), None);
        assert_eq!(PriceClass::parse("GRU-P-VP9-HD-M-60"), None);
        assert_eq!(PriceClass::parse("SYD-DOLBY_VIS-HD-NTM"), None);
        assert_eq!(PriceClass::parse("USE1-DataTransfer-Out-Bytes"), None);
        // Every key parses back to its class.
        for c in [
            PriceClass::AudioOnly(Tier::Basic),
            PriceClass::FrameCapture(Tier::Professional),
            PriceClass::Video {
                tier: Tier::Basic,
                codec: BilledCodec::AV1,
                band: Band::SD,
                quality: Quality::SinglePassHq,
                fps: FpsBand::Up120,
            },
        ] {
            assert_eq!(PriceClass::parse(&c.key()), Some(c));
        }
    }

    #[test]
    fn attributes_read_as_classes() {
        let attrs = serde_json::json!({
            "tier": "Professional",
            "videoCodec": "AVC",
            "videoResolution": "HD",
            "videoQualitySetting": "Multi-pass HQ",
            "videoFrameRate": ">30 fps and <=60 fps",
        });
        assert_eq!(
            PriceClass::from_attributes(&attrs)
                .map(|c| c.key())
                .as_deref(),
            Some("Professional-AVC-HD-MHQ-60fps")
        );
        let open_band = serde_json::json!({
            "tier": "Professional", "videoCodec": "HEVC", "videoResolution": "4K",
            "videoQualitySetting": "Single-pass", "videoFrameRate": ">60 fps",
        });
        assert_eq!(
            PriceClass::from_attributes(&open_band)
                .map(|c| c.key())
                .as_deref(),
            Some("Professional-HEVC-UHD-S-120fps")
        );
        let attrs = serde_json::json!({
            "tier": "Basic", "videoCodec": "AVC", "videoResolution": "SD",
            "videoQualitySetting": "Single-pass HQ", "videoFrameRate": "<=30 fps",
        });
        assert_eq!(
            PriceClass::from_attributes(&attrs)
                .map(|c| c.key())
                .as_deref(),
            Some("Basic-AVC-SD-SHQ-30fps")
        );
        assert_eq!(
            PriceClass::from_attributes(&serde_json::json!({ "tier": "Basic" })),
            None
        );
    }

    #[test]
    fn bands_follow_the_smaller_side_and_the_rate() {
        assert_eq!(Band::of(640, 360), Band::SD);
        assert_eq!(Band::of(960, 540), Band::SD);
        assert_eq!(Band::of(1280, 534), Band::HD);
        assert_eq!(Band::of(1280, 720), Band::HD);
        assert_eq!(Band::of(2560, 1072), Band::UHD);
        assert_eq!(Band::of(1080, 1920), Band::HD);
        assert_eq!(Band::of(2560, 1440), Band::UHD);
        assert_eq!(FpsBand::of(30000.0 / 1001.0), FpsBand::Up30);
        assert_eq!(FpsBand::of(30.0), FpsBand::Up30);
        assert_eq!(FpsBand::of(60000.0 / 1001.0), FpsBand::Up60);
        assert_eq!(FpsBand::of(120.0), FpsBand::Up120);
    }
}

#[cfg(test)]
mod offer_tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    #[test]
    fn a_snapshot_is_made_from_the_offer_file() {
        let snap = snapshot_from_offer(
            &fixture("mediaconvert-offer-excerpt.json"),
            &[fixture("s3-offer-excerpt.json")],
        )
        .expect("the excerpt reads");
        assert_eq!(snap.published, "2026-11-01");
        assert_eq!(snap.currency, "USD");
        // Only the main regions are kept.
        let regions: Vec<&str> = snap.regions.keys().map(String::as_str).collect();
        assert_eq!(regions, ["eu-west-1", "us-east-1"]);
        let use1 = &snap.regions["us-east-1"];
        let hevc = PriceClass::parse("Professional-HEVC-UHD-MHQ-60fps").expect("class");
        assert_eq!(use1.minute(&hevc), Some(0.03 * 2.0 * 2.0 * 2.0 * 2.0));
        assert_eq!(
            use1.minute_usd.get("Basic-AVC-SD-SHQ-30fps").copied(),
            Some(0.0075)
        );
        // Speed-optimised single pass is its own class, read from the usage type alone.
        assert_eq!(
            use1.minute_usd.get("Basic-AVC-SD-S-30fps").copied(),
            Some(0.006)
        );
        // Neither a normalized-minute rate nor a failed transcode's is an output-minute price.
        assert_eq!(
            use1.minute_usd
                .get("Professional-AVC-HD-MHQ-60fps")
                .copied(),
            Some(0.12)
        );
        assert!(!use1.minute_usd.contains_key("Basic-AVC-HD-S-60fps"));
        // A volume-tiered price keeps its first (highest) rate.
        assert_eq!(
            use1.minute_usd
                .get("Professional-AVC-HD-SHQ-120fps")
                .copied(),
            Some(0.12)
        );
        // A price per hour of an add-on is not a minute price.
        assert!(use1.minute_usd.keys().all(|k| !k.contains("Dolby")));
        // S3 Standard, first tier; Infrequent Access is not Standard.
        assert_eq!(use1.s3_standard_gb_month_usd, Some(0.023));
        assert_eq!(
            snap.regions["eu-west-1"].s3_standard_gb_month_usd,
            Some(0.024)
        );
        // It survives a round trip through its file.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("prices/mediaconvert.json");
        write_snapshot(&snap, &path).expect("written");
        assert_eq!(read_snapshot(&path).expect("read back"), snap);
    }

    #[test]
    fn a_snapshot_of_the_old_class_names_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mediaconvert.json");
        let mut old = snapshot_from_offer(&fixture("mediaconvert-offer-excerpt.json"), &[])
            .expect("snapshot");
        old.regions.values_mut().for_each(|r| {
            r.minute_usd
                .insert("Basic-AVC-SD-SinglePass-30fps".into(), 0.0075);
        });
        write_snapshot(&old, &path).expect("write");
        let e = read_snapshot(&path).expect_err("outdated");
        assert!(e.to_string().contains("--refresh"), "{e}");
    }

    #[test]
    fn other_files_are_refused_by_name() {
        let s3 = fixture("s3-offer-excerpt.json");
        let e = snapshot_from_offer(&s3, &[]).expect_err("not MediaConvert");
        assert!(e.to_string().contains("AmazonS3"), "{e}");
        assert!(e.to_string().contains("s3-offer-excerpt.json"), "{e}");
        let e = snapshot_from_offer(&fixture("catalog-v1.sql"), &[]).expect_err("not JSON");
        assert!(e.to_string().contains("not a price list offer file"), "{e}");
    }

    #[test]
    fn an_offer_of_normalized_minutes_only_is_refused_with_the_reason() {
        let mut offer: Value = serde_json::from_slice(
            &std::fs::read(fixture("mediaconvert-offer-excerpt.json")).expect("fixture"),
        )
        .expect("json");
        for product in offer["products"]
            .as_object_mut()
            .expect("products")
            .values_mut()
        {
            let usage = product["attributes"]["usagetype"]
                .as_str()
                .unwrap_or_default();
            product["attributes"]["usagetype"] = Value::String(format!("{usage}-NTM"));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ntm.json");
        std::fs::write(&path, offer.to_string()).expect("write");
        let e = snapshot_from_offer(&path, &[]).expect_err("no output-minute prices");
        assert!(matches!(e, PriceError::Normalized { .. }), "{e}");
        assert!(e.to_string().contains("normalized minute"), "{e}");
    }
}
