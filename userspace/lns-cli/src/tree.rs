//! The command tree: words with help texts, privilege, mode and argument placeholders, built
//! by the caller; matching of (abbreviated) command lines against it; help and completion
//! candidates.
//!
//! A command line is keywords, then arguments: keywords are matched against the children of
//! the node reached so far (case-insensitively, an exact name or a unique prefix); the first
//! word that names no child of a node that takes arguments starts the arguments, and every
//! later word is an argument. The caller checks the arguments' syntax when it runs the
//! command; the tree only knows how many there may be, for `% Incomplete command` and help.

use thiserror::Error;

/// Who may see and run a command. `enable` lifts a session from the first to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    Unprivileged,
    Privileged,
}

/// The session's command mode. `configure terminal` enters `Config`, `end` leaves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Exec,
    Config,
}

/// A node of the tree, as returned by [`CommandTree::add`]; the caller matches
/// [`CommandLine::node`](crate::CommandLine::node) against the ids it kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) usize);

/// An argument placeholder, shown by `?` (`<ID>  Session ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: String,
    pub help: String,
    pub optional: bool,
    /// May be given any number of times (only the last argument).
    pub repeated: bool,
}

/// The description of one command word, for [`CommandTree::add`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    name: String,
    help: String,
    privilege: Privilege,
    /// `None`: every mode. Only checked on first words (children belong to their parent).
    mode: Option<Mode>,
    args: Vec<Arg>,
    runnable: bool,
}

impl Command {
    /// An unprivileged EXEC-mode word that only leads to further words.
    pub fn new(name: &str, help: &str) -> Self {
        Command {
            name: name.to_string(),
            help: help.to_string(),
            privilege: Privilege::Unprivileged,
            mode: Some(Mode::Exec),
            args: Vec::new(),
            runnable: false,
        }
    }

    /// Only for `enable`d sessions: hidden from, and refused to, the others.
    pub fn privileged(mut self) -> Self {
        self.privilege = Privilege::Privileged;
        self
    }

    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Available in every mode.
    pub fn any_mode(mut self) -> Self {
        self.mode = None;
        self
    }

    /// The words so far are a complete command.
    pub fn runnable(mut self) -> Self {
        self.runnable = true;
        self
    }

    /// A required argument; makes the command runnable.
    pub fn arg(self, name: &str, help: &str) -> Self {
        self.push_arg(name, help, false, false)
    }

    /// An optional argument; makes the command runnable.
    pub fn optional_arg(self, name: &str, help: &str) -> Self {
        self.push_arg(name, help, true, false)
    }

    /// An optional argument that may repeat (`show session [SID ...]`); it must be the last.
    pub fn repeated_arg(self, name: &str, help: &str) -> Self {
        self.push_arg(name, help, true, true)
    }

    fn push_arg(mut self, name: &str, help: &str, optional: bool, repeated: bool) -> Self {
        self.args.push(Arg {
            name: name.to_string(),
            help: help.to_string(),
            optional,
            repeated,
        });
        self.runnable = true;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn help(&self) -> &str {
        &self.help
    }

    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    fn required(&self) -> usize {
        self.args.iter().filter(|a| !a.optional).count()
    }

    /// The placeholder for argument number `i`.
    fn arg_at(&self, i: usize) -> Option<&Arg> {
        self.args
            .get(i)
            .or_else(|| self.args.last().filter(|a| a.repeated))
    }
}

/// Why [`CommandTree::add`] refused a command.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TreeError {
    #[error("command name {0:?} must be printable ASCII without spaces, '|', '?' or '\"'")]
    BadName(String),
    #[error("command {0:?} already exists at this level")]
    Duplicate(String),
    #[error(
        "command {0:?}: a required argument follows an optional one, or a repeated one is not last"
    )]
    BadArgs(String),
    #[error("no such parent node")]
    NoParent,
}

/// The commands the session handles itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Enable,
    Disable,
    ConfigureTerminal,
    End,
    /// `exit` in configuration mode.
    ExitConfig,
    /// `exit`, `quit`, `logout` in EXEC mode.
    Logout,
    Help,
    History,
}

#[derive(Debug, Clone)]
struct Node {
    spec: Command,
    children: Vec<usize>,
    builtin: Option<Builtin>,
}

/// Who is asking: what a session may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ctx {
    pub privilege: Privilege,
    pub mode: Mode,
}

