//! Python `%`-formatting against a mapping, as supervisord uses it to expand `%(name)s`.
//!
//! Supports `%%`, `%(name)s`, `%(name)r`, `%(name)d`/`i`/`u`, `x`/`X`/`o`, `e`/`f`/`g`, `c`,
//! flags `-+ #0`, width and precision, with Python's error texts.

use crate::datatypes::py_repr;
use std::collections::BTreeMap;

/// A value that can be expanded: supervisord's names are strings except `process_num` and
/// `numprocs`, which are integers (so `%(process_num)02d` works).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string value.
    Str(String),
    /// An integer value.
    Int(i64),
}

/// The names available to an expansion, sorted (as supervisord lists them in errors).
pub type Expansions = BTreeMap<String, Value>;

/// Expands `s` like Python's `s % expansions`; `name` (`program:x.command`) is used in errors.
pub fn expand(s: &str, expansions: &Expansions, name: &str) -> Result<String, String> {
    format(s, expansions).map_err(|e| match e {
        FormatError::Key(key) => {
            let available: Vec<&str> = expansions.keys().map(String::as_str).collect();
            format!(
                "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
                py_repr(s),
                py_repr(name),
                py_repr(&key),
                available.join(", ")
            )
        }
        FormatError::Bad(msg) => {
            format!("Format string {} for {} is badly formatted: {}", py_repr(s), py_repr(name), msg)
        }
    })
}

enum FormatError {
    Key(String),
    Bad(String),
}

fn bad(msg: impl Into<String>) -> FormatError {
    FormatError::Bad(msg.into())
}

