//! An INI reader with the semantics of Python's `RawConfigParser._read` as supervisord
//! configures it: `inline_comment_prefixes=(';', '#')`, `strict=False`, delimiters `=` and `:`,
//! lower-cased keys, continuation lines, merged duplicate sections, `[DEFAULT]`.
//!
//! Unlike Python it keeps the file and line of every section and key.

use crate::datatypes::py_repr;
use crate::error::ConfigError;
use std::path::{Path, PathBuf};

/// One option value with where it was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lower-cased option name.
    pub key: String,
    /// Value, continuation lines joined with `\n`.
    pub value: String,
    /// Index into [`Ini::files`].
    pub file: usize,
    /// 1-based line of the `key = value` line.
    pub line: usize,
}

/// A section, merged over every place it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Name between the brackets, as written.
    pub name: String,
    /// File where the section first appeared (index into [`Ini::files`]).
    pub file: usize,
    /// Line of its first header.
    pub line: usize,
    /// Options in first-definition order; a redefinition replaces the value in place.
    pub entries: Vec<Entry>,
}

impl Section {
    fn set(&mut self, entry: Entry) {
        match self.entries.iter_mut().find(|e| e.key == entry.key) {
            Some(slot) => *slot = entry,
            None => self.entries.push(entry),
        }
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.key == key)
    }
}

/// The parsed, merged contents of one or more INI files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    /// Files read, in order.
    pub files: Vec<PathBuf>,
    /// Sections in first-seen order (`[DEFAULT]` excluded).
    pub sections: Vec<Section>,
    /// `[DEFAULT]` options.
    pub defaults: Vec<Entry>,
    /// Section names to their index in `sections`: a file of thousands of programs must
    /// not look every key's section up among all the sections.
    index: std::collections::HashMap<String, usize>,
}

/// Where the parser currently writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cursor {
    None,
    Default,
    Section(usize),
    /// A section the caller does not keep: its lines are checked, not stored.
    Skipped,
}

/// Python's `str.isspace` for one char: Unicode white space and the four separators
/// `\x1c`..`\x1f`.
#[inline]
fn is_py_space(c: char) -> bool {
    // ASCII first: nearly every char of a configuration file is.
    if c.is_ascii() {
        matches!(c, ' ' | '\t'..='\r' | '\x1c'..='\x1f')
    } else {
        c.is_whitespace()
    }
}

