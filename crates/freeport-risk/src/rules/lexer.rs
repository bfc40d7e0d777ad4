//! Tokens of the rule language, each with the line and column it starts at.

use super::RuleError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Ident(String),
    Str(String),
    Number(String),
    Date(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    DotDot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Assign,
    Eof,
}

impl Token {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("`{s}`"),
            Token::Str(s) => format!("\"{s}\""),
            Token::Number(s) | Token::Date(s) => s.clone(),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::LBracket => "`[`".into(),
            Token::RBracket => "`]`".into(),
            Token::Comma => "`,`".into(),
            Token::DotDot => "`..`".into(),
            Token::Eq => "`==`".into(),
            Token::Ne => "`!=`".into(),
            Token::Lt => "`<`".into(),
            Token::Le => "`<=`".into(),
            Token::Gt => "`>`".into(),
            Token::Ge => "`>=`".into(),
            Token::Plus => "`+`".into(),
            Token::Minus => "`-`".into(),
            Token::Star => "`*`".into(),
            Token::Slash => "`/`".into(),
            Token::Assign => "`=`".into(),
            Token::Eof => "the end of the file".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: u32,
    pub(crate) column: u32,
}

pub(crate) fn tokenize(text: &str) -> Result<Vec<(Token, Pos)>, RuleError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    let err = |line, column, message: String| RuleError {
        line,
        column,
        message,
    };
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos { line, column: col };
        let (token, end) = match c {
            '\n' => {
                i += 1;
                line += 1;
                col = 1;
                continue;
            }
            ' ' | '\t' | '\r' => {
                i += 1;
                col += 1;
                continue;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '"' => {
                let (s, end) = string_literal(&chars, i)
                    .ok_or_else(|| err(line, col, "this string is not closed".into()))?;
                (Token::Str(s), end)
            }
            '0'..='9' => number_or_date(&chars, i),
            c if c.is_ascii_alphabetic() || c == '_' => {
                let end = name_end(&chars, i);
                (Token::Ident(chars[i..end].iter().collect()), end)
            }
            _ => {
                let (token, n) = operator(&chars, i)
                    .ok_or_else(|| err(line, col, format!("unexpected character {c:?}")))?;
                (token, i + n)
            }
        };
        col += u32::try_from(end - i).unwrap_or(u32::MAX);
        i = end;
        out.push((token, pos));
    }
    out.push((Token::Eof, Pos { line, column: col }));
    Ok(out)
}

/// The text of the string opening at `i` and the index after its closing quote; `None` when the
/// line or the file ends first.
fn string_literal(chars: &[char], i: usize) -> Option<(String, usize)> {
    let mut s = String::new();
    let mut j = i + 1;
    loop {
        match chars.get(j) {
            None | Some('\n') => return None,
            Some('"') => break,
            Some(ch) => s.push(*ch),
        }
        j += 1;
    }
    Some((s, j + 1))
}

/// A number or a date starting at `i`, and the index it ends before.
fn number_or_date(chars: &[char], i: usize) -> (Token, usize) {
    let mut j = i;
    while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '_') {
        j += 1;
    }
    // A date: four digits, a dash, two digits, a dash, two digits.
    let is_date = j - i == 4
        && chars.get(j) == Some(&'-')
        && chars
            .get(j + 1..j + 3)
            .is_some_and(|d| d.iter().all(char::is_ascii_digit))
        && chars.get(j + 3) == Some(&'-')
        && chars
            .get(j + 4..j + 6)
            .is_some_and(|d| d.iter().all(char::is_ascii_digit));
    if is_date {
        j += 6;
        return (Token::Date(chars[i..j].iter().collect()), j);
    }
    // A decimal point, but not the `..` of a range.
    if chars.get(j) == Some(&'.') && chars.get(j + 1).is_some_and(char::is_ascii_digit) {
        j += 1;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
    }
    let s: String = chars[i..j].iter().filter(|c| **c != '_').collect();
    (Token::Number(s), j)
}

/// The index a name starting at `i` ends before.
fn name_end(chars: &[char], i: usize) -> usize {
    let mut j = i;
    while j < chars.len()
        && (chars[j].is_ascii_alphanumeric() || chars[j] == '_' || chars[j] == '.')
    {
        // A dot inside a name (`analyst.wang`) but never `..`.
        if chars[j] == '.' && chars.get(j + 1) == Some(&'.') {
            break;
        }
        j += 1;
    }
    j
}

/// The operator or punctuation at `i` and its length in characters; two-character operators
/// win over their first character.
fn operator(chars: &[char], i: usize) -> Option<(Token, usize)> {
    let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
    let token = match (two.as_str(), chars[i]) {
        ("==", _) => (Token::Eq, 2),
        ("!=", _) => (Token::Ne, 2),
        ("<=", _) => (Token::Le, 2),
        (">=", _) => (Token::Ge, 2),
        ("..", _) => (Token::DotDot, 2),
        (_, '<') => (Token::Lt, 1),
        (_, '>') => (Token::Gt, 1),
        (_, '(') => (Token::LParen, 1),
        (_, ')') => (Token::RParen, 1),
        (_, '[') => (Token::LBracket, 1),
        (_, ']') => (Token::RBracket, 1),
        (_, ',') => (Token::Comma, 1),
        (_, '+') => (Token::Plus, 1),
        (_, '-') => (Token::Minus, 1),
        (_, '*') => (Token::Star, 1),
        (_, '/') => (Token::Slash, 1),
        (_, '=') => (Token::Assign, 1),
        _ => return None,
    };
    Some(token)
}
