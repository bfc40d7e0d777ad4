//! Currencies as ISO 4217 alphabetic codes, with their minor units.
//!
//! The list is ISO 4217 List One (current currency and funds codes) as maintained by SIX
//! Financial Information for the ISO 4217 Maintenance Agency, as amended up to early 2026:
//! 178 codes. It includes the changes since the 2024-06-25 publication: the Caribbean guilder
//! (`XCG`) replaced the Netherlands Antillean guilder (`ANG`) in 2025, Bulgaria's lev (`BGN`) was
//! withdrawn when Bulgaria adopted the euro on 2026-01-01, the Cuban convertible peso (`CUC`) was
//! removed, and the Arab Accounting Dinar (`XAD`) was added. Withdrawn codes (`HRK`, `SLL`,
//! `ZWL`, ...) parse as unknown: a price or payment made today cannot be in them.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::error::{FieldError, FieldErrorKind, FieldResult};

/// The default field name in errors; callers re-path it with [`FieldError::within`].
const FIELD: &str = "currency";

/// An active ISO 4217 currency or fund code.
///
/// Holds a reference into the static table, so it is `Copy` and `minor_units()` needs no lookup.
#[derive(Clone, Copy)]
pub struct Currency(&'static (&'static str, Option<u8>));

impl Currency {
    /// Yuan renminbi, the currency of every duty and tax amount this crate computes.
    pub const CNY: Currency = Currency(&CURRENCIES[index_of("CNY")]);
    /// Hong Kong dollar.
    pub const HKD: Currency = Currency(&CURRENCIES[index_of("HKD")]);
    /// Macao pataca.
    pub const MOP: Currency = Currency(&CURRENCIES[index_of("MOP")]);
    /// New Taiwan dollar.
    pub const TWD: Currency = Currency(&CURRENCIES[index_of("TWD")]);
    /// US dollar.
    pub const USD: Currency = Currency(&CURRENCIES[index_of("USD")]);
    /// Euro.
    pub const EUR: Currency = Currency(&CURRENCIES[index_of("EUR")]);

    /// Parses an alphabetic code. Surrounding whitespace is ignored and lower case is accepted,
    /// because the code is an identifier, not free text.
    pub fn parse(input: &str) -> FieldResult<Self> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                FIELD,
                FieldErrorKind::Missing,
                "a currency code is required",
            ));
        }
        let count = text.chars().count();
        if count != 3 {
            return Err(FieldError::new(
                FIELD,
                FieldErrorKind::Malformed,
                format!("an ISO 4217 currency code has 3 letters, got {count} characters"),
            ));
        }
        if !text.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(FieldError::new(
                FIELD,
                FieldErrorKind::Malformed,
                format!("an ISO 4217 currency code is made of the letters A to Z, got '{text}'"),
            ));
        }
        let code = text.to_ascii_uppercase();
        match CURRENCIES.binary_search_by(|(candidate, _)| (*candidate).cmp(code.as_str())) {
            Ok(index) => Ok(Currency(&CURRENCIES[index])),
            Err(_) => Err(FieldError::new(
                FIELD,
                FieldErrorKind::Unknown,
                format!("'{code}' is not an active ISO 4217 currency code"),
            )),
        }
    }

    /// The upper-case alphabetic code, e.g. `"CNY"`.
    pub fn as_str(&self) -> &'static str {
        self.0.0
    }

    /// The number of decimal places of the minor unit (ISO 4217 "minor unit"): 2 for CNY,
    /// 0 for JPY, 3 for KWD. `None` where ISO 4217 says "N.A.": precious metals (`XAU`), units of
    /// account (`XDR`) and the testing and no-currency codes (`XTS`, `XXX`) have no minor unit,
    /// so there is no rounding rule to apply.
    pub fn minor_units(&self) -> Option<u8> {
        self.0.1
    }

    /// Every active currency, in code order.
    pub fn all() -> impl ExactSizeIterator<Item = Currency> {
        CURRENCIES.iter().map(Currency)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// A hand-written Debug keeps logs short: the code identifies the entry.
impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Currency").field(&self.as_str()).finish()
    }
}

impl FromStr for Currency {
    type Err = FieldError;

