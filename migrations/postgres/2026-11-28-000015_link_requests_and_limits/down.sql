DROP TABLE link_requests;
DROP TABLE limit_events;
