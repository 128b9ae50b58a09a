//! Who sees what: an agent in a team sees the conversations of their teams' channels (or
//! of some accounts of a channel) and the customers reachable through them. Supervisors,
//! and everyone while no team is defined, see everything.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Role;
use super::channel::Channel;

/// The longest account name kept (a mailbox, a number, a page id).
pub const MAX_ACCOUNT: usize = 100;

/// Normalises the business account a conversation came in on, the way the channel writes
/// its ids when it has a rule (a WhatsApp number in any form is one account). Empty means
/// "the channel's only or unnamed account".
pub fn normalize_account(channel: Channel, raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    if raw.chars().count() > MAX_ACCOUNT || raw.chars().any(char::is_control) {
        return Err(format!(
            "An account is up to {MAX_ACCOUNT} characters on one line."
        ));
    }
    if channel.is_phone() || channel == Channel::Email {
        channel.normalize(raw)
    } else {
        Ok(raw.to_owned())
    }
}

/// A channel, or one account of it, that a team works.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// Stored channel name.
    pub channel: String,
    /// The account, or empty for every account of the channel.
    pub account: String,
}

impl Grant {
    /// Reads `channel` or `channel:account` (one line of the team form).
    pub fn parse(line: &str) -> Result<Grant, String> {
        let line = line.trim();
        let (name, account) = line.split_once(':').unwrap_or((line, ""));
        let channel: Channel = name.trim().parse().map_err(|_| {
            format!(
                "\"{}\" is not a channel; use one of {}.",
                name.trim(),
                Channel::ALL.map(Channel::as_str).join(", ")
            )
        })?;
        Ok(Grant {
            channel: channel.as_str().to_owned(),
            account: normalize_account(channel, account)?,
        })
    }

    /// Whether a conversation on this channel and account falls under the grant.
    pub fn covers(&self, channel: &str, account: &str) -> bool {
        self.channel == channel && (self.account.is_empty() || self.account == account)
    }
}

/// The channels and accounts an agent's teams work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants(pub BTreeSet<Grant>);

impl Grants {
    /// Whole channels (every account).
    pub fn whole_channels(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|g| g.account.is_empty())
            .map(|g| g.channel.clone())
            .collect()
    }

    /// Single accounts of channels not granted whole, as (channel, account).
    pub fn accounts(&self) -> Vec<(String, String)> {
        let whole = self.whole_channels();
        self.0
            .iter()
            .filter(|g| !g.account.is_empty() && !whole.contains(&g.channel))
            .map(|g| (g.channel.clone(), g.account.clone()))
            .collect()
    }

    /// Every channel the grants touch: a customer with an identity on one of them is
    /// reachable by the team.
    pub fn channels(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.0.iter().map(|g| &g.channel).collect();
        set.into_iter().cloned().collect()
    }

    /// Whether a conversation on this channel and account is in reach.
    pub fn covers(&self, channel: &str, account: &str) -> bool {
        self.0.iter().any(|g| g.covers(channel, account))
    }

    /// The accounts granted on a channel: `None` for every account (the channel is granted
    /// whole), else the listed ones.
    pub fn accounts_of(&self, channel: &str) -> Option<Vec<String>> {
        if self
            .0
            .iter()
            .any(|g| g.channel == channel && g.account.is_empty())
        {
            return None;
        }
        Some(
            self.0
                .iter()
                .filter(|g| g.channel == channel)
                .map(|g| g.account.clone())
                .collect(),
        )
    }

    /// What both reach (the reader's teams narrowed to one team).
    pub fn intersect(&self, other: &Grants) -> Grants {
        let mut both = BTreeSet::new();
        for mine in &self.0 {
            for theirs in &other.0 {
                if mine.channel != theirs.channel {
                    continue;
                }
                let account = match (mine.account.is_empty(), theirs.account.is_empty()) {
                    (true, _) => theirs.account.clone(),
                    (false, true) => mine.account.clone(),
                    (false, false) if mine.account == theirs.account => mine.account.clone(),
                    (false, false) => continue,
                };
                both.insert(Grant {
                    channel: mine.channel.clone(),
                    account,
                });
            }
        }
        Grants(both)
    }
}

