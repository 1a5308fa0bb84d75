//! The programs a command line starts, for the `commands` rules.
//!
//! An image whose `Entrypoint`/`Cmd` is `["xmrig", "-c", "/etc/xmrig.json"]` or
//! `["/bin/sh", "-c", "exec tor -f /etc/tor/torrc"]` exists to run that tool, and the tool is
//! named by the *program* the command starts — the basename of its first word once launchers
//! are peeled off — not by the word appearing somewhere (`nginx -c /etc/tor/torrc` runs nginx;
//! `tor-browser-docs` is not `tor`). So the command is read the way a shell and `execve` would
//! read it, just far enough to find each program:
//!
//! - launchers that run the rest of their arguments are skipped with their options: `exec`,
//!   `nohup`, `setsid`, `env` (and its `NAME=VALUE` words), `NAME=VALUE` prefixes, `sudo`/`doas`,
//!   `gosu USER`/`su-exec USER`, `chpst`, `tini`/`dumb-init`/`catatonit`, `nice`, `ionice`,
//!   `timeout DURATION`, `stdbuf`, `busybox`, and the shell words `if`/`then`/`do`/`else`/`!`/`{`/
//!   `time` that may open a command;
//! - a shell with `-c` (`sh -c`, `bash -lc`, `/bin/ash -ec`) runs a script: the script is split
//!   into simple commands at `;`, `&&`, `||`, `|`, `&`, newlines and parentheses (quotes and
//!   backslashes respected, `#` comments dropped), and each is read again, to a bounded depth;
//! - an interpreter running a file (`sh x.sh`, `python3 sqlmap.py`, `perl nikto.pl`) starts that
//!   file: the program is the script (`python3 -m NAME` starts the module `NAME`); inline code
//!   (`python3 -c`, `perl -e`, `node -e`) starts no named program.
//!
//! This is not a shell: no expansion, no aliases, no functions. It errs towards finding fewer
//! programs, never towards calling an argument a program.

use std::{borrow::Cow, collections::BTreeMap};

use crate::{
    Match, RuleSet,
    matcher::{Emit, Place, emit},
    matches::plain_preview,
};

/// How many `sh -c` scripts deep the reading goes (`sh -c "sh -c '…'"`).
const MAX_DEPTH: u32 = 4;
/// Most programs read from one command line: a script is bounded, and so is the work.
const MAX_PROGRAMS: usize = 64;

/// One program a command line starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation<'a> {
    /// The index of the argv word it comes from: the program's own word, or the `sh -c` script
    /// that holds it.
    pub(crate) word: usize,
    /// The program as written (a path or a name), then its arguments.
    pub(crate) argv: Vec<Cow<'a, str>>,
}

impl Invocation<'_> {
    /// The program's basename (`/usr/local/bin/gost` → `gost`).
    pub(crate) fn program(&self) -> &str {
        self.argv.first().map_or("", |w| basename(w))
    }

    /// The program and its arguments, space-separated.
    pub(crate) fn line(&self) -> String {
        self.argv.join(" ")
    }
}

impl RuleSet {
    /// Runs the command rules on a command line (an image's Entrypoint followed by its Cmd, as
    /// exec-form words; a shell-form string is `["/bin/sh", "-c", string]`). Each program it
    /// starts (see the module docs) whose basename a rule lists is a match whose value and
    /// preview are the program and its arguments, whose detail names the `program`, and whose
    /// offset is the index of the argv word it came from, so the caller can tell an
    /// Entrypoint's program from a Cmd's.
    pub fn judge_command(&self, argv: &[&str], out: &mut Vec<Match>) {
        if self.command_glob_owner.is_empty() || argv.is_empty() {
            return;
        }
        let start = out.len();
        for invocation in invocations(argv) {
            let program = invocation.program();
            let mut rules: Vec<usize> =
                self.command_globs.matches(program).into_iter().map(|g| self.command_glob_owner[g]).collect();
            rules.dedup();
            if rules.is_empty() {
                continue;
            }
            let line = invocation.line();
            for rule in rules {
                let detail = BTreeMap::from([("program".to_owned(), program.to_owned())]);
                // A command line is config, not a file: no place applies.
                emit(
                    self,
                    out,
                    start,
                    &Place { path: "", fp_paths: &[], weak: None },
                    Emit {
                        rule,
                        confidence: self.rules[rule].confidence,
                        value: line.as_bytes(),
                        canonical: line.as_bytes(),
                        preview: plain_preview(line.as_bytes()),
                        offset: Some(invocation.word as u64),
                        detail,
                    },
                );
            }
        }
    }
}

