//! Who stands on either side of a sale: the seller's unified social credit code and the buyer's
//! identity document.
//!
//! Over 1000 lines because about 550 are its tests (the published check-digit vectors of every
//! document kind); the code itself is under 900.
//!
//! A buyer's document number is personal data. The types that hold one print only a masked form
//! through `Display` and `Debug`, and do not implement `Serialize`, so that the number cannot
//! reach a log line, an error report or a stored decision by accident. The full text leaves only
//! through `as_str()` and [`PersonDocument::canonical_key`], the input of the keyed hash that
//! makes the person code. For the same reason, error reasons about a personal number name
//! positions and single characters, never the number itself.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use time::{Date, Month};

use crate::country::Country;
use crate::error::{FieldError, FieldErrorKind, FieldResult};

/// Implements `FromStr` and `TryFrom<&str>` by delegating to the type's `parse`, so that every
/// way in goes through the one parser.
macro_rules! parse_via_str {
    ($ty:ty) => {
        impl FromStr for $ty {
            type Err = FieldError;

            fn from_str(s: &str) -> FieldResult<Self> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = FieldError;

            fn try_from(s: &str) -> FieldResult<Self> {
                Self::parse(s)
            }
        }
    };
}

/// Implements `Display` and `Debug` as the masked number, never the full one.
macro_rules! masked_text {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&masked(self.as_str()))
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($ty))
                    .field(&masked(self.as_str()))
                    .finish()
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Unified social credit code
// ---------------------------------------------------------------------------------------------

/// The 31 characters of GB 32100-2015 in value order: the digits, then the upper-case letters
/// without I, O, S, V and Z, which are too easily read as 1, 0, 5, U and 2.
const CREDIT_CODE_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100-2015 weights for positions 1 to 17 (3^(i-1) mod 31). Each is non-zero modulo the
/// prime 31, which is why any single wrong character changes the check character.
const CREDIT_CODE_WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// GB/T 2260 province code of Hainan, the first two digits of its administrative divisions.
const HAINAN_PROVINCE_CODE: &str = "46";

fn credit_code_value(byte: u8) -> Option<usize> {
    CREDIT_CODE_ALPHABET
        .iter()
        .position(|&candidate| candidate == byte)
}

/// The GB 32100-2015 check character for the first 17 characters of a unified social credit
/// code: C18 = 31 − (Σ value(Ci) × Wi mod 31), where 31 stands for `'0'`.
///
/// Takes the canonical form (upper case). Returns `None` unless `first17` is exactly 17
/// characters of the credit code alphabet; it does not check that positions 3 to 8 are digits,
/// which is a rule of the layout, not of the check.
pub fn check_character(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (&byte, &weight) in bytes.iter().zip(&CREDIT_CODE_WEIGHTS) {
        sum += credit_code_value(byte)? * weight;
    }
    CREDIT_CODE_ALPHABET
        .get((31 - sum % 31) % 31)
        .map(|&byte| char::from(byte))
}

/// China's 18-character unified social credit code (统一社会信用代码), GB 32100-2015: the one
/// identifier of every company, institution and other registered organisation.
///
/// Layout, by position: 1 the registration authority (9 is market regulation, i.e. businesses),
/// 2 the entity type within that authority, 3–8 the GB/T 2260 administrative division code of
/// the registering office, 9–17 the GB 11714 organisation code, 18 the check character.
///
/// Stored inline as its 18 ASCII bytes, so the code is `Copy`: decisions and postings carry it by
/// value without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode([u8; 18]);

impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CreditCode({})", self.as_str())
    }
}

impl CreditCode {
    const FIELD: &'static str = "credit_code";

    /// Parses a code, ignoring surrounding whitespace and accepting lower case (codes are often
    /// typed from a printed licence).
    pub fn parse(input: &str) -> FieldResult<Self> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Missing,
                "a unified social credit code is required",
            ));
        }
        let count = text.chars().count();
        if count != 18 {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Malformed,
                format!("a unified social credit code has 18 characters, got {count}"),
            ));
        }
        let code = text.to_ascii_uppercase();
        for (index, c) in code.chars().enumerate() {
            let position = index + 1;
            if (3..=8).contains(&position) {
                if !c.is_ascii_digit() {
                    return Err(FieldError::new(
                        Self::FIELD,
                        FieldErrorKind::Malformed,
                        format!(
                            "character {position} is '{c}', but characters 3 to 8 are the \
                             administrative division code and must be digits"
                        ),
                    ));
                }
            } else if !u8::try_from(c).is_ok_and(|byte| credit_code_value(byte).is_some()) {
                return Err(FieldError::new(
                    Self::FIELD,
                    FieldErrorKind::Malformed,
                    format!(
                        "character {position} is '{c}', which is not allowed: a unified social \
                         credit code uses digits and the letters A to Z except I, O, S, V and Z"
                    ),
                ));
            }
        }
        // Every character is ASCII now, so splitting at byte 17 splits at character 17.
        let (body, actual) = code.split_at(17);
        let Some(expected) = check_character(body) else {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Malformed,
                "the first 17 characters are not all in the credit code alphabet",
            ));
        };
        if !actual.starts_with(expected) {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::BadCheckCharacter,
                format!("check character is '{actual}' but '{expected}' was computed"),
            ));
        }
        let mut bytes = [0u8; 18];
        bytes.copy_from_slice(code.as_bytes());
        Ok(Self(bytes))
    }

    /// The canonical 18-character code, upper case.
    pub fn as_str(&self) -> &str {
        // The parser stores only ASCII, which is always valid UTF-8.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Position 1: the registration authority, e.g. `'9'` for market regulation (businesses).
    pub fn registration_authority(&self) -> char {
        // The parser guarantees 18 ASCII characters, so these byte positions exist.
        char::from(self.0[0])
    }

    /// Position 2: the entity type within the registration authority's scheme, e.g. `'1'` for
    /// an enterprise registered by market regulation.
    pub fn entity_type(&self) -> char {
        char::from(self.0[1])
    }

    /// Positions 3–8: the GB/T 2260 administrative division code of the registering office.
    pub fn division_code(&self) -> &str {
        &self.as_str()[2..8]
    }

    /// Positions 9–17: the GB 11714 organisation code.
    pub fn organisation_code(&self) -> &str {
        &self.as_str()[8..17]
    }

    /// Whether the organisation was registered in Hainan province: its division code starts
    /// with Hainan's GB/T 2260 province code, 46.
    pub fn is_registered_in_hainan(&self) -> bool {
        self.division_code().starts_with(HAINAN_PROVINCE_CODE)
    }
}

