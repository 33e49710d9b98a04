-- Conversation references, one row per Bot Framework conversation, rewritten on
-- every inbound activity so the newest service URL and raw reference win.
CREATE TABLE conversation_references (
	conversation_id    TEXT PRIMARY KEY NOT NULL,
	scope              TEXT NOT NULL,
	tenant_id          TEXT NOT NULL,
	user_aad_object_id TEXT NOT NULL,
	team_id            TEXT NOT NULL,
	service_url        TEXT NOT NULL,
	bot_id             TEXT NOT NULL,
	raw                BLOB,
	-- Fixed-width UTC RFC 3339 text, so that text order is time order.
	updated_at         TEXT NOT NULL
);

-- Serves PersonalReference: equality on the first three columns, newest first.
CREATE INDEX conversation_references_personal
	ON conversation_references (tenant_id, user_aad_object_id, scope, updated_at);