/// Every program `argv` starts (at most [`MAX_PROGRAMS`]), in order.
pub(crate) fn invocations<'a>(argv: &[&'a str]) -> Vec<Invocation<'a>> {
    let words: Vec<Cow<'a, str>> = argv.iter().map(|w| Cow::Borrowed(*w)).collect();
    let mut out = Vec::new();
    read(&words, None, 0, &mut out);
    out
}

/// Reads one simple command. `origin` is the argv word a script came from (`None` at the top,
/// where each word is its own origin).
fn read<'a>(words: &[Cow<'a, str>], origin: Option<usize>, depth: u32, out: &mut Vec<Invocation<'a>>) {
    if out.len() >= MAX_PROGRAMS {
        return;
    }
    match start(words) {
        Start::Program(i) => {
            out.push(Invocation { word: origin.unwrap_or(i), argv: words[i..].to_vec() });
        }
        Start::Script(i) if depth < MAX_DEPTH => {
            let origin = origin.unwrap_or(i);
            for command in simple_commands(&words[i]) {
                let command: Vec<Cow<'a, str>> = command.into_iter().map(Cow::Owned).collect();
                read(&command, Some(origin), depth + 1, out);
            }
        }
        Start::Script(_) | Start::Nothing => {}
    }
}

/// Where the program of a simple command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// The word at this index is the program.
    Program(usize),
    /// The word at this index is a shell script (after `sh -c`).
    Script(usize),
    /// No named program: empty, or inline interpreter code.
    Nothing,
}