/// The words of a line matched against the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub node: NodeId,
    pub args: Vec<String>,
}

/// Why a line does not name a command; the texts are the session's error lines.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum MatchError {
    #[error("% Ambiguous command: \"{0}\"")]
    Ambiguous(String),
    #[error("% Unknown command: \"{0}\"")]
    Unknown(String),
    #[error("% Incomplete command")]
    Incomplete,
    #[error("% Too many arguments")]
    TooMany,
}

const ROOT: usize = 0;

/// The caller's commands plus the built-ins (`enable`, `disable`, `configure terminal`, `end`,
/// `exit`, `quit`, `logout`, `help`, `history`), whose names are therefore taken.
#[derive(Debug, Clone)]
pub struct CommandTree {
    nodes: Vec<Node>,
}

impl Default for CommandTree {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandTree {
    /// A tree holding only the built-ins.
    pub fn new() -> Self {
        let mut tree = CommandTree {
            nodes: vec![Node {
                spec: Command::new("", ""),
                children: Vec::new(),
                builtin: None,
            }],
        };
        use Builtin::*;
        let exec = Mode::Exec;
        let b = |name, help| Command::new(name, help).runnable();
        let builtins = [
            (b("enable", "Turn on privileged commands"), Some(Enable)),
            (
                b("disable", "Turn off privileged commands").privileged(),
                Some(Disable),
            ),
            (b("exit", "Exit from the EXEC"), Some(Logout)),
            (b("quit", "Disconnect"), Some(Logout)),
            (b("logout", "Disconnect"), Some(Logout)),
            (
                b("end", "End configuration mode").mode(Mode::Config),
                Some(End),
            ),
            (
                b("exit", "Exit configuration mode").mode(Mode::Config),
                Some(ExitConfig),
            ),
            (
                b("help", "Description of the interactive help system").any_mode(),
                Some(Help),
            ),
            (
                b("history", "Show the command history").any_mode(),
                Some(History),
            ),
        ];
        for (cmd, builtin) in builtins {
            let id = tree.add(None, cmd).expect("built-ins are distinct");
            tree.nodes[id.0].builtin = builtin;
        }
        let configure = tree
            .add(
                None,
                Command::new("configure", "Enter configuration mode")
                    .privileged()
                    .mode(exec),
            )
            .expect("built-ins are distinct");
        let terminal = tree
            .add(
                Some(configure),
                b("terminal", "Configure from the terminal"),
            )
            .expect("built-ins are distinct");
        tree.nodes[terminal.0].builtin = Some(ConfigureTerminal);
        tree
    }

    /// Adds `command` under `parent` (`None`: a first word). Names are unique per level and
    /// mode; words may not contain spaces, `|`, `?` or `"` (the line syntax uses them).
    pub fn add(&mut self, parent: Option<NodeId>, command: Command) -> Result<NodeId, TreeError> {
        let parent = parent.map_or(ROOT, |p| p.0);
        if parent >= self.nodes.len() {
            return Err(TreeError::NoParent);
        }
        let name = &command.name;
        // ASCII only: the line editor is ASCII, so nothing else could be typed or completed.
        if name.is_empty()
            || !name
                .bytes()
                .all(|c| c.is_ascii_graphic() && !b"|?\"".contains(&c))
        {
            return Err(TreeError::BadName(name.clone()));
        }
        let overlap = |a: Option<Mode>, b: Option<Mode>| a.is_none() || b.is_none() || a == b;
        let clash = self.nodes[parent].children.iter().any(|&c| {
            let other = &self.nodes[c].spec;
            other.name.eq_ignore_ascii_case(name)
                && (parent != ROOT || overlap(other.mode, command.mode))
        });
        if clash {
            return Err(TreeError::Duplicate(name.clone()));
        }
        let args = &command.args;
        let misplaced = args.windows(2).any(|w| w[0].optional && !w[1].optional)
            || args.iter().rev().skip(1).any(|a| a.repeated);
        if misplaced {
            return Err(TreeError::BadArgs(name.clone()));
        }
        self.nodes.push(Node {
            spec: command,
            children: Vec::new(),
            builtin: None,
        });
        let id = self.nodes.len() - 1;
        self.nodes[parent].children.push(id);
        Ok(NodeId(id))
    }

    /// The node's description.
    pub fn command(&self, id: NodeId) -> &Command {
        &self.nodes[id.0].spec
    }

