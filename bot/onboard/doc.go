// Package onboard is the managers' flow: a request for a new hire's account, its
// approval, and the account's creation — plus joiners an HR system created.
//
// Where each part lives:
//
//	/onboard, onboard.submit  flow.go (Register), submit.go: the form, validated on the
//	                          server (validate.go, request.go: pure functions) and
//	                          posted to the approvers' channel (postApproval)
//	onboard.approve / .reject approve.go (onDecide): approvers only, never the
//	                          requester; one decision, by compare-and-set
//	onboard.retry             approve.go (onRetry): continue from the failed step
//	onboard.repost / .cancel  unposted.go: the requester's buttons when the approval
//	                          card could not be posted
//	provisioning              provision.go: the steps (user with a random password,
//	                          usage location, manager, groups, licence), each recorded;
//	                          Resume and resumeStale pick up interrupted ones
//	/requests                 requests.go
//	start day                 startday.go: the job that posts "starts today" with Issue
//	                          TAP, or sends the pass to the manager (TAPBOT_STARTDAY_TAP_TO)
//	joiners, /joiners         joiners.go: users with an employeeHireDate ahead, taken on
//	                          once each (jobs keyed by user)
//
// cards.OnboardSummary puts the request card's buttons on it, each with a
// cards.OnboardRequestData naming the request; readButton (approve.go) reads that back
// with bot.Decode and checks it.
package onboard