parse_via_str!(CreditCode);

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CreditCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// GB 11643 numbers: resident identity card, foreign permanent resident ID card
// ---------------------------------------------------------------------------------------------

/// ISO 7064 MOD 11-2 weights for positions 1 to 17: 2^(17-i) mod 11, i counted from 0. Each is
/// non-zero modulo the prime 11, which is why any single wrong digit changes the check character.
const MOD_11_2_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each remainder of the weighted sum modulo 11; X stands for ten.
const MOD_11_2_CHECK: &[u8; 11] = b"10X98765432";

/// The ISO 7064 MOD 11-2 check character of GB 11643-1999 for the first 17 digits of a resident
/// identity card number (also used by the 2023 foreign permanent resident ID card).
///
/// Returns `None` unless `first17` is exactly 17 ASCII digits.
pub fn resident_id_check_digit(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (&byte, &weight) in bytes.iter().zip(&MOD_11_2_WEIGHTS) {
        if !byte.is_ascii_digit() {
            return None;
        }
        sum += u32::from(byte - b'0') * weight;
    }
    MOD_11_2_CHECK
        .get((sum % 11) as usize)
        .map(|&byte| char::from(byte))
}

/// Checks an upper-cased 18-character GB 11643 number: 17 digits, then a digit or X that
/// matches the MOD 11-2 check.
fn check_gb_11643(field: &str, number: &str) -> FieldResult<()> {
    for (index, c) in number.chars().enumerate() {
        let position = index + 1;
        if position < 18 && !c.is_ascii_digit() {
            return Err(FieldError::new(
                field,
                FieldErrorKind::Malformed,
                format!("character {position} is '{c}', but characters 1 to 17 must be digits"),
            ));
        }
        if position == 18 && !(c.is_ascii_digit() || c == 'X') {
            return Err(FieldError::new(
                field,
                FieldErrorKind::Malformed,
                format!("the last character is '{c}', but it must be a digit or X"),
            ));
        }
    }
    // Every character is ASCII now, so splitting at byte 17 splits at character 17.
    let (body, actual) = number.split_at(17);
    let Some(expected) = resident_id_check_digit(body) else {
        return Err(FieldError::new(
            field,
            FieldErrorKind::Malformed,
            "characters 1 to 17 must be digits",
        ));
    };
    if !actual.starts_with(expected) {
        return Err(FieldError::new(
            field,
            FieldErrorKind::BadCheckCharacter,
            format!("check character is '{actual}' but '{expected}' was computed"),
        ));
    }
    Ok(())
}

/// Reads eight ASCII digits YYYYMMDD as a calendar date; `None` for a date that does not exist.
fn calendar_date(yyyymmdd: &str) -> Option<Date> {
    let year = yyyymmdd.get(0..4)?.parse::<i32>().ok()?;
    let month = Month::try_from(yyyymmdd.get(4..6)?.parse::<u8>().ok()?).ok()?;
    let day = yyyymmdd.get(6..8)?.parse::<u8>().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// Sex as recorded in a resident identity card number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// An 18-character PRC resident identity card number (公民身份号码), GB 11643-1999.
///
/// Layout: a 6-digit address code (the GB/T 2260 division where the holder was first
/// registered), the 8-digit birth date YYYYMMDD, a 3-digit sequence code (odd for men, even for
/// women) and an ISO 7064 MOD 11-2 check character, a digit or X.
///
/// Personal data: `Display` and `Debug` show only the first 6 and last 3 characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId {
    number: String,
    birth_date: Date,
}

impl ResidentId {
    const FIELD: &'static str = "resident_id";

