//! Conversions between the domain's small types and SQL columns, written once for any
//! backend whose primitive types already convert.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::BigInt;

/// Declares an `i64` id newtype usable as a BIGINT column on both backends.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl<DB: Backend> FromSql<BigInt, DB> for $name
        where
            i64: FromSql<BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                i64::from_sql(bytes).map($name)
            }
        }

        impl<DB: Backend> ToSql<BigInt, DB> for $name
        where
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.0.to_sql(out)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A staff account's internal id.
    UserId
);

id_type!(
    /// A customer's internal row id (the public customer ID is separate).
    CustomerId
);

id_type!(
    /// A property's internal id.
    PropertyId
);

id_type!(
    /// A tag's internal id.
    TagId
);

id_type!(
    /// A history entry's id.
    EventId
);

id_type!(
    /// A channel identity's id.
    IdentityId
);

id_type!(
    /// A conversation's id (public in the API).
    ConversationId
);

id_type!(
    /// A message's id.
    MessageId
);

id_type!(
    /// A background job's id (its progress page is public to staff).
    JobId
);

id_type!(
    /// An uploaded import file's id.
    ImportId
);

id_type!(
    /// A saved segment's id.
    SegmentId
);

id_type!(
    /// An API token's id.
    TokenId
);

id_type!(
    /// A team's id.
    TeamId
);

/// Gives a type with `as_str` and `FromStr` a TEXT column on both backends: stored as its
/// name, read back through `FromStr` (an unknown stored name is an error, not a guess).
macro_rules! text_column {
    ($name:ty) => {
        impl<DB: Backend> FromSql<diesel::sql_types::Text, DB> for $name
        where
            String: FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let raw = String::from_sql(bytes)?;
                raw.parse::<$name>().map_err(Into::into)
            }
        }

        impl<DB: Backend> ToSql<diesel::sql_types::Text, DB> for $name
        where
            str: ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }
    };
}

/// Declares a stored state: an enum with one string per variant, used as a TEXT column
/// on both backends, in templates (`Display`) and in JSON (as its string).
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(raw: &str) -> Result<Self, String> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} {other:?}", stringify!($name))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        text_column!($name);
    };
}

stored_enum!(
    /// What a staff action in the audit log was.
    AuditAction {
        /// A feature toggle or the organisation's time zone.
        FeatureChanged => "feature_changed",
        /// The self-service settings.
        SelfServiceChanged => "self_service_changed",
        /// The context card's attributes.
        CardChanged => "card_changed",
        /// A custom property was created.
        PropertyCreated => "property_created",
        /// A property's label, choices, order or access changed.
        PropertyUpdated => "property_updated",
        /// A custom property and its values were deleted.
        PropertyDeleted => "property_deleted",
        /// A tag was created.
        TagCreated => "tag_created",
        /// A tag was renamed or recoloured.
        TagUpdated => "tag_updated",
        /// A tag was deleted.
        TagDeleted => "tag_deleted",
        /// The webhook URL or its secret.
        WebhookChanged => "webhook_changed",
        /// An API token was created.
        TokenCreated => "token_created",
        /// An API token was revoked.
        TokenRevoked => "token_revoked",
        /// Customers were exported.
        CustomersExported => "customers.exported",
        /// One customer's data was exported (an access or portability request).
        CustomerExported => "customer.exported",
        /// One customer's personal data was erased (an erasure request).
        CustomerAnonymized => "customer.anonymized",
        /// Two customers were merged into one.
        CustomerMerged => "customer.merged",
        /// A merge was undone.
        CustomerMergeUndone => "customer.merge_undone",
        /// A team was created, or its name, members or channels changed.
        TeamSaved => "team_saved",
        /// A team was deleted.
        TeamDeleted => "team_deleted",
        /// Someone signed in.
        SignedIn => "signed_in",
        /// A sign-in was refused (wrong password, unknown name, deactivated, throttled).
        SignInFailed => "sign_in_failed",
        /// A staff account was created.
        UserCreated => "user.created",
        /// An account's name, role or time zone changed.
        UserChanged => "user.changed",
        /// An account was deactivated.
        UserDeactivated => "user.deactivated",
        /// An account was reactivated.
        UserActivated => "user.activated",
        /// A password was set (by its owner, or reset by a supervisor).
        PasswordSet => "user.password_set",
        /// Every session of an account was ended.
        SessionsEnded => "user.sessions_ended",
        /// A dry run or an import of a file was started.
        ImportStarted => "import.started",
        /// An API token was used (noted once an hour per token).
        TokenUsed => "token.used",
        /// What is kept, and for how long, changed.
        RetentionChanged => "retention_changed",
        /// The lifecycle rules changed.
        LifecycleRulesSaved => "lifecycle.rules_saved",
    }
);

