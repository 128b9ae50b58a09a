DROP TABLE self_service_links;
