package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/tapbot/tapbot/graph"
)

// The device side (issue 16, item 4): a new hire's laptop comes through Windows
// Autopilot and should end on Windows Hello for Business, never on a password. What
// Intune holds is read only when tapbot's app may read it (the optional "devices"
// feature of the permission table); otherwise the checks say why they were skipped.

// DeviceReader is what the device checks read from Intune (graph/msgraph's client).
type DeviceReader interface {
	// WHfBEnrollments is v1.0 GET /deviceManagement/deviceEnrollmentConfigurations,
	// Windows Hello for Business ones only.
	WHfBEnrollments(ctx context.Context) ([]graph.WHfBEnrollment, error)
	// AutopilotProfiles is GET /beta/deviceManagement/windowsAutopilotDeploymentProfiles
	// with assignments: Graph has it on beta only.
	AutopilotProfiles(ctx context.Context) ([]graph.AutopilotProfile, error)
}

// intunePermission is what the device checks need (graph.FeatureDevices).
const intunePermission = "DeviceManagementServiceConfig.Read.All"

// DeviceFacts is what Gather read from Intune.
type DeviceFacts struct {
	Skipped      string // why nothing was read; empty when it was
	WHfB         []graph.WHfBEnrollment
	WHfBErr      error
	Autopilot    []graph.AutopilotProfile
	AutopilotErr error
}

// gatherDevices reads Intune when the token's roles allow it. Without the roles the
// calls would only fail with 403; an unreadable token is tried anyway, so the answer
// says what is missing.
func gatherDevices(ctx context.Context, r DeviceReader, roles []string, rolesErr error) DeviceFacts {
	readers := append([]string{intunePermission, "DeviceManagementConfiguration.Read.All"}, graph.PermissionInfo(intunePermission).Also...)
	if rolesErr == nil && anyRole(roles, readers) == "" {
		return DeviceFacts{Skipped: "tapbot's app has no Intune read permission (" + intunePermission + ")"}
	}
	var d DeviceFacts
	d.WHfB, d.WHfBErr = r.WHfBEnrollments(ctx)
	d.Autopilot, d.AutopilotErr = r.AutopilotProfiles(ctx)
	return d
}

// Documented settings the reboot explanation cites.
const (
	tapWindowsDoc = "https://learn.microsoft.com/en-us/entra/identity/authentication/howto-authentication-temporary-access-pass#windows-device-setup"
	webSignInDoc  = "https://learn.microsoft.com/en-us/windows/client-management/mdm/policy-csp-authentication#authentication-enablewebsignin"
	whfbStateDoc  = "https://learn.microsoft.com/en-us/graph/api/resources/intune-onboarding-deviceenrollmentwindowshelloforbusinessconfiguration"
	autopilotDoc  = "https://learn.microsoft.com/en-us/graph/api/intune-enrollment-windowsautopilotdeploymentprofile-list?view=graph-rest-beta"
)

func checkDevices(f Facts) []Item {
	d := f.Devices
	if d.Skipped != "" {
		return []Item{{ID: "devices", Title: "Device checks (Intune)", Status: Warn,
			Detail: "Skipped: " + d.Skipped + ", so whether Windows Hello for Business is on at enrollment and whether an Autopilot profile is assigned was not checked.",
			Fix:    "To have doctor check them, grant tapbot's app " + intunePermission + " (read-only; Entra admin centre → App registrations → tapbot's app → API permissions). Ignore this if you do not use Intune."},
			checkReboot(f)}
	}
	return []Item{checkWHfB(d), checkAutopilot(d), checkReboot(f)}
}

