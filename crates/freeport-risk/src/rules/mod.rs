//! The risk rule language: readable, versioned rule files, parsed once into typed expressions and
//! evaluated against the facts of one declaration line.
//!
//! ```text
//! ruleset "hainan-first-line" version 3
//!
//! list beef_origins = ["AR", "BR", "UY"]
//!
//! rule "R-017"
//!   title "Beef declared far below the value reference"
//!   owner "risk.analyst.wang"
//!   valid 2026-01-01 .. 2026-12-31
//!   when hs in prefix("0201", "0202") and origin in beef_origins
//!        and unit_value < 0.6 * reference_unit_value
//!   then score 40, lane red, alert "beef undervaluation"
//! end
//! ```
//!
//! A comparison with a missing fact (no value reference yet, no port) is false, so a rule never
//! fires on data it does not have. Types are checked when the file is parsed: comparing a date
//! with a number, or naming an unknown field or list, fails with its line and column.

mod lexer;
mod parse;

use std::collections::HashSet;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

pub use parse::parse_rule_set;

/// A malformed rule file: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct RuleError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// The selectivity lanes, from least to most intrusive. A rule asks for at least a lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Released without a check.
    Green,
    /// Released; audited after clearance.
    Blue,
    /// Documents checked.
    Yellow,
    /// Physical inspection.
    Red,
    /// Held: not released until the case is resolved.
    Hold,
}

impl Lane {
    pub fn parse(text: &str) -> Option<Lane> {
        Some(match text {
            "green" => Lane::Green,
            "blue" => Lane::Blue,
            "yellow" => Lane::Yellow,
            "red" => Lane::Red,
            "hold" => Lane::Hold,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Green => "green",
            Lane::Blue => "blue",
            Lane::Yellow => "yellow",
            Lane::Red => "red",
            Lane::Hold => "hold",
        }
    }
}

/// The facts of one declaration line that rules may read.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts<'a> {
    /// HS code digits (6, 8 or 10).
    pub hs: &'a str,
    pub origin: &'a str,
    pub departure: Option<&'a str>,
    /// The declaring enterprise (the importer on the first line).
    pub enterprise: &'a str,
    pub declarant: Option<&'a str>,
    pub seller: Option<&'a str>,
    /// `advanced_certified`, `certified`, `general`, `dishonest`, …
    pub credit_class: &'a str,
    /// `first`, `second` or `island`.
    pub line: &'a str,
    /// The flow, e.g. `first_line_import`.
    pub flow: &'a str,
    pub port: Option<&'a str>,
    pub declared_on: Date,
    /// Customs value in CNY, and the quantity in the line's first unit.
    pub value: Decimal,
    pub quantity: Decimal,
    /// The value reference for goods like these (from history), per unit; none before any.
    pub reference_unit_value: Option<Decimal>,
    /// Duty rate in percent.
    pub tax_rate: Option<Decimal>,
}

/// A fact a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Hs,
    Origin,
    Departure,
    Enterprise,
    Declarant,
    Seller,
    CreditClass,
    Line,
    Flow,
    Port,
    DeclaredOn,
    Weekday,
    Value,
    Quantity,
    UnitValue,
    ReferenceUnitValue,
    TaxRate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    Num,
    Str,
    Date,
    Bool,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Num => "a number",
            Type::Str => "text",
            Type::Date => "a date",
            Type::Bool => "a condition",
        })
    }
}

impl Field {
    pub(crate) const ALL: [(&'static str, Field, Type); 17] = [
        ("hs", Field::Hs, Type::Str),
        ("origin", Field::Origin, Type::Str),
        ("departure", Field::Departure, Type::Str),
        ("enterprise", Field::Enterprise, Type::Str),
        ("declarant", Field::Declarant, Type::Str),
        ("seller", Field::Seller, Type::Str),
        ("credit_class", Field::CreditClass, Type::Str),
        ("line", Field::Line, Type::Str),
        ("flow", Field::Flow, Type::Str),
        ("port", Field::Port, Type::Str),
        ("declared_on", Field::DeclaredOn, Type::Date),
        ("weekday", Field::Weekday, Type::Num),
        ("value", Field::Value, Type::Num),
        ("quantity", Field::Quantity, Type::Num),
        ("unit_value", Field::UnitValue, Type::Num),
        ("reference_unit_value", Field::ReferenceUnitValue, Type::Num),
        ("tax_rate", Field::TaxRate, Type::Num),
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// A set a value can be `in`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Set {
    /// Exact values (a named list or a literal list).
    Values(HashSet<String>),
    /// Code prefixes: `prefix("0201", "0202")`.
    Prefixes(Vec<String>),
}

impl Set {
    fn contains(&self, s: &str) -> bool {
        match self {
            Set::Values(v) => v.contains(s),
            Set::Prefixes(p) => p.iter().any(|p| s.starts_with(p.as_str())),
        }
    }
}

/// A typed expression; types were checked when it was parsed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Num(Decimal),
    Str(String),
    Date(Date),
    Field(Field),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    In {
        value: Box<Expr>,
        set: usize,
        negated: bool,
    },
}

/// One value during evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum V<'a> {
    Num(Decimal),
    Str(&'a str),
    Date(Date),
    Bool(bool),
    Missing,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Score { points: Decimal },
    Lane { lane: Lane },
    Alert { text: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub owner: String,
    pub valid_from: Option<Date>,
    /// Inclusive.
    pub valid_until: Option<Date>,
    pub actions: Vec<Action>,
    /// Where the rule starts in its file.
    pub line: u32,
    pub(crate) condition: Expr,
}

impl Rule {
    pub fn in_force(&self, day: Date) -> bool {
        self.valid_from.is_none_or(|f| day >= f) && self.valid_until.is_none_or(|u| day <= u)
    }
}

/// A parsed, checked rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    pub name: String,
    pub version: u32,
    pub rules: Vec<Rule>,
    pub(crate) sets: Vec<Set>,
}

/// What the rules in force said about one line.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Evaluation {
    /// Indices into `RuleSet::rules` of the rules that fired, in file order.
    pub hits: Vec<usize>,
    pub score: Decimal,
    /// The most intrusive lane any rule asked for.
    pub lane: Option<Lane>,
    pub alerts: Vec<String>,
}

