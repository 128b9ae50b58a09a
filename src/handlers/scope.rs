//! The scope guard: every page under `/conversations/{id}` and `/customers/{id}` first
//! checks that the signed-in agent's teams reach that conversation or customer, and
//! answers 404 otherwise, so no handler can forget it and a crafted address learns
//! nothing. Lists filter by the same scope in their queries.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use crate::auth::CurrentUser;
use crate::db::types::ConversationId;
use crate::error::AppError;
use crate::services::teams::{self, Target};
use crate::state::AppState;

/// The conversation or customers an address is about.
pub fn targets_of(path: &str) -> Vec<Target> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let customer =
        |s: &str| s.starts_with('C') && s.len() > 1 && s.chars().all(|c| c.is_ascii_alphanumeric());
    match segments.as_slice() {
        ["conversations", id, ..] => id
            .parse::<i64>()
            .map(|id| vec![Target::Conversation(ConversationId(id))])
            .unwrap_or_default(),
        ["customers", id, rest @ ..] if customer(id) => {
            let mut targets = vec![Target::Customer((*id).to_owned())];
            // The other customer of a merge or of a suggested duplicate.
            if let ["merge" | "duplicates", other, ..] = rest
                && customer(other)
            {
                targets.push(Target::Customer((*other).to_owned()));
            }
            targets
        }
        _ => Vec::new(),
    }
}

/// Wraps the conversation and customer pages: 404 for one outside the agent's teams.
/// Requests without a signed-in user pass, so their page answers as it always does.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let targets = targets_of(req.path());
    if !targets.is_empty()
        && let Ok(current) = req.extract::<CurrentUser>().await
        && current.scope.limited().is_some()
        && let Some(state) = req.app_data::<web::Data<AppState>>().cloned()
    {
        let scope = current.scope.clone();
        let seen = state
            .run(move |conn| teams::reaches(conn, &scope, &targets))
            .await;
        let refused = match seen {
            Ok(true) => None,
            Ok(false) => Some(AppError::NotFound),
            Err(error) => Some(error),
        };
        if let Some(error) = refused {
            let (request, _) = req.into_parts();
            return Ok(ServiceResponse::new(request, error.error_response()).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_names_its_conversation_or_customers() {
        assert_eq!(
            targets_of("/conversations/42/tags/7/remove"),
            vec![Target::Conversation(ConversationId(42))]
        );
        assert_eq!(
            targets_of("/customers/C12AB/merge/C99ZZ"),
            vec![
                Target::Customer("C12AB".into()),
                Target::Customer("C99ZZ".into())
            ]
        );
        assert_eq!(
            targets_of("/customers/C12AB/duplicates/C99ZZ/dismiss").len(),
            2
        );
        assert!(targets_of("/customers/duplicates").is_empty());
        assert!(targets_of("/customers/export.csv").is_empty());
        assert!(targets_of("/conversations/abc").is_empty());
    }
}