    fn from_str(s: &str) -> FieldResult<Self> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Currency {
    type Error = FieldError;

    fn try_from(s: &str) -> FieldResult<Self> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Finds a code at compile time so the associated constants point into the one table; a code
/// missing from the table stops the build rather than failing at run time.
const fn index_of(code: &str) -> usize {
    let wanted = code.as_bytes();
    let mut i = 0;
    while i < CURRENCIES.len() {
        let candidate = CURRENCIES[i].0.as_bytes();
        if candidate.len() == wanted.len()
            && candidate[0] == wanted[0]
            && candidate[1] == wanted[1]
            && candidate[2] == wanted[2]
        {
            return i;
        }
        i += 1;
    }
    panic!("currency code is not in the ISO 4217 table")
}

/// ISO 4217 List One: active alphabetic codes with their minor units (`None` for "N.A."),
/// sorted by code so that `parse` can binary-search it (a test keeps it sorted).
const CURRENCIES: &[(&str, Option<u8>)] = &[
    ("AED", Some(2)),
    ("AFN", Some(2)),
    ("ALL", Some(2)),
    ("AMD", Some(2)),
    ("AOA", Some(2)),
    ("ARS", Some(2)),
    ("AUD", Some(2)),
    ("AWG", Some(2)),
    ("AZN", Some(2)),
    ("BAM", Some(2)),
    ("BBD", Some(2)),
    ("BDT", Some(2)),
    ("BHD", Some(3)),
    ("BIF", Some(0)),
    ("BMD", Some(2)),
    ("BND", Some(2)),
    ("BOB", Some(2)),
    ("BOV", Some(2)),
    ("BRL", Some(2)),
    ("BSD", Some(2)),
    ("BTN", Some(2)),
    ("BWP", Some(2)),
    ("BYN", Some(2)),
    ("BZD", Some(2)),
    ("CAD", Some(2)),
    ("CDF", Some(2)),
    ("CHE", Some(2)),
    ("CHF", Some(2)),
    ("CHW", Some(2)),
    ("CLF", Some(4)),
    ("CLP", Some(0)),
    ("CNY", Some(2)),
    ("COP", Some(2)),
    ("COU", Some(2)),
    ("CRC", Some(2)),
    ("CUP", Some(2)),
    ("CVE", Some(2)),
    ("CZK", Some(2)),
    ("DJF", Some(0)),
    ("DKK", Some(2)),
    ("DOP", Some(2)),
    ("DZD", Some(2)),
    ("EGP", Some(2)),
    ("ERN", Some(2)),
    ("ETB", Some(2)),
    ("EUR", Some(2)),
    ("FJD", Some(2)),
    ("FKP", Some(2)),
    ("GBP", Some(2)),
    ("GEL", Some(2)),
    ("GHS", Some(2)),
    ("GIP", Some(2)),
    ("GMD", Some(2)),
    ("GNF", Some(0)),
    ("GTQ", Some(2)),
    ("GYD", Some(2)),
    ("HKD", Some(2)),
    ("HNL", Some(2)),
    ("HTG", Some(2)),
    ("HUF", Some(2)),
    ("IDR", Some(2)),
    ("ILS", Some(2)),
    ("INR", Some(2)),
    ("IQD", Some(3)),
    ("IRR", Some(2)),
    ("ISK", Some(0)),
    ("JMD", Some(2)),
    ("JOD", Some(3)),
    ("JPY", Some(0)),
    ("KES", Some(2)),
    ("KGS", Some(2)),
    ("KHR", Some(2)),
    ("KMF", Some(0)),
    ("KPW", Some(2)),
    ("KRW", Some(0)),
    ("KWD", Some(3)),
    ("KYD", Some(2)),
    ("KZT", Some(2)),
    ("LAK", Some(2)),
    ("LBP", Some(2)),
    ("LKR", Some(2)),
    ("LRD", Some(2)),
    ("LSL", Some(2)),
    ("LYD", Some(3)),
    ("MAD", Some(2)),
    ("MDL", Some(2)),
    ("MGA", Some(2)),
    ("MKD", Some(2)),
    ("MMK", Some(2)),
    ("MNT", Some(2)),
    ("MOP", Some(2)),
    ("MRU", Some(2)),
    ("MUR", Some(2)),
    ("MVR", Some(2)),
    ("MWK", Some(2)),
    ("MXN", Some(2)),
    ("MXV", Some(2)),
    ("MYR", Some(2)),
    ("MZN", Some(2)),
    ("NAD", Some(2)),
    ("NGN", Some(2)),
    ("NIO", Some(2)),
    ("NOK", Some(2)),
    ("NPR", Some(2)),
    ("NZD", Some(2)),
    ("OMR", Some(3)),
    ("PAB", Some(2)),
    ("PEN", Some(2)),
    ("PGK", Some(2)),
    ("PHP", Some(2)),
    ("PKR", Some(2)),
    ("PLN", Some(2)),
    ("PYG", Some(0)),
    ("QAR", Some(2)),
    ("RON", Some(2)),
    ("RSD", Some(2)),
    ("RUB", Some(2)),
    ("RWF", Some(0)),
    ("SAR", Some(2)),
    ("SBD", Some(2)),
    ("SCR", Some(2)),
    ("SDG", Some(2)),
    ("SEK", Some(2)),
    ("SGD", Some(2)),
    ("SHP", Some(2)),
    ("SLE", Some(2)),
    ("SOS", Some(2)),
    ("SRD", Some(2)),
    ("SSP", Some(2)),
    ("STN", Some(2)),
    ("SVC", Some(2)),
    ("SYP", Some(2)),
    ("SZL", Some(2)),
    ("THB", Some(2)),
    ("TJS", Some(2)),
    ("TMT", Some(2)),
    ("TND", Some(3)),
    ("TOP", Some(2)),
    ("TRY", Some(2)),
    ("TTD", Some(2)),
    ("TWD", Some(2)),
    ("TZS", Some(2)),
    ("UAH", Some(2)),
    ("UGX", Some(0)),
    ("USD", Some(2)),
    ("USN", Some(2)),
    ("UYI", Some(0)),
    ("UYU", Some(2)),
    ("UYW", Some(4)),
    ("UZS", Some(2)),
    ("VED", Some(2)),
    ("VES", Some(2)),
    ("VND", Some(0)),
    ("VUV", Some(0)),
    ("WST", Some(2)),
    ("XAD", Some(2)),
    ("XAF", Some(0)),
    ("XAG", None),
    ("XAU", None),
    ("XBA", None),
    ("XBB", None),
    ("XBC", None),
    ("XBD", None),
    ("XCD", Some(2)),
    ("XCG", Some(2)),
    ("XDR", None),
    ("XOF", Some(0)),
    ("XPD", None),
    ("XPF", Some(0)),
    ("XPT", None),
    ("XSU", None),
    ("XTS", None),
    ("XUA", None),
    ("XXX", None),
    ("YER", Some(2)),
    ("ZAR", Some(2)),
    ("ZMW", Some(2)),
    ("ZWG", Some(2)),
];

// Equality, order and hashing go by the code's 3 ASCII bytes packed into one integer: codes are
// compared on every declaration line, and a string comparison there showed up in profiles.
impl Currency {
    fn key(&self) -> u32 {
        self.0.0.bytes().fold(0u32, |k, b| (k << 8) | u32::from(b))
    }
}

impl PartialEq for Currency {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Currency {}

impl std::hash::Hash for Currency {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u32(self.key());
    }
}

impl PartialOrd for Currency {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Currency {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_is_sorted_unique_and_complete() {
        assert_eq!(CURRENCIES.len(), 178);
        assert!(
            CURRENCIES.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "table must be strictly sorted"
        );
        for (code, minor) in CURRENCIES {
            assert_eq!(code.len(), 3, "{code}");
            assert!(code.bytes().all(|b| b.is_ascii_uppercase()), "{code}");
            assert!(minor.is_none_or(|m| m <= 4), "{code}");
        }
        assert_eq!(Currency::all().len(), 178);
    }

    #[test]
    fn constants_match_the_table() {
        for (constant, code) in [
            (Currency::CNY, "CNY"),
            (Currency::HKD, "HKD"),
            (Currency::MOP, "MOP"),
            (Currency::TWD, "TWD"),
            (Currency::USD, "USD"),
            (Currency::EUR, "EUR"),
        ] {
            assert_eq!(constant.as_str(), code);
            assert_eq!(Currency::parse(code), Ok(constant));
        }
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        let units = |code: &str| Currency::parse(code).expect(code).minor_units();
        assert_eq!(Currency::CNY.minor_units(), Some(2));
        assert_eq!(units("JPY"), Some(0));
        assert_eq!(units("KRW"), Some(0));
        assert_eq!(units("KWD"), Some(3));
        assert_eq!(units("BHD"), Some(3));
        assert_eq!(units("CLF"), Some(4));
        assert_eq!(units("HKD"), Some(2));
        assert_eq!(units("XAU"), None);
        assert_eq!(units("XXX"), None);
    }

    #[test]
    fn lower_case_and_whitespace_are_accepted() {
        assert_eq!(Currency::parse("cny"), Ok(Currency::CNY));
        assert_eq!(Currency::parse("  usd\t"), Ok(Currency::USD));
        assert_eq!("Eur".parse::<Currency>(), Ok(Currency::EUR));
        assert_eq!(Currency::try_from("hkd"), Ok(Currency::HKD));
    }

    #[test]
    fn recent_amendments_are_applied() {
        for code in ["XCG", "ZWG", "SLE", "VED", "XAD"] {
            assert!(Currency::parse(code).is_ok(), "{code} is active");
        }
        for code in ["ANG", "BGN", "CUC", "HRK", "SLL", "ZWL", "VEF", "LTL"] {
            let err = Currency::parse(code).expect_err(code);
            assert_eq!(err.kind, FieldErrorKind::Unknown, "{code} is withdrawn");
        }
    }

    #[test]
    fn empty_is_missing() {
        for input in ["", " \t "] {
            let err = Currency::parse(input).expect_err(input);
            assert_eq!(err.kind, FieldErrorKind::Missing);
            assert_eq!(err.field, "currency");
        }
    }

    #[test]
    fn wrong_shape_is_malformed() {
        for input in ["C", "CN", "CNYY", "CN1", "156", "人民币", "C Y", "RMB¥"] {
            let err = Currency::parse(input).expect_err(input);
            assert_eq!(err.kind, FieldErrorKind::Malformed, "{input}");
            assert_eq!(err.field, "currency");
        }
    }

    #[test]
    fn unassigned_codes_are_unknown() {
        // RMB is the common abbreviation for the renminbi but not its ISO code.
        for input in ["RMB", "ABC", "xyz"] {
            let err = Currency::parse(input).expect_err(input);
            assert_eq!(err.kind, FieldErrorKind::Unknown, "{input}");
            assert_eq!(err.field, "currency");
        }
        let err = Currency::parse("rmb").expect_err("rmb");
        assert_eq!(err.reason, "'RMB' is not an active ISO 4217 currency code");
        assert_eq!(err.within("price").field, "price.currency");
    }

    #[test]
    fn display_debug_and_serialize_use_the_code() {
        assert_eq!(Currency::CNY.to_string(), "CNY");
        assert_eq!(format!("{:?}", Currency::CNY), "Currency(\"CNY\")");
        assert_eq!(
            serde_json::to_string(&Currency::CNY).expect("serialize"),
            "\"CNY\""
        );
    }

    proptest! {
        #[test]
        fn any_three_letters_parse_exactly_when_listed(code in "[A-Z]{3}") {
            let listed = CURRENCIES.iter().any(|(c, _)| *c == code);
            match Currency::parse(&code) {
                Ok(currency) => {
                    prop_assert!(listed);
                    prop_assert_eq!(currency.as_str(), code.as_str());
                }
                Err(err) => {
                    prop_assert!(!listed);
                    prop_assert_eq!(err.kind, FieldErrorKind::Unknown);
                }
            }
        }

        #[test]
        fn case_does_not_matter(code in "[a-zA-Z]{3}") {
            prop_assert_eq!(Currency::parse(&code), Currency::parse(&code.to_ascii_uppercase()));
        }

        #[test]
        fn canonical_text_round_trips(index in 0..CURRENCIES.len()) {
            let currency = Currency(&CURRENCIES[index]);
            prop_assert_eq!(Currency::parse(&currency.to_string()), Ok(currency));
        }
    }
}
