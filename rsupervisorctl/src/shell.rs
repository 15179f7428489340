//! The interactive shell: `status` first, then a `supervisor> ` prompt with line editing,
//! history (`-r` / `history_file`) and tab completion of verbs, processes and groups. The exit
//! status of an interactive session is always 0, as supervisorctl's.

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use crate::action::Verb;
use crate::session::{Flow, Session};

/// What completion offers, refreshed after every command.
#[derive(Debug, Default, Clone)]
struct Names {
    /// `(group, name)` of every process.
    processes: Vec<(String, String)>,
}

/// Tab completion as supervisorctl's: verbs first, then processes or groups by verb.
struct ShellHelper {
    names: Arc<Mutex<Names>>,
}

/// Candidates for the word being typed, given the whole line before the cursor.
fn candidates(names: &Names, line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let text = if line.ends_with(char::is_whitespace) {
        ""
    } else {
        words.last().copied().unwrap_or("")
    };
    let actions = || -> Vec<String> {
        Verb::ALL
            .iter()
            .map(|v| v.name())
            .filter(|n| n.starts_with(text))
            .map(|n| format!("{n} "))
            .collect()
    };
    if words.is_empty() || (words.len() == 1 && !line.ends_with(char::is_whitespace)) {
        return actions();
    }
    let mut list: Vec<String> = Vec::new();
    match words[0] {
        "help" => return actions(),
        "add" | "remove" | "update" => {
            for (group, _) in &names.processes {
                if !list.contains(group) {
                    list.push(group.clone());
                }
            }
        }
        "clear" | "fg" | "pid" | "restart" | "signal" | "start" | "status" | "stop" | "tail" => {
            for (group, name) in &names.processes {
                if text.contains(':') || group != name {
                    list.push(format!("{group}:{name}"));
                    let star = format!("{group}:*");
                    if !list.contains(&star) {
                        list.push(star);
                    }
                } else {
                    list.push(name.clone());
                }
            }
        }
        _ => {}
    }
    list.into_iter()
        .filter(|c| c.starts_with(text))
        .map(|c| format!("{c} "))
        .collect()
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let before = &line[..pos];
        let start = before.rfind(char::is_whitespace).map_or(0, |at| at + 1);
        let names = self
            .names
            .lock()
            .map(|names| names.clone())
            .unwrap_or_default();
        Ok((start, candidates(&names, before)))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}
impl Highlighter for ShellHelper {}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

async fn refresh(session: &Session, names: &Arc<Mutex<Names>>) {
    let processes = session
        .process_infos()
        .await
        .into_iter()
        .map(|i| (i.group, i.name))
        .collect();
    if let Ok(mut guard) = names.lock() {
        guard.processes = processes;
    }
}

/// Runs the shell until `quit`, `exit`, Ctrl-D or Ctrl-C. Returns the exit status (0).
pub async fn run(session: &mut Session) -> i32 {
    session.execute("status").await;
    if !std::io::stdin().is_terminal() {
        return run_piped(session).await;
    }
    let names = Arc::new(Mutex::new(Names::default()));
    refresh(session, &names).await;
    let mut editor: Editor<ShellHelper, FileHistory> = match Editor::new() {
        Ok(editor) => editor,
        Err(error) => {
            eprintln!("rsupervisorctl: cannot start the interactive shell: {error}");
            return 0;
        }
    };
    editor.set_helper(Some(ShellHelper {
        names: Arc::clone(&names),
    }));
    let history = session.settings().history_file.clone();
    if let Some(path) = &history {
        // A missing history file is normal on first use.
        let _ = editor.load_history(path);
    }
    let prompt = format!("{}> ", session.settings().prompt);
    loop {
        match editor.readline(&prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                if session.execute(&line).await == Flow::Quit {
                    break;
                }
                refresh(session, &names).await;
            }
            Err(ReadlineError::Eof) => {
                session.execute("EOF").await;
                break;
            }
            Err(ReadlineError::Interrupted) => {
                println!();
                break;
            }
            Err(error) => {
                eprintln!("rsupervisorctl: cannot read the command line: {error}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        if let Err(error) = editor.save_history(path) {
            eprintln!(
                "rsupervisorctl: could not save history to {}: {error}",
                path.display()
            );
        }
    }
    0
}

/// Commands piped in (`rsupervisorctl < commands`): as supervisorctl (Python's `cmd`), the
/// prompt is written before each line is read, though nobody types at it, and there is no
/// line editing or history.
async fn run_piped(session: &mut Session) -> i32 {
    let prompt = format!("{}> ", session.settings().prompt);
    let stdin = std::io::stdin();
    loop {
        {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(prompt.as_bytes());
            let _ = stdout.flush();
        }
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) => {
                session.execute("EOF").await;
                break;
            }
            Ok(_) => {
                let line = line.trim_end_matches(['\r', '\n']);
                if session.execute(line).await == Flow::Quit {
                    break;
                }
            }
            Err(error) => {
                eprintln!("rsupervisorctl: cannot read the command line: {error}");
                break;
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            processes: vec![
                ("web".into(), "web".into()),
                ("grp".into(), "a".into()),
                ("grp".into(), "b".into()),
            ],
        }
    }

    #[test]
    fn completes_verbs() {
        assert_eq!(candidates(&names(), "st"), ["start ", "status ", "stop "]);
        assert_eq!(
            candidates(&names(), "help re"),
            ["reload ", "remove ", "reread ", "reset ", "restart "]
        );
        assert_eq!(candidates(&names(), "").len(), Verb::ALL.len());
    }

    #[test]
    fn completes_processes_and_groups() {
        assert_eq!(
            candidates(&names(), "start "),
            ["web ", "grp:a ", "grp:* ", "grp:b "]
        );
        assert_eq!(
            candidates(&names(), "stop grp:"),
            ["grp:a ", "grp:* ", "grp:b "]
        );
        assert_eq!(candidates(&names(), "update "), ["web ", "grp "]);
        assert!(candidates(&names(), "version ").is_empty());
    }
}
