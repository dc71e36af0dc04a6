//! Output filters (`| include RE`, `| exclude RE`, `| begin RE`, `| count`) applied by the
//! session to whatever the caller writes for a command, so every command gets them.
//!
//! Syntax: everything after the first `|` of the line (outside quotes) is filters. Several
//! filters chain, separated by a `|` that follows a space (`| include a | count`); a `|` not
//! preceded by a space belongs to the regular expression (`| include alice|bob`). The filter
//! word may be abbreviated; the regular expression is the rest of its segment, trimmed.

use regex::{Regex, RegexBuilder};
use thiserror::Error;

/// Compiled-program and DFA limits: the expression comes from the user, who should not be
/// able to make one session eat the daemon's memory.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// The filter words, with the help `?` shows after a `|`.
pub(crate) const FILTERS: [(&str, &str); 4] = [
    ("begin", "Begin with the line that matches"),
    ("count", "Count the lines"),
    ("exclude", "Exclude lines that match"),
    ("include", "Include lines that match"),
];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum FilterError {
    #[error("% Unknown filter: \"{0}\"")]
    Unknown(String),
    #[error("% Ambiguous filter: \"{0}\"")]
    Ambiguous(String),
    #[error("% Missing filter")]
    Missing,
    #[error("% Filter \"{0}\" needs a regular expression")]
    NeedsRegex(&'static str),
    #[error("% Filter \"count\" takes no argument")]
    CountArgument,
    #[error("% Invalid regular expression: {0}")]
    Regex(String),
}

#[derive(Debug, Clone)]
enum Stage {
    Include(Regex),
    Exclude(Regex),
    /// `true` once a line matched: everything from there on passes.
    Begin(Regex, bool),
    Count(u64),
}

/// A chain of filters for one command's output.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filters {
    stages: Vec<Stage>,
}

/// Splits the filter part of a line into segments (see the module doc).
fn segments(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'|' && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            out.push(&text[start..i]);
            start = i + 1;
        }
    }
    out.push(&text[start..]);
    out
}

/// The filter word `word` abbreviates.
pub(crate) fn filter_word(word: &str) -> Result<&'static str, FilterError> {
    let found: Vec<&'static str> = FILTERS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| n.len() >= word.len() && n[..word.len()].eq_ignore_ascii_case(word))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(FilterError::Unknown(word.to_string())),
        _ => Err(FilterError::Ambiguous(word.to_string())),
    }
}

/// What `?` shows for the filter text typed so far (after the first `|`).
pub(crate) fn help(text: &str) -> Vec<(String, String)> {
    let last = segments(text).pop().unwrap_or_default();
    let trimmed = last.trim_start();
    match trimmed.split_once(char::is_whitespace) {
        None => FILTERS
            .iter()
            .filter(|(n, _)| {
                n.len() >= trimmed.len() && n[..trimmed.len()].eq_ignore_ascii_case(trimmed)
            })
            .map(|(n, h)| (n.to_string(), h.to_string()))
            .collect(),
        Some((word, _)) => match filter_word(word) {
            Ok("count") => vec![
                ("<cr>".into(), String::new()),
                ("|".into(), "Output modifiers".into()),
            ],
            Ok(_) => vec![("LINE".into(), "Regular expression".into())],
            Err(_) => Vec::new(),
        },
    }
}