func checkWHfB(d DeviceFacts) Item {
	it := Item{ID: "devices.whfb", Title: "Windows Hello for Business at enrollment"}
	if d.WHfBErr != nil {
		it.Status, it.Detail = explain(d.WHfBErr, "Intune's enrollment configurations", intunePermission)
		it.Fix = "Grant " + intunePermission + " to tapbot's app if it is missing; Graph's Intune API also needs an active Intune licence."
		return it
	}
	var enabled, disabled, unset []string
	for _, w := range d.WHfB {
		switch w.State {
		case graph.EnablementEnabled:
			enabled = append(enabled, w.DisplayName)
		case graph.EnablementDisabled:
			disabled = append(disabled, w.DisplayName)
		default:
			unset = append(unset, w.DisplayName)
		}
	}
	fix := "Intune admin centre → Devices → Enrollment → Windows Hello for Business: set Configure Windows Hello for Business to Enabled."
	switch {
	case len(disabled) > 0:
		it.Status = Fail
		it.Detail = "Windows Hello for Business is disabled in " + strings.Join(disabled, ", ") + ": enrolled laptops do not offer Hello set-up (" + whfbStateDoc + ", state), so once the pass expires a new hire has no way to sign in to Windows but a password nobody told them."
		it.Fix = fix
	case len(enabled) > 0:
		it.Status, it.Detail = OK, "Enabled in "+strings.Join(enabled, ", ")+"."
	case len(unset) > 0:
		it.Status = Warn
		it.Detail = "Not configured in " + strings.Join(unset, ", ") + ": Intune does not override the device's default (" + whfbStateDoc + ", state), so whether laptops offer Hello set-up depends on other policies."
		it.Fix = fix
	default:
		it.Status = Warn
		it.Detail = "No Windows Hello for Business enrollment configuration was found."
		it.Fix = fix
	}
	return it
}

func checkAutopilot(d DeviceFacts) Item {
	it := Item{ID: "devices.autopilot", Title: "Windows Autopilot profile"}
	const beta = " (read from Graph's beta API, the only one that has Autopilot profiles; Microsoft may change it)"
	if d.AutopilotErr != nil {
		it.Status, it.Detail = explain(d.AutopilotErr, "the Autopilot deployment profiles"+beta, intunePermission)
		it.Fix = "Grant " + intunePermission + " to tapbot's app if it is missing (DeviceManagementConfiguration.Read.All does not cover this list), then run the check again."
		return it
	}
	var assigned, unassigned []string
	for _, p := range d.Autopilot {
		if p.Assigned() {
			assigned = append(assigned, p.DisplayName)
		} else {
			unassigned = append(unassigned, p.DisplayName)
		}
	}
	switch {
	case len(assigned) > 0:
		it.Status, it.Detail = OK, "Assigned: "+strings.Join(assigned, ", ")+beta+"."
	case len(unassigned) > 0:
		it.Status = Warn
		it.Detail = "No deployment profile is assigned (" + strings.Join(unassigned, ", ") + " reach no device): a laptop mailed to a new hire starts the ordinary Windows set-up, not Autopilot" + beta + "."
		it.Fix = "Intune admin centre → Devices → Enrollment → Windows Autopilot → Deployment profiles: assign a profile to the group of your Autopilot devices."
	default:
		it.Status = Warn
		it.Detail = "There is no Windows Autopilot deployment profile: laptops mailed to new hires do not set themselves up" + beta + "."
		it.Fix = "Create a deployment profile (Microsoft Entra joined, user-driven) in Intune admin centre → Devices → Enrollment → Windows Autopilot, and assign it to your Autopilot devices' group."
	}
	return it
}

// checkReboot explains, from documented settings only, why a reboot during Autopilot
// can land a new hire on the password screen, and warns when the TAP policy makes it
// likely.
func checkReboot(f Facts) Item {
	it := Item{ID: "devices.reboot", Title: "Autopilot reboot and the password screen"}
	why := "During Windows set-up a new hire signs in with the pass (no password needed), but after a reboot Windows shows its ordinary sign-in screen, which asks for a password unless Web sign-in is on, and accepts a pass only if it can still be used (" + tapWindowsDoc + ")."
	avoid := fmt.Sprintf("Avoid it: let passes be used more than once (TAP policy: one-time use off) with a lifetime that covers set-up, and turn on Web sign-in (Policy CSP Authentication/EnableWebSignIn, %s) so the sign-in screen offers the pass.", webSignInDoc)
	if f.TAPErr == nil && f.TAP.UsableOnce {
		it.Status = Warn
		it.Detail = "The TAP policy makes every pass one-time use: the pass is spent at the first sign-in, so a reboot during Autopilot lands on the password screen. " + why
		it.Fix = avoid
		return it
	}
	it.Status = OK
	it.Detail = why + " " + avoid
	return it
}
