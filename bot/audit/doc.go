// Package audit is /audit: the audit log for members of the auditor groups, sent to
// their 1:1 chat.
//
//	command and card   flow.go
//	filters            query.go (user, since, action; fuzzed)
//	names              names.go: object ids → display names, cached
//	readable outcomes  words.go
package audit
