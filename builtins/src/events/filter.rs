//! Which events a subscriber wants (`filters` of `GET /events`), with
//! dockerd 1.12's rules: values of one key are alternatives, keys must all
//! match.

use std::collections::BTreeMap;

use super::Event;

/// Filter keys `GET /events` accepts.
const KEYS: [&str; 7] = ["container", "event", "image", "label", "type", "volume", "network"];

/// A validated filter set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    filters: BTreeMap<String, Vec<String>>,
}

impl EventFilter {
    /// Validates keys; an unknown one is the client's error.
    pub fn new(filters: BTreeMap<String, Vec<String>>) -> Result<Self, String> {
        if let Some(bad) = filters.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("Invalid filter '{bad}'"));
        }
        Ok(Self { filters })
    }

    /// True when `event` passes every filter.
    pub fn matches(&self, event: &Event) -> bool {
        self.filters.iter().all(|(key, values)| values.is_empty() || values.iter().any(|v| matches_one(key, v, event)))
    }
}

fn matches_one(key: &str, value: &str, ev: &Event) -> bool {
    let attr = |name: &str| ev.actor.attributes.get(name).map(String::as_str);
    match key {
        "event" => ev.action == value || ev.status == value,
        "type" => ev.typ == value,
        "container" => {
            ev.typ == "container"
                && ((!value.is_empty() && ev.actor.id.starts_with(value)) || attr("name") == Some(value))
        }
        "image" => {
            let candidates = [
                Some(ev.from.as_str()),
                attr("image"),
                (ev.typ == "image").then_some(ev.actor.id.as_str()),
                (ev.typ == "image").then(|| attr("name")).flatten(),
            ];
            candidates.into_iter().flatten().any(|c| same_image(c, value))
        }
        "label" => match value.split_once('=') {
            Some((k, v)) => attr(k) == Some(v),
            None => attr(value).is_some(),
        },
        "volume" => ev.typ == "volume" && ev.actor.id == value,
        "network" => ev.typ == "network" && (ev.actor.id.starts_with(value) || attr("name") == Some(value)),
        _ => false,
    }
}

/// `busybox` names `busybox:latest`.
fn same_image(candidate: &str, wanted: &str) -> bool {
    let with_latest = |s: &str| {
        let last = s.rsplit('/').next().unwrap_or(s);
        if last.contains(':') || s.contains('@') { s.to_string() } else { format!("{s}:latest") }
    };
    !candidate.is_empty() && (candidate == wanted || with_latest(candidate) == with_latest(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Actor, Event};

    fn container_event(action: &str) -> Event {
        let mut attributes = BTreeMap::new();
        attributes.insert("name".to_string(), "web".to_string());
        attributes.insert("image".to_string(), "busybox".to_string());
        attributes.insert("com.example.tier".to_string(), "front".to_string());
        Event {
            status: action.into(),
            id: "abcdef123456".into(),
            from: "busybox".into(),
            typ: "container".into(),
            action: action.into(),
            actor: Actor { id: "abcdef123456".into(), attributes },
            time: 1,
            time_nano: 1_000_000_000,
        }
    }

    fn filter(json: &str) -> EventFilter {
        EventFilter::new(serde_json::from_str(json).unwrap()).unwrap()
    }

    #[test]
    fn keys_and_values() {
        let ev = container_event("die");
        assert!(filter("{}").matches(&ev));
        assert!(filter(r#"{"container":["abc"],"type":["container"]}"#).matches(&ev));
        assert!(filter(r#"{"container":["web"]}"#).matches(&ev));
        assert!(!filter(r#"{"container":["other"]}"#).matches(&ev));
        assert!(filter(r#"{"event":["start","die"]}"#).matches(&ev));
        assert!(!filter(r#"{"event":["start"]}"#).matches(&ev));
        assert!(filter(r#"{"image":["busybox:latest"]}"#).matches(&ev));
        assert!(!filter(r#"{"image":["alpine"]}"#).matches(&ev));
        assert!(filter(r#"{"label":["com.example.tier=front"]}"#).matches(&ev));
        assert!(filter(r#"{"label":["com.example.tier"]}"#).matches(&ev));
        assert!(!filter(r#"{"label":["com.example.tier=back"]}"#).matches(&ev));
        assert!(!filter(r#"{"type":["image"]}"#).matches(&ev));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert_eq!(
            EventFilter::new(serde_json::from_str(r#"{"colour":["red"]}"#).unwrap()).unwrap_err(),
            "Invalid filter 'colour'"
        );
    }
}
