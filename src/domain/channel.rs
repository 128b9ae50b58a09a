//! Channels and the external ids each one uses, validated and normalised so the same
//! person reaching us twice is one identity (`+1 (555) 123-4567` = `+15551234567`).

use std::fmt;
use std::str::FromStr;

use super::property::{Value, parse_email, parse_phone};

/// A channel customers reach the contact center on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// WhatsApp: phone number.
    Whatsapp,
    /// SMS: phone number.
    Sms,
    /// Voice calls: phone number.
    Voice,
    /// E-mail: address.
    Email,
    /// Telegram: numeric user id.
    Telegram,
    /// Instagram: handle.
    Instagram,
    /// Web chat widget: visitor or session id.
    Web,
    /// In-app chat: the app's user id (e.g. a Hyphenate id).
    App,
    /// WeChat: openid on the official account.
    Wechat,
    /// Weibo: UUID.
    Weibo,
    /// QQ: numeric QQ number.
    Qq,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 11] = [
        Channel::Whatsapp,
        Channel::Sms,
        Channel::Voice,
        Channel::Email,
        Channel::Telegram,
        Channel::Instagram,
        Channel::Web,
        Channel::App,
        Channel::Wechat,
        Channel::Weibo,
        Channel::Qq,
    ];

    /// Stored and API form.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Whatsapp => "whatsapp",
            Channel::Sms => "sms",
            Channel::Voice => "voice",
            Channel::Email => "email",
            Channel::Telegram => "telegram",
            Channel::Instagram => "instagram",
            Channel::Web => "web",
            Channel::App => "app",
            Channel::Wechat => "wechat",
            Channel::Weibo => "weibo",
            Channel::Qq => "qq",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Whatsapp => "WhatsApp",
            Channel::Sms => "SMS",
            Channel::Voice => "Voice",
            Channel::Email => "E-mail",
            Channel::Telegram => "Telegram",
            Channel::Instagram => "Instagram",
            Channel::Web => "Web chat",
            Channel::App => "In-app",
            Channel::Wechat => "WeChat",
            Channel::Weibo => "Weibo",
            Channel::Qq => "QQ",
        }
    }

    /// What the external id is on this channel.
    pub fn id_hint(self) -> &'static str {
        match self {
            Channel::Whatsapp | Channel::Sms | Channel::Voice => {
                "phone number in international form, e.g. +15551234567"
            }
            Channel::Email => "e-mail address",
            Channel::Telegram => "numeric Telegram user id",
            Channel::Instagram => "Instagram handle, e.g. @johndoe",
            Channel::Web => "widget visitor or session id",
            Channel::App => "in-app user id (e.g. a Hyphenate id)",
            Channel::Wechat => "openid on the official account",
            Channel::Weibo => "Weibo UUID",
            Channel::Qq => "QQ number, 5 to 11 digits",
        }
    }

    /// Whether the external id is a phone number (so it can match the phone property).
    pub fn is_phone(self) -> bool {
        matches!(self, Channel::Whatsapp | Channel::Sms | Channel::Voice)
    }

    /// Validates and normalises an external id for this channel.
    pub fn normalize(self, raw: &str) -> Result<String, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(format!("Enter the {}.", self.id_hint()));
        }
        let text = |value: Value| value.form_text();
        match self {
            Channel::Whatsapp | Channel::Sms | Channel::Voice => parse_phone(raw).map(text),
            Channel::Email => parse_email(raw).map(|v| text(v).to_lowercase()),
            Channel::Telegram => {
                if raw.len() <= 20 && raw.chars().all(|c| c.is_ascii_digit()) {
                    Ok(raw.to_owned())
                } else {
                    Err("A Telegram id is a number of up to 20 digits.".to_owned())
                }
            }
            Channel::Instagram => {
                let handle = raw.strip_prefix('@').unwrap_or(raw).to_lowercase();
                let valid = !handle.is_empty()
                    && handle.len() <= 30
                    && handle.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_'
                    });
                if valid {
                    Ok(handle)
                } else {
                    Err(
                        "An Instagram handle has up to 30 letters, digits, dots and underscores."
                            .to_owned(),
                    )
                }
            }
            Channel::Web | Channel::App => {
                let valid = raw.len() <= 128
                    && raw.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@')
                    });
                if valid {
                    Ok(raw.to_owned())
                } else {
                    Err("This id has up to 128 letters, digits and - _ . : @.".to_owned())
                }
            }
            Channel::Wechat => {
                let valid = (6..=64).contains(&raw.len())
                    && raw
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if valid {
                    Ok(raw.to_owned())
                } else {
                    Err(
                        "A WeChat openid has 6 to 64 letters, digits, dashes and underscores."
                            .to_owned(),
                    )
                }
            }
            Channel::Qq => {
                let valid = (5..=11).contains(&raw.len())
                    && !raw.starts_with('0')
                    && raw.chars().all(|c| c.is_ascii_digit());
                if valid {
                    Ok(raw.to_owned())
                } else {
                    Err("A QQ number has 5 to 11 digits and does not start with 0.".to_owned())
                }
            }
            Channel::Weibo => {
                let lower = raw.to_ascii_lowercase();
                let groups: Vec<&str> = lower.split('-').collect();
                let shape = [8, 4, 4, 4, 12];
                let valid = groups.len() == 5
                    && groups
                        .iter()
                        .zip(shape)
                        .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
                if valid {
                    Ok(lower)
                } else {
                    Err(
                        "A Weibo id is a UUID such as 123e4567-e89b-12d3-a456-426614174000."
                            .to_owned(),
                    )
                }
            }
        }
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let wanted = raw.trim().to_ascii_lowercase();
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "Unknown channel; use one of {}.",
                    Channel::ALL.map(Channel::as_str).join(", ")
                )
            })
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_channels_share_one_normal_form() {
        assert_eq!(
            Channel::Whatsapp.normalize("+1 (555) 123-4567").unwrap(),
            "+15551234567"
        );
        assert_eq!(
            Channel::Sms.normalize("+15551234567").unwrap(),
            "+15551234567"
        );
        assert!(Channel::Voice.normalize("hello").is_err());
    }

    #[test]
    fn each_channel_checks_its_own_id() {
        assert_eq!(
            Channel::Email.normalize(" John@Example.com ").unwrap(),
            "john@example.com"
        );
        assert!(Channel::Email.normalize("a@b").is_err());
        assert_eq!(
            Channel::Telegram.normalize("123456789").unwrap(),
            "123456789"
        );
        assert!(Channel::Telegram.normalize("@john").is_err());
        assert_eq!(Channel::Instagram.normalize("@JohnDoe").unwrap(), "johndoe");
        assert!(Channel::Instagram.normalize("john doe").is_err());
        assert_eq!(
            Channel::Web.normalize("session_abc123").unwrap(),
            "session_abc123"
        );
        assert!(Channel::Web.normalize("bad id").is_err());
        assert_eq!(Channel::App.normalize("hx-user.42").unwrap(), "hx-user.42");
        assert_eq!(
            Channel::Wechat.normalize("oABC123xyz").unwrap(),
            "oABC123xyz"
        );
        assert!(Channel::Wechat.normalize("abc").is_err());
        assert_eq!(
            Channel::Weibo
                .normalize("123E4567-E89B-12D3-A456-426614174000")
                .unwrap(),
            "123e4567-e89b-12d3-a456-426614174000"
        );
        assert!(Channel::Weibo.normalize("not-a-uuid").is_err());
        assert!(Channel::Web.normalize("  ").is_err());
    }

    #[test]
    fn a_qq_number_is_five_to_eleven_digits() {
        assert_eq!(Channel::Qq.normalize(" 123456789 ").unwrap(), "123456789");
        assert!(Channel::Qq.normalize("1234").is_err());
        assert!(Channel::Qq.normalize("012345").is_err());
        assert!(Channel::Qq.normalize("12345x").is_err());
    }

    #[test]
    fn channels_parse_from_their_names() {
        for channel in Channel::ALL {
            assert_eq!(channel.as_str().parse::<Channel>(), Ok(channel));
        }
        assert!("fax".parse::<Channel>().unwrap_err().contains("whatsapp"));
    }
}
