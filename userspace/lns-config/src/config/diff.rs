//! What a reload changes: each changed key with when it takes effect, so the daemon can apply
//! the live ones, and warn that the others wait for a restart (e.g. `bind_address`).

use std::fmt;

use super::{keys::KEYS, Apply, Config};

/// One changed key or statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The key, or `load plugin`, `router bgp`, `ip access-list NAME`, `setforward`.
    pub what: String,
    /// Old and new values in startup-config syntax; `None` for secrets.
    pub values: Option<(String, String)>,
    pub apply: Apply,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.values {
            Some((old, new)) => write!(f, "{}: {old} -> {new}", self.what)?,
            None => write!(f, "{}: changed", self.what)?,
        }
        match self.apply {
            Apply::Live => Ok(()),
            Apply::NewSessions => write!(f, " (new sessions only)"),
            Apply::Restart => write!(f, " (needs a restart)"),
        }
    }
}

/// All changes between two configs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigDiff {
    pub changes: Vec<Change>,
}

impl ConfigDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes that only a restart applies.
    pub fn needing_restart(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.apply == Apply::Restart)
    }

    pub fn needs_restart(&self) -> bool {
        self.needing_restart().next().is_some()
    }

    /// Whether `key` changed.
    pub fn changed(&self, key: &str) -> bool {
        self.changes.iter().any(|c| c.what == key)
    }
}

pub(super) fn diff(old: &Config, new: &Config) -> ConfigDiff {
    let mut changes = Vec::new();
    for k in KEYS {
        let (a, b) = (old.settings.render(k.name), new.settings.render(k.name));
        if a != b {
            let values = (!k.secret).then(|| (a.unwrap_or_default(), b.unwrap_or_default()));
            changes.push(Change {
                what: k.name.to_string(),
                values,
                apply: k.apply,
            });
        }
    }
    if old.plugins != new.plugins {
        let v = |c: &Config| c.plugins.join(",");
        changes.push(Change {
            what: "load plugin".into(),
            values: Some((v(old), v(new))),
            apply: Apply::Live,
        });
    }
    if old.bgp != new.bgp {
        changes.push(Change {
            what: "router bgp".into(),
            values: None,
            apply: Apply::Restart,
        });
    }
    let names = old
        .access_lists
        .iter()
        .chain(&new.access_lists)
        .map(|a| &a.name);
    let mut seen: Vec<&String> = Vec::new();
    for name in names {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let find = |c: &'_ Config| c.access_lists.iter().find(|a| &a.name == name).cloned();
        if find(old) != find(new) {
            changes.push(Change {
                what: format!("ip access-list {name}"),
                values: None,
                apply: Apply::Live,
            });
        }
    }
    if old.forwards != new.forwards {
        changes.push(Change {
            what: "setforward".into(),
            values: None,
            apply: Apply::NewSessions,
        });
    }
    ConfigDiff { changes }
}
