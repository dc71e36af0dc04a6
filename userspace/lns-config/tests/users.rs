//! The users file in the three formats the original accepts. The hashes below were made with
//! glibc's crypt(3) (Python `crypt.crypt`), independently of the code under test.

use lns_config::users::{Secret, Users};

const MD5: &str = "$1$saltsalt$RwMqRjSWhXMKbW72DwzGd1"; // "s3cret"
const DES: &str = "abhWCwoTZY2c6"; // "s3cret"
const SHA512: &str = "$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnNxjdpl6ksRegrrKexvhIa/Iny8S8uF3fVWTMuC1";
const SHA256: &str = "$5$saltsalt$i1q2ZQzc.tl/BQ6CHiENAcVDvEY6nJ1OWlWXKh94b1.";

fn users() -> Users {
    let text = format!(
        "# List username:password combinations here for cli users\n\
         plain:s3cret\n\
         md5:{MD5}\n\
         des:{{crypt}}{DES}\n\
         desupper:{{CRYPT}}{DES}\n\
         cryptmd5:{{crypt}}{MD5}\n\
         sha512:{{crypt}}{SHA512}\n\
         sha256:{SHA256}\n\
         colon:a:b c\r\n\
         \n\
         enable:{MD5}\n"
    );
    Users::parse("users", &text).unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn every_format_verifies() {
    let u = users();
    for user in [
        "plain", "md5", "des", "desupper", "cryptmd5", "sha512", "sha256",
    ] {
        assert!(u.verify(user, "s3cret"), "{user}");
        assert!(!u.verify(user, "s3creT"), "{user}");
        assert!(!u.verify(user, ""), "{user}");
    }
    assert!(
        u.verify("colon", "a:b c"),
        "the password is everything after the first colon"
    );
    assert!(!u.verify("nobody", "s3cret"));
    assert!(!u.verify("enable", "s3cret"), "enable is not a login user");
    assert!(u.verify_enable("s3cret"));
    assert!(!u.verify_enable("x"));
    assert_eq!(u.len(), 8);
}

#[test]
fn plain_passwords_compare_exactly() {
    let u = users();
    assert!(!u.verify("plain", "s3cret "));
    assert!(!u.verify("plain", "s3cre"));
}

#[test]
fn des_crypt_uses_eight_characters_as_crypt3_does() {
    // crypt("longpassword", "ab") from glibc: only "longpass" counts.
    let u = Users::parse("u", "d:{crypt}abD6HAB6eqg.k\n").unwrap();
    assert!(u.verify("d", "longpassword"));
    assert!(
        u.verify("d", "longpass"),
        "traditional DES crypt ignores characters after 8"
    );
    assert!(!u.verify("d", "longpas"));
}

#[test]
fn chap_needs_the_plain_secret() {
    let u = users();
    assert_eq!(u.chap_secret("plain"), Some(&b"s3cret"[..]));
    assert_eq!(u.chap_secret("md5"), None);
    assert_eq!(u.chap_secret("des"), None);
    assert_eq!(u.chap_secret("nobody"), None);
    assert!(matches!(u.secret("md5"), Some(Secret::Crypt(_))));
    assert_eq!(
        format!("{:?}", u.secret("plain").unwrap()),
        "Plain(…)",
        "no secret in Debug"
    );
}

#[test]
fn chap_md5_check() {
    let u = users();
    let challenge = *b"0123456789abcdef";
    // MD5(0x2a || "s3cret" || challenge), computed with Python's hashlib.
    let expected = hex("54a5dd0561c62d6c6ec0e6d5c0afff26");
    let computed = lns_config::users::chap_md5(0x2a, b"s3cret", &challenge);
    assert_eq!(computed.to_vec(), expected);
    assert!(u.verify_chap("plain", 0x2a, &challenge, &expected));
    assert!(
        !u.verify_chap("plain", 0x2b, &challenge, &expected),
        "identifier is part of the hash"
    );
    assert!(!u.verify_chap("plain", 0x2a, &challenge, &expected[..15]));
    assert!(
        !u.verify_chap("md5", 0x2a, &challenge, &expected),
        "hashed entries cannot do CHAP"
    );
    assert!(!u.verify_chap("nobody", 0x2a, &challenge, &expected));
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn debian_sample_has_no_users() {
    let u = Users::parse("users", include_str!("data/debian-l2tpns-2.4.1/users")).unwrap();
    assert!(u.is_empty());
    assert!(!u.has_enable());
    assert!(!u.verify("", ""));
}

#[test]
fn bad_lines_are_errors_with_file_line_and_user() {
    let e = Users::parse("/etc/l2tpns/users", "ok:x\nno colon here\n").unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].to_string(),
        "/etc/l2tpns/users:2: expected user:password"
    );
    let e = Users::parse(
        "u",
        "a:$1$salt$short\nb:{crypt}toolong_des_value\nc:{crypt}ab\n",
    )
    .unwrap_err();
    let got: Vec<(usize, &str)> = e.iter().map(|e| (e.line, e.user.as_str())).collect();
    assert_eq!(got, [(1, "a"), (2, "b"), (3, "c")]);
    assert!(
        e[0].to_string().starts_with("u:1: a: malformed $1$ hash"),
        "{}",
        e[0]
    );
    let e = Users::parse("u", "a:x\na:y\n").unwrap_err();
    assert_eq!(e[0].to_string(), "u:2: a: listed twice (first on line 1)");
    let e = Users::parse("u", ":x\nbad user:y\n").unwrap_err();
    assert_eq!(e.len(), 2);
    // Found by fuzzing: a control character in the salt made pwhash panic.
    let e = Users::parse(
        "u",
        "a:$1$sa\u{0}t$RwMqRjSWhXMKbW72DwzGd1\nb:$6$rounds=x$s$d\n",
    )
    .unwrap_err();
    assert_eq!(e.len(), 2);
}
