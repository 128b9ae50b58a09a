//! How the tables of [`super::schema`] join, and which may appear in one query: kept
//! apart from the table list, which is written by hand for both backends.

use super::schema::*;

diesel::joinable!(card_attributes -> properties (property_id));
diesel::joinable!(conversations -> channel_identities (identity_id));
diesel::joinable!(messages -> channel_identities (identity_id));
diesel::joinable!(outbox -> messages (message_id));
diesel::joinable!(conversation_agents -> conversations (conversation_id));
diesel::joinable!(conversation_agents -> users (user_id));
diesel::joinable!(conversation_reads -> conversations (conversation_id));
diesel::joinable!(orders -> customers (customer_id));
diesel::joinable!(customer_values -> customers (customer_id));
diesel::joinable!(customer_values -> properties (property_id));
diesel::joinable!(customer_tags -> customers (customer_id));
diesel::joinable!(customer_tags -> tags (tag_id));
diesel::joinable!(customer_notes -> customers (customer_id));
diesel::joinable!(customer_events -> customers (customer_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(team_channels -> teams (team_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    ended_sessions,
    conversation_reads,
    app_settings,
    sign_in_failures,
    customers,
    properties,
    customer_values,
    tags,
    customer_tags,
    customer_notes,
    customer_events,
    audit_log,
    channel_identities,
    conversations,
    conversation_agents,
    messages,
    outbox,
    api_tokens,
    orders,
    card_attributes,
    self_service_links,
    segments,
    customer_terms,
    jobs,
    imports,
    import_refusals,
    import_keys,
    customer_locks,
    customer_erasures,
    duplicate_dismissals,
    customer_merges,
    duplicate_pairs,
    duplicate_checks,
    limit_events,
    work_leases,
    import_parts,
    link_requests,
    conversation_comments,
    teams,
    team_members,
    team_channels,
    customer_counts,
    remembered_totals,
    name_words,
    name_word_keys,
);