impl Filters {
    /// Parses the text after the first `|`.
    pub fn parse(text: &str) -> Result<Filters, FilterError> {
        let mut stages = Vec::new();
        for seg in segments(text) {
            let seg = seg.trim();
            let (word, rest) = seg.split_once(char::is_whitespace).unwrap_or((seg, ""));
            if word.is_empty() {
                return Err(FilterError::Missing);
            }
            let name = filter_word(word)?;
            let rest = rest.trim();
            if name == "count" {
                if !rest.is_empty() {
                    return Err(FilterError::CountArgument);
                }
                stages.push(Stage::Count(0));
                continue;
            }
            if rest.is_empty() {
                return Err(FilterError::NeedsRegex(name));
            }
            let re = RegexBuilder::new(rest)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| {
                    FilterError::Regex(
                        e.to_string()
                            .lines()
                            .last()
                            .unwrap_or("")
                            .trim()
                            .to_string(),
                    )
                })?;
            stages.push(match name {
                "include" => Stage::Include(re),
                "exclude" => Stage::Exclude(re),
                _ => Stage::Begin(re, false),
            });
        }
        Ok(Filters { stages })
    }

    /// Whether `line` passes (a `count` stage counts it and swallows it).
    pub fn pass(&mut self, line: &str) -> bool {
        Self::pass_from(&mut self.stages, line)
    }

    fn pass_from(stages: &mut [Stage], line: &str) -> bool {
        for stage in stages {
            let ok = match stage {
                Stage::Include(re) => re.is_match(line),
                Stage::Exclude(re) => !re.is_match(line),
                Stage::Begin(re, begun) => {
                    *begun = *begun || re.is_match(line);
                    *begun
                }
                Stage::Count(n) => {
                    *n += 1;
                    false
                }
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// At the end of the output: the lines `count` stages produce, through the later stages.
    pub fn finish(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..self.stages.len() {
            if let Stage::Count(n) = self.stages[i] {
                let line = format!("Count: {n}");
                if Self::pass_from(&mut self.stages[i + 1..], &line) {
                    out.push(line);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(filter: &str, lines: &[&str]) -> Vec<String> {
        let mut f = Filters::parse(filter).unwrap();
        let mut out: Vec<String> = lines
            .iter()
            .filter(|l| f.pass(l))
            .map(|l| l.to_string())
            .collect();
        out.extend(f.finish());
        out
    }

    const LINES: [&str; 4] = ["alice 1", "bob 2", "carol 3", "alice 4"];

    #[test]
    fn include_exclude_begin_count() {
        assert_eq!(run(" include alice", &LINES), ["alice 1", "alice 4"]);
        assert_eq!(run(" exc alice", &LINES), ["bob 2", "carol 3"]);
        assert_eq!(run(" b ^bob", &LINES), ["bob 2", "carol 3", "alice 4"]);
        assert_eq!(run(" count", &LINES), ["Count: 4"]);
        assert_eq!(run(" i alice|bob", &LINES), ["alice 1", "bob 2", "alice 4"]);
    }

    #[test]
    fn filters_chain() {
        assert_eq!(run(" include alice | count", &LINES), ["Count: 2"]);
        assert_eq!(
            run(" exclude bob | begin carol", &LINES),
            ["carol 3", "alice 4"]
        );
        assert_eq!(run(" count | include 4", &LINES), ["Count: 4"]);
        assert_eq!(run(" count | include 9", &LINES), Vec::<String>::new());
    }

    #[test]
    fn errors() {
        assert_eq!(
            Filters::parse(" grep x").unwrap_err(),
            FilterError::Unknown("grep".into())
        );
        assert_eq!(
            Filters::parse(" include").unwrap_err(),
            FilterError::NeedsRegex("include")
        );
        assert_eq!(Filters::parse("").unwrap_err(), FilterError::Missing);
        assert_eq!(
            Filters::parse(" count x").unwrap_err(),
            FilterError::CountArgument
        );
        assert!(matches!(
            Filters::parse(" include (").unwrap_err(),
            FilterError::Regex(_)
        ));
        assert!(matches!(
            Filters::parse(" include a{1000}{1000}").unwrap_err(),
            FilterError::Regex(_)
        ));
    }

    #[test]
    fn help_after_pipe() {
        let names = |v: Vec<(String, String)>| v.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        assert_eq!(names(help(" ")), ["begin", "count", "exclude", "include"]);
        assert_eq!(names(help(" in")), ["include"]);
        assert_eq!(names(help(" include ")), ["LINE"]);
        assert_eq!(
            names(help(" include x | ")),
            ["begin", "count", "exclude", "include"]
        );
    }
}
