package graph

import "strings"

// WHfBEnrollment is Intune's Windows Hello for Business enrollment configuration, one
// of the tenant's device enrollment configurations
// (deviceEnrollmentWindowsHelloForBusinessConfiguration, Graph v1.0:
// https://learn.microsoft.com/en-us/graph/api/resources/intune-onboarding-deviceenrollmentwindowshelloforbusinessconfiguration).
type WHfBEnrollment struct {
	ID          string
	DisplayName string
	// State is the enablement enum: EnablementEnabled, EnablementDisabled or
	// EnablementNotConfigured ("Intune will not override client defaults").
	State    string
	Priority int
}

// The values of Intune's enablement enum.
const (
	EnablementEnabled       = "enabled"
	EnablementDisabled      = "disabled"
	EnablementNotConfigured = "notConfigured"
)

// AutopilotProfile is a Windows Autopilot deployment profile with its group
// assignments. Graph serves these on beta only
// (https://learn.microsoft.com/en-us/graph/api/resources/intune-enrollment-windowsautopilotdeploymentprofile?view=graph-rest-beta):
// v1.0 has the type but no /deviceManagement/windowsAutopilotDeploymentProfiles.
type AutopilotProfile struct {
	ID          string
	DisplayName string
	Targets     []AssignmentTarget
}

// AssignmentTarget is one assignment's target (deviceAndAppManagementAssignmentTarget):
// Kind is its @odata.type without the namespace, e.g. "groupAssignmentTarget",
// "allDevicesAssignmentTarget", "exclusionGroupAssignmentTarget".
type AssignmentTarget struct {
	Kind    string
	GroupID string // for group targets
}

// Assigned reports whether the profile reaches any device: a target that is not an
// exclusion.
func (p AutopilotProfile) Assigned() bool {
	for _, t := range p.Targets {
		if !strings.HasPrefix(strings.ToLower(t.Kind), "exclusion") {
			return true
		}
	}
	return false
}
