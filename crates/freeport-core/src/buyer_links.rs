//! What ties one duty-free buyer to another (R4.8): the phone, payment account, delivery address
//! and device a sale was made with. Proxy-buying rings show as different person codes sharing
//! them. The platform keeps each only as a keyed hash of its normalised form (the store's link
//! code), never in clear; this module says what each is and how it is normalised, so the same
//! phone written two ways hashes alike.

use serde::Serialize;

use crate::error::{FieldError, FieldErrorKind, FieldResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    Phone,
    PaymentAccount,
    DeliveryAddress,
    Device,
}

impl LinkKind {
    pub const ALL: [LinkKind; 4] = [
        LinkKind::Phone,
        LinkKind::PaymentAccount,
        LinkKind::DeliveryAddress,
        LinkKind::Device,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Phone => "phone",
            LinkKind::PaymentAccount => "payment_account",
            LinkKind::DeliveryAddress => "delivery_address",
            LinkKind::Device => "device",
        }
    }

    pub fn parse(text: &str) -> Option<LinkKind> {
        LinkKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// A hard link (one phone, one payment account) ties two buyers on its own; a soft one (a
    /// shared device or address: a family, a hotel) only weighs towards it.
    pub fn is_hard(self) -> bool {
        matches!(self, LinkKind::Phone | LinkKind::PaymentAccount)
    }

    /// The normalised form of `text`, or an error naming `field`: a phone's digits (a leading `+`
    /// kept); a payment account without spaces or dashes, upper-case; an address with its
    /// whitespace collapsed, lower-case; a device identifier as given, trimmed.
    pub fn normalise(self, field: &str, text: &str) -> FieldResult<String> {
        let bad = |why: &str| FieldError::new(field, FieldErrorKind::Malformed, why.to_owned());
        if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(bad("no control characters"));
        }
        let text = text.trim();
        match self {
            LinkKind::Phone => {
                let plus = text.starts_with('+');
                let digits: String = text
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '+'))
                    .collect();
                if !(5..=20).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(bad(
                        "5 to 20 digits, with spaces, dashes, brackets or a leading +",
                    ));
                }
                Ok(if plus { format!("+{digits}") } else { digits })
            }
            LinkKind::PaymentAccount => {
                let account: String = text
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-'))
                    .map(|c| c.to_ascii_uppercase())
                    .collect();
                if !(4..=64).contains(&account.len())
                    || !account.bytes().all(|b| b.is_ascii_graphic())
                {
                    return Err(bad("4 to 64 visible ASCII characters"));
                }
                Ok(account)
            }
            LinkKind::DeliveryAddress => {
                let address = text
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase();
                if address.is_empty() || address.chars().count() > 300 {
                    return Err(bad("1 to 300 characters"));
                }
                Ok(address)
            }
            LinkKind::Device => {
                if text.is_empty() || text.chars().count() > 128 {
                    return Err(bad("1 to 128 characters"));
                }
                Ok(text.to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_identifier_written_two_ways_normalises_alike() {
        let n = |k: LinkKind, t: &str| k.normalise("f", t).expect("valid");
        assert_eq!(
            n(LinkKind::Phone, "+86 138-0013-8000"),
            n(LinkKind::Phone, "+8613800138000")
        );
        assert_ne!(
            n(LinkKind::Phone, "+8613800138000"),
            n(LinkKind::Phone, "8613800138000")
        );
        assert_eq!(
            n(LinkKind::PaymentAccount, "6222 0200-1234 5678"),
            n(LinkKind::PaymentAccount, "6222020012345678")
        );
        assert_eq!(
            n(LinkKind::DeliveryAddress, "  8 Jiefang Road\n Haikou "),
            "8 jiefang road haikou"
        );
        for (k, t) in [
            (LinkKind::Phone, "12ab5678"),
            (LinkKind::Phone, "123"),
            (LinkKind::PaymentAccount, "12"),
            (LinkKind::DeliveryAddress, "   "),
            (LinkKind::Device, "a\u{0}b"),
        ] {
            let e = k.normalise("links.x", t).expect_err("refused");
            assert_eq!(
                (e.field.as_str(), e.kind),
                ("links.x", FieldErrorKind::Malformed)
            );
        }
        for k in LinkKind::ALL {
            assert_eq!(LinkKind::parse(k.as_str()), Some(k));
        }
        assert!(LinkKind::Phone.is_hard() && !LinkKind::Device.is_hard());
    }
}