    /// The full names of the words leading to `id` (`["show", "session"]`).
    pub fn path(&self, id: NodeId) -> Vec<&str> {
        let mut path = Vec::new();
        let mut target = id.0;
        // Nodes only point down; the tree is small and this runs once per command.
        while target != ROOT {
            let parent = (0..self.nodes.len())
                .find(|&p| self.nodes[p].children.contains(&target))
                .unwrap_or(ROOT);
            path.push(self.nodes[target].spec.name.as_str());
            target = parent;
        }
        path.reverse();
        path
    }

    pub(crate) fn builtin(&self, id: NodeId) -> Option<Builtin> {
        self.nodes[id.0].builtin
    }

    fn visible(&self, parent: usize, child: usize, ctx: Ctx) -> bool {
        let spec = &self.nodes[child].spec;
        spec.privilege <= ctx.privilege
            && (parent != ROOT || spec.mode.is_none_or(|m| m == ctx.mode))
    }

    /// The visible children of `node` whose name starts with `prefix`, by name.
    fn matching(&self, node: usize, prefix: &str, ctx: Ctx) -> Vec<usize> {
        let mut found: Vec<usize> = self.nodes[node]
            .children
            .iter()
            .copied()
            .filter(|&c| self.visible(node, c, ctx))
            .filter(|&c| starts_with_ignore_case(&self.nodes[c].spec.name, prefix))
            .collect();
        found.sort_by(|&a, &b| self.nodes[a].spec.name.cmp(&self.nodes[b].spec.name));
        found
    }

    /// Matches keywords and collects arguments (see the module doc).
    pub(crate) fn walk(&self, words: &[String], ctx: Ctx) -> Result<Resolved, MatchError> {
        let mut node = ROOT;
        let mut args = Vec::new();
        for word in words {
            if !args.is_empty() {
                args.push(word.clone());
                continue;
            }
            let found = self.matching(node, word, ctx);
            let exact = found
                .iter()
                .find(|&&c| self.nodes[c].spec.name.eq_ignore_ascii_case(word));
            match (exact, found.as_slice()) {
                (Some(&c), _) | (None, &[c]) => node = c,
                (None, [_, _, ..]) => return Err(MatchError::Ambiguous(word.clone())),
                (None, []) if node != ROOT && !self.nodes[node].spec.args.is_empty() => {
                    args.push(word.clone())
                }
                (None, []) => return Err(MatchError::Unknown(word.clone())),
            }
        }
        Ok(Resolved {
            node: NodeId(node),
            args,
        })
    }

    /// Whether a resolved line can run as it is.
    pub(crate) fn check(&self, r: &Resolved) -> Result<(), MatchError> {
        let spec = &self.nodes[r.node.0].spec;
        if !spec.runnable || r.args.len() < spec.required() {
            return Err(MatchError::Incomplete);
        }
        if r.args.len() > spec.args.len() && !spec.args.last().is_some_and(|a| a.repeated) {
            return Err(MatchError::TooMany);
        }
        Ok(())
    }

    /// `?` help for the word being typed (`partial`, empty after a space) after `words`:
    /// (word or placeholder, help) pairs, `<cr>` last when the line could run as it is.
    pub(crate) fn help(
        &self,
        words: &[String],
        partial: &str,
        ctx: Ctx,
    ) -> Result<Vec<(String, String)>, MatchError> {
        let r = self.walk(words, ctx)?;
        let node = r.node.0;
        let spec = &self.nodes[node].spec;
        let mut out = Vec::new();
        if r.args.is_empty() {
            for c in self.matching(node, partial, ctx) {
                let s = &self.nodes[c].spec;
                out.push((s.name.clone(), s.help.clone()));
            }
        }
        if node != ROOT {
            if let Some(arg) = spec.arg_at(r.args.len()) {
                out.push((arg.name.clone(), arg.help.clone()));
            }
            if partial.is_empty() && self.check(&r).is_ok() {
                out.push(("<cr>".to_string(), String::new()));
            }
        }
        if out.is_empty() && !partial.is_empty() {
            return Err(MatchError::Unknown(partial.to_string()));
        }
        if out.is_empty() && self.check(&r) == Err(MatchError::TooMany) {
            return Err(MatchError::TooMany);
        }
        Ok(out)
    }

