-- An event keeps the case after the change in full and the case before it as a JSON merge
-- patch over that (the changed fields' earlier values), instead of a second full copy.
-- Events written before this migration keep their full `before_state`.
ALTER TABLE events ADD COLUMN before_patch TEXT;
