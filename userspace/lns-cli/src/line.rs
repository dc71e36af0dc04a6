//! Line discipline: keys decoded from the byte stream (VT100/ANSI escape sequences), the edit
//! buffer with its cursor, and the history.
//!
//! Every edit writes the smallest VT100 redraw it needs: backspaces (BS) to move left,
//! reprinting the tail, `ESC [ K` to clear to the end of the row. No absolute cursor moves,
//! so a dumb `expect` script sees plain characters and backspaces. Lines longer than the
//! window wrap on the terminal; BS does not cross a wrap on most terminals, so editing far
//! back in a wrapped line may look wrong (libcli has the same limit). The line is ASCII:
//! command words, addresses and regular expressions need nothing else, so other bytes are
//! ignored rather than echoed half-decoded.

use std::collections::VecDeque;

/// Longest line kept; further characters are refused with a bell.
pub const MAX_LINE: usize = 1024;
/// Default history depth.
pub const HISTORY_LEN: usize = 256;

const BS: u8 = 0x08;
const BEL: u8 = 0x07;
const CLEAR_EOL: &[u8] = b"\x1b[K";
/// Longest escape sequence parameter kept; longer ones are junk and are dropped.
const MAX_ESC_PARAM: usize = 8;

/// One key, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(u8),
    Enter,
    Backspace,
    /// Delete the character under the cursor (`ESC [ 3 ~`).
    Delete,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    /// ^U
    KillLine,
    /// ^W
    KillWord,
    /// ^K
    KillEnd,
    /// ^L
    Redraw,
    /// ^C
    Cancel,
    /// ^D
    Eof,
    Tab,
    /// ^Z: Cisco's "end" from any configuration mode.
    Suspend,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Esc {
    None,
    Escape,
    /// `ESC [` and the parameter bytes so far.
    Csi(Vec<u8>),
    /// `ESC O`
    Ss3,
}

/// Turns bytes into keys, keeping state across calls so a sequence may be split.
#[derive(Debug, Clone)]
pub struct KeyDecoder {
    esc: Esc,
}

impl Default for KeyDecoder {
    fn default() -> Self {
        KeyDecoder { esc: Esc::None }
    }
}

impl KeyDecoder {
    /// Feeds one byte; returns the key it completes, if any.
    pub fn feed(&mut self, b: u8) -> Option<Key> {
        match std::mem::replace(&mut self.esc, Esc::None) {
            Esc::None => match b {
                0x1b => {
                    self.esc = Esc::Escape;
                    None
                }
                b'\r' | b'\n' => Some(Key::Enter),
                0x08 | 0x7f => Some(Key::Backspace),
                b'\t' => Some(Key::Tab),
                0x01 => Some(Key::Home),
                0x02 => Some(Key::Left),
                0x03 => Some(Key::Cancel),
                0x04 => Some(Key::Eof),
                0x05 => Some(Key::End),
                0x06 => Some(Key::Right),
                0x0b => Some(Key::KillEnd),
                0x0c => Some(Key::Redraw),
                0x0e => Some(Key::Down),
                0x10 => Some(Key::Up),
                0x15 => Some(Key::KillLine),
                0x17 => Some(Key::KillWord),
                0x1a => Some(Key::Suspend),
                0x20..=0x7e => Some(Key::Char(b)),
                _ => None,
            },
            Esc::Escape => match b {
                b'[' => {
                    self.esc = Esc::Csi(Vec::new());
                    None
                }
                b'O' => {
                    self.esc = Esc::Ss3;
                    None
                }
                _ => None,
            },
            Esc::Ss3 => Self::final_key(b, &[]),
            Esc::Csi(mut param) => match b {
                b'0'..=b'9' | b';' => {
                    if param.len() < MAX_ESC_PARAM {
                        param.push(b);
                    }
                    self.esc = Esc::Csi(param);
                    None
                }
                _ => Self::final_key(b, &param),
            },
        }
    }

    fn final_key(b: u8, param: &[u8]) -> Option<Key> {
        match (b, param) {
            (b'A', _) => Some(Key::Up),
            (b'B', _) => Some(Key::Down),
            (b'C', _) => Some(Key::Right),
            (b'D', _) => Some(Key::Left),
            (b'H', _) => Some(Key::Home),
            (b'F', _) => Some(Key::End),
            (b'~', b"1" | b"7") => Some(Key::Home),
            (b'~', b"4" | b"8") => Some(Key::End),
            (b'~', b"3") => Some(Key::Delete),
            _ => None,
        }
    }
}

/// Bounded history without consecutive duplicates.
#[derive(Debug, Clone)]
pub struct History {
    entries: VecDeque<String>,
    cap: usize,
}

