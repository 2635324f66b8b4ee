//! API versions: the level we serve and the range of `/vX.Y/` prefixes we
//! answer.
//!
//! Docker 1.2 spoke v1.14 and had no lower bound. Today's clients refuse
//! anything below 1.24 (docker-py) or 1.21 (compose), so we serve v1.24, the
//! last of Docker 1.x, and accept requests from v1.12 up, as dockerd does.

use std::cmp::Ordering;
use std::fmt;

/// The API level this daemon implements.
pub const API_VERSION: ApiVersion = ApiVersion { major: 1, minor: 24 };
/// The oldest API version answered.
pub const MIN_API_VERSION: ApiVersion = ApiVersion { major: 1, minor: 12 };

/// A `major.minor` API version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApiVersion {
    /// Always 1 in practice.
    pub major: u32,
    /// The interesting part.
    pub minor: u32,
}

impl ApiVersion {
    /// Parses `1.24`. Like Docker, compares dot-separated numbers; extra
    /// components are ignored and a missing minor is 0.
    pub fn parse(s: &str) -> Option<ApiVersion> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
        let mut parts = s.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = match parts.next() {
            Some("") | None => 0,
            Some(m) => m.parse().ok()?,
        };
        Some(ApiVersion { major, minor })
    }

    /// True when this version is at least `other`.
    pub fn at_least(self, other: ApiVersion) -> bool {
        self >= other
    }
}

impl PartialOrd for ApiVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ApiVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor).cmp(&(other.major, other.minor))
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_numerically() {
        let v = |s| ApiVersion::parse(s).unwrap();
        assert!(v("1.9") < v("1.12"));
        assert!(v("1.24") > v("1.12"));
        assert_eq!(v("1"), ApiVersion { major: 1, minor: 0 });
        assert_eq!(v("1.24.3"), API_VERSION);
        assert_eq!(ApiVersion::parse("abc"), None);
        assert_eq!(ApiVersion::parse(""), None);
        assert_eq!(API_VERSION.to_string(), "1.24");
    }
}
