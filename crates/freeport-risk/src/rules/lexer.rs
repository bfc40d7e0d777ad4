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
        let advance = |n: usize, i: &mut usize, col: &mut u32| {
            *i += n;
            *col += u32::try_from(n).unwrap_or(u32::MAX);
        };
        match c {
            '\n' => {
                i += 1;
                line += 1;
                col = 1;
            }
            ' ' | '\t' | '\r' => advance(1, &mut i, &mut col),
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '"' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None | Some('\n') => {
                            return Err(err(line, col, "this string is not closed".into()));
                        }
                        Some('"') => break,
                        Some(ch) => s.push(*ch),
                    }
                    j += 1;
                }
                let n = j + 1 - i;
                advance(n, &mut i, &mut col);
                out.push((Token::Str(s), pos));
            }
            '0'..='9' => {
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
                    let s: String = chars[i..j].iter().collect();
                    advance(j - i, &mut i, &mut col);
                    out.push((Token::Date(s), pos));
                    continue;
                }
                // A decimal point, but not the `..` of a range.
                if chars.get(j) == Some(&'.') && chars.get(j + 1).is_some_and(char::is_ascii_digit)
                {
                    j += 1;
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                }
                let s: String = chars[i..j].iter().filter(|c| **c != '_').collect();
                advance(j - i, &mut i, &mut col);
                out.push((Token::Number(s), pos));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
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
                let s: String = chars[i..j].iter().collect();
                advance(j - i, &mut i, &mut col);
                out.push((Token::Ident(s), pos));
            }
            _ => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let (token, n) = match (two.as_str(), c) {
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
                    _ => {
                        return Err(err(line, col, format!("unexpected character {c:?}")));
                    }
                };
                advance(n, &mut i, &mut col);
                out.push((token, pos));
            }
        }
    }
    out.push((Token::Eof, Pos { line, column: col }));
    Ok(out)
}
