//! The Customers page's columns: which ones each staff member chose to see (kept on their
//! account), and `POST /customers/columns` that saves the choice. Name and Customer ID are
//! always shown; a column whose property the reader may not see never is, whatever they
//! chose.

use actix_web::{HttpResponse, web};

use crate::auth::CustomersUser;
use crate::error::{AppError, see_other};
use crate::handlers::page::local_path;
use crate::services::accounts;
use crate::state::AppState;

/// A column the reader may show or hide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Email,
    Phone,
    Tags,
    Lifecycle,
    Conversations,
    Messages,
    LastContact,
    Satisfaction,
    Created,
}

impl Column {
    /// Every column, in the page's order.
    pub const ALL: [Column; 9] = [
        Column::Email,
        Column::Phone,
        Column::Tags,
        Column::Lifecycle,
        Column::Conversations,
        Column::Messages,
        Column::LastContact,
        Column::Satisfaction,
        Column::Created,
    ];

    /// Shown until someone chooses: what fits a 1366-px screen beside the name and ID.
    const DEFAULT: [Column; 6] = [
        Column::Email,
        Column::Phone,
        Column::Tags,
        Column::Lifecycle,
        Column::LastContact,
        Column::Created,
    ];

    /// The stored and form name.
    pub fn as_str(self) -> &'static str {
        match self {
            Column::Email => "email",
            Column::Phone => "phone",
            Column::Tags => "tags",
            Column::Lifecycle => "lifecycle",
            Column::Conversations => "conversations",
            Column::Messages => "messages",
            Column::LastContact => "last_contact",
            Column::Satisfaction => "satisfaction",
            Column::Created => "created",
        }
    }

    /// The header's label.
    pub fn label(self) -> &'static str {
        match self {
            Column::Email => "E-mail",
            Column::Phone => "Phone",
            Column::Tags => "Tags",
            Column::Lifecycle => "Lifecycle",
            Column::Conversations => "Conversations",
            Column::Messages => "Messages",
            Column::LastContact => "Last contact",
            Column::Satisfaction => "Satisfaction",
            Column::Created => "Created",
        }
    }

    /// The property whose visibility the column follows, if any.
    pub fn property(self) -> Option<&'static str> {
        match self {
            Column::Email => Some("email"),
            Column::Phone => Some("phone"),
            Column::Conversations | Column::Messages => Some("conversations_count"),
            Column::LastContact => Some("last_contact_at"),
            Column::Satisfaction => Some("csat_average"),
            Column::Tags | Column::Lifecycle | Column::Created => None,
        }
    }

    fn parse(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.as_str() == name.trim())
    }
}

/// The columns someone chose, from their stored choice (the default set without one).
pub fn chosen(stored: Option<&str>) -> Vec<Column> {
    match stored {
        None => Column::DEFAULT.to_vec(),
        Some(list) => {
            let named: Vec<Column> = list.split(',').filter_map(Column::parse).collect();
            Column::ALL
                .into_iter()
                .filter(|c| named.contains(c))
                .collect()
        }
    }
}

/// A column as the chooser offers it.
pub struct Choice {
    pub column: Column,
    pub shown: bool,
}

/// The chooser's columns: those the reader may see, each with whether it is shown.
pub fn choices(shown: &[Column], visible: &dyn Fn(&str) -> bool) -> Vec<Choice> {
    Column::ALL
        .into_iter()
        .filter(|c| c.property().is_none_or(visible))
        .map(|column| Choice {
            column,
            shown: shown.contains(&column),
        })
        .collect()
}

/// `POST /customers/columns`: keeps the ticked columns (or the default set, on "reset") on
/// the account, and returns to the page the form was on.
pub async fn save(
    user: CustomersUser,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let stored = if field("reset").is_some() {
        None
    } else {
        let ticked: Vec<Column> = form
            .iter()
            .filter(|(k, _)| k == "column")
            .filter_map(|(_, v)| Column::parse(v))
            .collect();
        Some(
            Column::ALL
                .into_iter()
                .filter(|c| ticked.contains(c))
                .map(Column::as_str)
                .collect::<Vec<_>>()
                .join(","),
        )
    };
    let id = user.0.user.id;
    state
        .run(move |conn| accounts::choose_customer_columns(conn, id, stored.as_deref()))
        .await?;
    let back = field("back")
        .and_then(local_path)
        .filter(|path| path.starts_with("/customers"))
        .unwrap_or("/customers");
    Ok(see_other(back))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_choice_reads_in_the_pages_order() {
        assert_eq!(chosen(None), Column::DEFAULT.to_vec());
        assert_eq!(
            chosen(Some("created, email,bogus")),
            vec![Column::Email, Column::Created]
        );
        assert_eq!(chosen(Some("")), Vec::<Column>::new());
    }
}