/// What one staff member sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Everything: supervisors, and everyone while no team is defined.
    Everything,
    /// What the agent's teams work (nothing, for an agent in no team once teams exist).
    Teams(Grants),
}

impl Scope {
    /// The rule: supervisors, and everyone while no team is defined, see everything; an
    /// agent sees what their teams work (nothing when they are in none).
    pub fn of(role: Role, teams_exist: bool, grants: Grants) -> Scope {
        if role >= Role::Supervisor || !teams_exist {
            Scope::Everything
        } else {
            Scope::Teams(grants)
        }
    }

    /// Whether a conversation on this channel and account is in reach.
    pub fn sees_conversation(&self, channel: &str, account: &str) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Teams(grants) => grants.covers(channel, account),
        }
    }

    /// The grants, when the scope is limited.
    pub fn limited(&self) -> Option<&Grants> {
        match self {
            Scope::Everything => None,
            Scope::Teams(grants) => Some(grants),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(lines: &[&str]) -> Grants {
        Grants(lines.iter().map(|l| Grant::parse(l).unwrap()).collect())
    }

    #[test]
    fn a_phone_account_is_one_account_however_it_is_written() {
        let grant = Grant::parse("WhatsApp: +1 (555) 123-4567").unwrap();
        assert_eq!(grant.channel, "whatsapp");
        assert_eq!(grant.account, "+15551234567");
        assert!(grant.covers("whatsapp", "+15551234567"));
        assert!(!grant.covers("whatsapp", "+15550000000"));
        assert!(!grant.covers("sms", "+15551234567"));
    }

    #[test]
    fn a_whole_channel_covers_every_account_and_the_unnamed_one() {
        let grant = Grant::parse("email").unwrap();
        assert!(grant.covers("email", ""));
        assert!(grant.covers("email", "sales@example.com"));
    }

    #[test]
    fn an_unknown_channel_or_a_bad_account_is_refused_with_the_rule() {
        assert!(
            Grant::parse("pigeon")
                .unwrap_err()
                .contains("not a channel")
        );
        assert!(Grant::parse("sms:not a number").is_err());
        assert!(Grant::parse(&format!("web:{}", "x".repeat(101))).is_err());
    }

    #[test]
    fn accounts_of_a_channel_granted_whole_are_not_listed_again() {
        let g = grants(&[
            "whatsapp",
            "whatsapp:+15551234567",
            "email:help@example.com",
        ]);
        assert_eq!(g.whole_channels(), vec!["whatsapp".to_owned()]);
        assert_eq!(
            g.accounts(),
            vec![("email".to_owned(), "help@example.com".to_owned())]
        );
        assert_eq!(
            g.channels(),
            vec!["email".to_owned(), "whatsapp".to_owned()]
        );
    }

    #[test]
    fn narrowing_to_a_team_keeps_what_both_reach() {
        let mine = grants(&["whatsapp", "email:help@example.com", "sms:+15550001111"]);
        let team = grants(&["whatsapp:+15550002222", "email", "sms:+15550003333"]);
        assert_eq!(
            mine.intersect(&team),
            grants(&["whatsapp:+15550002222", "email:help@example.com"])
        );
        assert_eq!(mine.accounts_of("whatsapp"), None);
        assert_eq!(
            mine.accounts_of("sms"),
            Some(vec!["+15550001111".to_owned()])
        );
        assert_eq!(mine.accounts_of("web"), Some(Vec::new()));
    }

    #[test]
    fn supervisors_and_everyone_without_teams_see_everything() {
        let g = grants(&["sms"]);
        assert_eq!(
            Scope::of(Role::Supervisor, true, g.clone()),
            Scope::Everything
        );
        assert_eq!(Scope::of(Role::Agent, false, g.clone()), Scope::Everything);
        assert_eq!(Scope::of(Role::Agent, true, g.clone()), Scope::Teams(g));
    }

    #[test]
    fn an_agent_in_no_team_sees_no_conversation_and_everything_sees_all() {
        let none = Scope::Teams(Grants::default());
        assert!(!none.sees_conversation("sms", ""));
        assert!(Scope::Everything.sees_conversation("sms", "x"));
    }
}