impl History {
    pub fn new(cap: usize) -> Self {
        History {
            entries: VecDeque::new(),
            cap,
        }
    }

    pub fn push(&mut self, line: &str) {
        let line = line.trim();
        if line.is_empty() || self.cap == 0 || self.entries.back().is_some_and(|l| l == line) {
            return;
        }
        if self.entries.len() == self.cap {
            self.entries.pop_front();
        }
        self.entries.push_back(line.to_string());
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        self.entries.get(i).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(String::as_str)
    }
}

/// How typed characters are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Echoed (command lines, user names).
    On,
    /// Not shown at all (passwords).
    Off,
}

/// What a key did that the session has to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled inside the editor (or ignored).
    Edited,
    /// Enter: the finished line (the editor is empty again).
    Line(String),
    /// ^C: the line was abandoned.
    Cancel,
    /// ^D on an empty line.
    Eof,
    /// ^Z
    Suspend,
}

/// The edit buffer. Output written by its methods is raw VT100 (the session applies the
/// telnet encoding).
#[derive(Debug, Clone)]
pub struct Editor {
    buf: Vec<u8>,
    cursor: usize,
    /// Position while browsing the history (`None` = editing a new line) and the new line
    /// saved when browsing started.
    browsing: Option<usize>,
    draft: Vec<u8>,
}

impl Default for Editor {
    fn default() -> Self {
        Self::new()
    }
}

impl Editor {
    pub fn new() -> Self {
        Editor {
            buf: Vec::new(),
            cursor: 0,
            browsing: None,
            draft: Vec::new(),
        }
    }

    /// The line so far.
    pub fn line(&self) -> &str {
        // Only 0x20..=0x7e is ever inserted.
        std::str::from_utf8(&self.buf).unwrap_or_default()
    }

