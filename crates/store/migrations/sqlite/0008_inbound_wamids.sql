-- The wamids of inbound messages already acted on: Meta redelivers a webhook it thinks
-- failed, and a redelivered message must record nothing twice (SPEC §4.16).
CREATE TABLE inbound_wamids (
    wamid        TEXT    PRIMARY KEY,
    received_at  INTEGER NOT NULL
);
CREATE INDEX inbound_wamids_by_time ON inbound_wamids (received_at);
