//! Exact decimal amounts as shops send them ("59.90"): summed and compared without
//! floating point, so a total never shows 20.289999.

/// A decimal number as digits and a count of them after the point.
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    digits: i128,
    scale: u32,
}

impl Decimal {
    /// Nought.
    pub const ZERO: Decimal = Decimal {
        digits: 0,
        scale: 0,
    };

    /// "59.90", "-3", "+0.5" (what orders accept).
    pub fn parse(text: &str) -> Option<Decimal> {
        let text = text.trim();
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all = format!("{whole}{fraction}");
        if whole.is_empty() || !all.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let digits: i128 = all.parse().ok()?;
        Some(Decimal {
            digits: if negative { -digits } else { digits },
            scale: u32::try_from(fraction.len()).ok()?,
        })
    }

    fn rescaled(self, scale: u32) -> Option<i128> {
        self.digits
            .checked_mul(10_i128.checked_pow(scale - self.scale)?)
    }

    /// The sum, or `None` when it would overflow.
    pub fn plus(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        Some(Decimal {
            digits: self.rescaled(scale)?.checked_add(other.rescaled(scale)?)?,
            scale,
        })
    }

    /// Whether this is at least `other` (`None` when they cannot be brought to one scale).
    pub fn at_least(self, other: Decimal) -> Option<bool> {
        let scale = self.scale.max(other.scale);
        Some(self.rescaled(scale)? >= other.rescaled(scale)?)
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.digits < 0 { "-" } else { "" };
        let digits = self.digits.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap_or(Decimal::ZERO)
    }

    #[test]
    fn sums_and_comparisons_are_exact_across_scales() {
        assert_eq!(d("-0.05").to_string(), "-0.05");
        assert_eq!(
            d("19.99").plus(d("0.01")).map(|s| s.to_string()),
            Some("20.00".into())
        );
        assert_eq!(d("1000").at_least(d("999.999")), Some(true));
        assert_eq!(d("999.99").at_least(d("1000")), Some(false));
        assert_eq!(d("5.0").at_least(d("5")), Some(true));
        assert!(Decimal::parse("1e3").is_none());
        assert!(Decimal::parse(".5").is_none());
    }
}
