//! Loading the daemon's three files together, as the original does at start and on SIGHUP:
//! `startup-config`, then `users` and `ip_pool` from the same directory (the original hard-codes
//! `/etc/l2tpns/users` and `/etc/l2tpns/ip_pool`; taking the directory of `-c` gives the same
//! paths for the default and lets tests and `--check-config` point at any directory).
//!
//! Every problem in every file is collected, so one `--check-config` run shows them all, each
//! naming file, line and key or entry.

use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::config::{self, Loaded};
use crate::ip_pool::{IpPool, PoolFile};
use crate::users::Users;

/// File name of the users file, beside the startup-config.
pub const USERS_FILE: &str = "users";
/// File name of the pool file, beside the startup-config.
pub const IP_POOL_FILE: &str = "ip_pool";

/// Everything read from the configuration directory.
#[derive(Debug, Clone)]
pub struct Startup {
    pub config_path: PathBuf,
    pub loaded: Loaded,
    pub users: Users,
    pub pool_file: PoolFile,
    /// The pool for this server's bind addresses.
    pub pool: IpPool,
    /// Things worth a warning that do not stop the daemon (a missing optional file).
    pub warnings: Vec<String>,
}

/// One problem found while loading; `Display` gives `file:line: key: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupError(pub String);

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

/// All problems found (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupErrors(pub Vec<StartupError>);

impl fmt::Display for StartupErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        oplog::write_lines(f, &self.0)
    }
}

impl std::error::Error for StartupErrors {}

/// The path of a file beside `config_path`.
pub fn sibling(config_path: &Path, name: &str) -> PathBuf {
    config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join(name)
}

/// Reads `path` if it exists: `Ok(None)` when it does not.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StartupError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StartupError(format!("{}: {e}", path.display()))),
    }
}

