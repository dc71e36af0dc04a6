//! The state file: the virtual services iptoip created and still owns (see `diff` for the rule).
//!
//! Format, one service a line, `#` comments:
//! ```text
//! # iptoip state v1
//! tcp 203.0.113.7 80
//! udp 2001:db8::1 53
//! ```
//! Written atomically (temporary file, fsync, rename, fsync of the directory), so a crash leaves
//! either the old or the new list, never a torn one.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::Path;

use crate::table::{Protocol, ServiceKey};

const HEADER: &str = "# iptoip state v1: virtual services created by iptoip (see iptoip(8))";

/// Parse state text. Err = (line, message).
pub fn parse(text: &str) -> Result<BTreeSet<ServiceKey>, (usize, String)> {
    let mut owned = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [proto, addr, port] = fields[..] else {
            return Err((
                i + 1,
                format!("expected `PROTOCOL ADDRESS PORT`, got {line:?}"),
            ));
        };
        let protocol =
            Protocol::from_name(proto).ok_or((i + 1, format!("unknown protocol {proto:?}")))?;
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| (i + 1, format!("bad address {addr:?}")))?;
        let port: u16 = port
            .parse()
            .map_err(|_| (i + 1, format!("bad port {port:?}")))?;
        owned.insert(ServiceKey {
            protocol,
            addr,
            port,
        });
    }
    Ok(owned)
}

pub fn render(owned: &BTreeSet<ServiceKey>) -> String {
    let mut out = format!("{HEADER}\n");
    for k in owned {
        out.push_str(&format!("{} {} {}\n", k.protocol.name(), k.addr, k.port));
    }
    out
}

/// Load the owned set; a missing file is an empty set (first run).
pub fn load(path: &Path) -> Result<BTreeSet<ServiceKey>, String> {
    match fs::read_to_string(path) {
        Ok(text) => parse(&text).map_err(|(line, msg)| format!("{}:{line}: {msg}", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

pub fn save(path: &Path, owned: &BTreeSet<ServiceKey>) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(render(owned).as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state");
        assert!(load(&path).unwrap().is_empty());
        let owned: BTreeSet<ServiceKey> = [
            ServiceKey {
                protocol: Protocol::Tcp,
                addr: "203.0.113.7".parse().unwrap(),
                port: 80,
            },
            ServiceKey {
                protocol: Protocol::Udp,
                addr: "2001:db8::1".parse().unwrap(),
                port: 53,
            },
        ]
        .into();
        save(&path, &owned).unwrap();
        assert_eq!(load(&path).unwrap(), owned);
        assert!(!dir.path().join("sub/.state.tmp").exists());
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        assert_eq!(
            parse("# x\ntcp 1.2.3.4 80\nsctp 1.2.3.4 80\n")
                .unwrap_err()
                .0,
            3
        );
        assert_eq!(parse("tcp 1.2.3.4\n").unwrap_err().0, 1);
        assert_eq!(parse("tcp 1.2.3.4 99999\n").unwrap_err().0, 1);
    }
}
