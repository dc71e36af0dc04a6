//! The smallest HTTP/1.1 server side the metrics listener needs: one `GET` per connection,
//! the request head read into a bounded buffer (a request split over many reads is fine,
//! one larger than [`MAX_REQUEST`] is refused), an optional bearer token compared in
//! constant time, and a response that closes the connection.
//!
//! Nothing here does I/O: the daemon feeds the bytes it read and writes what it is given.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;

/// The largest request head (request line and headers) taken; a larger one is refused.
pub const MAX_REQUEST: usize = 8 * 1024;

/// What the bytes read so far make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse {
    /// The head is not complete yet: read more.
    Incomplete,
    /// A complete request head.
    Request(Request),
    /// Refused: answer with this status (the connection then closes).
    Refuse(Status),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path without its query string.
    pub path: String,
    /// The value of the `Authorization` header, if there is one.
    pub authorization: Option<String>,
    /// The value of the `Accept` header, if there is one.
    pub accept: Option<String>,
}

/// The statuses this server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    HeaderTooLarge,
}

impl Status {
    pub fn line(self) -> &'static str {
        match self {
            Status::Ok => "200 OK",
            Status::BadRequest => "400 Bad Request",
            Status::Unauthorized => "401 Unauthorized",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::HeaderTooLarge => "431 Request Header Fields Too Large",
        }
    }
}

/// Parses the request head in `buf` (everything read from the connection so far).
pub fn parse(buf: &[u8]) -> Parse {
    let Some(end) = head_end(buf) else {
        return if buf.len() >= MAX_REQUEST {
            Parse::Refuse(Status::HeaderTooLarge)
        } else {
            Parse::Incomplete
        };
    };
    if end > MAX_REQUEST {
        return Parse::Refuse(Status::HeaderTooLarge);
    }
    let Ok(head) = std::str::from_utf8(&buf[..end]) else {
        return Parse::Refuse(Status::BadRequest);
    };
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let Some(request_line) = lines.next() else {
        return Parse::Refuse(Status::BadRequest);
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parse::Refuse(Status::BadRequest);
    };
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !target.starts_with('/')
        || !(version == "HTTP/1.1" || version == "HTTP/1.0")
    {
        return Parse::Refuse(Status::BadRequest);
    }
    let mut authorization = None;
    let mut accept = None;
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Parse::Refuse(Status::BadRequest);
        };
        if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.trim().to_owned());
        } else if name.eq_ignore_ascii_case("accept") {
            accept = Some(value.trim().to_owned());
        }
    }
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    Parse::Request(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        authorization,
        accept,
    })
}

/// Where the head ends (after the blank line), if it is complete.
fn head_end(buf: &[u8]) -> Option<usize> {
    let limit = buf.len().min(MAX_REQUEST + 4);
    let b = &buf[..limit];
    (0..b.len()).find_map(|i| {
        if b[i..].starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else if b[i..].starts_with(b"\n\n") {
            Some(i + 2)
        } else {
            None
        }
    })
}

/// Whether `authorization` (the header's value) carries `token` as a bearer token. The
/// comparison takes the same time wherever the first difference is.
pub fn token_matches(authorization: Option<&str>, token: &[u8]) -> bool {
    let Some(value) = authorization else {
        return false;
    };
    let Some((scheme, credentials)) = value.split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    // `ct_eq` on slices of different lengths is false (and leaks only the length).
    bool::from(credentials.trim().as_bytes().ct_eq(token))
}

/// A response head for a body of `len` bytes (`None`: the body ends when the connection
/// closes). Every response closes the connection.
pub fn response_head(status: Status, content_type: &str, len: Option<usize>) -> Vec<u8> {
    let mut h = format!(
        "HTTP/1.1 {}\r\nContent-Type: {content_type}\r\nConnection: close\r\nCache-Control: no-store\r\n",
        status.line()
    );
    if let Some(n) = len {
        h.push_str(&format!("Content-Length: {n}\r\n"));
    }
    match status {
        Status::MethodNotAllowed => h.push_str("Allow: GET\r\n"),
        Status::Unauthorized => h.push_str("WWW-Authenticate: Bearer\r\n"),
        _ => {}
    }
    h.push_str("\r\n");
    h.into_bytes()
}

/// A complete response with a short text body.
pub fn text_response(status: Status, body: &str) -> Vec<u8> {
    let mut r = response_head(status, "text/plain; charset=utf-8", Some(body.len()));
    r.extend_from_slice(body.as_bytes());
    r
}

/// Why the metrics listener's options were refused.
#[derive(Debug, thiserror::Error)]
pub enum MetricsOptionError {
    #[error(
        "--metrics {0}: not a loopback address, and no --metrics-token-file: anyone who can \
         reach it would read every user's name and address; give a token file or bind to \
         127.0.0.1"
    )]
    OpenWithoutToken(SocketAddr),
    #[error("--metrics-token-file {}: {source}", path.display())]
    TokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--metrics-token-file {}: the token is empty", .0.display())]
    EmptyToken(PathBuf),
}

