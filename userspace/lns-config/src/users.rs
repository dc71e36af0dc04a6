//! The `users` file (`/etc/l2tpns/users`, reference §2 "Other config files"): `user:password`
//! lines for the management interface; the user `enable` sets the enable password.
//!
//! Passwords are checked as the original's libcli does (`pass_matches`): a password starting
//! with `{crypt}` (any case) is the crypt(3) string that follows, one starting with `$1$` is
//! MD5-crypt, anything else is plain text. Every comparison is constant-time.
//!
//! The original uses this file only for its telnet CLI, never for PPP: PAP and CHAP always go to
//! RADIUS. [`Users::verify_chap`] is a local CHAP-MD5 check, which needs the plain secret
//! ([`Users::chap_secret`]); for hashed entries none exists, so CHAP always fails for those users
//! and a daemon authenticating locally must offer them PAP.
//!
//! Deviations: `$5$`/`$6$` (SHA-crypt) without `{crypt}` are taken as hashes too (the original
//! would compare them as plain text); a line without `:` or a malformed hash is an error (the
//! original skips it, which silently locks the user out); a user listed twice is an error.

use std::collections::HashMap;
use std::fmt;

use subtle::ConstantTimeEq;

/// The default location.
pub const DEFAULT_PATH: &str = "/etc/l2tpns/users";

/// How a password is stored.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Plain(String),
    /// A crypt(3) string: `$1$…` MD5-crypt, `$5$…`/`$6$…` SHA-crypt, or 13-character DES.
    Crypt(String),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(_) => write!(f, "Plain(…)"),
            Self::Crypt(_) => write!(f, "Crypt(…)"),
        }
    }
}

impl Secret {
    /// Whether `password` matches, in constant time for a given stored secret.
    pub fn matches(&self, password: &str) -> bool {
        match self {
            Self::Plain(p) => ct_eq_str(p, password),
            Self::Crypt(h) => crypt_verify(h, password),
        }
    }
}

/// Constant-time string equality: the lengths are compared without an early exit too.
fn ct_eq_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len().max(b.len());
    let mut eq = (a.len() as u64).ct_eq(&(b.len() as u64));
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        eq &= x.ct_eq(&y);
    }
    eq.into()
}

/// pwhash's `verify` functions compare the computed hash in constant time.
fn crypt_verify(hash: &str, password: &str) -> bool {
    if hash.starts_with("$1$") {
        pwhash::md5_crypt::verify(password, hash)
    } else if hash.starts_with("$5$") {
        pwhash::sha256_crypt::verify(password, hash)
    } else if hash.starts_with("$6$") {
        pwhash::sha512_crypt::verify(password, hash)
    } else {
        pwhash::unix_crypt::verify(password, hash)
    }
}

/// The CHAP-MD5 response value (RFC 1994 §4.1).
pub fn chap_md5(identifier: u8, secret: &[u8], challenge: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update([identifier]);
    h.update(secret);
    h.update(challenge);
    h.finalize().into()
}

fn is_crypt_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '/'
}

/// Checks the shape of a crypt string, so a mangled hash is reported instead of locking out.
fn check_crypt(h: &str) -> Result<(), String> {
    let modular = |id: &str, digest_len: usize| -> Result<(), String> {
        let rest = &h[id.len()..];
        let parts: Vec<&str> = rest.split('$').collect();
        let (salt, digest) = match parts.as_slice() {
            [salt, digest] => (*salt, *digest),
            [rounds, salt, digest]
                if id != "$1$"
                    && rounds.strip_prefix("rounds=").is_some_and(|n| {
                        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                    }) =>
            {
                (*salt, *digest)
            }
            _ => return Err(format!("malformed {id} hash (expected {id}SALT$DIGEST)")),
        };
        // Salt and digest use crypt's base-64 alphabet only (pwhash panics on some other bytes).
        if salt.is_empty()
            || salt.len() > 16
            || !salt.chars().all(is_crypt_char)
            || digest.len() != digest_len
            || !digest.chars().all(is_crypt_char)
        {
            return Err(format!(
                "malformed {id} hash (a {digest_len}-character digest after the salt)"
            ));
        }
        Ok(())
    };
    if h.starts_with("$1$") {
        modular("$1$", 22)
    } else if h.starts_with("$5$") {
        modular("$5$", 43)
    } else if h.starts_with("$6$") {
        modular("$6$", 86)
    } else if h.len() == 13 && h.chars().all(is_crypt_char) {
        Ok(())
    } else {
        Err("malformed {crypt} value (13-character DES crypt, or $1$/$5$/$6$ hash)".into())
    }
}

/// The parsed file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Users {
    users: HashMap<String, Secret>,
    enable: Option<Secret>,
}

