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
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
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
