-- What a delivery sends when it differs from the message staff see: a self-service link
-- goes to the customer, while the conversation keeps the message with the link left out
-- (anyone who could read the thread could otherwise open the customer's profile). Cleared
-- once the delivery is done.
ALTER TABLE outbox ADD COLUMN text TEXT;
