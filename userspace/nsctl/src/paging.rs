//! Answers longer than one datagram.
//!
//! A response is one UDP datagram of at most [`MAX_MESSAGE`] bytes with at most 255
//! arguments of at most 255 bytes each, and the C nsctl prints each argument as a line. A
//! listing of 70 000 sessions is megabytes, so the server answers one page and, when more
//! follows, ends it with a *continuation line*: [`CONTINUATION`] and then the words of the
//! request that fetches the next page, e.g. `... more: nsctl show sessions 1234`.
//!
//! The C nsctl prints that line, which tells its user how to go on; our client sees it,
//! sends that request, and prints the pages as one listing. A JSON answer (`show --json`)
//! is one JSON text per page, cut into argument-sized pieces that the client joins; pages
//! of a listing are JSON arrays, which the client concatenates.

use crate::wire::MAX_MESSAGE;

/// Starts the last line of a page that has a successor.
pub const CONTINUATION: &str = "... more: nsctl ";

/// The longest argument the wire allows.
pub const MAX_ARG: usize = 255;

/// Arguments a response may have, less the one the continuation line needs.
const MAX_ARGS: usize = 254;

/// Argument bytes (with their length bytes) one page may fill, keeping room for the
/// message header (magic, type, argc: 4 bytes), the terminator and a continuation line.
const BUDGET: usize = MAX_MESSAGE - 5 - (MAX_ARG + 1);

/// The wire cost of `len` bytes cut into arguments: each piece has a length byte.
fn cost(len: usize) -> usize {
    len + len.div_ceil(MAX_ARG).max(1)
}

/// One response's arguments, filled until the next item would not fit.
#[derive(Debug, Default)]
pub struct Page {
    lines: Vec<Vec<u8>>,
    json: Option<String>,
    used: usize,
    items: usize,
}

impl Page {
    /// A page of text lines.
    pub fn text() -> Self {
        Page::default()
    }

    /// A page holding one JSON array, filled element by element.
    pub fn json_array() -> Self {
        Page {
            json: Some("[".to_owned()),
            ..Page::default()
        }
    }

    /// Adds a line (cut at [`MAX_ARG`] bytes on a character boundary) if it fits; `false`
    /// leaves the page as it was.
    pub fn push_line(&mut self, line: &str) -> bool {
        let line = truncate(line, MAX_ARG);
        if self.lines.len() >= MAX_ARGS || self.used + line.len() + 1 > BUDGET {
            return false;
        }
        self.used += line.len() + 1;
        self.lines.push(line.as_bytes().to_vec());
        self.items += 1;
        true
    }

    /// Adds one element (a JSON text) to the array if the array, closed, still fits.
    pub fn push_json(&mut self, element: &str) -> bool {
        let Some(json) = self.json.as_mut() else {
            return false;
        };
        let separator = usize::from(self.items > 0);
        let len = json.len() + separator + element.len() + 1;
        if cost(len) > BUDGET || len.div_ceil(MAX_ARG) > MAX_ARGS {
            return false;
        }
        if separator == 1 {
            json.push(',');
        }
        json.push_str(element);
        self.items += 1;
        true
    }

    /// How many lines or elements the page holds.
    pub fn len(&self) -> usize {
        self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items == 0
    }

    /// The response's arguments; `next`, when more follows, is the request for the next
    /// page (its words, e.g. `show sessions 1234`).
    pub fn finish(self, next: Option<&str>) -> Vec<Vec<u8>> {
        let mut args = self.lines;
        if let Some(mut json) = self.json {
            json.push(']');
            args.extend(json.as_bytes().chunks(MAX_ARG).map(<[u8]>::to_vec));
        }
        if let Some(next) = next {
            let line = format!("{CONTINUATION}{next}");
            args.push(truncate(&line, MAX_ARG).as_bytes().to_vec());
        }
        args
    }
}

/// A whole JSON text (not a listing) as response arguments.
pub fn json_value(text: &str) -> Vec<Vec<u8>> {
    text.as_bytes()
        .chunks(MAX_ARG)
        .map(<[u8]>::to_vec)
        .collect()
}

/// The words of the request for the next page, if `last` is a continuation line.
pub fn continuation(last: &str) -> Option<Vec<String>> {
    let rest = last.strip_prefix(CONTINUATION)?;
    let words: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
    (!words.is_empty()).then_some(words)
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Kind, Message};

    fn encoded_len(args: Vec<Vec<u8>>) -> usize {
        Message::new(Kind::Ok, args).encode().unwrap().len()
    }

    #[test]
    fn a_full_text_page_with_its_continuation_fits_one_datagram() {
        let mut page = Page::text();
        let line = "x".repeat(200);
        while page.push_line(&line) {}
        assert!(page.len() > 10);
        let n = page.len();
        let args = page.finish(Some("show sessions 123456"));
        assert_eq!(args.len(), n + 1);
        assert!(encoded_len(args) <= MAX_MESSAGE);
    }

    #[test]
    fn many_short_lines_stop_at_the_argument_limit() {
        let mut page = Page::text();
        while page.push_line("a") {}
        assert_eq!(page.len(), MAX_ARGS);
        assert!(encoded_len(page.finish(Some("show x 1"))) <= MAX_MESSAGE);
    }

    #[test]
    fn json_pages_join_into_the_array_they_cut() {
        let mut page = Page::json_array();
        let element = format!("{{\"user\":\"{}\"}}", "é".repeat(40));
        while page.push_json(&element) {}
        let n = page.len();
        let args = page.finish(None);
        let joined: Vec<u8> = args.concat();
        let text = String::from_utf8(joined).unwrap();
        assert_eq!(text.matches("user").count(), n);
        assert!(text.starts_with('[') && text.ends_with(']'));
        assert!(encoded_len(args) <= MAX_MESSAGE);
    }

    #[test]
    fn continuation_lines_are_recognised_and_nothing_else() {
        assert_eq!(
            continuation("... more: nsctl show sessions 77"),
            Some(vec!["show".into(), "sessions".into(), "77".into()])
        );
        assert_eq!(continuation("... more: nsctl "), None);
        assert_eq!(continuation("3 1 alice 10.0.0.1"), None);
    }

    #[test]
    fn an_overlong_line_is_cut_on_a_character_boundary() {
        let mut page = Page::text();
        assert!(page.push_line(&"ü".repeat(200)));
        let args = page.finish(None);
        assert!(args[0].len() <= MAX_ARG);
        assert!(String::from_utf8(args[0].clone()).is_ok());
    }
}
