//! RFC 3339 times as image configs carry them, read and written the way Go
//! does (image inspect's `Created` must read like dockerd's).

/// A point in time as read from an RFC 3339 string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// Unix seconds.
    pub secs: i64,
    /// Nanoseconds.
    pub nanos: u32,
    /// Zone offset in seconds east of UTC.
    pub offset: i32,
}

impl Timestamp {
    /// Go's zero time, which Go writes for an absent `created`.
    pub const GO_ZERO: Timestamp = Timestamp { secs: -62_135_596_800, nanos: 0, offset: 0 };

    /// Now, in UTC.
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp { secs: d.as_secs() as i64, nanos: d.subsec_nanos(), offset: 0 }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let t = s.get(r)?;
            if t.bytes().all(|c| c.is_ascii_digit()) { t.parse().ok() } else { None }
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if b[16] != b':' || !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60
        {
            return None;
        }
        let mut i = 19;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start {
                return None;
            }
            let digits = &s[start..end];
            let mut padded: String = digits.chars().take(9).collect();
            while padded.len() < 9 {
                padded.push('0');
            }
            nanos = padded.parse().ok()?;
            i = end;
        }
        let offset = match s.get(i..)? {
            "Z" | "z" => 0,
            zone if zone.len() == 6 && (zone.starts_with('+') || zone.starts_with('-')) && &zone[3..4] == ":" => {
                let h = num(i + 1..i + 3)?;
                let m = num(i + 4..i + 6)?;
                let v = (h * 3600 + m * 60) as i32;
                if zone.starts_with('-') { -v } else { v }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset as i64;
        Some(Timestamp { secs, nanos, offset })
    }

    /// As Go's `time.Time` marshals: RFC 3339 with nanoseconds, trailing
    /// zeros dropped, `Z` for a zero offset.
    pub fn to_go_string(self) -> String {
        let local = self.secs + self.offset as i64;
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut out = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
        if self.nanos > 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        if self.offset == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let o = self.offset.abs();
            out.push_str(&format!("{sign}{:02}:{:02}", o / 3600, o % 3600 / 60));
        }
        out
    }
}

/// The Go form of an optional RFC 3339 string (Go's zero time when absent
/// or unreadable, as Go would fail or write zero).
pub fn go_time(created: Option<&str>) -> String {
    created.and_then(Timestamp::parse).unwrap_or(Timestamp::GO_ZERO).to_go_string()
}

/// Unix seconds of an optional RFC 3339 string (0 if absent).
pub fn unix_of(created: Option<&str>) -> i64 {
    created.and_then(Timestamp::parse).map_or(0, |t| t.secs)
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_as_go_writes_them() {
        for (input, go) in [
            ("2024-05-01T12:34:56.120000000Z", "2024-05-01T12:34:56.12Z"),
            ("2014-08-21T18:25:42.837475377Z", "2014-08-21T18:25:42.837475377Z"),
            ("2014-08-21T18:25:42+02:00", "2014-08-21T18:25:42+02:00"),
            ("2014-08-21T18:25:42+00:00", "2014-08-21T18:25:42Z"),
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
        ] {
            assert_eq!(Timestamp::parse(input).unwrap().to_go_string(), go);
        }
        assert_eq!(Timestamp::parse("2014-08-21T18:25:42+02:00").unwrap().secs, 1_408_638_342);
        assert_eq!(go_time(None), "0001-01-01T00:00:00Z");
        assert_eq!(Timestamp { secs: 0, nanos: 0, offset: 0 }.to_go_string(), "1970-01-01T00:00:00Z");
        assert!(Timestamp::parse("yesterday").is_none());
        assert_eq!(unix_of(Some("2024-05-06T09:08:09+02:00")), 1_714_979_289);
        assert_eq!(unix_of(Some("2000-02-29T00:00:00Z")), 951_782_400);
        assert_eq!(unix_of(Some("yesterday")), 0);
    }
}