fn format(s: &str, map: &Expansions) -> Result<String, FormatError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    // The current argument (None: the mapping itself) and whether it was used.
    let mut current: Option<&Value> = None;
    let mut consumed = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        if chars.get(i) == Some(&'(') {
            let mut depth = 1;
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && depth > 0 {
                match chars[j] {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            if depth > 0 {
                return Err(bad("incomplete format key"));
            }
            let key: String = chars[start..j - 1].iter().collect();
            current = Some(map.get(&key).ok_or(FormatError::Key(key))?);
            consumed = false;
            i = j;
        }
        let (mut left, mut plus, mut space, mut alt, mut zero) =
            (false, false, false, false, false);
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => left = true,
                '+' => plus = true,
                ' ' => space = true,
                '#' => alt = true,
                '0' => zero = true,
                _ => break,
            }
            i += 1;
        }
        let mut width = 0usize;
        if chars.get(i) == Some(&'*') {
            return Err(bad("* wants int"));
        }
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            width = width.saturating_mul(10).saturating_add(d as usize);
            i += 1;
        }
        let mut precision: Option<usize> = None;
        if chars.get(i) == Some(&'.') {
            i += 1;
            if chars.get(i) == Some(&'*') {
                return Err(bad("* wants int"));
            }
            let mut p = 0usize;
            while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                p = p.saturating_mul(10).saturating_add(d as usize);
                i += 1;
            }
            precision = Some(p);
        }
        while matches!(chars.get(i), Some('h' | 'l' | 'L')) {
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            return Err(bad("incomplete format"));
        };
        // Python takes the argument before checking the conversion: the looked-up value, or
        // the whole mapping for an unnamed spec; each can be used once.
        if consumed {
            return Err(bad("not enough arguments for format string"));
        }
        consumed = true;
        if !"sradiuxXoeEfFgGc".contains(conv) {
            return Err(bad(format!(
                "unsupported format character {} (0x{:x}) at index {}",
                py_repr(&conv.to_string()),
                conv as u32,
                i
            )));
        }
        let Some(value) = current else {
            // Type errors are reproduced; `%s` itself is refused because supervisord would
            // insert the repr of its whole expansion dictionary.
            return Err(bad(match conv {
                'd' | 'i' | 'u' => format!("%{conv} format: a real number is required, not dict"),
                'x' | 'X' | 'o' => format!("%{conv} format: an integer is required, not dict"),
                'e' | 'E' | 'f' | 'F' | 'g' | 'G' => "must be real number, not dict".to_string(),
                'c' => "%c requires int or char".to_string(),
                _ => format!(
                    "an unnamed %{conv} is not supported (supervisord would insert its whole table of names); use %(name){conv} or write %% for a literal %"
                ),
            }));
        };
        let body = match conv {
            's' | 'r' | 'a' => {
                let text = match (value, conv) {
                    (Value::Str(v), 's') => v.clone(),
                    (Value::Str(v), _) => py_repr(v),
                    (Value::Int(n), _) => n.to_string(),
                };
                let text: String = match precision {
                    Some(p) => text.chars().take(p).collect(),
                    None => text,
                };
                pad(String::new(), text, width, left, false)
            }
            'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                let n = match value {
                    Value::Int(n) => *n,
                    Value::Str(_) if matches!(conv, 'd' | 'i' | 'u') => {
                        return Err(bad(format!(
                            "%{conv} format: a real number is required, not str"
                        )))
                    }
                    Value::Str(_) => {
                        return Err(bad(format!(
                            "%{conv} format: an integer is required, not str"
                        )))
                    }
                };
                let mag = n.unsigned_abs();
                let mut digits = match conv {
                    'x' => format!("{mag:x}"),
                    'X' => format!("{mag:X}"),
                    'o' => format!("{mag:o}"),
                    _ => mag.to_string(),
                };
                if let Some(p) = precision {
                    while digits.len() < p {
                        digits.insert(0, '0');
                    }
                }
                let mut prefix = sign(n < 0, plus, space);
                if alt {
                    prefix.push_str(match conv {
                        'x' => "0x",
                        'X' => "0X",
                        'o' => "0o",
                        _ => "",
                    });
                }
                pad(prefix, digits, width, left, zero)
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let n = match value {
                    Value::Int(n) => *n as f64,
                    Value::Str(_) => return Err(bad("must be real number, not str")),
                };
                let p = precision.unwrap_or(6);
                let mag = n.abs();
                let digits = match conv {
                    'f' | 'F' => format!("{mag:.p$}"),
                    'e' | 'E' => py_exp(mag, p, conv == 'E'),
                    _ => {
                        let p = p.max(1);
                        // Python's rule: the exponent of the value rounded to `p` significant
                        // digits (its `e` form) picks the form. Read from that string, not
                        // from `log10`, so that no binary needs libm (see `no_libm.rs`).
                        let e = py_exp(mag, p - 1, conv == 'G');
                        let (m, x) = e.split_once(['e', 'E']).unwrap_or((&e, "+00"));
                        let exp: i32 = x.parse().unwrap_or(0);
                        if exp < -4 || exp >= p as i32 {
                            let m = if m.contains('.') {
                                m.trim_end_matches('0').trim_end_matches('.')
                            } else {
                                m
                            };
                            format!("{m}{}{x}", if conv == 'G' { 'E' } else { 'e' })
                        } else {
                            let decimals = (p as i32 - 1 - exp).max(0) as usize;
                            let f = format!("{mag:.decimals$}");
                            if f.contains('.') {
                                f.trim_end_matches('0').trim_end_matches('.').to_string()
                            } else {
                                f
                            }
                        }
                    }
                };
                pad(sign(n < 0.0, plus, space), digits, width, left, zero)
            }
            'c' => {
                let ch = match value {
                    Value::Int(n) => u32::try_from(*n)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| bad("%c arg not in range(0x110000)"))?,
                    Value::Str(v) if v.chars().count() == 1 => v.chars().next().unwrap_or(' '),
                    Value::Str(_) => return Err(bad("%c requires int or char")),
                };
                pad(String::new(), ch.to_string(), width, left, false)
            }
            _ => unreachable_conversion(),
        };
        out.push_str(&body);
        i += 1;
    }
    Ok(out)
}

/// Conversions were checked before formatting; an empty body keeps this total without panicking.
fn unreachable_conversion() -> String {
    String::new()
}

fn sign(negative: bool, plus: bool, space: bool) -> String {
    if negative {
        "-".into()
    } else if plus {
        "+".into()
    } else if space {
        " ".into()
    } else {
        String::new()
    }
}

fn py_exp(mag: f64, p: usize, upper: bool) -> String {
    let s = format!("{mag:.p$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = e.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{m}{}{sign}{:02}", if upper { 'E' } else { 'e' }, exp.abs())
}

