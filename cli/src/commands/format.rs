//! Output helpers shared by the listing commands: Go's `tabwriter` column
//! layout, `go-units`' human durations, and ID/text truncation, so tables
//! line up the way the docker CLI's do.

use std::time::{SystemTime, UNIX_EPOCH};

/// Lays rows out like Go's `tabwriter.NewWriter(w, minwidth, 1, padding, ' ', 0)`
/// with every cell but the last of a row tab-terminated: each column is as
/// wide as its widest cell plus `padding`, at least `minwidth`; the last
/// cell is not padded.
pub fn table(rows: &[Vec<String>], minwidth: usize, padding: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (n, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            widths[n] = widths[n].max((cell.chars().count() + padding).max(minwidth));
        }
    }
    let mut out = String::new();
    for row in rows {
        for (n, cell) in row.iter().enumerate() {
            if n + 1 == row.len() {
                out.push_str(cell);
            } else {
                let pad = widths[n] - cell.chars().count();
                out.push_str(cell);
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// The CLI's tables: `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
pub fn cli_table(rows: &[Vec<String>]) -> String {
    table(rows, 10, 3)
}

/// `units.HumanDuration` of `go-units`.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let minutes = secs / 60;
    let hours = (secs as f64 / 3600.0).round() as i64;
    match secs {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", secs / 3600 / 24 / 365),
    }
}

/// `<duration> ago` for a Unix time.
pub fn since(unix: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    format!("{} ago", human_duration(now - unix))
}

/// `stringid.TruncateID`: the 12 first hex digits, without `sha256:`.
pub fn short_id(id: &str) -> String {
    let id = id.split_once(':').map_or(id, |(_, hex)| hex);
    id.chars().take(12).collect()
}

/// Cuts `text` to `max` characters, the last one an ellipsis.
pub fn ellipsis(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Splits `repo:tag` at the last `:` that is not part of a registry host.
pub fn split_repo_tag(name: &str) -> (&str, &str) {
    match name.rfind(':') {
        Some(i) if !name[i + 1..].contains('/') => (&name[..i], &name[i + 1..]),
        _ => (name, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_pad_like_tabwriter() {
        let rows = vec![row(&["REPOSITORY", "TAG", "SIZE"]), row(&["busybox", "latest", "4.26MB"])];
        assert_eq!(cli_table(&rows), "REPOSITORY   TAG       SIZE\nbusybox      latest    4.26MB\n");
        assert_eq!(table(&[row(&["a", "b"])], 0, 3), "a   b\n");
        assert_eq!(table(&[], 10, 3), "");
    }

    #[test]
    fn durations_read_like_go_units() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(60), "About a minute");
        assert_eq!(human_duration(45 * 60), "45 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(5 * 3600), "5 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
        assert_eq!(human_duration(20 * 86400), "2 weeks");
        assert_eq!(human_duration(90 * 86400), "3 months");
        assert_eq!(human_duration(3 * 365 * 86400), "3 years");
    }

    #[test]
    fn ids_and_text_are_cut() {
        assert_eq!(short_id("sha256:0123456789abcdef0123"), "0123456789ab");
        assert_eq!(short_id("0123456789abcdef"), "0123456789ab");
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(ellipsis("abc", 4), "abc");
        assert_eq!(split_repo_tag("localhost:5000/a:b"), ("localhost:5000/a", "b"));
        assert_eq!(split_repo_tag("localhost:5000/a"), ("localhost:5000/a", ""));
        assert_eq!(split_repo_tag("<none>:<none>"), ("<none>", "<none>"));
    }
}
