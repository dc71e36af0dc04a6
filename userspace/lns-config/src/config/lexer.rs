//! Splits one startup-config line into words the way the original's CLI (libcli) does: words are
//! separated by blanks, `"…"` or `'…'` quote a word that may contain blanks, and a word starting
//! with `#` or `!` outside quotes begins a comment that runs to the end of the line.

/// Why a line could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexError {
    /// A quote was opened and never closed.
    UnterminatedQuote(char),
}

/// The words of one line; a comment-only or blank line gives no words.
pub fn words(line: &str) -> Result<Vec<String>, LexError> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        if first == '#' || first == '!' {
            break;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '"' || c == '\'' {
                // A quoted run may sit inside a word (`a"b c"d` is one word `ab cd`), as in libcli.
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some(other) => word.push(other),
                        None => return Err(LexError::UnterminatedQuote(c)),
                    }
                }
            } else {
                word.push(c);
            }
        }
        out.push(word);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        words(s).unwrap()
    }

    #[test]
    fn plain_words() {
        assert_eq!(w("set debug 3"), ["set", "debug", "3"]);
        assert_eq!(w("  \tset   debug\t3  "), ["set", "debug", "3"]);
    }

    #[test]
    fn quotes_group_blanks_and_may_be_empty() {
        assert_eq!(
            w(r#"set log_file "/var/log/l 2tpns""#),
            ["set", "log_file", "/var/log/l 2tpns"]
        );
        assert_eq!(w("set hostname 'a b'"), ["set", "hostname", "a b"]);
        assert_eq!(w(r#"set hostname """#), ["set", "hostname", ""]);
        assert_eq!(w(r#"set x a"b c"d"#), ["set", "x", "ab cd"]);
        assert_eq!(w(r#"set x "it's""#), ["set", "x", "it's"]);
    }

    #[test]
    fn comments() {
        assert!(w("# set debug 3").is_empty());
        assert!(w("   ! comment").is_empty());
        assert!(w("").is_empty());
        assert_eq!(w("set debug 3 # trailing"), ["set", "debug", "3"]);
        // Inside a word or quotes, # and ! are ordinary characters (secrets may contain them).
        assert_eq!(w("set l2tp_secret ab#c!"), ["set", "l2tp_secret", "ab#c!"]);
        assert_eq!(
            w(r##"set l2tp_secret "# not a comment""##),
            ["set", "l2tp_secret", "# not a comment"]
        );
    }

    #[test]
    fn unterminated_quote() {
        assert_eq!(
            words(r#"set hostname "abc"#),
            Err(LexError::UnterminatedQuote('"'))
        );
        assert_eq!(
            words("set hostname 'abc"),
            Err(LexError::UnterminatedQuote('\''))
        );
    }
}
