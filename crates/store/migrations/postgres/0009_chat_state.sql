-- The question of an in-chat survey (SPEC §4.16) whose answer is the customer's next
-- text message: set when closeloop asks a free-text question in the chat, cleared when
-- it is answered or the chat asks something else.
ALTER TABLE invites ADD COLUMN chat_awaiting TEXT;

-- What the trace should say about an event beyond its rules: why a reply in the chat
-- recorded no answer (a forged payload, another number), SPEC §4.16.
ALTER TABLE events ADD COLUMN note TEXT;
