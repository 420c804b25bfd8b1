//! Small numeric helpers shared by the core and the front ends: ratios, even sizes, and
//! durations, sizes and bitrates written for people.

/// Reduces a ratio by its greatest common divisor (`1920:1080` -> `16:9`).
pub fn reduce(a: u64, b: u64) -> (u64, u64) {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let g = gcd(a, b).max(1);
    (a / g, b / g)
}

/// The nearest even number of pixels, at least 2 (4:2:0 video needs even sizes).
pub fn even_round(px: f64) -> u32 {
    ((px / 2.0).round() * 2.0).max(2.0) as u32
}

/// The largest even number not above `px`.
pub fn even_floor(px: u32) -> u32 {
    px & !1
}

/// `h:mm:ss` for long durations, `12.3 s` for short ones.
pub fn clock(secs: f64) -> String {
    if secs < 60.0 {
        return format!("{secs:.1} s");
    }
    let total = secs.round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Bytes in binary units with one decimal (`25.3 MiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Bits per second in decimal units (`3.50 Mb/s`, `160 kb/s`).
pub fn human_bitrate(bps: u64) -> String {
    if bps >= 1_000_000 {
        format!("{:.2} Mb/s", bps as f64 / 1e6)
    } else {
        format!("{} kb/s", (bps as f64 / 1e3).round())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_naturally() {
        assert_eq!(clock(11.04), "11.0 s");
        assert_eq!(clock(5400.0), "1:30:00");
        assert_eq!(clock(75.0), "1:15");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(25 * 1024 * 1024 + 300_000), "25.3 MiB");
        assert_eq!(human_bitrate(160_000), "160 kb/s");
        assert_eq!(human_bitrate(3_500_000), "3.50 Mb/s");
    }

    #[test]
    fn sizes_stay_even() {
        assert_eq!(reduce(1920, 1080), (16, 9));
        assert_eq!(even_round(853.3), 854);
        assert_eq!(even_round(0.4), 2);
        assert_eq!(even_floor(1079), 1078);
    }
}

/// Bytes in decimal units (kB, MB, GB), as sizes to fit are written (8 MB, 25 MB).
pub fn decimal_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

/// Parses a time as people write it: seconds (`90`, `12.5`), `m:ss` or `h:mm:ss(.fff)`.
pub fn parse_time(text: &str) -> Result<f64, String> {
    let bad = || format!("'{text}' is not a time; write seconds (90, 12.5) or m:ss / h:mm:ss");
    let mut secs = 0.0;
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.len() > 3 {
        return Err(bad());
    }
    for (i, part) in parts.iter().enumerate() {
        let v: f64 = part.parse().map_err(|_| bad())?;
        if !v.is_finite() || v < 0.0 || (i > 0 && v >= 60.0) {
            return Err(bad());
        }
        secs = secs * 60.0 + v;
    }
    Ok(secs)
}

#[cfg(test)]
mod time_tests {
    use super::parse_time;

    #[test]
    fn times_as_people_write_them() {
        assert_eq!(parse_time("90"), Ok(90.0));
        assert_eq!(parse_time("12.5"), Ok(12.5));
        assert_eq!(parse_time("1:30"), Ok(90.0));
        assert_eq!(parse_time("1:02:03.5"), Ok(3723.5));
        assert!(parse_time("1:75").is_err());
        assert!(parse_time("-3").is_err());
        assert!(parse_time("soon").is_err());
    }
}

/// A moment (seconds since 1970, UTC) as `2026-12-01 06:30 UTC`; `None` for times before 1971
/// (an unset date reads as unknown, never as 1970-01-01).
pub fn date_time(secs: i64) -> Option<String> {
    if secs < 365 * 86_400 {
        return None;
    }
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // Civil date from a day count (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    ))
}

#[cfg(test)]
mod date_tests {
    use super::date_time;

    #[test]
    fn dates_read_as_calendar_dates() {
        assert_eq!(date_time(0), None);
        assert_eq!(
            date_time(951_782_400).as_deref(),
            Some("2000-02-29 00:00 UTC")
        );
        assert_eq!(
            date_time(1_796_107_800).as_deref(),
            Some("2026-12-01 06:50 UTC")
        );
    }
}
