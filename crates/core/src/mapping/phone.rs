//! Phone numbers to E.164 with libphonenumber's metadata (the `phonenumber`
//! crate): a national number is read in the provider's region, so an
//! 11-digit Chinese mobile or an Italian number with its leading 0 comes out
//! right, and a number that is not valid anywhere is kept as received with a
//! warning instead of being guessed into another country.

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, PhoneNumber};
use std::str::FromStr;

/// What `e164` made of a value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Phone {
    /// A valid number in E.164 (`+919876543210`), or, without a region,
    /// the digits of a national number as sent (nothing to check them against).
    Normalised(String),
    /// Not a valid number: the text as received (trimmed) and why.
    Kept { text: String, warning: String },
}

/// A region given as an ISO 3166 code (`IN`, `us`) or a country calling code
/// (`91`, `+1`: the main country of that code, e.g. 1 → US, 44 → GB).
pub(crate) fn region(arg: &str) -> Result<Id, String> {
    let a = arg.trim();
    let code = a.strip_prefix('+').unwrap_or(a);
    if !code.is_empty() && code.len() <= 3 && code.bytes().all(|b| b.is_ascii_digit()) {
        let n: u16 = code
            .parse()
            .map_err(|_| format!("`{arg}` is not a country calling code"))?;
        let metas = DATABASE
            .by_code(&n)
            .ok_or_else(|| format!("`{arg}` is not a country calling code"))?;
        let main = metas
            .iter()
            .find(|m| m.is_main_country_for_code())
            .or_else(|| metas.first())
            .ok_or_else(|| format!("`{arg}` is not a country calling code"))?;
        return Id::from_str(main.id())
            .map_err(|_| format!("`{arg}` has no region in the phone metadata"));
    }
    if a.len() == 2 && a.bytes().all(|b| b.is_ascii_alphabetic()) {
        let upper = a.to_ascii_uppercase();
        if DATABASE.by_id(upper.as_str()).is_some() {
            if let Ok(id) = Id::from_str(&upper) {
                return Ok(id);
            }
        }
        return Err(format!("`{arg}` is not a region with phone numbers"));
    }
    Err(format!(
        "`{arg}` is neither a region (e.g. `IN`, `US`) nor a country calling code (e.g. `91`)"
    ))
}

fn valid(number: &PhoneNumber) -> Option<String> {
    phonenumber::is_valid(number).then(|| number.format().mode(Mode::E164).to_string())
}

/// Normalises `input`, reading a national number in `region`.
///
/// `Err` only when there is no number at all (no digit: `anonymous`,
/// `restricted`), so the field is left empty rather than filled with a word.
pub(crate) fn e164(input: &str, region: Option<Id>) -> Result<Phone, String> {
    let text = input.trim();
    let plus = text
        .chars()
        .find(|c| c.is_ascii_digit() || *c == '+')
        .is_some_and(|c| c == '+');
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return Err(format!("e164: `{input}` has no digits"));
    }
    let international = if plus {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    let kept = |why: String| Phone::Kept {
        text: text.to_string(),
        warning: format!("e164: `{text}` {why}; kept as received"),
    };
    if let Some(rest) = international {
        return Ok(
            match phonenumber::parse(None, format!("+{rest}"))
                .ok()
                .and_then(|n| valid(&n))
            {
                Some(n) => Phone::Normalised(n),
                None => kept("is not a valid international number".to_string()),
            },
        );
    }
    let Some(region) = region else {
        // Nothing says which country a national number belongs to: keep its
        // digits rather than guess.
        return Ok(Phone::Normalised(digits));
    };
    if let Some(n) = phonenumber::parse(Some(region), &digits)
        .ok()
        .and_then(|n| valid(&n))
    {
        return Ok(Phone::Normalised(n));
    }
    // A foreign number sent with its country code but without `+`/`00`.
    if let Some(n) = phonenumber::parse(None, format!("+{digits}"))
        .ok()
        .and_then(|n| valid(&n))
    {
        return Ok(Phone::Normalised(n));
    }
    Ok(kept(format!(
        "is not a valid number in {} or with a country code",
        region.as_ref()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(input: &str, r: &str) -> String {
        match e164(input, Some(region(r).unwrap())).unwrap() {
            Phone::Normalised(s) => s,
            other => panic!("{input} in {r}: {other:?}"),
        }
    }

    #[test]
    fn regions_by_code_or_iso() {
        assert_eq!(region("91"), Ok(Id::IN));
        assert_eq!(region("+1"), Ok(Id::US));
        assert_eq!(region("44"), Ok(Id::GB));
        assert_eq!(region("39"), Ok(Id::IT));
        assert_eq!(region("in"), Ok(Id::IN));
        assert_eq!(region("BR"), Ok(Id::BR));
        for bad in ["", "0", "999", "1234", "XX", "abc", "+"] {
            assert!(region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn national_numbers_in_their_region() {
        assert_eq!(norm("+91 98765-43210", "IN"), "+919876543210");
        assert_eq!(norm("0091 9876543210", "IN"), "+919876543210");
        assert_eq!(norm("09876543210", "IN"), "+919876543210");
        assert_eq!(norm("9876543210", "IN"), "+919876543210");
        assert_eq!(norm("919876543210", "IN"), "+919876543210");
        assert_eq!(norm("(987) 654-3210", "IN"), "+919876543210");
        assert_eq!(norm("12127773456", "US"), "+12127773456");
        assert_eq!(norm("(212) 777-3456", "1"), "+12127773456");
        // 11-digit national mobiles: not North American numbers
        assert_eq!(norm("13812345678", "CN"), "+8613812345678");
        assert_eq!(norm("11987654321", "BR"), "+5511987654321");
        // Italy keeps its leading 0 (landlines) in E.164
        assert_eq!(norm("06 6982 1234", "IT"), "+390669821234");
        assert_eq!(norm("3123456789", "IT"), "+393123456789");
        // a UK number sent with its country code but no +
        assert_eq!(norm("447911123456", "IN"), "+447911123456");
    }

    #[test]
    fn invalid_numbers_are_kept_with_a_warning() {
        match e164("88888", Some(Id::IN)).unwrap() {
            Phone::Kept { text, warning } => {
                assert_eq!(text, "88888");
                assert!(warning.contains("not a valid number in IN"), "{warning}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            e164(" +1234567 ", None).unwrap(),
            Phone::Kept { text, .. } if text == "+1234567"
        ));
        assert!(e164("anonymous", Some(Id::IN)).is_err());
        assert!(e164("", None).is_err());
    }

    #[test]
    fn without_a_region_only_international_forms_are_read() {
        assert_eq!(
            e164("+44 330 818 6690", None).unwrap(),
            Phone::Normalised("+443308186690".into())
        );
        assert_eq!(
            e164("00443308186690", None).unwrap(),
            Phone::Normalised("+443308186690".into())
        );
        assert_eq!(
            e164("12127773456", None).unwrap(),
            Phone::Normalised("12127773456".into())
        );
    }
}