/// Loads the startup-config at `config_path` and the users and ip_pool files beside it.
/// `hostname_override` is the `-h` option, which wins over `set hostname`.
/// The startup-config must exist; a missing `users` or `ip_pool` is a warning (the original
/// runs without them: no management users, addresses only from RADIUS).
pub fn load(config_path: &Path, hostname_override: Option<&str>) -> Result<Startup, StartupErrors> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let shown = config_path.display().to_string();

    let loaded = match std::fs::read(config_path) {
        Ok(bytes) => match config::parse_bytes(&shown, &bytes) {
            Ok(l) => Some(l),
            Err(e) => {
                errors.extend(e.0.iter().map(|e| StartupError(e.to_string())));
                None
            }
        },
        Err(e) => {
            errors.push(StartupError(format!("{shown}: {e}")));
            None
        }
    };

    let users_path = sibling(config_path, USERS_FILE);
    let users = match read_optional(&users_path) {
        Ok(Some(bytes)) => {
            let name = users_path.display().to_string();
            match std::str::from_utf8(&bytes) {
                Ok(text) => match Users::parse(&name, text) {
                    Ok(u) => u,
                    Err(es) => {
                        errors.extend(es.iter().map(|e| StartupError(e.to_string())));
                        Users::default()
                    }
                },
                Err(e) => {
                    errors.push(StartupError(format!("{name}: not UTF-8 text: {e}")));
                    Users::default()
                }
            }
        }
        Ok(None) => {
            warnings.push(format!(
                "{}: no such file; no management users",
                users_path.display()
            ));
            Users::default()
        }
        Err(e) => {
            errors.push(e);
            Users::default()
        }
    };

    let pool_path = sibling(config_path, IP_POOL_FILE);
    let pool_name = pool_path.display().to_string();
    let pool_file = match read_optional(&pool_path) {
        Ok(Some(bytes)) => match std::str::from_utf8(&bytes) {
            Ok(text) => match PoolFile::parse(&pool_name, text) {
                Ok(p) => p,
                Err(es) => {
                    errors.extend(es.iter().map(|e| StartupError(e.to_string())));
                    PoolFile::default()
                }
            },
            Err(e) => {
                errors.push(StartupError(format!("{pool_name}: not UTF-8 text: {e}")));
                PoolFile::default()
            }
        },
        Ok(None) => {
            warnings.push(format!(
                "{pool_name}: no such file; addresses only from RADIUS Framed-IP-Address"
            ));
            PoolFile::default()
        }
        Err(e) => {
            errors.push(e);
            PoolFile::default()
        }
    };

    let Some(mut loaded) = loaded else {
        return Err(StartupErrors(errors));
    };
    if let Some(h) = hostname_override {
        loaded.config.settings.hostname = Some(h.to_string());
    }
    let local: Vec<Ipv4Addr> = loaded.config.settings.bind_addresses();
    let pool = match pool_file.build_pool(&pool_name, &local) {
        Ok(p) => p,
        Err(e) => {
            errors.push(StartupError(e.to_string()));
            IpPool::default()
        }
    };
    if !errors.is_empty() {
        return Err(StartupErrors(errors));
    }
    Ok(Startup {
        config_path: config_path.to_path_buf(),
        loaded,
        users,
        pool_file,
        pool,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(files: &[(&str, &str)]) -> tempdir::Dir {
        let d = tempdir::Dir::new();
        for (name, text) in files {
            std::fs::write(d.path().join(name), text).unwrap();
        }
        d
    }

    /// A throwaway directory removed on drop (std only; no extra dev-dependency).
    mod tempdir {
        use std::path::{Path, PathBuf};
        use std::sync::atomic::{AtomicUsize, Ordering};

        static N: AtomicUsize = AtomicUsize::new(0);

        pub struct Dir(PathBuf);

        impl Dir {
            pub fn new() -> Self {
                let p = std::env::temp_dir().join(format!(
                    "lns-startup-test-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
            pub fn path(&self) -> &Path {
                &self.0
            }
        }

        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn loads_all_three_files() {
        let d = dir(&[
            (
                "startup-config",
                "set debug 2\nset bind_address 192.0.2.1\n",
            ),
            ("users", "admin:secret\n"),
            (
                "ip_pool",
                "10.0.0.0/30\n192.0.2.1:10.1.0.1\n198.51.100.9:10.2.0.1\n",
            ),
        ]);
        let s = load(&d.path().join("startup-config"), None).unwrap();
        assert_eq!(s.loaded.config.settings.debug, 2);
        assert!(s.users.verify("admin", "secret"));
        // 10.0.0.1, 10.0.0.2 (.0 and .3 are kept: only .0/.255 are skipped) + the bound line.
        assert!(s.pool.contains(Ipv4Addr::new(10, 1, 0, 1)));
        assert!(!s.pool.contains(Ipv4Addr::new(10, 2, 0, 1)));
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn every_error_of_every_file_is_reported_with_file_and_line() {
        let d = dir(&[
            ("startup-config", "set debug 9\nset no_such_key 1\n"),
            ("users", "no-colon-here\n"),
            ("ip_pool", "10.0.0.300\n"),
        ]);
        let cfg = d.path().join("startup-config");
        let e = load(&cfg, None).unwrap_err();
        let text = e.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with(&format!("{}:1: debug:", cfg.display())));
        assert!(lines[1].starts_with(&format!("{}:2: no_such_key:", cfg.display())));
        assert!(lines[2].contains("users:1:"), "{}", lines[2]);
        assert!(lines[3].contains("ip_pool:1: 10.0.0.300:"), "{}", lines[3]);
    }

    #[test]
    fn missing_config_is_an_error_missing_optional_files_are_warnings() {
        let d = dir(&[]);
        let e = load(&d.path().join("startup-config"), None).unwrap_err();
        assert!(e.to_string().contains("startup-config"));

        let d = dir(&[("startup-config", "")]);
        let s = load(&d.path().join("startup-config"), Some("lns1")).unwrap();
        assert_eq!(s.warnings.len(), 2);
        assert!(s.pool.is_empty());
        assert_eq!(s.loaded.config.settings.hostname.as_deref(), Some("lns1"));
    }

    #[test]
    fn sibling_of_a_bare_file_name_is_in_the_current_directory() {
        assert_eq!(
            sibling(Path::new("startup-config"), "users"),
            Path::new("./users")
        );
        assert_eq!(
            sibling(Path::new("/etc/l2tpns/startup-config"), "ip_pool"),
            Path::new("/etc/l2tpns/ip_pool")
        );
    }
}