fn pad(prefix: String, body: String, width: usize, left: bool, zero: bool) -> String {
    let len = prefix.chars().count() + body.chars().count();
    if len >= width {
        return prefix + &body;
    }
    let fill = width - len;
    if left {
        format!("{prefix}{body}{}", " ".repeat(fill))
    } else if zero {
        format!("{prefix}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{prefix}{body}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Expansions {
        let mut m = Expansions::new();
        m.insert("a".into(), Value::Str("str".into()));
        m.insert("n".into(), Value::Int(7));
        m.insert("big".into(), Value::Int(12345678));
        m
    }

    fn f(s: &str) -> Result<String, String> {
        expand(s, &names(), "program:x.command")
    }

    #[test]
    fn formats_like_python() {
        assert_eq!(f("%(a)s/%%h/%(n)02d").as_deref(), Ok("str/%h/07"));
        assert_eq!(f("%(n)d %(n)s %(n)i").as_deref(), Ok("7 7 7"));
        assert_eq!(f("%(n)5.3d").as_deref(), Ok("  007"));
        assert_eq!(f("%(n)-5d|").as_deref(), Ok("7    |"));
        assert_eq!(f("%(n)+05d").as_deref(), Ok("+0007"));
        assert_eq!(f("%(n)#x %(n)#o").as_deref(), Ok("0x7 0o7"));
        assert_eq!(f("%(n).2f").as_deref(), Ok("7.00"));
        assert_eq!(f("%(n)e").as_deref(), Ok("7.000000e+00"));
        assert_eq!(f("%(n)10.4e").as_deref(), Ok("7.0000e+00"));
        assert_eq!(f("%(n)g %(big)g").as_deref(), Ok("7 1.23457e+07"));
        assert_eq!(f("%(a).2s %(a)r %(a)5s").as_deref(), Ok("st 'str'   str"));
        assert_eq!(f("no names").as_deref(), Ok("no names"));
    }

    #[test]
    fn general_format_picks_its_form_as_python_does() {
        let values = [
            0,
            7,
            95,
            999_999,
            1_000_000,
            9_999_995,
            123_456_789_012_345_678,
            -4321,
        ];
        let mut names = Expansions::new();
        for (i, value) in values.iter().enumerate() {
            names.insert(format!("v{i}"), Value::Int(*value));
        }
        // Expected: Python 3's `"[%<spec>]" % value` for each value, concatenated.
        let table = [
            ("g", "[0][7][95][999999][1e+06][1e+07][1.23457e+17][-4321]"),
            (".1g", "[0][7][1e+02][1e+06][1e+06][1e+07][1e+17][-4e+03]"),
            (".2g", "[0][7][95][1e+06][1e+06][1e+07][1.2e+17][-4.3e+03]"),
            (".3G", "[0][7][95][1E+06][1E+06][1E+07][1.23E+17][-4.32E+03]"),
            ("10.4g", "[         0][         7][        95][     1e+06][     1e+06][     1e+07][ 1.235e+17][     -4321]"),
            ("-8g", "[0       ][7       ][95      ][999999  ][1e+06   ][1e+07   ][1.23457e+17][-4321   ]"),
        ];
        for (spec, expected) in table {
            let template: String = (0..values.len())
                .map(|i| format!("[%(v{i}){spec}]"))
                .collect();
            let got = expand(&template, &names, "program:x.command");
            assert_eq!(got.as_deref(), Ok(expected), "%{spec}");
        }
    }

    #[test]
    fn errors_like_python() {
        let pre = |s: &str| {
            format!(
                "Format string {} for 'program:x.command' is badly formatted: ",
                py_repr(s)
            )
        };
        assert_eq!(
            f("%(a)d"),
            Err(pre("%(a)d") + "%d format: a real number is required, not str")
        );
        assert_eq!(
            f("%(a)x"),
            Err(pre("%(a)x") + "%x format: an integer is required, not str")
        );
        assert_eq!(
            f("%(a)f"),
            Err(pre("%(a)f") + "must be real number, not str")
        );
        assert_eq!(f("%(a)c"), Err(pre("%(a)c") + "%c requires int or char"));
        assert_eq!(
            f("%(a)z"),
            Err(pre("%(a)z") + "unsupported format character 'z' (0x7a) at index 4")
        );
        assert_eq!(f("100%"), Err(pre("100%") + "incomplete format"));
        assert_eq!(f("%(a"), Err(pre("%(a") + "incomplete format key"));
        assert_eq!(f("%(a)"), Err(pre("%(a)") + "incomplete format"));
        assert_eq!(
            f("%(a)%"),
            Err(pre("%(a)%") + "unsupported format character '%' (0x25) at index 4")
        );
        assert_eq!(
            f("%d"),
            Err(pre("%d") + "%d format: a real number is required, not dict")
        );
        assert_eq!(
            f("% %"),
            Err(pre("% %") + "unsupported format character '%' (0x25) at index 2")
        );
        assert_eq!(
            f("%)"),
            Err(pre("%)") + "unsupported format character ')' (0x29) at index 1")
        );
        assert!(f("%s").is_err_and(|e| e.contains("an unnamed %s is not supported")));
        assert_eq!(
            f("%(n)d%)"),
            Err(pre("%(n)d%)") + "not enough arguments for format string")
        );
        assert_eq!(
            f("%(n)d%s"),
            Err(pre("%(n)d%s") + "not enough arguments for format string")
        );
        assert_eq!(
            f("x %(ENV_NOPE)s %(bad"),
            Err("Format string 'x %(ENV_NOPE)s %(bad' for 'program:x.command' contains names ('ENV_NOPE') which cannot be expanded. Available names: a, big, n".into())
        );
    }
}