    /// Parses a number, ignoring surrounding whitespace and accepting a lower-case x.
    ///
    /// The check character is verified before the birth date, so a single mistyped digit is
    /// reported as a check failure wherever it is.
    pub fn parse(input: &str) -> FieldResult<Self> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Missing,
                "a resident identity card number is required",
            ));
        }
        let count = text.chars().count();
        if count != 18 {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Malformed,
                format!("a resident identity card number has 18 characters, got {count}"),
            ));
        }
        let number = text.to_ascii_uppercase();
        check_gb_11643(Self::FIELD, &number)?;
        let Some(birth_date) = calendar_date(&number[6..14]) else {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Malformed,
                "characters 7 to 14 must be the birth date as YYYYMMDD, but they are not a real \
                 calendar date",
            ));
        };
        Ok(Self { number, birth_date })
    }

    /// The full canonical number, upper case. Personal data: do not log it.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// Characters 1–6: the GB/T 2260 division code where the holder was first registered. It
    /// does not change when the holder moves.
    pub fn address_code(&self) -> &str {
        &self.number[0..6]
    }

    /// Characters 7–14: the holder's date of birth.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// Character 17, the last of the sequence code: odd for men, even for women.
    pub fn sex(&self) -> Sex {
        // The parser guarantees 18 ASCII characters, the first 17 digits.
        if (self.number.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Whether the address code is in Hainan province (GB/T 2260 province code 46): where the
    /// holder was first registered, which is not necessarily where they live now.
    pub fn is_hainan(&self) -> bool {
        self.address_code().starts_with(HAINAN_PROVINCE_CODE)
    }
}

parse_via_str!(ResidentId);
masked_text!(ResidentId);

/// The number of a Foreign Permanent Resident ID Card (外国人永久居留身份证).
///
/// The 2023 card has 18 characters: 9, a 2-digit province code, a 3-digit nationality code, the
/// 8-digit birth date, a 3-digit sequence code and an ISO 7064 MOD 11-2 check character computed
/// as for a [`ResidentId`] (GB 11643-1999). Earlier cards, still valid until they expire, have 15
/// characters: 3 letters for the nationality and 12 digits; no public standard defines their
/// check digit, so only their shape is checked.
///
/// Personal data: `Display` and `Debug` show a masked form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ForeignPermanentResidentId(String);

impl ForeignPermanentResidentId {
    const FIELD: &'static str = "foreign_permanent_resident_id";

    /// Parses either card version, ignoring surrounding whitespace and accepting lower case.
    pub fn parse(input: &str) -> FieldResult<Self> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Missing,
                "a foreign permanent resident ID card number is required",
            ));
        }
        let number = text.to_ascii_uppercase();
        match number.chars().count() {
            18 => {
                check_gb_11643(Self::FIELD, &number)?;
                if !number.starts_with('9') {
                    return Err(FieldError::new(
                        Self::FIELD,
                        FieldErrorKind::Malformed,
                        "an 18-character foreign permanent resident ID card number starts with 9",
                    ));
                }
            }
            15 => {
                let shaped = number.chars().enumerate().all(|(index, c)| {
                    if index < 3 {
                        c.is_ascii_uppercase()
                    } else {
                        c.is_ascii_digit()
                    }
                });
                if !shaped {
                    return Err(FieldError::new(
                        Self::FIELD,
                        FieldErrorKind::Malformed,
                        "a 15-character foreign permanent resident ID card number is 3 letters \
                         followed by 12 digits",
                    ));
                }
            }
            count => {
                return Err(FieldError::new(
                    Self::FIELD,
                    FieldErrorKind::Malformed,
                    format!(
                        "a foreign permanent resident ID card number has 18 characters (15 on \
                         cards issued before 2023), got {count}"
                    ),
                ));
            }
        }
        Ok(Self(number))
    }

    /// The full canonical number, upper case. Personal data: do not log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

parse_via_str!(ForeignPermanentResidentId);
masked_text!(ForeignPermanentResidentId);

// ---------------------------------------------------------------------------------------------
// Passports and travel permits
// ---------------------------------------------------------------------------------------------

/// A passport number: 5 to 20 letters and digits.
///
/// ICAO Doc 9303 gives the document number 9 characters in the machine-readable zone, but
/// issuers use shorter numbers and longer ones (continued in the optional data). The bounds
/// admit every issuer's numbers while rejecting free text.
///
/// Personal data: `Display` and `Debug` show a masked form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PassportNumber(String);

impl PassportNumber {
    const FIELD: &'static str = "passport_number";

    /// Parses a number, ignoring surrounding whitespace and accepting lower case.
    pub fn parse(input: &str) -> FieldResult<Self> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Missing,
                "a passport number is required",
            ));
        }
        let count = text.chars().count();
        if !(5..=20).contains(&count) {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Malformed,
                format!("a passport number has 5 to 20 characters, got {count}"),
            ));
        }
        let number = text.to_ascii_uppercase();
        if let Some((index, c)) = number
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Malformed,
                format!(
                    "character {} is '{c}', but a passport number is only letters A to Z and \
                     digits",
                    index + 1
                ),
            ));
        }
        Ok(Self(number))
    }

    /// The full canonical number, upper case. Personal data: do not log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

parse_via_str!(PassportNumber);
masked_text!(PassportNumber);

/// The number of a Mainland Travel Permit for Hong Kong and Macao Residents
/// (港澳居民来往内地通行证): H for Hong Kong or M for Macao, then 8 digits (10 on older permits).
///
/// Personal data: `Display` and `Debug` show a masked form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HkMacaoPermitNumber(String);

impl HkMacaoPermitNumber {
    const FIELD: &'static str = "hk_macao_permit";

    /// Parses a number, ignoring surrounding whitespace and accepting a lower-case h or m.
    pub fn parse(input: &str) -> FieldResult<Self> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Missing,
                "a Hong Kong and Macao residents' permit number is required",
            ));
        }
        let number = text.to_ascii_uppercase();
        let mut chars = number.chars();
        if !matches!(chars.next(), Some('H' | 'M')) {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Malformed,
                "a Hong Kong and Macao residents' permit number starts with H (Hong Kong) or M \
                 (Macao)",
            ));
        }
        let digits = chars.as_str();
        let count = digits.chars().count();
        if !(count == 8 || count == 10) || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Malformed,
                "a Hong Kong and Macao residents' permit number is H or M followed by 8 or 10 \
                 digits",
            ));
        }
        Ok(Self(number))
    }

    /// The full canonical number, upper case. Personal data: do not log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where the holder is a resident: Hong Kong for an H number, Macao for an M number.
    pub fn region(&self) -> Country {
        if self.0.starts_with('M') {
            Country::MO
        } else {
            Country::HK
        }
    }
}

parse_via_str!(HkMacaoPermitNumber);
masked_text!(HkMacaoPermitNumber);

/// The number of a Mainland Travel Permit for Taiwan Residents (台湾居民来往大陆通行证):
/// 8 digits, or 10 depending on the version of the permit.
///
/// Personal data: `Display` and `Debug` show a masked form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TaiwanPermitNumber(String);

impl TaiwanPermitNumber {
    const FIELD: &'static str = "taiwan_permit";

