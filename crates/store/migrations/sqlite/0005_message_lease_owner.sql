-- Who holds a message's lease: a dispatcher settles a send only while the lease it claimed
-- is still its own, so a send whose lease expired and was reclaimed elsewhere is not
-- settled twice.
ALTER TABLE messages ADD COLUMN lease_owner TEXT;