    /// The line up to the cursor (what help and completion look at).
    pub fn before_cursor(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.cursor]).unwrap_or_default()
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.cursor = 0;
        self.browsing = None;
    }

    /// Applies an editing key. `history` is `None` where there is none (login).
    pub fn key(
        &mut self,
        key: Key,
        echo: Echo,
        history: Option<&History>,
        out: &mut Vec<u8>,
    ) -> Outcome {
        let shown = echo == Echo::On;
        match key {
            Key::Char(c) => self.insert(&[c], shown, out),
            Key::Enter => {
                out.extend_from_slice(b"\r\n");
                let line = self.line().to_string();
                self.clear();
                return Outcome::Line(line);
            }
            Key::Cancel => {
                self.clear();
                return Outcome::Cancel;
            }
            Key::Eof if self.buf.is_empty() => return Outcome::Eof,
            Key::Suspend => return Outcome::Suspend,
            Key::KillLine => {
                if shown {
                    out.extend(std::iter::repeat_n(BS, self.cursor));
                    out.extend_from_slice(CLEAR_EOL);
                }
                self.buf.clear();
                self.cursor = 0;
            }
            Key::Backspace if self.cursor > 0 => self.delete_back(1, shown, out),
            _ if !shown => {}
            Key::Eof | Key::Delete if self.cursor < self.buf.len() => {
                self.buf.remove(self.cursor);
                self.reprint_tail(1, out);
            }
            Key::Left if self.cursor > 0 => {
                self.cursor -= 1;
                out.push(BS);
            }
            Key::Right if self.cursor < self.buf.len() => {
                out.push(self.buf[self.cursor]);
                self.cursor += 1;
            }
            Key::Home => {
                out.extend(std::iter::repeat_n(BS, self.cursor));
                self.cursor = 0;
            }
            Key::End => {
                out.extend_from_slice(&self.buf[self.cursor..]);
                self.cursor = self.buf.len();
            }
            Key::KillEnd if self.cursor < self.buf.len() => {
                self.buf.truncate(self.cursor);
                out.extend_from_slice(CLEAR_EOL);
            }
            Key::KillWord if self.cursor > 0 => {
                let mut start = self.cursor;
                while start > 0 && self.buf[start - 1] == b' ' {
                    start -= 1;
                }
                while start > 0 && self.buf[start - 1] != b' ' {
                    start -= 1;
                }
                self.delete_back(self.cursor - start, true, out);
            }
            Key::Up | Key::Down => {
                if let Some(h) = history {
                    self.browse(key == Key::Up, h, out);
                }
            }
            Key::Backspace
            | Key::Left
            | Key::Right
            | Key::KillEnd
            | Key::KillWord
            | Key::Eof
            | Key::Delete => out.push(BEL),
            // Help and completion belong to the session; ^L needs the prompt.
            Key::Tab | Key::Redraw => {}
        }
        Outcome::Edited
    }

    /// Inserts text at the cursor (typing, completion).
    pub fn insert(&mut self, text: &[u8], shown: bool, out: &mut Vec<u8>) {
        for &c in text {
            if self.buf.len() >= MAX_LINE {
                if shown {
                    out.push(BEL);
                }
                return;
            }
            self.buf.insert(self.cursor, c);
            self.cursor += 1;
            if shown {
                out.push(c);
            }
        }
        if shown && self.cursor < self.buf.len() {
            self.reprint_tail(0, out);
        }
    }

    /// Removes `n` characters before the cursor.
    fn delete_back(&mut self, n: usize, shown: bool, out: &mut Vec<u8>) {
        self.buf.drain(self.cursor - n..self.cursor);
        self.cursor -= n;
        if shown {
            out.extend(std::iter::repeat_n(BS, n));
            self.reprint_tail(n, out);
        }
    }

    /// Prints from the cursor to the end, blanks `gone` cells after it, and moves back.
    fn reprint_tail(&self, gone: usize, out: &mut Vec<u8>) {
        let tail = &self.buf[self.cursor..];
        out.extend_from_slice(tail);
        match gone {
            0 => {}
            // A single cell: a space is shorter than ESC [ K and works on any terminal.
            1 => out.push(b' '),
            _ => out.extend_from_slice(CLEAR_EOL),
        }
        out.extend(std::iter::repeat_n(BS, tail.len() + usize::from(gone == 1)));
    }

    fn browse(&mut self, up: bool, history: &History, out: &mut Vec<u8>) {
        let next = match (self.browsing, up) {
            (None, true) if !history.is_empty() => Some(history.len() - 1),
            (Some(i), true) if i > 0 => Some(i - 1),
            (Some(i), false) if i + 1 < history.len() => Some(i + 1),
            (Some(_), false) => None,
            _ => {
                out.push(BEL);
                return;
            }
        };
        if self.browsing.is_none() {
            self.draft = self.buf.clone();
        }
        self.browsing = next;
        let text = match next {
            Some(i) => history.get(i).unwrap_or_default().as_bytes().to_vec(),
            None => std::mem::take(&mut self.draft),
        };
        self.replace(&text, out);
    }

    /// Replaces the whole line, cursor at its end.
    pub fn replace(&mut self, text: &[u8], out: &mut Vec<u8>) {
        out.extend(std::iter::repeat_n(BS, self.cursor));
        out.extend_from_slice(text);
        out.extend_from_slice(CLEAR_EOL);
        self.buf = text
            .iter()
            .copied()
            .filter(|c| (0x20..=0x7e).contains(c))
            .collect();
        self.buf.truncate(MAX_LINE);
        self.cursor = self.buf.len();
    }

    /// Prints `prompt`, the line and moves the cursor back into place (after help output, a
    /// log line, ^L).
    pub fn redraw(&self, prompt: &str, echo: Echo, out: &mut Vec<u8>) {
        out.extend_from_slice(prompt.as_bytes());
        if echo == Echo::On {
            out.extend_from_slice(&self.buf);
            out.extend(std::iter::repeat_n(BS, self.buf.len() - self.cursor));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut d = KeyDecoder::default();
        bytes.iter().filter_map(|&b| d.feed(b)).collect()
    }

    fn type_str(e: &mut Editor, s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for k in keys(s) {
            e.key(k, Echo::On, None, &mut out);
        }
        out
    }

    #[test]
    fn decodes_csi_ss3_and_tilde_sequences() {
        assert_eq!(
            keys(b"\x1b[D\x1b[C\x1bOD\x1bOC\x1b[A\x1bOB\x1b[H\x1b[F\x1b[1~\x1b[4~\x1b[3~"),
            [
                Key::Left,
                Key::Right,
                Key::Left,
                Key::Right,
                Key::Up,
                Key::Down,
                Key::Home,
                Key::End,
                Key::Home,
                Key::End,
                Key::Delete
            ]
        );
        // Unknown sequences vanish without leaking characters.
        assert_eq!(
            keys(b"\x1b[99;99;99;99Zx\x1bqy"),
            [Key::Char(b'x'), Key::Char(b'y')]
        );
    }

    #[test]
    fn split_sequences_decode() {
        let mut d = KeyDecoder::default();
        assert_eq!(d.feed(0x1b), None);
        assert_eq!(d.feed(b'['), None);
        assert_eq!(d.feed(b'D'), Some(Key::Left));
    }

    #[test]
    fn insertion_in_the_middle_reprints_the_tail() {
        let mut e = Editor::new();
        type_str(&mut e, b"ac");
        let out = type_str(&mut e, b"\x1b[Db");
        assert_eq!(e.line(), "abc");
        assert_eq!(out, b"\x08bc\x08");
        let out = type_str(&mut e, b"\x7f");
        assert_eq!(e.line(), "ac");
        assert_eq!(out, b"\x08c \x08\x08");
    }

    #[test]
    fn backspace_at_end_is_bs_space_bs() {
        let mut e = Editor::new();
        type_str(&mut e, b"ab");
        assert_eq!(type_str(&mut e, b"\x08"), b"\x08 \x08");
        assert_eq!(e.line(), "a");
        // At the start of the line: a bell, nothing removed.
        type_str(&mut e, b"\x01");
        assert_eq!(type_str(&mut e, b"\x7f"), [BEL]);
        assert_eq!(e.line(), "a");
    }

    #[test]
    fn home_end_kill_line_word_and_end() {
        let mut e = Editor::new();
        type_str(&mut e, b"show  session 5");
        assert_eq!(type_str(&mut e, b"\x17"), b"\x08 \x08");
        assert_eq!(e.line(), "show  session ");
        assert_eq!(
            type_str(&mut e, b"\x17"),
            b"\x08\x08\x08\x08\x08\x08\x08\x08\x1b[K"
        );
        assert_eq!(e.line(), "show  ");
        assert_eq!(type_str(&mut e, b"\x01"), b"\x08".repeat(6));
        assert_eq!(e.cursor(), 0);
        assert_eq!(type_str(&mut e, b"\x05"), b"show  ");
        type_str(&mut e, b"\x01\x06");
        assert_eq!(type_str(&mut e, b"\x0b"), b"\x1b[K");
        assert_eq!(e.line(), "s");
        type_str(&mut e, b"xyz");
        assert_eq!(type_str(&mut e, b"\x15"), b"\x08\x08\x08\x08\x1b[K");
        assert_eq!(e.line(), "");
    }

    #[test]
    fn delete_and_eof_in_line_remove_under_cursor() {
        let mut e = Editor::new();
        type_str(&mut e, b"abc\x01");
        assert_eq!(type_str(&mut e, b"\x1b[3~"), b"bc \x08\x08\x08");
        assert_eq!(type_str(&mut e, b"\x04"), b"c \x08\x08");
        assert_eq!(e.line(), "c");
        let mut out = Vec::new();
        e.clear();
        assert_eq!(e.key(Key::Eof, Echo::On, None, &mut out), Outcome::Eof);
    }

    #[test]
    fn masked_input_is_not_echoed() {
        let mut e = Editor::new();
        let mut out = Vec::new();
        for k in keys(b"se\x7fcret\x1b[D") {
            e.key(k, Echo::Off, None, &mut out);
        }
        assert!(out.is_empty());
        assert_eq!(e.line(), "scret");
        assert_eq!(
            e.key(Key::Enter, Echo::Off, None, &mut out),
            Outcome::Line("scret".into())
        );
        assert_eq!(out, b"\r\n");
    }

    #[test]
    fn line_length_is_bounded() {
        let mut e = Editor::new();
        let out = type_str(&mut e, &[b'x'; MAX_LINE + 10]);
        assert_eq!(e.line().len(), MAX_LINE);
        assert_eq!(out.iter().filter(|&&b| b == BEL).count(), 10);
    }

    #[test]
    fn history_is_bounded_without_consecutive_duplicates() {
        let mut h = History::new(3);
        for l in ["a", "a", "b", "", "c", "d", "d"] {
            h.push(l);
        }
        assert_eq!(h.iter().collect::<Vec<_>>(), ["b", "c", "d"]);
    }

    #[test]
    fn up_down_browse_history_and_restore_draft() {
        let mut h = History::new(10);
        h.push("show version");
        h.push("show session");
        let mut e = Editor::new();
        let mut out = Vec::new();
        e.insert(b"dr", true, &mut out);
        out.clear();
        e.key(Key::Up, Echo::On, Some(&h), &mut out);
        assert_eq!(e.line(), "show session");
        assert_eq!(out, b"\x08\x08show session\x1b[K");
        e.key(Key::Up, Echo::On, Some(&h), &mut out);
        assert_eq!(e.line(), "show version");
        out.clear();
        e.key(Key::Up, Echo::On, Some(&h), &mut out);
        assert_eq!(out, [BEL]);
        e.key(Key::Down, Echo::On, Some(&h), &mut out);
        e.key(Key::Down, Echo::On, Some(&h), &mut out);
        assert_eq!(e.line(), "dr");
    }
}
