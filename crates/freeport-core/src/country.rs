//! Countries and territories as ISO 3166-1 alpha-2 codes.
//!
//! The list is the full set of officially assigned alpha-2 codes in ISO 3166-1:2020 as amended
//! by the Maintenance Agency's later newsletters: 249 entries, unchanged in membership since
//! South Sudan (`SS`) was added in 2011. Names are the English short names in the form the
//! iso-codes project (Debian) publishes them: ISO's short names without the trailing "(the)".
//!
//! User-assigned codes (`XK` for Kosovo, the `AA`, `Q?`, `X?`, `ZZ` ranges), exceptionally
//! reserved codes (`EU`, `UK`) and deleted codes (`AN`) are not assigned country codes, so they
//! parse as unknown.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::error::{FieldError, FieldErrorKind, FieldResult};

/// The default field name in errors; callers re-path it with [`FieldError::within`].
const FIELD: &str = "country";

/// An officially assigned ISO 3166-1 alpha-2 code.
///
/// Holds a reference into the static table, so it is `Copy` and `name()` needs no lookup.
#[derive(Clone, Copy)]
pub struct Country(&'static (&'static str, &'static str));

impl Country {
    /// Mainland China, the customs territory whose rules this crate applies.
    pub const CN: Country = Country(&COUNTRIES[index_of("CN")]);
    /// Hong Kong: a separate customs territory, so goods from there are imports.
    pub const HK: Country = Country(&COUNTRIES[index_of("HK")]);
    /// Macao: a separate customs territory, so goods from there are imports.
    pub const MO: Country = Country(&COUNTRIES[index_of("MO")]);
    /// Taiwan: listed by ISO 3166-1 under its own code, and a separate customs territory.
    pub const TW: Country = Country(&COUNTRIES[index_of("TW")]);

    /// Parses an alpha-2 code. Surrounding whitespace is ignored and lower case is accepted,
    /// because the code is an identifier, not free text.
    pub fn parse(input: &str) -> FieldResult<Self> {
        let text = input.trim();
        if text.is_empty() {
            return Err(FieldError::new(
                FIELD,
                FieldErrorKind::Missing,
                "a country code is required",
            ));
        }
        let count = text.chars().count();
        if count != 2 {
            return Err(FieldError::new(
                FIELD,
                FieldErrorKind::Malformed,
                format!("an ISO 3166-1 alpha-2 country code has 2 letters, got {count} characters"),
            ));
        }
        if !text.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(FieldError::new(
                FIELD,
                FieldErrorKind::Malformed,
                format!(
                    "an ISO 3166-1 alpha-2 country code is made of the letters A to Z, got '{text}'"
                ),
            ));
        }
        let code = text.to_ascii_uppercase();
        match COUNTRIES.binary_search_by(|(candidate, _)| (*candidate).cmp(code.as_str())) {
            Ok(index) => Ok(Country(&COUNTRIES[index])),
            Err(_) => Err(FieldError::new(
                FIELD,
                FieldErrorKind::Unknown,
                format!("'{code}' is not an assigned ISO 3166-1 alpha-2 country code"),
            )),
        }
    }

    /// The upper-case alpha-2 code, e.g. `"CN"`.
    pub fn as_str(&self) -> &'static str {
        self.0.0
    }

    /// The English short name as ISO 3166-1 lists it, e.g. `"Taiwan, Province of China"`.
    pub fn name(&self) -> &'static str {
        self.0.1
    }

    /// Every assigned country, in code order.
    pub fn all() -> impl ExactSizeIterator<Item = Country> {
        COUNTRIES.iter().map(Country)
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// A hand-written Debug keeps logs short: the code identifies the entry, the name adds nothing.
impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Country").field(&self.as_str()).finish()
    }
}

impl FromStr for Country {
    type Err = FieldError;

