//! The one schema both backends share. Ids are BIGINT (SQLite INTEGER reads as i64),
//! timestamps are TIMESTAMP holding UTC.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        must_change_password -> Bool,
        time_zone -> Text,
        session_epoch -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        customer_columns -> Nullable<Text>,
    }
}

diesel::table! {
    ended_sessions (id) {
        id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    app_settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> BigInt,
        subject -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    customers (id) {
        id -> BigInt,
        public_id -> Text,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        gender -> Nullable<Text>,
        city -> Nullable<Text>,
        country -> Nullable<Text>,
        language -> Nullable<Text>,
        company -> Nullable<Text>,
        nickname -> Nullable<Text>,
        lifecycle -> Text,
        conversations_count -> BigInt,
        messages_count -> BigInt,
        last_contact_at -> Nullable<Timestamp>,
        csat_sum -> BigInt,
        csat_count -> BigInt,
        csat_average -> Nullable<Double>,
        orders_count -> BigInt,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        blacklisted -> Bool,
        blacklist_reason -> Nullable<Text>,
        blacklisted_by -> Nullable<Text>,
        blacklisted_at -> Nullable<Timestamp>,
        sort_name -> Text,
        contact_sort -> BigInt,
        csat_sort -> BigInt,
        search_version -> Integer,
        search_text -> Text,
        lifecycle_pinned -> Bool,
    }
}

diesel::table! {
    customer_terms (kind, term, customer_id) {
        kind -> SmallInt,
        term -> Text,
        customer_id -> BigInt,
        created_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        status -> Text,
        label -> Text,
        params -> Text,
        total -> BigInt,
        processed -> BigInt,
        changed -> BigInt,
        created_count -> BigInt,
        refused_count -> BigInt,
        cursor -> BigInt,
        error -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_by_name -> Text,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    work_leases (name) {
        name -> Text,
        held_until -> Timestamp,
    }
}

diesel::table! {
    import_parts (import_id, part) {
        import_id -> BigInt,
        part -> Integer,
        bytes -> Binary,
    }
}

diesel::table! {
    properties (id) {
        id -> BigInt,
        key -> Text,
        label -> Text,
        kind -> Text,
        value_type -> Text,
        choices -> Text,
        agent_access -> Text,
        customer_access -> Text,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    customer_values (id) {
        id -> BigInt,
        customer_id -> BigInt,
        property_id -> BigInt,
        value_text -> Nullable<Text>,
        value_number -> Nullable<Double>,
        value_number2 -> Nullable<Double>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tags (id) {
        id -> BigInt,
        name -> Text,
        name_key -> Text,
        color -> Text,
        customers_count -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    customer_tags (customer_id, tag_id) {
        customer_id -> BigInt,
        tag_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    customer_notes (id) {
        id -> BigInt,
        customer_id -> BigInt,
        author_id -> Nullable<BigInt>,
        author_name -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    customer_events (id) {
        id -> BigInt,
        customer_id -> BigInt,
        actor_kind -> Text,
        actor_id -> Nullable<BigInt>,
        actor_name -> Text,
        action -> Text,
        property_key -> Nullable<Text>,
        old_value -> Nullable<Text>,
        new_value -> Nullable<Text>,
        reverts_event_id -> Nullable<BigInt>,
        customer_version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        actor_name -> Text,
        action -> Text,
        subject -> Text,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    channel_identities (id) {
        id -> BigInt,
        channel -> Text,
        external_id -> Text,
        customer_id -> Nullable<BigInt>,
        display_name -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        blacklist_reason -> Nullable<Text>,
        blacklisted_by -> Nullable<Text>,
        blacklisted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    customer_erasures (customer_id) {
        customer_id -> BigInt,
        erased_by -> Text,
        erased_at -> Timestamp,
    }
}

diesel::table! {
    duplicate_dismissals (customer_a, customer_b) {
        customer_a -> BigInt,
        customer_b -> BigInt,
        dismissed_by -> Text,
        dismissed_at -> Timestamp,
    }
}

diesel::table! {
    customer_merges (id) {
        id -> BigInt,
        duplicate_id -> BigInt,
        duplicate_public_id -> Text,
        survivor_id -> BigInt,
        merged_by -> Text,
        merged_at -> Timestamp,
        snapshot -> Nullable<Text>,
        undone_at -> Nullable<Timestamp>,
        undone_by -> Nullable<Text>,
    }
}

diesel::table! {
    duplicate_pairs (customer_a, customer_b) {
        customer_a -> BigInt,
        customer_b -> BigInt,
        score -> Integer,
        reasons -> Text,
        found_at -> Timestamp,
    }
}

diesel::table! {
    duplicate_checks (customer_id) {
        customer_id -> BigInt,
        queued_at -> Timestamp,
    }
}

diesel::table! {
    conversation_comments (id) {
        id -> BigInt,
        conversation_id -> BigInt,
        author_id -> Nullable<BigInt>,
        author_name -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    limit_events (id) {
        id -> BigInt,
        scope -> Text,
        subject -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    link_requests (id) {
        id -> BigInt,
        token_hash -> Text,
        message_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    customer_locks (customer_id) {
        customer_id -> BigInt,
        locked_by -> Text,
        locked_at -> Timestamp,
    }
}

diesel::table! {
    conversations (id) {
        id -> BigInt,
        identity_id -> BigInt,
        customer_id -> Nullable<BigInt>,
        channel -> Text,
        status -> Text,
        direction -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        last_message_at -> Timestamp,
        messages_count -> BigInt,
        rating -> Nullable<Integer>,
        rated_at -> Nullable<Timestamp>,
        web_ip -> Nullable<Text>,
        web_region -> Nullable<Text>,
        web_user_agent -> Nullable<Text>,
        web_source -> Nullable<Text>,
        account -> Text,
        last_inbound_id -> Nullable<BigInt>,
        last_inbound_at -> Nullable<Timestamp>,
        waiting_since -> Nullable<Timestamp>,
        first_answer_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    conversation_reads (conversation_id, user_id) {
        conversation_id -> BigInt,
        user_id -> BigInt,
        read_at -> Timestamp,
    }
}

diesel::table! {
    conversation_agents (conversation_id, user_id) {
        conversation_id -> BigInt,
        user_id -> BigInt,
        assigned_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        conversation_id -> Nullable<BigInt>,
        identity_id -> BigInt,
        customer_id -> Nullable<BigInt>,
        direction -> Text,
        author_kind -> Text,
        author_user_id -> Nullable<BigInt>,
        author_name -> Nullable<Text>,
        body -> Text,
        client_message_id -> Nullable<Text>,
        suppressed -> Bool,
        sent_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        message_id -> BigInt,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        text -> Nullable<Text>,
        sending_until -> Nullable<Timestamp>,
        response_ms -> Nullable<Integer>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Text,
        token_prefix -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    orders (id) {
        id -> BigInt,
        customer_id -> BigInt,
        order_ref -> Text,
        placed_at -> Timestamp,
        status -> Text,
        total -> Text,
        currency -> Text,
        items_summary -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    card_attributes (id) {
        id -> BigInt,
        property_id -> BigInt,
        position -> Integer,
        section -> Text,
        mode -> Text,
    }
}

diesel::table! {
    self_service_links (id) {
        id -> BigInt,
        customer_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        opened_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    segments (id) {
        id -> BigInt,
        name -> Text,
        name_key -> Text,
        query -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    imports (id) {
        id -> BigInt,
        file_name -> Text,
        stored_path -> Text,
        delimiter -> Text,
        headers -> Text,
        mapping -> Text,
        match_keys -> Text,
        create_tags -> Bool,
        dry_job_id -> Nullable<BigInt>,
        run_job_id -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_by_name -> Text,
        created_at -> Timestamp,
        encoding -> Text,
    }
}

diesel::table! {
    import_refusals (id) {
        id -> BigInt,
        job_id -> BigInt,
        row_number -> BigInt,
        column_name -> Text,
        reason -> Text,
        cells -> Text,
    }
}

diesel::table! {
    import_keys (job_id, key) {
        job_id -> BigInt,
        key -> Text,
        row_number -> BigInt,
    }
}

diesel::table! {
    teams (id) {
        id -> BigInt,
        name -> Text,
        name_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    team_channels (team_id, channel, account) {
        team_id -> BigInt,
        channel -> Text,
        account -> Text,
    }
}

diesel::table! {
    customer_counts (lifecycle) {
        lifecycle -> Text,
        customers -> BigInt,
    }
}

diesel::table! {
    name_words (word) {
        word -> Text,
    }
}

diesel::table! {
    common_ranges (span, word) {
        span -> SmallInt,
        word -> Text,
        above -> BigInt,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    name_word_keys (key, word) {
        key -> Text,
        word -> Text,
    }
}

diesel::table! {
    remembered_totals (filter_key) {
        filter_key -> Text,
        total -> BigInt,
        more_than -> Bool,
        computed_at -> Timestamp,
    }
}