/// Where an inline comment starts: `;` or `#` at the start of the line or right after
/// whitespace (Python's `inline_comment_prefixes`). Both are ASCII, so a byte search finds
/// every candidate on a char boundary (a file of 10,000 programs is read by every ctl
/// command, and most lines have none); the char before each candidate decides.
fn inline_comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(offset) = find_either(b';', b'#', &bytes[from..]) {
        let at = from + offset;
        if line[..at].chars().next_back().is_none_or(is_py_space) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Where the first `a` or `b` is in `haystack`.
///
/// On x86-64 this is memchr's SSE2 searcher, which every x86-64 CPU has. memchr's generic
/// entry point would first ask the CPU whether it has AVX2, with a series of `cpuid`
/// instructions; on a virtual machine each one traps to the hypervisor (7.5 us apiece on
/// the project's machine, ~65 us in all), and every ctl command reads its config file
/// anew. The lines searched are short: SSE2 is as fast as AVX2 on them.
fn find_either(a: u8, b: u8, haystack: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(searcher) = memchr::arch::x86_64::sse2::memchr::Two::new(a, b) {
        return searcher.find(haystack);
    }
    memchr::memchr2(a, b, haystack)
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

impl Ini {
    /// An empty parser.
    pub fn new() -> Self {
        Ini::default()
    }

    /// Finds a section by exact name.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(name).and_then(|&i| self.sections.get(i))
    }

    /// True when the section exists (`[DEFAULT]` does not count).
    pub fn has_section(&self, name: &str) -> bool {
        self.section(name).is_some()
    }

    /// Looks an option up in a section, falling back to `[DEFAULT]`.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.section(section)
            .and_then(|s| s.entries.iter().find(|e| e.key == key))
            .or_else(|| self.defaults.iter().find(|e| e.key == key))
    }

    /// The file name of index `file`.
    pub fn file(&self, file: usize) -> &Path {
        self.files.get(file).map_or(Path::new(""), |p| p.as_path())
    }

    /// Parses `text` (the contents of `path`) into this parser, merging with what is already
    /// there. Returns the parse errors; like Python, bad lines do not stop the parse, but a
    /// missing section header stops it.
    pub fn read_str(&mut self, text: &str, path: &Path) -> Vec<ConfigError> {
        self.read_str_keeping(text, path, &|_| true)
    }

    /// As [`read_str`](Self::read_str), but only the sections whose name `keep` accepts (and
    /// `[DEFAULT]`) are stored; the others are parsed just as carefully, so the errors are
    /// the same, but not kept. The ctl needs two sections of a file that may hold thousands
    /// of programs.
    pub fn read_str_keeping(
        &mut self,
        text: &str,
        path: &Path,
        keep: &dyn Fn(&str) -> bool,
    ) -> Vec<ConfigError> {
        let file = self.files.len();
        self.files.push(path.to_path_buf());
        let mut errors = Vec::new();
        // Most files have no carriage return: no copy of them.
        let text: std::borrow::Cow<str> = if text.contains('\r') {
            text.replace("\r\n", "\n").replace('\r', "\n").into()
        } else {
            text.into()
        };
        let mut cursor = Cursor::None;
        // The open option: (cursor it belongs to, index of its entry in `pending`).
        let mut open: Option<(Cursor, usize)> = None;
        let mut pending: Vec<(Cursor, String, Vec<String>)> = Vec::new();
        let mut indent_level = 0usize;
        for (idx, raw) in text.split_inclusive('\n').enumerate() {
            let lineno = idx + 1;
            let line = raw;
            let mut comment_start = inline_comment_start(line);
            let stripped = py_strip(line);
            if stripped.starts_with('#') || stripped.starts_with(';') {
                comment_start = Some(0);
            }
            let value = py_strip(&line[..comment_start.unwrap_or(line.len())]);
            if value.is_empty() {
                if comment_start.is_none() {
                    if let Some((Cursor::Default | Cursor::Section(_), p)) = open {
                        pending[p].2.push(String::new());
                    }
                }
                continue;
            }
            // In characters, as Python counts it (the line has a non-space: `value` is not
            // empty).
            let cur_indent = line.chars().take_while(|&c| is_py_space(c)).count();
            if cursor != Cursor::None && open.is_some() && cur_indent > indent_level {
                if let Some((Cursor::Default | Cursor::Section(_), p)) = open {
                    pending[p].2.push(value.to_string());
                }
                continue;
            }
            indent_level = cur_indent;
            if value.starts_with('[') && value.len() > 2 {
                if let Some(end) = value.rfind(']') {
                    if end > 1 {
                        let name = &value[1..end];
                        if name == "DEFAULT" {
                            cursor = Cursor::Default;
                        } else if !keep(name) {
                            cursor = Cursor::Skipped;
                        } else if let Some(&i) = self.index.get(name) {
                            cursor = Cursor::Section(i);
                        } else {
                            self.index.insert(name.to_string(), self.sections.len());
                            self.sections.push(Section {
                                name: name.to_string(),
                                file,
                                line: lineno,
                                entries: Vec::new(),
                            });
                            cursor = Cursor::Section(self.sections.len() - 1);
                        }
                        open = None;
                        continue;
                    }
                }
            }
            if cursor == Cursor::None {
                errors.push(
                    ConfigError::new(format!(
                        "File contains no section headers.\nfile: {}, line: {}\n{}",
                        py_repr(&path.to_string_lossy()),
                        lineno,
                        py_repr(line)
                    ))
                    .with_file(path)
                    .with_line(lineno),
                );
                break;
            }
            // Both delimiters are ASCII: a byte search lands on a char boundary.
            match find_either(b'=', b':', value.as_bytes()) {
                Some(pos) => {
                    let key = value[..pos].trim_end_matches(is_py_space);
                    if key.is_empty() {
                        errors.push(parsing_error(path, lineno, line));
                    }
                    if cursor == Cursor::Skipped {
                        // Continuation lines still belong to this option (and are skipped).
                        open = (!key.is_empty()).then_some((Cursor::Skipped, usize::MAX));
                        continue;
                    }
                    let key = key.to_lowercase();
                    let val = py_strip(&value[pos + 1..]).to_string();
                    // Entries are written when the file ends (after joining lines); remember
                    // the line now so the order of definitions is kept.
                    self.set_entry(
                        cursor,
                        Entry {
                            key: key.clone(),
                            value: String::new(),
                            file,
                            line: lineno,
                        },
                    );
                    open = if key.is_empty() {
                        None
                    } else {
                        Some((cursor, pending.len()))
                    };
                    pending.push((cursor, key, vec![val]));
                }
                None => errors.push(parsing_error(path, lineno, line)),
            }
        }
        // Join multi-line values: the last definition of a key in this file wins.
        for (c, key, parts) in pending {
            let joined = parts.join("\n");
            let joined = joined.trim_end_matches(is_py_space).to_string();
            let slot = match c {
                Cursor::Default => self.defaults.iter_mut().find(|e| e.key == key),
                Cursor::Section(i) => self.sections[i].get_mut(&key),
                Cursor::None | Cursor::Skipped => None,
            };
            if let Some(e) = slot {
                if e.file == file {
                    e.value = joined;
                }
            }
        }
        errors
    }

    fn set_entry(&mut self, cursor: Cursor, entry: Entry) {
        match cursor {
            Cursor::Default => match self.defaults.iter_mut().find(|e| e.key == entry.key) {
                Some(slot) => *slot = entry,
                None => self.defaults.push(entry),
            },
            Cursor::Section(i) => self.sections[i].set(entry),
            Cursor::None | Cursor::Skipped => {}
        }
    }

    /// supervisord's `expand_here`: replaces `%(here)s` textually in every value of every
    /// section (values inherited from `[DEFAULT]` are copied into the section).
    pub fn expand_here(&mut self, here: &str) {
        const HERE: &str = "%(here)s";
        let defaults = self.defaults.clone();
        for s in &mut self.sections {
            for d in &defaults {
                if d.value.contains(HERE) && !s.entries.iter().any(|e| e.key == d.key) {
                    s.entries.push(d.clone());
                }
            }
            for e in &mut s.entries {
                if e.value.contains(HERE) {
                    e.value = e.value.replace(HERE, here);
                }
            }
        }
    }
}

