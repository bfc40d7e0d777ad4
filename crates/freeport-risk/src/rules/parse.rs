//! The rule language's parser: a recursive-descent reader of the file, precedence climbing for
//! expressions, and type checking as it goes, so every error has a line and a column.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use rust_decimal::Decimal;
use time::Date;

use super::lexer::{Pos, Token, tokenize};
use super::{Action, ArithOp, CmpOp, Expr, Field, Lane, Rule, RuleError, RuleSet, Set, Type};

/// Parses and checks a rule file.
pub fn parse_rule_set(text: &str) -> Result<RuleSet, RuleError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        at: 0,
        lists: HashMap::new(),
        sets: Vec::new(),
    };
    p.file()
}

struct Parser {
    tokens: Vec<(Token, Pos)>,
    at: usize,
    /// Named lists, by name: the index of their set.
    lists: HashMap<String, usize>,
    sets: Vec<Set>,
}

type Typed = (Expr, Type, Pos);

/// Words of the language itself, never field names.
const KEYWORDS: [&str; 13] = [
    "ruleset", "version", "list", "rule", "title", "owner", "valid", "when", "then", "end", "and",
    "or", "in",
];

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)].0
    }

    fn pos(&self) -> Pos {
        self.tokens[self.at.min(self.tokens.len() - 1)].1
    }

    fn next(&mut self) -> (Token, Pos) {
        let t = self.tokens[self.at.min(self.tokens.len() - 1)].clone();
        if self.at < self.tokens.len() {
            self.at += 1;
        }
        t
    }

    fn error<T>(&self, pos: Pos, message: impl Into<String>) -> Result<T, RuleError> {
        Err(RuleError {
            line: pos.line,
            column: pos.column,
            message: message.into(),
        })
    }

    fn expected<T>(&self, what: &str) -> Result<T, RuleError> {
        self.error(
            self.pos(),
            format!("expected {what}, found {}", self.peek().describe()),
        )
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Token::Ident(w) if w == word)
    }

    fn word(&mut self, word: &str) -> Result<(), RuleError> {
        if self.is_word(word) {
            self.next();
            Ok(())
        } else {
            self.expected(&format!("`{word}`"))
        }
    }

    fn string(&mut self, what: &str) -> Result<String, RuleError> {
        match self.peek().clone() {
            Token::Str(s) => {
                self.next();
                Ok(s)
            }
            _ => self.expected(what),
        }
    }

    fn ident(&mut self, what: &str) -> Result<(String, Pos), RuleError> {
        match self.peek().clone() {
            Token::Ident(s) => {
                let pos = self.pos();
                self.next();
                Ok((s, pos))
            }
            _ => self.expected(what),
        }
    }

    fn date(&mut self) -> Result<Date, RuleError> {
        match self.peek().clone() {
            Token::Date(s) => {
                let pos = self.pos();
                self.next();
                freeport_core::calendar::parse_day("", &s)
                    .or_else(|_| self.error(pos, format!("{s} is not a date YYYY-MM-DD")))
            }
            _ => self.expected("a date YYYY-MM-DD"),
        }
    }

    fn number(&mut self, what: &str) -> Result<Decimal, RuleError> {
        let negative = if matches!(self.peek(), Token::Minus) {
            self.next();
            true
        } else {
            false
        };
        match self.peek().clone() {
            Token::Number(s) => {
                let pos = self.pos();
                self.next();
                let n = Decimal::from_str(&s)
                    .or_else(|e| self.error(pos, format!("{s} is not a number: {e}")))?;
                Ok(if negative { -n } else { n })
            }
            _ => self.expected(what),
        }
    }

    fn file(&mut self) -> Result<RuleSet, RuleError> {
        self.word("ruleset")?;
        let name = self.string("the rule set's name in quotes")?;
        self.word("version")?;
        let pos = self.pos();
        let version = self.number("a version number")?;
        let version = u32::try_from(version)
            .ok()
            .filter(|_| version.fract().is_zero())
            .map_or_else(|| self.error(pos, "a version is a whole number"), Ok)?;
        let mut rules: Vec<Rule> = Vec::new();
        let mut ids = HashSet::new();
        loop {
            match self.peek() {
                Token::Eof => break,
                Token::Ident(w) if w == "list" => self.list()?,
                Token::Ident(w) if w == "rule" => {
                    let pos = self.pos();
                    let rule = self.rule()?;
                    if !ids.insert(rule.id.clone()) {
                        return self.error(pos, format!("rule {:?} is defined twice", rule.id));
                    }
                    rules.push(rule);
                }
                _ => return self.expected("`rule` or `list`"),
            }
        }
        Ok(RuleSet {
            name,
            version,
            rules,
            sets: std::mem::take(&mut self.sets),
        })
    }

    fn literal_strings(&mut self) -> Result<HashSet<String>, RuleError> {
        if !matches!(self.peek(), Token::LBracket) {
            return self.expected("`[`");
        }
        self.next();
        let mut values = HashSet::new();
        loop {
            if matches!(self.peek(), Token::RBracket) {
                self.next();
                break;
            }
            match self.peek().clone() {
                Token::Str(s) => {
                    self.next();
                    values.insert(s);
                }
                _ => return self.expected("a value in quotes or `]`"),
            }
            match self.peek() {
                Token::Comma => {
                    self.next();
                }
                Token::RBracket => {}
                _ => return self.expected("`,` or `]`"),
            }
        }
        Ok(values)
    }

    fn list(&mut self) -> Result<(), RuleError> {
        self.word("list")?;
        let (name, pos) = self.ident("the list's name")?;
        if self.lists.contains_key(&name) {
            return self.error(pos, format!("list `{name}` is defined twice"));
        }
        if Field::ALL.iter().any(|(f, _, _)| *f == name) || name == "prefix" {
            return self.error(pos, format!("`{name}` is a field name; choose another"));
        }
        if !matches!(self.peek(), Token::Assign) {
            return self.expected("`=`");
        }
        self.next();
        let values = self.literal_strings()?;
        self.sets.push(Set::Values(values));
        self.lists.insert(name, self.sets.len() - 1);
        Ok(())
    }

    fn rule(&mut self) -> Result<Rule, RuleError> {
        let start = self.pos();
        self.word("rule")?;
        let id = self.string("the rule's id in quotes")?;
        let (mut title, mut owner) = (None, None);
        let (mut valid_from, mut valid_until) = (None, None);
        let mut condition = None;
        let mut actions = Vec::new();
        loop {
            let (word, pos) = self.ident("`title`, `owner`, `valid`, `when`, `then` or `end`")?;
            match word.as_str() {
                "title" => title = Some(self.string("the title in quotes")?),
                "owner" => owner = Some(self.string("the owner in quotes")?),
                "valid" => {
                    valid_from = Some(self.date()?);
                    if !matches!(self.peek(), Token::DotDot) {
                        return self.expected("`..`");
                    }
                    self.next();
                    if matches!(self.peek(), Token::Date(_)) {
                        let until = self.date()?;
                        if Some(until) < valid_from {
                            return self.error(pos, "the validity ends before it starts");
                        }
                        valid_until = Some(until);
                    }
                }
                "when" => {
                    let (expr, ty, at) = self.expr()?;
                    if ty != Type::Bool {
                        return self.error(at, format!("a condition is needed here, not {ty}"));
                    }
                    condition = Some(expr);
                }
                "then" => loop {
                    actions.push(self.action()?);
                    if matches!(self.peek(), Token::Comma) {
                        self.next();
                    } else {
                        break;
                    }
                },
                "end" => break,
                other => {
                    return self.error(
                        pos,
                        format!(
                            "expected `title`, `owner`, `valid`, `when`, `then` or `end`, found `{other}`"
                        ),
                    );
                }
            }
        }
        let missing = |what: &str| RuleError {
            line: start.line,
            column: start.column,
            message: format!("rule {id:?} has no {what}"),
        };
        Ok(Rule {
            title: title.ok_or_else(|| missing("`title`"))?,
            owner: owner.ok_or_else(|| missing("`owner`"))?,
            condition: condition.ok_or_else(|| missing("`when` condition"))?,
            actions: if actions.is_empty() {
                return Err(missing("`then` action"));
            } else {
                actions
            },
            id,
            valid_from,
            valid_until,
            line: start.line,
        })
    }

    fn action(&mut self) -> Result<Action, RuleError> {
        let (word, pos) = self.ident("`score`, `lane` or `alert`")?;
        match word.as_str() {
            "score" => Ok(Action::Score {
                points: self.number("the points of the score")?,
            }),
            "lane" => {
                let (name, at) = self.ident("a lane")?;
                Lane::parse(&name).map_or_else(
                    || {
                        self.error(
                            at,
                            format!("`{name}` is not a lane: green, blue, yellow, red or hold"),
                        )
                    },
                    |lane| Ok(Action::Lane { lane }),
                )
            }
            "alert" => Ok(Action::Alert {
                text: self.string("the alert's text in quotes")?,
            }),
            other => self.error(
                pos,
                format!("expected `score`, `lane` or `alert`, found `{other}`"),
            ),
        }
    }

    fn expr(&mut self) -> Result<Typed, RuleError> {
        let first = self.and()?;
        if !self.is_word("or") {
            return Ok(first);
        }
        let pos = first.2;
        self.need_bool(&first)?;
        let mut parts = vec![first.0];
        while self.is_word("or") {
            self.next();
            let next = self.and()?;
            self.need_bool(&next)?;
            parts.push(next.0);
        }
        Ok((Expr::Or(parts), Type::Bool, pos))
    }

    fn and(&mut self) -> Result<Typed, RuleError> {
        let first = self.not()?;
        if !self.is_word("and") {
            return Ok(first);
        }
        let pos = first.2;
        self.need_bool(&first)?;
        let mut parts = vec![first.0];
        while self.is_word("and") {
            self.next();
            let next = self.not()?;
            self.need_bool(&next)?;
            parts.push(next.0);
        }
        Ok((Expr::And(parts), Type::Bool, pos))
    }

    fn need_bool(&self, t: &Typed) -> Result<(), RuleError> {
        if t.1 == Type::Bool {
            Ok(())
        } else {
            self.error(t.2, format!("a condition is needed here, not {}", t.1))
        }
    }

    fn not(&mut self) -> Result<Typed, RuleError> {
        if self.is_word("not") {
            let pos = self.pos();
            self.next();
            let inner = self.not()?;
            self.need_bool(&inner)?;
            return Ok((Expr::Not(Box::new(inner.0)), Type::Bool, pos));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Typed, RuleError> {
        let left = self.sum()?;
        let op = match self.peek() {
            Token::Eq => Some(CmpOp::Eq),
            Token::Ne => Some(CmpOp::Ne),
            Token::Lt => Some(CmpOp::Lt),
            Token::Le => Some(CmpOp::Le),
            Token::Gt => Some(CmpOp::Gt),
            Token::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            let at = self.pos();
            self.next();
            let right = self.sum()?;
            if left.1 != right.1 || left.1 == Type::Bool {
                return self.error(at, format!("cannot compare {} with {}", left.1, right.1));
            }
            return Ok((
                Expr::Cmp(op, Box::new(left.0), Box::new(right.0)),
                Type::Bool,
                left.2,
            ));
        }
        let negated = if self.is_word("not")
            && matches!(&self.tokens.get(self.at + 1), Some((Token::Ident(w), _)) if w == "in")
        {
            self.next();
            true
        } else {
            false
        };
        if self.is_word("in") {
            let at = self.pos();
            self.next();
            if left.1 != Type::Str {
                return self.error(at, format!("`in` tests text, not {}", left.1));
            }
            let set = self.set()?;
            return Ok((
                Expr::In {
                    value: Box::new(left.0),
                    set,
                    negated,
                },
                Type::Bool,
                left.2,
            ));
        }
        Ok(left)
    }

    fn set(&mut self) -> Result<usize, RuleError> {
        match self.peek().clone() {
            Token::LBracket => {
                let values = self.literal_strings()?;
                self.sets.push(Set::Values(values));
                Ok(self.sets.len() - 1)
            }
            Token::Ident(w) if w == "prefix" => {
                self.next();
                if !matches!(self.peek(), Token::LParen) {
                    return self.expected("`(`");
                }
                self.next();
                let mut prefixes = Vec::new();
                loop {
                    let pos = self.pos();
                    let p = self.string("a code prefix in quotes")?;
                    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                        return self.error(pos, format!("{p:?} is not a code prefix (digits)"));
                    }
                    prefixes.push(p);
                    match self.next() {
                        (Token::Comma, _) => {}
                        (Token::RParen, _) => break,
                        (other, pos) => {
                            return self.error(
                                pos,
                                format!("expected `,` or `)`, found {}", other.describe()),
                            );
                        }
                    }
                }
                self.sets.push(Set::Prefixes(prefixes));
                Ok(self.sets.len() - 1)
            }
            Token::Ident(name) => {
                let pos = self.pos();
                self.next();
                self.lists.get(&name).copied().map_or_else(
                    || {
                        self.error(
                            pos,
                            format!("no list named `{name}` (define it before use)"),
                        )
                    },
                    Ok,
                )
            }
            _ => self.expected("a list name, `[…]` or `prefix(…)`"),
        }
    }

    fn sum(&mut self) -> Result<Typed, RuleError> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Token::Plus => ArithOp::Add,
                Token::Minus => ArithOp::Sub,
                _ => return Ok(left),
            };
            let at = self.pos();
            self.next();
            let right = self.product()?;
            left = self.arith(op, left, right, at)?;
        }
    }

    fn product(&mut self) -> Result<Typed, RuleError> {
        let mut left = self.atom()?;
        loop {
            let op = match self.peek() {
                Token::Star => ArithOp::Mul,
                Token::Slash => ArithOp::Div,
                _ => return Ok(left),
            };
            let at = self.pos();
            self.next();
            let right = self.atom()?;
            left = self.arith(op, left, right, at)?;
        }
    }

    fn arith(&self, op: ArithOp, l: Typed, r: Typed, at: Pos) -> Result<Typed, RuleError> {
        if l.1 != Type::Num || r.1 != Type::Num {
            return self.error(
                at,
                format!("arithmetic needs numbers, not {} and {}", l.1, r.1),
            );
        }
        Ok((
            Expr::Arith(op, Box::new(l.0), Box::new(r.0)),
            Type::Num,
            l.2,
        ))
    }

    fn atom(&mut self) -> Result<Typed, RuleError> {
        let pos = self.pos();
        match self.peek().clone() {
            Token::Number(_) | Token::Minus => {
                let n = self.number("a number")?;
                Ok((Expr::Num(n), Type::Num, pos))
            }
            Token::Str(s) => {
                self.next();
                Ok((Expr::Str(s), Type::Str, pos))
            }
            Token::Date(_) => Ok((Expr::Date(self.date()?), Type::Date, pos)),
            Token::LParen => {
                self.next();
                let inner = self.expr()?;
                if !matches!(self.peek(), Token::RParen) {
                    return self.expected("`)`");
                }
                self.next();
                Ok((inner.0, inner.1, pos))
            }
            Token::Ident(name) if KEYWORDS.contains(&name.as_str()) => {
                self.expected("a field, a number, text or a date")
            }
            Token::Ident(name) => {
                self.next();
                match Field::ALL.iter().find(|(n, _, _)| *n == name) {
                    Some((_, field, ty)) => Ok((Expr::Field(*field), *ty, pos)),
                    None => {
                        let known: Vec<&str> = Field::ALL.iter().map(|(n, _, _)| *n).collect();
                        self.error(
                            pos,
                            format!(
                                "unknown field `{name}`; the fields are {}",
                                known.join(", ")
                            ),
                        )
                    }
                }
            }
            _ => self.expected("a field, a number, text or a date"),
        }
    }
}
