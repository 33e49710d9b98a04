-- What a second-person confirmation needs besides 0002: the requester's name for the
-- alert of a denied request, the start of a pass asked to start later (NULL: valid
-- at once), and where its two cards were posted, so that both are updated once it is
-- decided.
ALTER TABLE tap_confirmations
	ADD COLUMN requester_name           text NOT NULL DEFAULT '',
	ADD COLUMN starts_at                timestamptz,
	ADD COLUMN question_service_url     text NOT NULL DEFAULT '',
	ADD COLUMN question_conversation_id text NOT NULL DEFAULT '',
	ADD COLUMN question_activity_id     text NOT NULL DEFAULT '',
	ADD COLUMN waiting_service_url      text NOT NULL DEFAULT '',
	ADD COLUMN waiting_conversation_id  text NOT NULL DEFAULT '',
	ADD COLUMN waiting_activity_id      text NOT NULL DEFAULT '';