    /// Names Tab may complete `partial` to, after `words` (none where an argument goes).
    pub(crate) fn completions(&self, words: &[String], partial: &str, ctx: Ctx) -> Vec<String> {
        match self.walk(words, ctx) {
            Ok(r) if r.args.is_empty() => self
                .matching(r.node.0, partial, ctx)
                .into_iter()
                .map(|c| self.nodes[c].spec.name.clone())
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn starts_with_ignore_case(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// A command line cut into words: the command part (double quotes group words with spaces),
/// whether it ends in a space, and what follows the first `|` outside quotes (the filters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    pub words: Vec<String>,
    pub trailing_space: bool,
    pub filters: Option<String>,
}

pub(crate) fn split(line: &str) -> Split {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    let mut filters = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            '|' if !quoted => {
                filters = Some(line[i + 1..].to_string());
                break;
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    let trailing_space = word.is_none() || filters.is_some();
    words.extend(word);
    Split {
        words,
        trailing_space,
        filters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: Ctx = Ctx {
        privilege: Privilege::Unprivileged,
        mode: Mode::Exec,
    };
    const ADMIN: Ctx = Ctx {
        privilege: Privilege::Privileged,
        mode: Mode::Exec,
    };

    fn w(s: &str) -> Vec<String> {
        split(s).words
    }

    fn tree() -> (CommandTree, NodeId, NodeId, NodeId) {
        let mut t = CommandTree::new();
        let show = t
            .add(None, Command::new("show", "Show information"))
            .unwrap();
        let ses = t
            .add(
                Some(show),
                Command::new("session", "Show sessions").repeated_arg("<SID>", "Session ID"),
            )
            .unwrap();
        t.add(
            Some(show),
            Command::new("version", "Show the version").runnable(),
        )
        .unwrap();
        t.add(
            Some(show),
            Command::new("servers", "Show servers").runnable(),
        )
        .unwrap();
        let drop = t
            .add(None, Command::new("drop", "Drop something").privileged())
            .unwrap();
        let drop_ses = t
            .add(
                Some(drop),
                Command::new("session", "Drop a session").arg("<SID>", "Session ID"),
            )
            .unwrap();
        (t, show, ses, drop_ses)
    }

    #[test]
    fn abbreviations_resolve_and_collect_arguments() {
        let (t, _, ses, _) = tree();
        let r = t.walk(&w("sh ses 12 13"), USER).unwrap();
        assert_eq!(
            r,
            Resolved {
                node: ses,
                args: vec!["12".into(), "13".into()]
            }
        );
        assert_eq!(t.path(ses), ["show", "session"]);
        assert_eq!(t.check(&r), Ok(()));
        assert_eq!(t.walk(&w("SHOW VER"), USER).map(|r| r.args), Ok(vec![]));
    }

    #[test]
    fn ambiguous_unknown_incomplete_too_many() {
        let (t, _, _, _) = tree();
        assert_eq!(
            t.walk(&w("sh se"), USER),
            Err(MatchError::Ambiguous("se".into()))
        );
        assert_eq!(
            t.walk(&w("s"), USER).map(|r| r.node.0),
            Ok(t.walk(&w("show"), USER).unwrap().node.0)
        );
        assert_eq!(
            t.walk(&w("bogus"), USER),
            Err(MatchError::Unknown("bogus".into()))
        );
        assert_eq!(
            t.walk(&w("show bogus"), USER),
            Err(MatchError::Unknown("bogus".into()))
        );
        let r = t.walk(&w("show"), USER).unwrap();
        assert_eq!(t.check(&r), Err(MatchError::Incomplete));
        let r = t.walk(&w("drop session"), ADMIN).unwrap();
        assert_eq!(t.check(&r), Err(MatchError::Incomplete));
        let r = t.walk(&w("show version x"), USER);
        assert_eq!(r, Err(MatchError::Unknown("x".into())));
        let r = t.walk(&w("drop session 1 2"), ADMIN).unwrap();
        assert_eq!(t.check(&r), Err(MatchError::TooMany));
        assert_eq!(
            MatchError::Ambiguous("s".into()).to_string(),
            "% Ambiguous command: \"s\""
        );
    }

    #[test]
    fn privileged_commands_are_invisible_to_users() {
        let (t, _, _, _) = tree();
        assert_eq!(
            t.walk(&w("drop session 1"), USER),
            Err(MatchError::Unknown("drop".into()))
        );
        // "d" is "disable" or "drop" for the privileged, nothing for a user.
        assert_eq!(
            t.walk(&w("d"), ADMIN),
            Err(MatchError::Ambiguous("d".into()))
        );
        assert!(t.walk(&w("d"), USER).is_err());
        assert!(!t.completions(&[], "", USER).contains(&"drop".to_string()));
        assert!(t.completions(&[], "", ADMIN).contains(&"drop".to_string()));
    }

    #[test]
    fn modes_select_first_words() {
        let t = CommandTree::new();
        let config = Ctx {
            privilege: Privilege::Privileged,
            mode: Mode::Config,
        };
        assert_eq!(t.walk(&w("en"), config), t.walk(&w("end"), config));
        assert_eq!(
            t.builtin(t.walk(&w("exit"), config).unwrap().node),
            Some(Builtin::ExitConfig)
        );
        assert_eq!(
            t.builtin(t.walk(&w("exit"), ADMIN).unwrap().node),
            Some(Builtin::Logout)
        );
        assert_eq!(
            t.builtin(t.walk(&w("conf t"), ADMIN).unwrap().node),
            Some(Builtin::ConfigureTerminal)
        );
        assert!(t.walk(&w("conf t"), config).is_err());
    }

    #[test]
    fn help_lists_candidates_placeholders_and_cr() {
        let (t, _, _, _) = tree();
        let names = |v: Vec<(String, String)>| v.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        assert_eq!(
            names(t.help(&w("show"), "", USER).unwrap()),
            ["servers", "session", "version"]
        );
        assert_eq!(
            names(t.help(&w("show"), "se", USER).unwrap()),
            ["servers", "session"]
        );
        assert_eq!(
            names(t.help(&w("show session"), "", USER).unwrap()),
            ["<SID>", "<cr>"]
        );
        assert_eq!(
            names(t.help(&w("show session 4"), "", USER).unwrap()),
            ["<SID>", "<cr>"]
        );
        assert_eq!(
            names(t.help(&w("drop session"), "", ADMIN).unwrap()),
            ["<SID>"]
        );
        assert_eq!(
            names(t.help(&w("drop session 1"), "", ADMIN).unwrap()),
            ["<cr>"]
        );
        assert_eq!(
            t.help(&w("drop session 1 2"), "", ADMIN),
            Err(MatchError::TooMany)
        );
        assert_eq!(
            t.help(&w("show"), "x", USER),
            Err(MatchError::Unknown("x".into()))
        );
        assert_eq!(
            t.help(&w("sh se"), "", USER),
            Err(MatchError::Ambiguous("se".into()))
        );
    }

    #[test]
    fn add_refuses_bad_names_duplicates_and_argument_orders() {
        let mut t = CommandTree::new();
        assert_eq!(
            t.add(None, Command::new("a b", "")),
            Err(TreeError::BadName("a b".into()))
        );
        assert_eq!(
            t.add(None, Command::new("", "")),
            Err(TreeError::BadName("".into()))
        );
        assert_eq!(
            t.add(None, Command::new("Enable", "")),
            Err(TreeError::Duplicate("Enable".into()))
        );
        // Same name, other mode: fine.
        t.add(None, Command::new("enable", "").mode(Mode::Config))
            .unwrap();
        t.add(None, Command::new("show", "").mode(Mode::Config))
            .unwrap();
        t.add(None, Command::new("show", "")).unwrap();
        let bad = Command::new("x", "").optional_arg("<A>", "").arg("<B>", "");
        assert_eq!(t.add(None, bad), Err(TreeError::BadArgs("x".into())));
        let bad = Command::new("y", "")
            .repeated_arg("<A>", "")
            .optional_arg("<B>", "");
        assert_eq!(t.add(None, bad), Err(TreeError::BadArgs("y".into())));
        assert_eq!(
            t.add(Some(NodeId(9999)), Command::new("z", "")),
            Err(TreeError::NoParent)
        );
    }

    #[test]
    fn split_handles_quotes_pipes_and_trailing_space() {
        let s = split("set  hostname \"a b\" | inc x|y");
        assert_eq!(s.words, ["set", "hostname", "a b"]);
        assert_eq!(s.filters.as_deref(), Some(" inc x|y"));
        assert!(s.trailing_space);
        assert!(!split("sh ses").trailing_space);
        assert!(split("sh ").trailing_space);
        assert!(split("").trailing_space);
        assert_eq!(split("x \"a|b\"").words, ["x", "a|b"]);
        assert_eq!(split("x \"\"").words, ["x", ""]);
    }
}
