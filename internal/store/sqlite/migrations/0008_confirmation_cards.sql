-- What a second-person confirmation needs besides 0007: the requester's name for the
-- alert of a denied request, the start of a pass asked to start later, and where its
-- two cards were posted, so that both are updated once it is decided. Times as in
-- 0002; NULL start: valid at once.
ALTER TABLE tap_confirmations ADD COLUMN requester_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tap_confirmations ADD COLUMN starts_at TEXT;
ALTER TABLE tap_confirmations ADD COLUMN question_service_url TEXT NOT NULL DEFAULT '';
ALTER TABLE tap_confirmations ADD COLUMN question_conversation_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tap_confirmations ADD COLUMN question_activity_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tap_confirmations ADD COLUMN waiting_service_url TEXT NOT NULL DEFAULT '';
ALTER TABLE tap_confirmations ADD COLUMN waiting_conversation_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tap_confirmations ADD COLUMN waiting_activity_id TEXT NOT NULL DEFAULT '';