    fn from_str(s: &str) -> FieldResult<Self> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Country {
    type Error = FieldError;

    fn try_from(s: &str) -> FieldResult<Self> {
        Self::parse(s)
    }
}

impl Serialize for Country {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Finds a code at compile time so the associated constants point into the one table; a code
/// missing from the table stops the build rather than failing at run time.
const fn index_of(code: &str) -> usize {
    let wanted = code.as_bytes();
    let mut i = 0;
    while i < COUNTRIES.len() {
        let candidate = COUNTRIES[i].0.as_bytes();
        if candidate.len() == wanted.len() && candidate[0] == wanted[0] && candidate[1] == wanted[1]
        {
            return i;
        }
        i += 1;
    }
    panic!("country code is not in the ISO 3166-1 table")
}

/// ISO 3166-1 officially assigned alpha-2 codes with their English short names, sorted by code
/// so that `parse` can binary-search it (a test keeps it sorted).
const COUNTRIES: &[(&str, &str)] = &[
    ("AD", "Andorra"),
    ("AE", "United Arab Emirates"),
    ("AF", "Afghanistan"),
    ("AG", "Antigua and Barbuda"),
    ("AI", "Anguilla"),
    ("AL", "Albania"),
    ("AM", "Armenia"),
    ("AO", "Angola"),
    ("AQ", "Antarctica"),
    ("AR", "Argentina"),
    ("AS", "American Samoa"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("AW", "Aruba"),
    ("AX", "Åland Islands"),
    ("AZ", "Azerbaijan"),
    ("BA", "Bosnia and Herzegovina"),
    ("BB", "Barbados"),
    ("BD", "Bangladesh"),
    ("BE", "Belgium"),
    ("BF", "Burkina Faso"),
    ("BG", "Bulgaria"),
    ("BH", "Bahrain"),
    ("BI", "Burundi"),
    ("BJ", "Benin"),
    ("BL", "Saint Barthélemy"),
    ("BM", "Bermuda"),
    ("BN", "Brunei Darussalam"),
    ("BO", "Bolivia, Plurinational State of"),
    ("BQ", "Bonaire, Sint Eustatius and Saba"),
    ("BR", "Brazil"),
    ("BS", "Bahamas"),
    ("BT", "Bhutan"),
    ("BV", "Bouvet Island"),
    ("BW", "Botswana"),
    ("BY", "Belarus"),
    ("BZ", "Belize"),
    ("CA", "Canada"),
    ("CC", "Cocos (Keeling) Islands"),
    ("CD", "Congo, The Democratic Republic of the"),
    ("CF", "Central African Republic"),
    ("CG", "Congo"),
    ("CH", "Switzerland"),
    ("CI", "Côte d'Ivoire"),
    ("CK", "Cook Islands"),
    ("CL", "Chile"),
    ("CM", "Cameroon"),
    ("CN", "China"),
    ("CO", "Colombia"),
    ("CR", "Costa Rica"),
    ("CU", "Cuba"),
    ("CV", "Cabo Verde"),
    ("CW", "Curaçao"),
    ("CX", "Christmas Island"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DJ", "Djibouti"),
    ("DK", "Denmark"),
    ("DM", "Dominica"),
    ("DO", "Dominican Republic"),
    ("DZ", "Algeria"),
    ("EC", "Ecuador"),
    ("EE", "Estonia"),
    ("EG", "Egypt"),
    ("EH", "Western Sahara"),
    ("ER", "Eritrea"),
    ("ES", "Spain"),
    ("ET", "Ethiopia"),
    ("FI", "Finland"),
    ("FJ", "Fiji"),
    ("FK", "Falkland Islands (Malvinas)"),
    ("FM", "Micronesia, Federated States of"),
    ("FO", "Faroe Islands"),
    ("FR", "France"),
    ("GA", "Gabon"),
    ("GB", "United Kingdom"),
    ("GD", "Grenada"),
    ("GE", "Georgia"),
    ("GF", "French Guiana"),
    ("GG", "Guernsey"),
    ("GH", "Ghana"),
    ("GI", "Gibraltar"),
    ("GL", "Greenland"),
    ("GM", "Gambia"),
    ("GN", "Guinea"),
    ("GP", "Guadeloupe"),
    ("GQ", "Equatorial Guinea"),
    ("GR", "Greece"),
    ("GS", "South Georgia and the South Sandwich Islands"),
    ("GT", "Guatemala"),
    ("GU", "Guam"),
    ("GW", "Guinea-Bissau"),
    ("GY", "Guyana"),
    ("HK", "Hong Kong"),
    ("HM", "Heard Island and McDonald Islands"),
    ("HN", "Honduras"),
    ("HR", "Croatia"),
    ("HT", "Haiti"),
    ("HU", "Hungary"),
    ("ID", "Indonesia"),
    ("IE", "Ireland"),
    ("IL", "Israel"),
    ("IM", "Isle of Man"),
    ("IN", "India"),
    ("IO", "British Indian Ocean Territory"),
    ("IQ", "Iraq"),
    ("IR", "Iran, Islamic Republic of"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JE", "Jersey"),
    ("JM", "Jamaica"),
    ("JO", "Jordan"),
    ("JP", "Japan"),
    ("KE", "Kenya"),
    ("KG", "Kyrgyzstan"),
    ("KH", "Cambodia"),
    ("KI", "Kiribati"),
    ("KM", "Comoros"),
    ("KN", "Saint Kitts and Nevis"),
    ("KP", "Korea, Democratic People's Republic of"),
    ("KR", "Korea, Republic of"),
    ("KW", "Kuwait"),
    ("KY", "Cayman Islands"),
    ("KZ", "Kazakhstan"),
    ("LA", "Lao People's Democratic Republic"),
    ("LB", "Lebanon"),
    ("LC", "Saint Lucia"),
    ("LI", "Liechtenstein"),
    ("LK", "Sri Lanka"),
    ("LR", "Liberia"),
    ("LS", "Lesotho"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("LY", "Libya"),
    ("MA", "Morocco"),
    ("MC", "Monaco"),
    ("MD", "Moldova, Republic of"),
    ("ME", "Montenegro"),
    ("MF", "Saint Martin (French part)"),
    ("MG", "Madagascar"),
    ("MH", "Marshall Islands"),
    ("MK", "North Macedonia"),
    ("ML", "Mali"),
    ("MM", "Myanmar"),
    ("MN", "Mongolia"),
    ("MO", "Macao"),
    ("MP", "Northern Mariana Islands"),
    ("MQ", "Martinique"),
    ("MR", "Mauritania"),
    ("MS", "Montserrat"),
    ("MT", "Malta"),
    ("MU", "Mauritius"),
    ("MV", "Maldives"),
    ("MW", "Malawi"),
    ("MX", "Mexico"),
    ("MY", "Malaysia"),
    ("MZ", "Mozambique"),
    ("NA", "Namibia"),
    ("NC", "New Caledonia"),
    ("NE", "Niger"),
    ("NF", "Norfolk Island"),
    ("NG", "Nigeria"),
    ("NI", "Nicaragua"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NP", "Nepal"),
    ("NR", "Nauru"),
    ("NU", "Niue"),
    ("NZ", "New Zealand"),
    ("OM", "Oman"),
    ("PA", "Panama"),
    ("PE", "Peru"),
    ("PF", "French Polynesia"),
    ("PG", "Papua New Guinea"),
    ("PH", "Philippines"),
    ("PK", "Pakistan"),
    ("PL", "Poland"),
    ("PM", "Saint Pierre and Miquelon"),
    ("PN", "Pitcairn"),
    ("PR", "Puerto Rico"),
    ("PS", "Palestine, State of"),
    ("PT", "Portugal"),
    ("PW", "Palau"),
    ("PY", "Paraguay"),
    ("QA", "Qatar"),
    ("RE", "Réunion"),
    ("RO", "Romania"),
    ("RS", "Serbia"),
    ("RU", "Russian Federation"),
    ("RW", "Rwanda"),
    ("SA", "Saudi Arabia"),
    ("SB", "Solomon Islands"),
    ("SC", "Seychelles"),
    ("SD", "Sudan"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SH", "Saint Helena, Ascension and Tristan da Cunha"),
    ("SI", "Slovenia"),
    ("SJ", "Svalbard and Jan Mayen"),
    ("SK", "Slovakia"),
    ("SL", "Sierra Leone"),
    ("SM", "San Marino"),
    ("SN", "Senegal"),
    ("SO", "Somalia"),
    ("SR", "Suriname"),
    ("SS", "South Sudan"),
    ("ST", "Sao Tome and Principe"),
    ("SV", "El Salvador"),
    ("SX", "Sint Maarten (Dutch part)"),
    ("SY", "Syrian Arab Republic"),
    ("SZ", "Eswatini"),
    ("TC", "Turks and Caicos Islands"),
    ("TD", "Chad"),
    ("TF", "French Southern Territories"),
    ("TG", "Togo"),
    ("TH", "Thailand"),
    ("TJ", "Tajikistan"),
    ("TK", "Tokelau"),
    ("TL", "Timor-Leste"),
    ("TM", "Turkmenistan"),
    ("TN", "Tunisia"),
    ("TO", "Tonga"),
    ("TR", "Türkiye"),
    ("TT", "Trinidad and Tobago"),
    ("TV", "Tuvalu"),
    ("TW", "Taiwan, Province of China"),
    ("TZ", "Tanzania, United Republic of"),
    ("UA", "Ukraine"),
    ("UG", "Uganda"),
    ("UM", "United States Minor Outlying Islands"),
    ("US", "United States"),
    ("UY", "Uruguay"),
    ("UZ", "Uzbekistan"),
    ("VA", "Holy See (Vatican City State)"),
    ("VC", "Saint Vincent and the Grenadines"),
    ("VE", "Venezuela, Bolivarian Republic of"),
    ("VG", "Virgin Islands, British"),
    ("VI", "Virgin Islands, U.S."),
    ("VN", "Viet Nam"),
    ("VU", "Vanuatu"),
    ("WF", "Wallis and Futuna"),
    ("WS", "Samoa"),
    ("YE", "Yemen"),
    ("YT", "Mayotte"),
    ("ZA", "South Africa"),
    ("ZM", "Zambia"),
    ("ZW", "Zimbabwe"),
];

// Equality, order and hashing go by the code's 2 ASCII bytes packed into one integer: codes are
// compared on every declaration line, and a string comparison there showed up in profiles.
impl Country {
    fn key(&self) -> u32 {
        self.0.0.bytes().fold(0u32, |k, b| (k << 8) | u32::from(b))
    }
}

impl PartialEq for Country {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Country {}

impl std::hash::Hash for Country {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u32(self.key());
    }
}

impl PartialOrd for Country {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Country {
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
        assert_eq!(COUNTRIES.len(), 249);
        assert!(
            COUNTRIES.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "table must be strictly sorted"
        );
        for (code, name) in COUNTRIES {
            assert_eq!(code.len(), 2, "{code}");
            assert!(code.bytes().all(|b| b.is_ascii_uppercase()), "{code}");
            assert!(!name.is_empty(), "{code} has no name");
        }
        assert_eq!(Country::all().len(), 249);
    }

    #[test]
    fn greater_china_codes_are_present() {
        for (code, name) in [
            ("CN", "China"),
            ("HK", "Hong Kong"),
            ("MO", "Macao"),
            ("TW", "Taiwan, Province of China"),
        ] {
            let country = Country::parse(code).expect(code);
            assert_eq!(country.as_str(), code);
            assert_eq!(country.name(), name);
        }
    }

    #[test]
    fn constants_match_the_table() {
        for (constant, code) in [
            (Country::CN, "CN"),
            (Country::HK, "HK"),
            (Country::MO, "MO"),
            (Country::TW, "TW"),
        ] {
            assert_eq!(constant.as_str(), code);
            assert_eq!(Country::parse(code), Ok(constant));
        }
    }

    #[test]
    fn lower_case_and_whitespace_are_accepted() {
        assert_eq!(Country::parse("cn"), Ok(Country::CN));
        assert_eq!(Country::parse("  hK \n"), Ok(Country::HK));
        assert_eq!("mo".parse::<Country>(), Ok(Country::MO));
        assert_eq!(Country::try_from("Tw"), Ok(Country::TW));
    }

    #[test]
    fn names_are_the_iso_short_names() {
        let gb = Country::parse("GB").expect("GB");
        assert_eq!(gb.name(), "United Kingdom");
        assert_eq!(Country::parse("CI").expect("CI").name(), "Côte d'Ivoire");
        assert_eq!(Country::parse("TR").expect("TR").name(), "Türkiye");
        assert_eq!(Country::parse("SS").expect("SS").name(), "South Sudan");
    }

    #[test]
    fn empty_is_missing() {
        for input in ["", "   "] {
            let err = Country::parse(input).expect_err(input);
            assert_eq!(err.kind, FieldErrorKind::Missing);
            assert_eq!(err.field, "country");
        }
    }

    #[test]
    fn wrong_shape_is_malformed() {
        for input in ["C", "CHN", "C1", "1C", "中国", "C N", "C-"] {
            let err = Country::parse(input).expect_err(input);
            assert_eq!(err.kind, FieldErrorKind::Malformed, "{input}");
            assert_eq!(err.field, "country");
        }
    }

    #[test]
    fn unassigned_codes_are_unknown() {
        // XX and XK (Kosovo) are user-assigned, EU and UK are exceptionally reserved, AN
        // (Netherlands Antilles) was deleted in 2010.
        for input in ["XX", "xk", "EU", "AN", "UK"] {
            let err = Country::parse(input).expect_err(input);
            assert_eq!(err.kind, FieldErrorKind::Unknown, "{input}");
            assert_eq!(err.field, "country");
        }
        let err = Country::parse("xx").expect_err("xx");
        assert_eq!(
            err.reason,
            "'XX' is not an assigned ISO 3166-1 alpha-2 country code"
        );
    }

    #[test]
    fn errors_can_be_re_pathed() {
        let err = Country::parse("XX")
            .expect_err("XX")
            .within("lines[0].origin");
        assert_eq!(err.field, "lines[0].origin.country");
    }

    #[test]
    fn display_debug_and_serialize_use_the_code() {
        assert_eq!(Country::CN.to_string(), "CN");
        assert_eq!(format!("{:?}", Country::CN), "Country(\"CN\")");
        assert_eq!(
            serde_json::to_string(&Country::HK).expect("serialize"),
            "\"HK\""
        );
    }

    proptest! {
        #[test]
        fn any_two_letters_parse_exactly_when_listed(code in "[A-Z]{2}") {
            let listed = COUNTRIES.iter().any(|(c, _)| *c == code);
            match Country::parse(&code) {
                Ok(country) => {
                    prop_assert!(listed);
                    prop_assert_eq!(country.as_str(), code.as_str());
                }
                Err(err) => {
                    prop_assert!(!listed);
                    prop_assert_eq!(err.kind, FieldErrorKind::Unknown);
                }
            }
        }

        #[test]
        fn case_does_not_matter(code in "[a-zA-Z]{2}") {
            prop_assert_eq!(Country::parse(&code), Country::parse(&code.to_ascii_uppercase()));
        }

        #[test]
        fn canonical_text_round_trips(index in 0..COUNTRIES.len()) {
            let country = Country(&COUNTRIES[index]);
            prop_assert_eq!(Country::parse(&country.to_string()), Ok(country));
        }
    }
}