/// Checks the listener's options and reads its token: a non-loopback address needs a token.
/// The token is the file's first line, without surrounding white space.
pub fn metrics_token(
    addr: SocketAddr,
    token_file: Option<&Path>,
) -> Result<Option<Vec<u8>>, MetricsOptionError> {
    let token = match token_file {
        None => None,
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| MetricsOptionError::TokenFile {
                    path: path.to_owned(),
                    source,
                })?;
            let token = text.lines().next().unwrap_or("").trim();
            if token.is_empty() {
                return Err(MetricsOptionError::EmptyToken(path.to_owned()));
            }
            Some(token.as_bytes().to_vec())
        }
    };
    if token.is_none() && !addr.ip().is_loopback() {
        return Err(MetricsOptionError::OpenWithoutToken(addr));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str) -> Parse {
        Parse::Request(Request {
            method: "GET".into(),
            path: path.into(),
            authorization: None,
            accept: None,
        })
    }

    #[test]
    fn a_request_split_over_reads_is_complete_only_at_the_blank_line() {
        let full = b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]), Parse::Incomplete, "cut at {cut}");
        }
        assert_eq!(
            parse(full),
            Parse::Request(Request {
                accept: Some("*/*".into()),
                ..match request("/metrics") {
                    Parse::Request(r) => r,
                    _ => unreachable!(),
                }
            })
        );
        // Bare LF line ends, HTTP/1.0, a query string.
        assert_eq!(
            parse(b"GET /sessions?x=1 HTTP/1.0\nHost: y\n\n"),
            request("/sessions")
        );
    }

    #[test]
    fn oversized_heads_are_refused() {
        let mut big = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        big.resize(MAX_REQUEST, b'a');
        assert_eq!(parse(&big), Parse::Refuse(Status::HeaderTooLarge));
        big.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse(&big), Parse::Refuse(Status::HeaderTooLarge));
        // Just under the bound is fine.
        let mut ok = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        ok.resize(MAX_REQUEST - 4, b'a');
        ok.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse(&ok), request("/metrics"));
    }

    #[test]
    fn methods_and_malformed_heads() {
        match parse(b"POST /metrics HTTP/1.1\r\n\r\n") {
            Parse::Request(r) => assert_eq!(r.method, "POST"),
            other => panic!("{other:?}"),
        }
        for bad in [
            &b"GET /metrics\r\n\r\n"[..],
            b"GET metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/2\r\n\r\n",
            b"get /metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/1.1 extra\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
            b"\r\n\r\n",
        ] {
            assert_eq!(
                parse(bad),
                Parse::Refuse(Status::BadRequest),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let r = text_response(Status::MethodNotAllowed, "no\n");
        let r = String::from_utf8(r).unwrap();
        assert!(r.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(r.contains("\r\nAllow: GET\r\n"));
        assert!(r.ends_with("\r\nContent-Length: 3\r\nAllow: GET\r\n\r\nno\n"));
    }

    #[test]
    fn bearer_token_check() {
        let head = b"GET /metrics HTTP/1.1\r\nauthorization:  Bearer s3cret \r\n\r\n";
        let Parse::Request(r) = parse(head) else {
            panic!()
        };
        assert!(token_matches(r.authorization.as_deref(), b"s3cret"));
        assert!(token_matches(Some("bearer s3cret"), b"s3cret"));
        assert!(!token_matches(Some("Bearer s3cres"), b"s3cret"));
        assert!(!token_matches(Some("Bearer s3cret2"), b"s3cret"));
        assert!(!token_matches(Some("Bearer s3cre"), b"s3cret"));
        assert!(!token_matches(Some("Basic s3cret"), b"s3cret"));
        assert!(!token_matches(Some("Bearer"), b"s3cret"));
        assert!(!token_matches(Some("Bearer "), b"s3cret"));
        assert!(!token_matches(None, b"s3cret"));
    }

    #[test]
    fn a_token_is_required_off_loopback() {
        let lo: SocketAddr = "127.0.0.1:9702".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:9702".parse().unwrap();
        assert_eq!(metrics_token(lo, None).unwrap(), None);
        assert!(matches!(
            metrics_token(any, None),
            Err(MetricsOptionError::OpenWithoutToken(_))
        ));
        let dir = std::env::temp_dir().join(format!("lns-http-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "  abc123  \nsecond line\n").unwrap();
        assert_eq!(
            metrics_token(any, Some(&file)).unwrap(),
            Some(b"abc123".to_vec())
        );
        std::fs::write(&file, "\n").unwrap();
        assert!(matches!(
            metrics_token(any, Some(&file)),
            Err(MetricsOptionError::EmptyToken(_))
        ));
        assert!(matches!(
            metrics_token(lo, Some(&dir.join("missing"))),
            Err(MetricsOptionError::TokenFile { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