fn parsing_error(path: &Path, lineno: usize, line: &str) -> ConfigError {
    ConfigError::new(format!(
        "Source contains parsing errors: {}\n\t[line {:>2}]: {}",
        py_repr(&path.to_string_lossy()),
        lineno,
        py_repr(line)
    ))
    .with_file(path)
    .with_line(lineno)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Ini, Vec<ConfigError>) {
        let mut ini = Ini::new();
        let errs = ini.read_str(text, Path::new("t.conf"));
        (ini, errs)
    }

    fn val(ini: &Ini, s: &str, k: &str) -> Option<String> {
        ini.get(s, k).map(|e| e.value.clone())
    }

    #[test]
    fn comments() {
        let (ini, errs) = parse(
            "; top\n# top\n[s]\na=/bin/cat ; inline\nb=echo a;b ;comment\nc3=echo \"x ; y\"\n\
             d=echo a #x # y\ne=a#b\nf= ;c\n  # indented comment\ng=1\n",
        );
        assert!(errs.is_empty());
        assert_eq!(val(&ini, "s", "a").as_deref(), Some("/bin/cat"));
        assert_eq!(val(&ini, "s", "b").as_deref(), Some("echo a;b"));
        assert_eq!(val(&ini, "s", "c3").as_deref(), Some("echo \"x"));
        assert_eq!(val(&ini, "s", "d").as_deref(), Some("echo a"));
        assert_eq!(val(&ini, "s", "e").as_deref(), Some("a#b"));
        assert_eq!(val(&ini, "s", "f").as_deref(), Some(""));
        assert_eq!(val(&ini, "s", "g").as_deref(), Some("1"));
    }

    #[test]
    fn delimiters_case_and_whitespace() {
        let (ini, errs) =
            parse("[program:a]\n  Command   =   /bin/cat   \nk:v\nurl=unix:///x\nx=b=c\nempty=\n");
        assert!(errs.is_empty());
        assert_eq!(
            val(&ini, "program:a", "command").as_deref(),
            Some("/bin/cat")
        );
        assert_eq!(ini.get("program:a", "command").map(|e| e.line), Some(2));
        assert_eq!(val(&ini, "program:a", "k").as_deref(), Some("v"));
        assert_eq!(val(&ini, "program:a", "url").as_deref(), Some("unix:///x"));
        assert_eq!(val(&ini, "program:a", "x").as_deref(), Some("b=c"));
        assert_eq!(val(&ini, "program:a", "empty").as_deref(), Some(""));
    }

    #[test]
    fn continuation_lines() {
        let (ini, errs) = parse("[s]\nc4=first\n  second line\n\tthird\nenv=\n    A=\"1\",\n    ; c\n    B=\"2\"\nn=1\n");
        assert!(errs.is_empty());
        assert_eq!(
            val(&ini, "s", "c4").as_deref(),
            Some("first\nsecond line\nthird")
        );
        assert_eq!(
            val(&ini, "s", "env").as_deref(),
            Some("\nA=\"1\",\nB=\"2\"")
        );
        assert_eq!(val(&ini, "s", "n").as_deref(), Some("1"));
        let (ini, _) = parse("[s]\na=x\n\n  y\nb=\\\n  z\n");
        assert_eq!(val(&ini, "s", "a").as_deref(), Some("x\n\ny"));
        assert_eq!(val(&ini, "s", "b").as_deref(), Some("\\\nz"));
        let (ini, _) = parse("[s]\r\na=1\r\n  2\r\n");
        assert_eq!(val(&ini, "s", "a").as_deref(), Some("1\n2"));
    }

    #[test]
    fn duplicates_merge_and_default() {
        let (ini, errs) =
            parse("[DEFAULT]\nautostart=false\n[a]\nx=1\ny=1\n[b]\n[a]\nx=2\n[ program:a ]\nq=\\n C:\\Windows\n");
        assert!(errs.is_empty());
        assert_eq!(ini.sections.len(), 3);
        assert_eq!(val(&ini, "a", "x").as_deref(), Some("2"));
        assert_eq!(val(&ini, "a", "y").as_deref(), Some("1"));
        assert_eq!(val(&ini, "b", "autostart").as_deref(), Some("false"));
        assert!(!ini.has_section("DEFAULT"));
        assert_eq!(
            val(&ini, " program:a ", "q").as_deref(),
            Some("\\n C:\\Windows")
        );
        let (ini, _) = parse("[program:a] ; comment\nx=1\n[a]b]\ny=2\n");
        assert!(ini.has_section("program:a"));
        assert!(ini.has_section("a]b"));
    }

    #[test]
    fn errors() {
        let (_, errs) = parse("[s]\nnovalue\nok=1\ngarbage line\n");
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].line, Some(2));
        assert_eq!(
            errs[0].message,
            "Source contains parsing errors: 't.conf'\n\t[line  2]: 'novalue\\n'"
        );
        assert_eq!(errs[1].line, Some(4));
        let (_, errs) = parse("a=1\n[s]\n");
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].message,
            "File contains no section headers.\nfile: 't.conf', line: 1\n'a=1\\n'"
        );
        let (_, errs) = parse("[s]\n=x\n[]\n");
        assert_eq!(errs.len(), 2);
    }

    #[test]
    fn merge_across_files_and_here() {
        let mut ini = Ini::new();
        assert!(ini
            .read_str(
                "[program:b]\ncommand=sleep 100\nx=%(here)s/a\n",
                Path::new("/m/a.conf")
            )
            .is_empty());
        ini.expand_here("/m");
        assert!(ini
            .read_str(
                "[program:b]\npriority=5\ncommand=sleep 200\ny=%(here)s\n",
                Path::new("/n/b.conf")
            )
            .is_empty());
        ini.expand_here("/n");
        assert_eq!(
            val(&ini, "program:b", "command").as_deref(),
            Some("sleep 200")
        );
        assert_eq!(val(&ini, "program:b", "priority").as_deref(), Some("5"));
        assert_eq!(val(&ini, "program:b", "x").as_deref(), Some("/m/a"));
        assert_eq!(val(&ini, "program:b", "y").as_deref(), Some("/n"));
        assert_eq!(ini.section("program:b").map(|s| s.file), Some(0));
        assert_eq!(ini.get("program:b", "command").map(|e| e.file), Some(1));
    }

    #[test]
    fn skipped_sections_give_the_same_errors_and_are_not_stored() {
        let text = "[program:a]\ncommand = x\n  continued = not a key\n\n  more\n= no key\n\
                    junk line\n[supervisorctl]\nserverurl = unix:///s\n  second line\n\
                    [program:b]\nbad\n[DEFAULT]\nd = 1\n";
        let (full, full_errors) = parse(text);
        let mut kept = Ini::new();
        let kept_errors =
            kept.read_str_keeping(text, Path::new("t.conf"), &|name| name == "supervisorctl");
        assert_eq!(kept_errors, full_errors);
        assert_eq!(full_errors.len(), 3, "{full_errors:?}");
        let names: Vec<&str> = kept.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["supervisorctl"]);
        assert_eq!(
            kept.get("supervisorctl", "serverurl"),
            full.get("supervisorctl", "serverurl")
        );
        assert_eq!(
            val(&kept, "supervisorctl", "serverurl").as_deref(),
            Some("unix:///s\nsecond line")
        );
        assert_eq!(val(&kept, "supervisorctl", "d").as_deref(), Some("1"));
    }

    #[test]
    fn inline_comments_start_after_whitespace_as_in_python() {
        // Python's rule, a char at a time: the oracle the byte search must agree with.
        fn char_by_char(line: &str) -> Option<usize> {
            let mut previous: Option<char> = None;
            for (at, c) in line.char_indices() {
                if (c == ';' || c == '#') && previous.is_none_or(is_py_space) {
                    return Some(at);
                }
                previous = Some(c);
            }
            None
        }
        let lines = [
            "command = /bin/cat\n",
            "command = /bin/cat ; a comment\n",
            "url = http://host/#anchor;x\n",
            "a=b;c ;d\n",
            "#at the start\n",
            ";at the start\n",
            "\tindented # comment\n",
            "key = caf\u{e9}#not\n",
            "key = caf\u{e9} #yes\n",
            "key = x\u{a0};after a no-break space\n",
            "key = x\u{2003}#after an em space\n",
            "key = \u{1f600};emoji\n",
            "key = x\u{1c};after a file separator\n",
            "",
            ";",
            "a;",
        ];
        for line in lines {
            assert_eq!(inline_comment_start(line), char_by_char(line), "{line:?}");
        }
        assert_eq!(inline_comment_start("a = b ;c"), Some(6));
        assert_eq!(inline_comment_start("a=b;c"), None);
    }

    #[test]
    fn py_space_is_unicode_white_space_and_the_separators() {
        for c in (0..0x3100).filter_map(char::from_u32) {
            let expected = c.is_whitespace() || ('\x1c'..='\x1f').contains(&c);
            assert_eq!(is_py_space(c), expected, "{c:?}");
        }
    }
}
