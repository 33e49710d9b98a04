package graph

import "time"

// Device trust types (the device resource's trustType): how a device is tied to Entra.
const (
	TrustEntraJoined = "AzureAd"   // Microsoft Entra joined (cloud only; Autopilot user-driven)
	TrustRegistered  = "Workplace" // Microsoft Entra registered (personal device, BYOD)
	TrustHybrid      = "ServerAd"  // Microsoft Entra hybrid joined (on-premises domain joined)
)

// Device is an Entra device registered to a user, as the checklist sees it.
type Device struct {
	ID          string
	DisplayName string
	// TrustType is Graph's trustType: AzureAd = Entra joined, Workplace = registered,
	// ServerAd = hybrid joined (see the Trust constants).
	TrustType  string
	Registered time.Time // registrationDateTime; zero when Graph does not say
}

// Joined reports whether the device is joined, cloud only or hybrid: a computer the
// user signs in to with their work account. A registered device (a personal one, or
// the phone Authenticator registers for phone sign-in) is not, nor is one Graph
// answered without its trustType (limited information): it can't tell.
func (d Device) Joined() bool { return d.TrustType == TrustEntraJoined || d.TrustType == TrustHybrid }

// AppInstallation is a Teams app installed in a user's personal scope.
type AppInstallation struct {
	ID string // the installation's id (not the catalog app's id)
}