impl RuleSet {
    /// Evaluates every rule in force on the line's declaration day.
    pub fn evaluate(&self, facts: &Facts<'_>) -> Evaluation {
        let mut out = Evaluation::default();
        self.evaluate_into(facts, &mut out);
        out
    }

    /// As `evaluate`, reusing `out`'s allocations (for scoring many lines).
    pub fn evaluate_into(&self, facts: &Facts<'_>, out: &mut Evaluation) {
        out.hits.clear();
        out.alerts.clear();
        out.score = Decimal::ZERO;
        out.lane = None;
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.in_force(facts.declared_on) || !self.holds(&rule.condition, facts) {
                continue;
            }
            out.hits.push(i);
            for action in &rule.actions {
                match action {
                    Action::Score { points } => out.score += *points,
                    Action::Lane { lane } => out.lane = out.lane.max(Some(*lane)),
                    Action::Alert { text } => out.alerts.push(text.clone()),
                }
            }
        }
    }

    fn holds(&self, e: &Expr, facts: &Facts<'_>) -> bool {
        matches!(self.eval(e, facts), V::Bool(true))
    }

    fn eval<'a>(&'a self, e: &'a Expr, f: &Facts<'a>) -> V<'a> {
        match e {
            Expr::Num(n) => V::Num(*n),
            Expr::Str(s) => V::Str(s),
            Expr::Date(d) => V::Date(*d),
            Expr::Field(field) => fact(*field, f),
            Expr::Not(inner) => match self.eval(inner, f) {
                V::Bool(b) => V::Bool(!b),
                _ => V::Bool(false),
            },
            Expr::And(parts) => V::Bool(parts.iter().all(|p| self.holds(p, f))),
            Expr::Or(parts) => V::Bool(parts.iter().any(|p| self.holds(p, f))),
            Expr::Cmp(op, a, b) => {
                let ordering = match (self.eval(a, f), self.eval(b, f)) {
                    (V::Num(x), V::Num(y)) => x.cmp(&y),
                    (V::Str(x), V::Str(y)) => x.cmp(y),
                    (V::Date(x), V::Date(y)) => x.cmp(&y),
                    // Missing facts never satisfy a comparison.
                    _ => return V::Bool(false),
                };
                V::Bool(match op {
                    CmpOp::Eq => ordering.is_eq(),
                    CmpOp::Ne => ordering.is_ne(),
                    CmpOp::Lt => ordering.is_lt(),
                    CmpOp::Le => ordering.is_le(),
                    CmpOp::Gt => ordering.is_gt(),
                    CmpOp::Ge => ordering.is_ge(),
                })
            }
            Expr::Arith(op, a, b) => match (self.eval(a, f), self.eval(b, f)) {
                (V::Num(x), V::Num(y)) => match op {
                    ArithOp::Add => x.checked_add(y).map_or(V::Missing, V::Num),
                    ArithOp::Sub => x.checked_sub(y).map_or(V::Missing, V::Num),
                    ArithOp::Mul => x.checked_mul(y).map_or(V::Missing, V::Num),
                    ArithOp::Div => x.checked_div(y).map_or(V::Missing, V::Num),
                },
                _ => V::Missing,
            },
            Expr::In {
                value,
                set,
                negated,
            } => match self.eval(value, f) {
                V::Str(s) => V::Bool(self.sets[*set].contains(s) != *negated),
                _ => V::Bool(false),
            },
        }
    }
}

fn fact<'a>(field: Field, f: &Facts<'a>) -> V<'a> {
    let opt = |o: Option<&'a str>| o.map_or(V::Missing, V::Str);
    match field {
        Field::Hs => V::Str(f.hs),
        Field::Origin => V::Str(f.origin),
        Field::Departure => opt(f.departure),
        Field::Enterprise => V::Str(f.enterprise),
        Field::Declarant => opt(f.declarant),
        Field::Seller => opt(f.seller),
        Field::CreditClass => V::Str(f.credit_class),
        Field::Line => V::Str(f.line),
        Field::Flow => V::Str(f.flow),
        Field::Port => opt(f.port),
        Field::DeclaredOn => V::Date(f.declared_on),
        Field::Weekday => V::Num(Decimal::from(f.declared_on.weekday().number_from_monday())),
        Field::Value => V::Num(f.value),
        Field::Quantity => V::Num(f.quantity),
        Field::UnitValue => f.value.checked_div(f.quantity).map_or(V::Missing, V::Num),
        Field::ReferenceUnitValue => f.reference_unit_value.map_or(V::Missing, V::Num),
        Field::TaxRate => f.tax_rate.map_or(V::Missing, V::Num),
    }
}

#[cfg(test)]
mod tests;