/// One error in a users file: `file:line: user: reason` (no `user: ` when the line has none).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {}{reason}", if user.is_empty() { String::new() } else { format!("{user}: ") })]
pub struct UsersError {
    pub file: String,
    pub line: usize,
    /// The user name, when the line has one.
    pub user: String,
    pub reason: String,
}

/// A well-formed hash that matches no password, checked for unknown users so that the time
/// taken does not tell whether a user exists.
const DUMMY: &str = "$1$l2tpns..$gnLPQuVRgy2sHmYV2NuE.0";

impl Users {
    /// Parses a users file; `file` names it in errors. Every bad line is reported.
    pub fn parse(file: &str, text: &str) -> Result<Self, Vec<UsersError>> {
        let mut users = Users::default();
        let mut lines: HashMap<String, usize> = HashMap::new();
        let mut errors = Vec::new();
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let l = raw.strip_suffix('\r').unwrap_or(raw);
            if l.trim().is_empty() || l.trim_start().starts_with('#') {
                continue;
            }
            let mut err = |user: &str, reason: String| {
                errors.push(UsersError {
                    file: file.into(),
                    line,
                    user: user.into(),
                    reason,
                })
            };
            let Some((user, pass)) = l.split_once(':') else {
                err("", "expected user:password".into());
                continue;
            };
            if user.is_empty() || user.chars().any(|c| c.is_whitespace() || c.is_control()) {
                err(user, "user names may not be empty or contain blanks".into());
                continue;
            }
            let secret = if pass
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("{crypt}"))
            {
                Secret::Crypt(pass[7..].to_string())
            } else if ["$1$", "$5$", "$6$"].iter().any(|p| pass.starts_with(p)) {
                Secret::Crypt(pass.to_string())
            } else {
                Secret::Plain(pass.to_string())
            };
            if let Secret::Crypt(h) = &secret {
                if let Err(e) = check_crypt(h) {
                    err(user, e);
                    continue;
                }
            }
            if let Some(first) = lines.insert(user.to_string(), line) {
                err(user, format!("listed twice (first on line {first})"));
                continue;
            }
            if user == "enable" {
                users.enable = Some(secret);
            } else {
                users.users.insert(user.to_string(), secret);
            }
        }
        if errors.is_empty() {
            Ok(users)
        } else {
            Err(errors)
        }
    }

    /// Whether `user` exists and `password` is theirs.
    pub fn verify(&self, user: &str, password: &str) -> bool {
        match self.users.get(user) {
            Some(s) => s.matches(password),
            None => {
                let _ = crypt_verify(DUMMY, password);
                false
            }
        }
    }

    /// Whether `password` is the enable password (there is none if no `enable` line).
    pub fn verify_enable(&self, password: &str) -> bool {
        self.enable.as_ref().is_some_and(|s| s.matches(password))
    }

    /// The plain secret for a local CHAP check; `None` for unknown users and hashed entries,
    /// since CHAP (RFC 1994 §4.1) needs the secret itself.
    pub fn chap_secret(&self, user: &str) -> Option<&[u8]> {
        match self.users.get(user)? {
            Secret::Plain(p) => Some(p.as_bytes()),
            Secret::Crypt(_) => None,
        }
    }

    /// The user names (`enable` excluded), in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    /// Checks a CHAP-MD5 response (RFC 1994 §4.1: MD5 over identifier, secret, challenge)
    /// against the user's plain secret, in constant time. False for unknown users and for
    /// hashed entries, which cannot answer CHAP.
    pub fn verify_chap(
        &self,
        user: &str,
        identifier: u8,
        challenge: &[u8],
        response: &[u8],
    ) -> bool {
        let Some(secret) = self.chap_secret(user) else {
            return false;
        };
        chap_md5(identifier, secret, challenge)
            .as_slice()
            .ct_eq(response)
            .into()
    }

    /// How `user`'s password is stored.
    pub fn secret(&self, user: &str) -> Option<&Secret> {
        self.users.get(user)
    }

    /// Number of users (`enable` excluded). With none, the original's CLI is open to anyone;
    /// the daemon must treat an empty file as "no login possible" instead.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn has_enable(&self) -> bool {
        self.enable.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_equality_is_equality() {
        assert!(ct_eq_str("abc", "abc"));
        assert!(ct_eq_str("", ""));
        assert!(!ct_eq_str("abc", "abd"));
        assert!(!ct_eq_str("abc", "abc\0"));
        assert!(!ct_eq_str("abc", "ab"));
    }

    #[test]
    fn dummy_hash_is_well_formed_and_matches_nothing_likely() {
        assert!(check_crypt(DUMMY).is_ok());
        assert!(!crypt_verify(DUMMY, ""));
        assert!(!crypt_verify(DUMMY, "password"));
    }
}