    /// Parses a number, ignoring surrounding whitespace.
    pub fn parse(input: &str) -> FieldResult<Self> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Missing,
                "a Taiwan residents' permit number is required",
            ));
        }
        let count = text.chars().count();
        if !(count == 8 || count == 10) {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Malformed,
                format!(
                    "a Taiwan residents' permit number has 8 or 10 digits, got {count} characters"
                ),
            ));
        }
        if !text.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                Self::FIELD,
                FieldErrorKind::Malformed,
                "a Taiwan residents' permit number is only digits",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The full canonical number. Personal data: do not log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

parse_via_str!(TaiwanPermitNumber);
masked_text!(TaiwanPermitNumber);

/// Hides the middle of a personal number, so that a person can recognise their document in a
/// log or on a screen without the number being disclosed. Visible are at most 3 characters at
/// the end (a quarter of the number for short ones) and at most 6 at the start, never more than
/// half the characters in all: an 18-character number shows its first 6 and last 3.
fn masked(number: &str) -> String {
    let count = number.chars().count();
    let tail = (count / 4).min(3);
    let head = (count / 2 - tail).min(6);
    number
        .chars()
        .enumerate()
        .map(|(index, c)| {
            if index < head || index >= count - tail {
                c
            } else {
                '*'
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Person document
// ---------------------------------------------------------------------------------------------

const KIND_RESIDENT_ID: &str = "resident_id";
const KIND_PASSPORT: &str = "passport";
const KIND_HK_MACAO_PERMIT: &str = "hk_macao_permit";
const KIND_TAIWAN_PERMIT: &str = "taiwan_permit";
const KIND_FOREIGN_PERMANENT_RESIDENT_ID: &str = "foreign_permanent_resident_id";

const KIND_FIELD: &str = "document.kind";
const NUMBER_FIELD: &str = "document.number";
const ISSUING_COUNTRY_FIELD: &str = "document.issuing_country";

/// The identity document a buyer shows: what identifies a person across purchases.
///
/// Personal data: `Display` and `Debug` show the kind and a masked number, e.g.
/// `resident_id:110105*********02X` or `passport:GB:12*****89`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum PersonDocument {
    /// A PRC resident identity card.
    ResidentId(ResidentId),
    /// A passport of any country, China included.
    Passport {
        issuing_country: Country,
        number: PassportNumber,
    },
    /// A Mainland Travel Permit for Hong Kong and Macao Residents.
    HkMacaoPermit(HkMacaoPermitNumber),
    /// A Mainland Travel Permit for Taiwan Residents.
    TaiwanPermit(TaiwanPermitNumber),
    /// A Foreign Permanent Resident ID Card.
    ForeignPermanentResidentId(ForeignPermanentResidentId),
}

impl PersonDocument {
    /// Parses the wire form: a kind (`resident_id`, `passport`, `hk_macao_permit`,
    /// `taiwan_permit` or `foreign_permanent_resident_id`), the number, and the issuing country.
    ///
    /// A passport requires its issuing country. Every other kind is issued by the mainland
    /// authorities, so the issuing country may be left out (`None` or blank), and if given it
    /// must be `CN`: anything else contradicts the kind. Errors name `document.kind`,
    /// `document.number` or `document.issuing_country`.
    pub fn parse(kind: &str, number: &str, issuing_country: Option<&str>) -> FieldResult<Self> {
        let on_number = |error: FieldError| FieldError {
            field: NUMBER_FIELD.to_owned(),
            ..error
        };
        let on_country = |error: FieldError| FieldError {
            field: ISSUING_COUNTRY_FIELD.to_owned(),
            ..error
        };
        let issuing_country = issuing_country
            .map(str::trim)
            .filter(|text| !text.is_empty());
        let kind = kind.trim().to_ascii_lowercase();
        let document = match kind.as_str() {
            "" => {
                return Err(FieldError::new(
                    KIND_FIELD,
                    FieldErrorKind::Missing,
                    "a document kind is required",
                ));
            }
            KIND_RESIDENT_ID => Self::ResidentId(ResidentId::parse(number).map_err(on_number)?),
            KIND_PASSPORT => {
                let number = PassportNumber::parse(number).map_err(on_number)?;
                let Some(country) = issuing_country else {
                    return Err(FieldError::new(
                        ISSUING_COUNTRY_FIELD,
                        FieldErrorKind::Missing,
                        "a passport needs the country that issued it",
                    ));
                };
                let issuing_country = Country::parse(country).map_err(on_country)?;
                return Ok(Self::Passport {
                    issuing_country,
                    number,
                });
            }
            KIND_HK_MACAO_PERMIT => {
                Self::HkMacaoPermit(HkMacaoPermitNumber::parse(number).map_err(on_number)?)
            }
            KIND_TAIWAN_PERMIT => {
                Self::TaiwanPermit(TaiwanPermitNumber::parse(number).map_err(on_number)?)
            }
            KIND_FOREIGN_PERMANENT_RESIDENT_ID => Self::ForeignPermanentResidentId(
                ForeignPermanentResidentId::parse(number).map_err(on_number)?,
            ),
            other => {
                return Err(FieldError::new(
                    KIND_FIELD,
                    FieldErrorKind::Unknown,
                    format!(
                        "document kind '{other}' is not one of {KIND_RESIDENT_ID}, \
                         {KIND_PASSPORT}, {KIND_HK_MACAO_PERMIT}, {KIND_TAIWAN_PERMIT}, \
                         {KIND_FOREIGN_PERMANENT_RESIDENT_ID}"
                    ),
                ));
            }
        };
        if let Some(country) = issuing_country {
            let stated = Country::parse(country).map_err(on_country)?;
            if stated != Country::CN {
                return Err(FieldError::new(
                    ISSUING_COUNTRY_FIELD,
                    FieldErrorKind::Inconsistent,
                    format!(
                        "a {kind} is issued by China (CN), but the issuing country given is \
                         {stated}"
                    ),
                ));
            }
        }
        Ok(document)
    }

    /// The wire name of the document kind, e.g. `"passport"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ResidentId(_) => KIND_RESIDENT_ID,
            Self::Passport { .. } => KIND_PASSPORT,
            Self::HkMacaoPermit(_) => KIND_HK_MACAO_PERMIT,
            Self::TaiwanPermit(_) => KIND_TAIWAN_PERMIT,
            Self::ForeignPermanentResidentId(_) => KIND_FOREIGN_PERMANENT_RESIDENT_ID,
        }
    }

    /// The full canonical document number. Personal data: do not log it.
    pub fn number(&self) -> &str {
        match self {
            Self::ResidentId(id) => id.as_str(),
            Self::Passport { number, .. } => number.as_str(),
            Self::HkMacaoPermit(number) => number.as_str(),
            Self::TaiwanPermit(number) => number.as_str(),
            Self::ForeignPermanentResidentId(id) => id.as_str(),
        }
    }

    /// The country whose authorities issued the document: the passport's issuer, otherwise
    /// China.
    pub fn issuing_country(&self) -> Country {
        match self {
            Self::Passport {
                issuing_country, ..
            } => *issuing_country,
            _ => Country::CN,
        }
    }

    /// A stable text naming the document, such as `passport:GB:123456789` or
    /// `resident_id:11010519491231002X`, for a keyed hash (HMAC) to turn into the person code.
    ///
    /// The text is kind, then for a passport the issuing country, then the canonical number,
    /// joined by colons; none of the parts can contain a colon, so distinct documents give
    /// distinct keys. Changing this format changes every person code: treat it as frozen.
    /// Personal data: hash it, never store or log it.
    pub fn canonical_key(&self) -> String {
        match self {
            Self::Passport {
                issuing_country,
                number,
            } => {
                format!("{KIND_PASSPORT}:{issuing_country}:{}", number.as_str())
            }
            other => format!("{}:{}", other.kind(), other.number()),
        }
    }
}

impl fmt::Display for PersonDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Passport {
                issuing_country,
                number,
            } => {
                write!(
                    f,
                    "{KIND_PASSPORT}:{issuing_country}:{}",
                    masked(number.as_str())
                )
            }
            other => write!(f, "{}:{}", other.kind(), masked(other.number())),
        }
    }
}