stored_enum!(
    /// The key of an installation-wide setting: the one list of what can be set.
    Setting {
        /// "Customers page in agent mode" (`on` / `off`).
        CustomersPageForAgents => "feature.customers_page_for_agents",
        /// The organisation's IANA time zone (what "this week" means).
        OrgTimeZone => "org.time_zone",
        /// The organisation's name, shown to customers.
        OrgName => "org.name",
        /// Self-service on or off.
        SelfServiceEnabled => "selfservice.enabled",
        /// The keyword customers text to get their link.
        SelfServiceKeyword => "selfservice.keyword",
        /// How many hours a link stays valid.
        SelfServiceTtlHours => "selfservice.ttl_hours",
        /// Where outbound messages are delivered.
        WebhookUrl => "outbound.webhook_url",
        /// The secret that signs deliveries.
        WebhookSecret => "outbound.webhook_secret",
        /// The generated key that signs session cookies.
        SessionSigningKey => "session_signing_key",
        /// Whether customers edit their own locked profile on the self-service page
        /// (`on` by default).
        LockedSelfServiceEdits => "lock.self_service_edits",
        /// Whether agents merge customers when the Customers page is on for them (`off`
        /// by default).
        AgentsMerge => "feature.agents_merge",
        /// Days the audit log is kept (0: for ever).
        RetainAuditDays => "retention.audit_days",
        /// Days an unknown contact and its messages are kept after it last wrote (0: for ever).
        RetainUnknownContactsDays => "retention.unknown_contacts_days",
        /// Days an ended (expired or revoked) self-service link is kept (0: for ever).
        RetainEndedLinksDays => "retention.ended_links_days",
        /// The lifecycle rules, in order, as JSON (`domain::lifecycle::Rules`).
        LifecycleRules => "lifecycle.rules",
        /// Days a finished job and its refused rows are kept (0: for ever).
        RetainFinishedJobsDays => "retention.finished_jobs_days",
    }
);

stored_enum!(
    /// Whether a conversation still takes messages.
    ConversationStatus {
        /// In the queue; agents reply.
        Open => "open",
        /// Done; a new message opens a new conversation.
        Closed => "closed",
    }
);

stored_enum!(
    /// Which way a message or a conversation went.
    Direction {
        /// From the customer.
        Inbound => "inbound",
        /// To the customer.
        Outbound => "outbound",
    }
);

stored_enum!(
    /// Who wrote a message.
    AuthorKind {
        /// The customer, on their channel.
        Customer => "customer",
        /// A staff member.
        Agent => "agent",
        /// Clientele itself (automatic replies).
        System => "system",
    }
);

stored_enum!(
    /// Where a background job is.
    JobStatus {
        /// Waiting for a worker.
        Queued => "queued",
        /// Claimed by a worker.
        Running => "running",
        /// Finished.
        Done => "done",
        /// Stopped by an error.
        Failed => "failed",
    }
);

stored_enum!(
    /// What a background job does.
    JobKind {
        /// A bulk change of the Customers page's selection or filter.
        Bulk => "bulk",
        /// An import's dry run (rolled back batch by batch).
        ImportDryRun => "import_dry_run",
        /// An import.
        Import => "import",
        /// Lifecycle rules applied to every customer.
        Lifecycle => "lifecycle",
        /// What lifecycle rules would change, written nowhere (the preview).
        LifecyclePreview => "lifecycle_preview",
    }
);

stored_enum!(
    /// Where the delivery of an outbound message is.
    DeliveryStatus {
        /// Not delivered yet (retried with back-off).
        Pending => "pending",
        /// Accepted by the webhook.
        Delivered => "delivered",
        /// Given up on; a supervisor may queue it again.
        Failed => "failed",
    }
);

stored_enum!(
    /// What a History entry of a customer records.
    EventAction {
        /// The customer was created.
        Created => "created",
        /// A property value changed.
        PropertyChanged => "property_changed",
        /// The lifecycle stage changed.
        LifecycleChanged => "lifecycle_changed",
        /// A tag was put on.
        TagAdded => "tag_added",
        /// A tag was taken off.
        TagRemoved => "tag_removed",
        /// A staff note was added.
        NoteAdded => "note_added",
        /// An identity was linked to the customer.
        IdentityLinked => "identity_linked",
        /// An identity was unlinked from the customer.
        IdentityUnlinked => "identity_unlinked",
        /// Added to the blacklist.
        Blacklisted => "blacklisted",
        /// Removed from the blacklist.
        Unblacklisted => "unblacklisted",
        /// The profile was locked against channel data.
        Locked => "locked",
        /// The profile was unlocked.
        Unlocked => "unlocked",
        /// One conversation was moved to or from the customer ("not from this customer").
        ConversationMoved => "conversation_moved",
        /// The customer's personal data was erased.
        Anonymized => "anonymized",
        /// Another customer was merged into this one.
        Merged => "merged",
        /// A merge was undone (on the survivor and on the customer it restored).
        MergeUndone => "merge_undone",
        /// The lifecycle stage was pinned: rules leave it alone.
        LifecyclePinned => "lifecycle_pinned",
        /// The pin was taken off the lifecycle stage.
        LifecycleUnpinned => "lifecycle_unpinned",
    }
);

impl JobStatus {
    /// Whether the job will not move any more.
    pub fn finished(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::str::FromStr + std::fmt::Display,
    {
        let mut names = std::collections::HashSet::new();
        for value in all {
            let name = value.to_string();
            assert!(names.insert(name.clone()), "{name} is stored twice");
            assert_eq!(name.parse::<T>().ok(), Some(*value));
        }
        assert!("no such state".parse::<T>().is_err());
    }

    #[test]
    fn every_stored_state_reads_back_as_itself_and_unknown_names_are_refused() {
        round_trips(AuditAction::ALL);
        round_trips(Setting::ALL);
        round_trips(ConversationStatus::ALL);
        round_trips(Direction::ALL);
        round_trips(AuthorKind::ALL);
        round_trips(JobStatus::ALL);
        round_trips(JobKind::ALL);
        round_trips(DeliveryStatus::ALL);
        round_trips(EventAction::ALL);
    }

    #[test]
    fn a_job_is_finished_once_done_or_failed() {
        let finished: Vec<JobStatus> = JobStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.finished())
            .collect();
        assert_eq!(finished, [JobStatus::Done, JobStatus::Failed]);
    }
}
