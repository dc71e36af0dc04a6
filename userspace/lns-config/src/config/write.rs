//! `write memory` without losing the operator's file: only the `set` lines of keys whose
//! value changed are rewritten.

use super::{parse, Config, ConfigErrors, KEYS};

/// `original` (the startup-config as it is on disk) with the running configuration's values:
/// the last `set` line of each key whose value differs is rewritten in place (its leading
/// blanks kept), keys the file does not set but whose running value differs from the file's
/// are appended as `set` lines before the end; every other line (comments, blank lines,
/// statements, their order, earlier duplicate `set` lines) stays byte for byte. Statements
/// (`load plugin`, `router bgp`, access lists) are taken from the file, as no command changes
/// them yet. An `original` that does not parse is refused: the caller decides whether to
/// write [`Config::render`] instead.
pub fn rewrite(file: &str, original: &str, running: &Config) -> Result<String, ConfigErrors> {
    let loaded = parse(file, original)?;
    let mut lines: Vec<String> = original.split('\n').map(str::to_owned).collect();
    let mut appended = Vec::new();
    for k in KEYS {
        let old = loaded.config.settings.render(k.name);
        let new = running.settings.render(k.name);
        let Some(new) = new.filter(|n| old.as_ref() != Some(n)) else {
            continue;
        };
        let text = format!("set {} {new}", k.name);
        match loaded.key_lines.get(k.name) {
            Some(&line) if line >= 1 && line <= lines.len() => {
                let l = &mut lines[line - 1];
                let indent: String = l.chars().take_while(|c| c.is_whitespace()).collect();
                let cr = if l.ends_with('\r') { "\r" } else { "" };
                *l = format!("{indent}{text}{cr}");
            }
            _ => appended.push(text),
        }
    }
    if !appended.is_empty() {
        // Before the final empty piece of a file that ends with a newline.
        let at = if lines.last().is_some_and(|l| l.is_empty()) {
            lines.len() - 1
        } else {
            lines.len()
        };
        lines.splice(at..at, appended);
        if lines.last().is_some_and(|l| !l.is_empty()) {
            lines.push(String::new());
        }
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# LNS settings\n\
        set debug 2\n\
        \n\
        # RADIUS\n\
        set primary_radius 192.0.2.1   # the main one\n\
        set radius_secret \"old secret\"\n\
        load plugin \"autothrottle\"\n\
        set debug 3\n\
        # end of file\n";

    fn running(changes: &[(&str, &str)]) -> Config {
        let mut c = parse("t", FILE).unwrap().config;
        for (k, v) in changes {
            c.settings.set(k, v).unwrap().unwrap();
        }
        c
    }

    #[test]
    fn unchanged_config_gives_the_file_back() {
        assert_eq!(rewrite("t", FILE, &running(&[])).unwrap(), FILE);
    }

    #[test]
    fn changed_keys_are_rewritten_in_place_and_new_ones_appended() {
        let r = running(&[
            ("debug", "5"),
            ("primary_radius", "192.0.2.9"),
            ("radius_secret", "new one"),
            ("radius_interim", "300"),
        ]);
        let out = rewrite("t", FILE, &r).unwrap();
        assert_eq!(
            out,
            "# LNS settings\n\
             set debug 2\n\
             \n\
             # RADIUS\n\
             set primary_radius 192.0.2.9\n\
             set radius_secret \"new one\"\n\
             load plugin \"autothrottle\"\n\
             set debug 5\n\
             # end of file\n\
             set radius_interim 300\n"
        );
        let again = parse("t", &out).unwrap().config;
        assert_eq!(
            again, r,
            "the written file reads back as the running config"
        );
        assert_eq!(rewrite("t", &out, &r).unwrap(), out, "idempotent");
    }

    #[test]
    fn indentation_crlf_and_missing_final_newline_are_kept() {
        let file = "  set debug 1\r\n# c\r\nset l2tp_mtu 1400";
        let mut r = parse("t", file).unwrap().config;
        r.settings.set("debug", "4").unwrap().unwrap();
        r.settings.set("l2tp_mtu", "1300").unwrap().unwrap();
        r.settings.set("radius_interim", "60").unwrap().unwrap();
        let out = rewrite("t", file, &r).unwrap();
        assert_eq!(
            out,
            "  set debug 4\r\n# c\r\nset l2tp_mtu 1300\nset radius_interim 60\n"
        );
        assert_eq!(parse("t", &out).unwrap().config, r);
    }

    #[test]
    fn a_file_that_does_not_parse_is_refused() {
        assert!(rewrite("t", "set nosuchkey 1\n", &Config::default()).is_err());
    }
}
