//! Splitting a program's `command=` into argv, with POSIX shell quoting rules (Python's
//! `shlex.split`, which supervisord uses): no shell runs, so `$VAR`, globs and pipes are literal.

/// Splits `command` like `shlex.split(command)` (POSIX mode, comments off).
///
/// The error text is supervisord's spawn error wording.
pub fn split(command: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(no_closing_quotation(command)),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            // Inside double quotes a backslash escapes only these.
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(no_closing_quotation(command)),
                        },
                        Some(c) => word.push(c),
                        None => return Err(no_closing_quotation(command)),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => {
                        return Err(format!(
                            "can't parse command '{command}': No escaped character"
                        ))
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn no_closing_quotation(command: &str) -> String {
    format!("can't parse command '{command}': No closing quotation")
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_like_python_shlex() {
        let cases: &[(&str, &[&str])] = &[
            ("/bin/cat", &["/bin/cat"]),
            ("  sleep   10 ", &["sleep", "10"]),
            ("sh -c 'echo a; echo b'", &["sh", "-c", "echo a; echo b"]),
            (r#"echo "a \"b\" c" d"#, &["echo", "a \"b\" c", "d"]),
            (r#"echo "x\ny""#, &["echo", "x\\ny"]),
            (r"echo a\ b", &["echo", "a b"]),
            ("echo ''", &["echo", ""]),
            (
                "first\n  second line\n\tthird",
                &["first", "second", "line", "third"],
            ),
            ("a'b'c\"d\"", &["abcd"]),
            ("echo $HOME *", &["echo", "$HOME", "*"]),
        ];
        for (input, expected) in cases {
            let expected: Vec<String> = expected.iter().map(|word| word.to_string()).collect();
            assert_eq!(split(input), Ok(expected), "{input:?}");
        }
    }

    #[test]
    fn unbalanced_quote_is_supervisord_spawn_error() {
        assert_eq!(
            split("echo 'oops"),
            Err("can't parse command 'echo 'oops': No closing quotation".to_owned())
        );
        assert!(split("echo \"oops").is_err());
    }
}
