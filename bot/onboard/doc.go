// Package onboard is the managers' flow: a request for a new hire's account, its
// approval, and the account's creation — plus joiners an HR system created.
//
// Where each part lives:
//
//	/onboard                  flow.go (Register), submit.go: the form, validated on the
//	                          server (validate.go, request.go: pure functions) and
//	                          posted to the approvers' channel (postApproval)
//	onboard.approve / .reject approve.go (onDecide): approvers only, never the
//	                          requester; one decision, by compare-and-set
//	onboard.retry             approve.go (onRetry): continue from the failed step
//	provisioning              provision.go: the steps (user with a random password,
//	                          usage location, manager, groups, licence), each recorded;
//	                          Resume and resumeStale pick up interrupted ones
//	/requests                 requests.go
//	start day                 startday.go: the job that posts "starts today" with Issue
//	                          TAP, or sends the pass to the manager (TAPBOT_STARTDAY_TAP_TO)
//	joiners                   joiners.go: users with an employeeHireDate ahead, taken on
//	                          once each (jobs keyed by user)
package onboard