impl fmt::Debug for PersonDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PersonDocument")
            .field(&self.to_string())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    /// Any 17 characters of the credit code alphabet: digits and A-Z less I, O, S, V, Z.
    const ANY_17_OF_ALPHABET: &str = "[0-9A-HJ-NP-RTUW-Y]{17}";

    /// A well-shaped first 17 characters: positions 3 to 8 are digits.
    const CREDIT_CODE_BODY: &str = "[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{9}";

    /// Appends the computed check character; for building test codes, not a real organisation's.
    fn with_credit_check(first17: &str) -> String {
        let check = check_character(first17).expect("17 characters of the alphabet");
        format!("{first17}{check}")
    }

    /// Appends the computed MOD 11-2 check character to 17 digits.
    fn with_resident_check(first17: &str) -> String {
        let check = resident_id_check_digit(first17).expect("17 digits");
        format!("{first17}{check}")
    }

    fn yyyymmdd(date: Date) -> String {
        format!(
            "{:04}{:02}{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    }

    fn resident_id_strategy() -> impl Strategy<Value = (String, Date)> {
        ("[0-9]{6}", 1900i32..=2099, 1u16..=365, "[0-9]{3}").prop_map(
            |(address, year, day, sequence)| {
                let birth =
                    Date::from_ordinal_date(year, day).expect("day 1 to 365 exists in every year");
                (
                    with_resident_check(&format!("{address}{}{sequence}", yyyymmdd(birth))),
                    birth,
                )
            },
        )
    }

    // --- CreditCode ---------------------------------------------------------------------------

    #[test]
    fn real_credit_codes_parse() {
        // Published codes: a Beijing-registered company; Alibaba (China) Co., Ltd. (Hangzhou);
        // Shenzhen Tencent Computer Systems Co., Ltd.; Huawei Technologies Co., Ltd. (Shenzhen).
        for (code, division) in [
            ("91110000802100433B", "110000"),
            ("91330100716105852F", "330100"),
            ("9144030071526726XG", "440300"),
            ("914403001922038216", "440300"),
        ] {
            let parsed = CreditCode::parse(code).expect(code);
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.division_code(), division);
            assert_eq!(parsed.registration_authority(), '9');
            assert_eq!(parsed.entity_type(), '1');
            assert!(!parsed.is_registered_in_hainan());
        }
        let beijing = CreditCode::parse("91110000802100433B").expect("valid");
        assert_eq!(beijing.organisation_code(), "802100433");
    }

    #[test]
    fn constructed_hainan_credit_code_is_registered_in_hainan() {
        // Constructed for the test: Hainan division 460000, organisation code MA5T12345, and the
        // check character computed here. Not a real organisation's code.
        let code = with_credit_check("91460000MA5T12345");
        assert_eq!(code, "91460000MA5T123457");
        let parsed = CreditCode::parse(&code).expect("constructed code is valid");
        assert_eq!(parsed.division_code(), "460000");
        assert!(parsed.is_registered_in_hainan());
    }

    #[test]
    fn credit_code_accepts_lower_case_and_whitespace() {
        let parsed = CreditCode::parse("  9144030071526726xg\n").expect("valid");
        assert_eq!(parsed.as_str(), "9144030071526726XG");
        assert_eq!("91110000802100433b".parse::<CreditCode>(), Ok(beijing()));
        assert_eq!(CreditCode::try_from("91110000802100433B"), Ok(beijing()));
    }

    fn beijing() -> CreditCode {
        CreditCode::parse("91110000802100433B").expect("valid")
    }

    #[test]
    fn credit_code_errors() {
        let err = CreditCode::parse(" ").expect_err("blank");
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("credit_code", FieldErrorKind::Missing)
        );

        let err = CreditCode::parse("91110000802100433").expect_err("17 characters");
        assert_eq!(err.kind, FieldErrorKind::Malformed);
        assert_eq!(
            err.reason,
            "a unified social credit code has 18 characters, got 17"
        );

        let err = CreditCode::parse("91110000802I00433B").expect_err("I is excluded");
        assert_eq!(err.kind, FieldErrorKind::Malformed);
        assert!(
            err.reason.starts_with("character 12 is 'I'"),
            "{}",
            err.reason
        );

        let err = CreditCode::parse("9111A000802100433B").expect_err("letter in the division code");
        assert_eq!(err.kind, FieldErrorKind::Malformed);
        assert!(
            err.reason.starts_with("character 5 is 'A'"),
            "{}",
            err.reason
        );

        let err = CreditCode::parse("91110000802100433C").expect_err("wrong check character");
        assert_eq!(err.kind, FieldErrorKind::BadCheckCharacter);
        assert_eq!(err.reason, "check character is 'C' but 'B' was computed");
        assert_eq!(err.within("seller").field, "seller.credit_code");

        let err = CreditCode::parse("９1110000802100433B").expect_err("full-width digit");
        assert_eq!(err.kind, FieldErrorKind::Malformed);
    }

    #[test]
    fn check_character_needs_17_canonical_characters() {
        assert_eq!(check_character("91110000802100433"), Some('B'));
        assert_eq!(check_character("9111000080210043"), None);
        assert_eq!(check_character("911100008021004333"), None);
        assert_eq!(check_character("91110000802I00433"), None);
        assert_eq!(check_character("9144030071526726x"), None);
        // A weighted sum divisible by 31 gives check value 31, written as '0'.
        assert_eq!(check_character("00000000000000000"), Some('0'));
    }

    #[test]
    fn credit_code_display_and_serialize_are_canonical() {
        let code = beijing();
        assert_eq!(code.to_string(), "91110000802100433B");
        assert_eq!(
            serde_json::to_string(&code).expect("serialize"),
            "\"91110000802100433B\""
        );
    }

    proptest! {
        #[test]
        fn check_character_exists_for_any_prefix(prefix in ANY_17_OF_ALPHABET) {
            prop_assert!(check_character(&prefix).is_some());
        }

        #[test]
        fn appending_the_check_character_gives_a_valid_code(prefix in CREDIT_CODE_BODY) {
            let code = with_credit_check(&prefix);
            let parsed = CreditCode::parse(&code);
            prop_assert!(parsed.is_ok(), "{:?}", parsed);
            let parsed = parsed.expect("checked");
            prop_assert_eq!(parsed.as_str(), code.as_str());
            prop_assert_eq!(CreditCode::parse(&code.to_ascii_lowercase()), Ok(parsed));
        }

        #[test]
        fn any_single_substitution_is_detected(
            prefix in CREDIT_CODE_BODY,
            position in 0usize..18,
            shift in 1usize..31,
        ) {
            let mut bytes = with_credit_check(&prefix).into_bytes();
            let original = credit_code_value(bytes[position]).expect("alphabet");
            let replacement = CREDIT_CODE_ALPHABET[(original + shift) % 31];
            bytes[position] = replacement;
            let code = String::from_utf8(bytes).expect("ASCII");
            let err = CreditCode::parse(&code).expect_err("a substitution must not go unnoticed");
            let expected = if (2..8).contains(&position) && !replacement.is_ascii_digit() {
                FieldErrorKind::Malformed
            } else {
                FieldErrorKind::BadCheckCharacter
            };
            prop_assert_eq!(err.kind, expected, "{}", code);
        }
    }

    // --- ResidentId ---------------------------------------------------------------------------

    #[test]
    fn published_resident_id_parses() {
        let id = ResidentId::parse("11010519491231002X").expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.address_code(), "110105");
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
        assert_eq!(id.sex(), Sex::Female);
        assert!(!id.is_hainan());
        assert_eq!(ResidentId::parse(" 11010519491231002x "), Ok(id.clone()));
        assert_eq!("11010519491231002x".parse::<ResidentId>(), Ok(id.clone()));
        assert_eq!(ResidentId::try_from("11010519491231002X"), Ok(id));
    }

    #[test]
    fn constructed_hainan_resident_id() {
        // Constructed for the test: Haikou (460100), born 1990-01-01, sequence 123 (odd: male).
        let number = with_resident_check("46010019900101123");
        let id = ResidentId::parse(&number).expect("constructed number is valid");
        assert!(id.is_hainan());
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.birth_date(), date!(1990 - 01 - 01));
    }

    #[test]
    fn resident_id_birth_date_must_exist() {
        for (birth, exists) in [
            ("19490231", false),
            ("19000229", false),
            ("20000229", true),
            ("19491301", false),
        ] {
            let number = with_resident_check(&format!("110105{birth}002"));
            let result = ResidentId::parse(&number);
            assert_eq!(result.is_ok(), exists, "{birth}");
            if let Err(err) = result {
                assert_eq!(err.kind, FieldErrorKind::Malformed);
                assert!(err.reason.contains("birth date"), "{}", err.reason);
            }
        }
    }

    #[test]
    fn resident_id_errors() {
        let err = ResidentId::parse("").expect_err("empty");
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("resident_id", FieldErrorKind::Missing)
        );

        let err = ResidentId::parse("11010519491231002").expect_err("17 characters");
        assert_eq!(err.kind, FieldErrorKind::Malformed);
        assert_eq!(
            err.reason,
            "a resident identity card number has 18 characters, got 17"
        );

        let err = ResidentId::parse("1101051949123100AX").expect_err("letter in the body");
        assert_eq!(err.kind, FieldErrorKind::Malformed);
        assert!(
            err.reason.starts_with("character 17 is 'A'"),
            "{}",
            err.reason
        );

        let err = ResidentId::parse("11010519491231002Y").expect_err("Y is not a check character");
        assert_eq!(err.kind, FieldErrorKind::Malformed);

        let err = ResidentId::parse("110105194912310021").expect_err("wrong check character");
        assert_eq!(err.kind, FieldErrorKind::BadCheckCharacter);
        assert_eq!(err.reason, "check character is '1' but 'X' was computed");
        assert!(
            !err.reason.contains("110105"),
            "reasons never echo the number"
        );
    }

    #[test]
    fn resident_id_check_digit_needs_17_digits() {
        assert_eq!(resident_id_check_digit("11010519491231002"), Some('X'));
        assert_eq!(resident_id_check_digit("1101051949123100"), None);
        assert_eq!(resident_id_check_digit("1101051949123100A"), None);
        assert_eq!(resident_id_check_digit("110105194912310021"), None);
    }

    #[test]
    fn resident_id_is_masked_in_display_and_debug() {
        let id = ResidentId::parse("11010519491231002X").expect("valid");
        assert_eq!(id.to_string(), "110105*********02X");
        assert_eq!(format!("{id:?}"), "ResidentId(\"110105*********02X\")");
    }

    proptest! {
        #[test]
        fn appending_the_check_digit_gives_a_valid_resident_id(
            (number, birth) in resident_id_strategy(),
        ) {
            let id = ResidentId::parse(&number);
            prop_assert!(id.is_ok(), "{:?}", id);
            let id = id.expect("checked");
            prop_assert_eq!(id.as_str(), number.as_str());
            prop_assert_eq!(id.birth_date(), birth);
            prop_assert_eq!(id.address_code(), &number[..6]);
            let odd = (number.as_bytes()[16] - b'0') % 2 == 1;
            prop_assert_eq!(id.sex(), if odd { Sex::Male } else { Sex::Female });
        }

        #[test]
        fn any_single_resident_id_substitution_is_detected(
            (number, _) in resident_id_strategy(),
            position in 0usize..18,
            shift in 1usize..10,
        ) {
            let mut bytes = number.into_bytes();
            // Body positions take digits; the check position takes a digit or X.
            let symbols: &[u8] = if position < 17 { b"0123456789" } else { MOD_11_2_CHECK };
            let original =
                symbols.iter().position(|&s| s == bytes[position]).expect("valid symbol");
            bytes[position] = symbols[(original + shift) % symbols.len()];
            let changed = String::from_utf8(bytes).expect("ASCII");
            let err =
                ResidentId::parse(&changed).expect_err("a substitution must not go unnoticed");
            prop_assert_eq!(err.kind, FieldErrorKind::BadCheckCharacter, "{}", changed);
        }

        #[test]
        fn display_and_debug_never_show_the_full_number((number, _) in resident_id_strategy()) {
            let document = PersonDocument::parse("resident_id", &number, None).expect("valid");
            let shown = document.to_string();
            let debugged = format!("{document:?}");
            prop_assert!(!shown.contains(&number));
            prop_assert!(!debugged.contains(&number));
            prop_assert!(!debugged.contains(&number[6..14]), "the birth date stays hidden");
        }
    }

    // --- Other documents ----------------------------------------------------------------------

    #[test]
    fn foreign_permanent_resident_id_versions() {
        // Constructed for the test: 9, province 11, nationality 840, born 1980-01-01, sequence 001.
        let number = with_resident_check("91184019800101001");
        let id = ForeignPermanentResidentId::parse(&number).expect("2023 card");
        assert_eq!(id.as_str(), number);

        let wrong = format!(
            "{}{}",
            &number[..17],
            if number.ends_with('0') { '1' } else { '0' }
        );
        let err = ForeignPermanentResidentId::parse(&wrong).expect_err("wrong check");
        assert_eq!(err.kind, FieldErrorKind::BadCheckCharacter);
        assert_eq!(err.field, "foreign_permanent_resident_id");

        // A resident ID has the same check but does not start with 9.
        let err = ForeignPermanentResidentId::parse("11010519491231002X").expect_err("not 9");
        assert_eq!(err.kind, FieldErrorKind::Malformed);

        let old = ForeignPermanentResidentId::parse("usa110080019001").expect("earlier card");
        assert_eq!(old.as_str(), "USA110080019001");
        for bad in ["US1110080019001", "USA11008001900A", "USA1100800190", ""] {
            let err = ForeignPermanentResidentId::parse(bad).expect_err(bad);
            let expected = if bad.is_empty() {
                FieldErrorKind::Missing
            } else {
                FieldErrorKind::Malformed
            };
            assert_eq!(err.kind, expected, "{bad}");
        }
    }

    #[test]
    fn passport_numbers() {
        assert_eq!(
            PassportNumber::parse(" e12345678 ")
                .expect("valid")
                .as_str(),
            "E12345678"
        );
        assert!(PassportNumber::parse("12345").is_ok());
        assert!(PassportNumber::parse("ABCDEFGHIJ0123456789").is_ok());
        for (bad, kind) in [
            ("", FieldErrorKind::Missing),
            ("1234", FieldErrorKind::Malformed),
            ("ABCDEFGHIJ01234567890", FieldErrorKind::Malformed),
            ("E1234-5678", FieldErrorKind::Malformed),
            ("E1234 5678", FieldErrorKind::Malformed),
        ] {
            let err = PassportNumber::parse(bad).expect_err(bad);
            assert_eq!(
                (err.field.as_str(), err.kind),
                ("passport_number", kind),
                "{bad}"
            );
        }
    }

    #[test]
    fn hk_macao_permit_numbers() {
        let hk = HkMacaoPermitNumber::parse("h12345678").expect("valid");
        assert_eq!(hk.as_str(), "H12345678");
        assert_eq!(hk.region(), Country::HK);
        let macao = HkMacaoPermitNumber::parse("M1234567890").expect("older permit");
        assert_eq!(macao.region(), Country::MO);
        for bad in [
            "X12345678",
            "12345678",
            "H1234567",
            "H123456789",
            "H1234567A",
            "H",
        ] {
            let err = HkMacaoPermitNumber::parse(bad).expect_err(bad);
            assert_eq!(
                (err.field.as_str(), err.kind),
                ("hk_macao_permit", FieldErrorKind::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn taiwan_permit_numbers() {
        assert_eq!(
            TaiwanPermitNumber::parse(" 12345678 ")
                .expect("valid")
                .as_str(),
            "12345678"
        );
        assert!(TaiwanPermitNumber::parse("1234567890").is_ok());
        for bad in ["1234567", "123456789", "T1234567", "12345678901"] {
            let err = TaiwanPermitNumber::parse(bad).expect_err(bad);
            assert_eq!(
                (err.field.as_str(), err.kind),
                ("taiwan_permit", FieldErrorKind::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn masking_hides_at_least_half() {
        assert_eq!(masked("11010519491231002X"), "110105*********02X");
        assert_eq!(masked("123456789"), "12*****89");
        assert_eq!(masked("12345"), "1***5");
        assert_eq!(masked("USA110080019001"), "USA1********001");
        for length in 5..=20 {
            let number: String = "A".repeat(length);
            let visible = masked(&number).chars().filter(|&c| c != '*').count();
            assert!(visible * 2 <= length, "{length}");
        }
    }

    // --- PersonDocument -----------------------------------------------------------------------

    #[test]
    fn person_document_kinds_parse() {
        let resident =
            PersonDocument::parse("resident_id", "11010519491231002x", None).expect("valid");
        assert_eq!(resident.kind(), "resident_id");
        assert_eq!(resident.canonical_key(), "resident_id:11010519491231002X");
        assert_eq!(resident.to_string(), "resident_id:110105*********02X");
        assert_eq!(resident.issuing_country(), Country::CN);

        let passport = PersonDocument::parse("passport", "123456789", Some("gb")).expect("valid");
        assert_eq!(passport.canonical_key(), "passport:GB:123456789");
        assert_eq!(passport.to_string(), "passport:GB:12*****89");
        assert_eq!(
            format!("{passport:?}"),
            "PersonDocument(\"passport:GB:12*****89\")"
        );
        assert_eq!(passport.issuing_country().as_str(), "GB");
        assert_eq!(passport.number(), "123456789");

        let hk =
            PersonDocument::parse(" HK_MACAO_PERMIT ", "h12345678", Some("CN")).expect("valid");
        assert_eq!(hk.canonical_key(), "hk_macao_permit:H12345678");

        let taiwan = PersonDocument::parse("taiwan_permit", "12345678", Some("  ")).expect("valid");
        assert_eq!(taiwan.canonical_key(), "taiwan_permit:12345678");

        let number = with_resident_check("91184019800101001");
        let permanent =
            PersonDocument::parse("foreign_permanent_resident_id", &number, None).expect("valid");
        assert_eq!(
            permanent.canonical_key(),
            format!("foreign_permanent_resident_id:{number}")
        );
        assert!(matches!(
            permanent,
            PersonDocument::ForeignPermanentResidentId(_)
        ));
    }

    #[test]
    fn canonical_keys_distinguish_issuers() {
        let british = PersonDocument::parse("passport", "123456789", Some("GB")).expect("valid");
        let french = PersonDocument::parse("passport", "123456789", Some("FR")).expect("valid");
        assert_ne!(british.canonical_key(), french.canonical_key());
        assert_ne!(british, french);
    }

    #[test]
    fn person_document_errors_name_document_fields() {
        let err = PersonDocument::parse("driving_licence", "123", None).expect_err("unknown kind");
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("document.kind", FieldErrorKind::Unknown)
        );
        assert!(err.reason.contains("driving_licence"), "{}", err.reason);

        let err = PersonDocument::parse(" ", "123", None).expect_err("no kind");
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("document.kind", FieldErrorKind::Missing)
        );

        let err = PersonDocument::parse("resident_id", "110105194912310021", None)
            .expect_err("bad check");
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("document.number", FieldErrorKind::BadCheckCharacter)
        );
        assert_eq!(err.within("buyer").field, "buyer.document.number");

        let err = PersonDocument::parse("passport", "", Some("GB")).expect_err("no number");
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("document.number", FieldErrorKind::Missing)
        );

        let err = PersonDocument::parse("passport", "123456789", None).expect_err("no country");
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("document.issuing_country", FieldErrorKind::Missing)
        );

        let err = PersonDocument::parse("passport", "123456789", Some("XX"))
            .expect_err("unknown country");
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("document.issuing_country", FieldErrorKind::Unknown)
        );

        let err =
            PersonDocument::parse("hk_macao_permit", "H12345678", Some("HK")).expect_err("not CN");
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("document.issuing_country", FieldErrorKind::Inconsistent)
        );
        assert_eq!(
            err.reason,
            "a hk_macao_permit is issued by China (CN), but the issuing country given is HK"
        );

        let err = PersonDocument::parse("taiwan_permit", "1234567", None).expect_err("7 digits");
        assert_eq!(
            (err.field.as_str(), err.kind),
            ("document.number", FieldErrorKind::Malformed)
        );
    }
}
