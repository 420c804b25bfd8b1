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
        /// Multi-pass (MULTI_PASS_HQ) rather than single-pass.
        multi_pass: bool,
        /// The frame-rate band.
        fps: FpsBand,
    },
    /// An audio-only output.
    AudioOnly(Tier),
    /// A frame-capture (stills) output.
    FrameCapture(Tier),
}

impl PriceClass {
    /// The snapshot's key, e.g. `Professional-HEVC-UHD-MultiPass-60fps`.
    pub fn key(&self) -> String {
        match self {
            Self::Video {
                tier,
                codec,
                band,
                multi_pass,
                fps,
            } => format!(
                "{tier:?}-{codec:?}-{band:?}-{}-{}",
                if *multi_pass {
                    "MultiPass"
                } else {
                    "SinglePass"
                },
                fps.token()
            ),
            Self::AudioOnly(tier) => format!("{tier:?}-AudioOnly"),
            Self::FrameCapture(tier) => format!("{tier:?}-FrameCapture"),
        }
    }

    /// Reads a class from the tokens of an offer file's usage type (or a snapshot key):
    /// `USE1-Professional-HEVC-UHD-MultiPass-60fps`, `EU-Basic-AVC-SD-SinglePass-30fps`,
    /// `USW2-Professional-AudioOnly`... Region prefixes and unknown tokens are ignored; a
    /// usage type naming two tiers, codecs, bands, pass counts or rates is refused (`None`).
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
        let (mut tier, mut kind, mut band, mut passes, mut fps) = (None, None, None, None, None);
        for token in usage_type
            .split(['-', '_', ':', ' '])
            .map(str::to_ascii_lowercase)
        {
            let r = match token.as_str() {
                "basic" => set(&mut tier, Tier::Basic),
                "professional" | "pro" => set(&mut tier, Tier::Professional),
                "avc" | "h264" => set(&mut kind, Kind::Video(BilledCodec::AVC)),
                "hevc" | "h265" => set(&mut kind, Kind::Video(BilledCodec::HEVC)),
                "av1" => set(&mut kind, Kind::Video(BilledCodec::AV1)),
                "audioonly" | "audio" => set(&mut kind, Kind::Audio),
                "framecapture" | "capture" => set(&mut kind, Kind::Capture),
                "sd" => set(&mut band, Band::SD),
                "hd" => set(&mut band, Band::HD),
                "uhd" | "4k" => set(&mut band, Band::UHD),
                "singlepass" | "single" | "1pass" | "sp" => set(&mut passes, false),
                "multipass" | "multipasshq" | "multi" | "2pass" | "mp" => set(&mut passes, true),
                t => match t.strip_suffix("fps").and_then(|n| n.parse::<f64>().ok()) {
                    Some(n) => set(&mut fps, FpsBand::of(n)),
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
                multi_pass: passes?,
                fps: fps?,
            }),
        }
    }
}

impl fmt::Display for PriceClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Video {
                tier,
                codec,
                band,
                multi_pass,
                fps,
            } => {
                let fps = match fps {
                    FpsBand::Up30 => "<=30 fps",
                    FpsBand::Up60 => "<=60 fps",
                    FpsBand::Up120 => ">60 fps",
                };
                let passes = if *multi_pass { "multi-pass" } else { "1-pass" };
                write!(f, "{tier:?} {codec:?} {band:?} {passes} {fps}")
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
    for (sku, product) in products {
        let attrs = &product["attributes"];
        let Some(region) = attrs["regionCode"].as_str() else {
            continue;
        };
        if !MAIN_REGIONS.contains(&region) {
            continue;
        }
        let Some(class) = attrs["usagetype"].as_str().and_then(PriceClass::parse) else {
            continue;
        };
        let Some(usd) = first_tier_usd(&on_demand[sku], |u| u.starts_with("min")) else {
            continue;
        };
        regions
            .entry(region.to_owned())
            .or_default()
            .minute_usd
            .insert(class.key(), usd);
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

/// Reads a snapshot written by [`write_snapshot`].
pub fn read_snapshot(path: &Path) -> Result<PriceSnapshot, PriceError> {
    let v = read_json(path)?;
    serde_json::from_value(v).map_err(|e| PriceError::Format {
        path: path.to_owned(),
        reason: e.to_string(),
    })
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
        let c = PriceClass::parse("USE1-Professional-HEVC-UHD-MultiPass-60fps");
        assert_eq!(
            c,
            Some(PriceClass::Video {
                tier: Tier::Professional,
                codec: BilledCodec::HEVC,
                band: Band::UHD,
                multi_pass: true,
                fps: FpsBand::Up60
            })
        );
        let key = c.map(|c| c.key());
        assert_eq!(
            key.as_deref(),
            Some("Professional-HEVC-UHD-MultiPass-60fps")
        );
        assert_eq!(
            PriceClass::parse("EU-Basic-AVC-SD-SinglePass-30fps").map(|c| c.key()),
            Some("Basic-AVC-SD-SinglePass-30fps".into())
        );
        assert_eq!(
            PriceClass::parse("APN1-Professional-AudioOnly"),
            Some(PriceClass::AudioOnly(Tier::Professional))
        );
        // Ambiguous or incomplete usage types are not guessed at.
        assert_eq!(PriceClass::parse("USE1-Basic-Professional-AudioOnly"), None);
        assert_eq!(PriceClass::parse("USE1-Professional-AVC-HD-30fps"), None);
        assert_eq!(PriceClass::parse("USE1-DataTransfer-Out-Bytes"), None);
        // Every key parses back to its class.
        for c in [
            PriceClass::AudioOnly(Tier::Basic),
            PriceClass::FrameCapture(Tier::Professional),
            PriceClass::Video {
                tier: Tier::Basic,
                codec: BilledCodec::AV1,
                band: Band::SD,
                multi_pass: false,
                fps: FpsBand::Up120,
            },
        ] {
            assert_eq!(PriceClass::parse(&c.key()), Some(c));
        }
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
        let hevc = PriceClass::parse("Professional-HEVC-UHD-MultiPass-60fps").expect("class");
        assert_eq!(use1.minute(&hevc), Some(0.03 * 2.0 * 2.0 * 2.0 * 2.0));
        assert_eq!(
            use1.minute_usd
                .get("Basic-AVC-SD-SinglePass-30fps")
                .copied(),
            Some(0.0075)
        );
        // A volume-tiered price keeps its first (highest) rate.
        assert_eq!(
            use1.minute_usd
                .get("Professional-AVC-HD-SinglePass-120fps")
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
    fn other_files_are_refused_by_name() {
        let s3 = fixture("s3-offer-excerpt.json");
        let e = snapshot_from_offer(&s3, &[]).expect_err("not MediaConvert");
        assert!(e.to_string().contains("AmazonS3"), "{e}");
        assert!(e.to_string().contains("s3-offer-excerpt.json"), "{e}");
        let e = snapshot_from_offer(&fixture("catalog-v1.sql"), &[]).expect_err("not JSON");
        assert!(e.to_string().contains("not a price list offer file"), "{e}");
    }
}