/// Skips launchers and assignments to the word that names the program.
fn start(words: &[Cow<'_, str>]) -> Start {
    let mut i = 0;
    while let Some(word) = words.get(i) {
        if is_assignment(word) {
            i += 1;
            continue;
        }
        let next = i + 1;
        i = match basename(word) {
            "exec" => skip_options(words, next, &["-a"]),
            "nohup" | "setsid" | "command" | "builtin" | "time" | "!" | "if" | "then" | "do" | "else"
            | "elif" | "while" | "until" | "{" | "busybox" => skip_options(words, next, &[]),
            "env" => skip_options(words, next, &["-u", "--unset", "-C", "--chdir", "-S", "--split-string"]),
            "sudo" | "doas" => {
                skip_options(words, next, &["-u", "-g", "-U", "-C", "-h", "-p", "-r", "-t", "-T", "-D"])
            }
            "gosu" | "su-exec" => next + 1,
            "chpst" => skip_options(
                words,
                next,
                &["-u", "-U", "-e", "-/", "-n", "-l", "-L", "-m", "-d", "-o", "-p", "-f", "-c"],
            ),
            "tini" | "tini-static" | "dumb-init" | "catatonit" => {
                skip_options(words, next, &["-p", "-e", "-r", "--rewrite"])
            }
            "nice" => skip_options(words, next, &["-n", "--adjustment"]),
            "ionice" => skip_options(words, next, &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"]),
            "timeout" => skip_options(words, next, &["-s", "--signal", "-k", "--kill-after"]) + 1,
            "stdbuf" => skip_options(words, next, &["-i", "-o", "-e"]),
            base if is_shell(base) => return shell(words, i),
            base if is_interpreter(base) => return interpreter(words, i),
            _ => return Start::Program(i),
        };
    }
    Start::Nothing
}

/// `sh [options] -c SCRIPT` → the script; `sh [options] FILE` → the file; `sh` → the shell.
fn shell(words: &[Cow<'_, str>], at: usize) -> Start {
    let mut i = at + 1;
    let mut script = false;
    while let Some(w) = words.get(i) {
        if w == "--" || w == "-" {
            i += 1;
            break;
        }
        let Some(flags) = w.strip_prefix('-').or_else(|| w.strip_prefix('+')) else { break };
        if flags.starts_with('-') {
            // Long options (`--login`, `--norc`) take no argument we need.
            i += 1;
            continue;
        }
        script |= w.starts_with('-') && flags.contains('c');
        // `-o OPTION` / `+o OPTION` (`set -o` names) take the next word.
        i += if flags.contains('o') { 2 } else { 1 };
    }
    match words.get(i) {
        Some(_) if script => Start::Script(i),
        Some(_) => Start::Program(i),
        None => Start::Program(at),
    }
}

/// `python3 [options] FILE` → the file; `-m NAME` → the module; `-c`/`-e CODE` → nothing.
fn interpreter(words: &[Cow<'_, str>], at: usize) -> Start {
    let mut i = at + 1;
    while let Some(w) = words.get(i) {
        match w.as_ref() {
            "--" => return if i + 1 < words.len() { Start::Program(i + 1) } else { Start::Program(at) },
            "-m" => return if i + 1 < words.len() { Start::Program(i + 1) } else { Start::Nothing },
            "-c" | "-e" | "-E" | "--eval" | "-p" | "--print" | "-r" | "-R" => {
                // Inline code (python -c, perl -e, node -e/-p, php -r): no named program.
                return Start::Nothing;
            }
            "-W" | "-X" | "-Q" | "-I" | "--require" => i += 2,
            _ if w.starts_with('-') && w.len() > 1 => i += 1,
            _ => return Start::Program(i),
        }
    }
    Start::Program(at)
}

/// Skips options from `from`: words starting with `-` (the ones in `with_arg` take the next
/// word too), up to and past a `--`.
fn skip_options(words: &[Cow<'_, str>], from: usize, with_arg: &[&str]) -> usize {
    let mut i = from;
    while let Some(w) = words.get(i) {
        if w == "--" {
            return i + 1;
        }
        if !w.starts_with('-') || w.len() == 1 {
            break;
        }
        i += if with_arg.contains(&w.as_ref()) { 2 } else { 1 };
    }
    i
}

/// `NAME=VALUE`: an environment assignment before a command.
fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else { return false };
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_shell(base: &str) -> bool {
    matches!(base, "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh" | "mksh" | "yash")
}

/// `python`, `python3`, `python3.11`, `pypy3`, `perl`, `perl5.36`, `ruby`, `node`, `nodejs`, `php`.
fn is_interpreter(base: &str) -> bool {
    let name = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    matches!(name, "python" | "pypy" | "perl" | "ruby" | "node" | "nodejs" | "php")
}

/// The last path component (`/usr/bin/tor` → `tor`; `tor/` → `tor`).
pub(crate) fn basename(word: &str) -> &str {
    word.trim_end_matches('/').rsplit('/').next().unwrap_or(word)
}

/// A shell script's simple commands, as words with quotes removed. Operators and newlines end
/// a command; `#` at the start of a word starts a comment; `$(…)` and backquotes stay inside
/// the word they are part of.
pub(crate) fn simple_commands(script: &str) -> Vec<Vec<String>> {
    let mut lexer = Lexer::default();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                lexer.started = true;
                lexer.word.extend(chars.by_ref().take_while(|&d| d != '\''));
            }
            '"' => {
                lexer.started = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' => lexer.word.extend(chars.next()),
                        _ => lexer.word.push(d),
                    }
                }
            }
            '\\' => {
                lexer.started = true;
                lexer.word.extend(chars.next().filter(|&d| d != '\n'));
            }
            '`' => {
                lexer.started = true;
                lexer.word.push('`');
                for d in chars.by_ref() {
                    lexer.word.push(d);
                    if d == '`' {
                        break;
                    }
                }
            }
            '$' if chars.peek() == Some(&'(') => {
                lexer.started = true;
                lexer.word.push('$');
                let mut depth = 0u32;
                for d in chars.by_ref() {
                    lexer.word.push(d);
                    match d {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            '#' if !lexer.started => {
                // A comment runs to the end of the line, which ends the command.
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                lexer.end_command();
            }
            ' ' | '\t' | '\r' => lexer.end_word(),
            '\n' | ';' | '(' | ')' => lexer.end_command(),
            '&' if chars.peek() == Some(&'>') || lexer.word.ends_with(['>', '<']) => {
                // A redirection (`&>file`, `2>&1`), not a separator.
                lexer.started = true;
                lexer.word.push('&');
            }
            '&' | '|' => {
                if chars.peek().is_some_and(|&d| d == c || (c == '|' && d == '&')) {
                    chars.next();
                }
                lexer.end_command();
            }
            _ => {
                lexer.started = true;
                lexer.word.push(c);
            }
        }
    }
    lexer.end_command();
    lexer.commands
}

/// The state of [`simple_commands`].
#[derive(Debug, Default)]
struct Lexer {
    word: String,
    /// Whether the current word has begun (an empty quoted word `''` is still a word).
    started: bool,
    words: Vec<String>,
    commands: Vec<Vec<String>>,
}

impl Lexer {
    fn end_word(&mut self) {
        if self.started {
            self.words.push(std::mem::take(&mut self.word));
            self.started = false;
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        if !self.words.is_empty() {
            self.commands.push(std::mem::take(&mut self.words));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (word, program line) of every invocation.
    fn programs(argv: &[&str]) -> Vec<(usize, String)> {
        invocations(argv).iter().map(|i| (i.word, i.line())).collect()
    }

    fn one(word: usize, line: &str) -> Vec<(usize, String)> {
        vec![(word, line.to_owned())]
    }

    #[test]
    fn the_first_word_is_the_program() {
        assert_eq!(programs(&["xmrig", "-c", "/etc/xmrig.json"]), one(0, "xmrig -c /etc/xmrig.json"));
        assert_eq!(programs(&["/usr/local/bin/gost", "-L", ":8080"]), one(0, "/usr/local/bin/gost -L :8080"));
        assert_eq!(invocations(&["/usr/local/bin/gost"])[0].program(), "gost");
        assert_eq!(programs(&["nginx", "-c", "/etc/tor/torrc"]), one(0, "nginx -c /etc/tor/torrc"));
        assert!(programs(&[]).is_empty());
    }

    #[test]
    fn launchers_and_assignments_are_peeled_off() {
        let cases: &[(&[&str], usize, &str)] = &[
            (&["exec", "tor", "-f", "/etc/tor/torrc"], 1, "tor -f /etc/tor/torrc"),
            (&["nohup", "xmrig"], 1, "xmrig"),
            (&["/usr/bin/env", "-i", "A=1", "B=2", "masscan", "-p80"], 4, "masscan -p80"),
            (&["HOME=/root", "ngrok", "http", "80"], 1, "ngrok http 80"),
            (&["/sbin/tini", "-g", "--", "xmrig"], 3, "xmrig"),
            (&["dumb-init", "--single-child", "tor"], 2, "tor"),
            (&["gosu", "nobody", "tor"], 2, "tor"),
            (&["su-exec", "1000:1000", "sing-box", "run"], 2, "sing-box run"),
            (&["sudo", "-u", "miner", "-E", "xmrig"], 4, "xmrig"),
            (&["nice", "-n", "19", "xmrig"], 3, "xmrig"),
            (&["timeout", "-s", "KILL", "1h", "masscan"], 4, "masscan"),
            (&["stdbuf", "-oL", "tor"], 2, "tor"),
        ];
        for (argv, word, line) in cases {
            assert_eq!(programs(argv), one(*word, line), "{argv:?}");
        }
        assert!(programs(&["env", "A=1"]).is_empty());
        assert!(programs(&["tini", "--"]).is_empty());
    }

    #[test]
    fn a_shell_script_is_split_into_its_commands() {
        let got = programs(&["/bin/sh", "-c", "envsubst < t > /etc/tor/torrc && exec tor -f /etc/tor/torrc"]);
        assert_eq!(
            got,
            vec![(2, "envsubst < t > /etc/tor/torrc".into()), (2, "tor -f /etc/tor/torrc".into())]
        );
        let got =
            programs(&["bash", "-lc", "set -e; cd /app ; ./xmrig --config='a b.json' 2>&1 | tee log &"]);
        assert_eq!(
            got.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(),
            ["set -e", "cd /app", "./xmrig --config=a b.json 2>&1", "tee log"]
        );
        // Nested scripts, a comment, a command substitution kept in its word.
        let got = programs(&["sh", "-c", "sh -c 'nohup tor &' # start tor\necho \"$(id -u)\""]);
        assert_eq!(got, vec![(2, "tor".into()), (2, "echo $(id -u)".into())]);
        // `sh FILE` runs the file; a bare shell runs itself.
        assert_eq!(programs(&["sh", "/opt/linpeas.sh", "-a"]), one(1, "/opt/linpeas.sh -a"));
        assert_eq!(programs(&["/bin/bash"]), one(0, "/bin/bash"));
        assert_eq!(programs(&["bash", "-o", "pipefail", "-c", "tor"]), one(4, "tor"));
    }

    #[test]
    fn interpreters_start_their_script_or_module() {
        assert_eq!(
            programs(&["python3", "-u", "/opt/sqlmap/sqlmap.py", "-u", "x"]),
            one(2, "/opt/sqlmap/sqlmap.py -u x")
        );
        assert_eq!(programs(&["python3.11", "-m", "sqlmap", "--batch"]), one(2, "sqlmap --batch"));
        assert_eq!(programs(&["perl", "nikto.pl", "-h", "x"]), one(1, "nikto.pl -h x"));
        assert!(programs(&["python3", "-c", "import tor"]).is_empty());
        assert!(programs(&["node", "-e", "require('xmrig')"]).is_empty());
        assert_eq!(programs(&["python3"]), one(0, "python3"));
    }

    #[test]
    fn the_lexer_respects_quotes_redirections_and_operators() {
        assert_eq!(
            simple_commands(r#"a 'b c' "d \"e\"" f\ g 2>&1 &>/dev/null||h|&i;;j"#),
            vec![vec!["a", "b c", "d \"e\"", "f g", "2>&1", "&>/dev/null"], vec!["h"], vec!["i"], vec!["j"],]
        );
        assert_eq!(simple_commands("x ''"), vec![vec!["x", ""]]);
        assert_eq!(simple_commands("(cd /a && `which tor`)"), vec![vec!["cd", "/a"], vec!["`which tor`"]]);
        assert!(simple_commands("  # only a comment\n").is_empty());
        assert_eq!(simple_commands("a#b"), vec![vec!["a#b"]]);
        // Unterminated quotes and substitutions end at the end of the script.
        assert_eq!(simple_commands("a 'b"), vec![vec!["a", "b"]]);
        assert_eq!(simple_commands("a $(b"), vec![vec!["a", "$(b"]]);
    }

    #[test]
    fn any_script_is_read_without_panic_and_within_bounds() {
        // Shell metacharacters, quotes and words in every order: unbalanced quotes,
        // substitutions and operators must end cleanly.
        const ALPHABET: &[u8] = b"\"'\\`$(){};&|#!= \n\tsh-ctorexec";
        let mut seed = 0x2545_f491_u32;
        for round in 0..2_000 {
            let len = round % 97;
            let script: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    char::from(ALPHABET[seed as usize % ALPHABET.len()])
                })
                .collect();
            let found = invocations(&["sh", "-c", &script]);
            assert!(found.len() <= MAX_PROGRAMS, "{script:?}");
            // A script that reads as options leaves `sh` itself as the program (word 0).
            assert!(found.iter().all(|i| i.word <= 2 && !i.argv.is_empty()), "{script:?}: {found:?}");
        }
    }

    #[test]
    fn reading_is_bounded() {
        let script = "tor;".repeat(1000);
        assert_eq!(invocations(&["sh", "-c", &script]).len(), MAX_PROGRAMS);
        let mut nested = "tor".to_owned();
        for _ in 0..10 {
            nested = format!("sh -c {nested:?}");
        }
        assert!(invocations(&["sh", "-c", &nested]).is_empty(), "deeper than MAX_DEPTH");
        assert_eq!(basename("/usr/bin/tor"), "tor");
        assert_eq!(basename("tor/"), "tor");
    }
}
