package simtenant

import (
	"net/http"
	"slices"
	"strings"

	"github.com/tapbot/tapbot/graph"
)

// Intune's side of device set-up, as far as doctor reads it: the Windows Hello for
// Business enrollment configuration and the Windows Autopilot deployment profiles.

// devicesState is the tenant's Intune objects.
type devicesState struct {
	whfb     []graph.WHfBEnrollment
	profiles []graph.AutopilotProfile
}

func (t *Tenant) devicesLocked() *devicesState {
	if t.devices == nil {
		t.devices = &devicesState{}
	}
	return t.devices
}

// SetWHfBEnrollment sets the state (graph.Enablement…) of the tenant's Windows Hello
// for Business enrollment configuration, the one Intune creates for every tenant
// ("Default Windows Hello for Business configuration", priority 0 as the default
// configurations have).
func (t *Tenant) SetWHfBEnrollment(state string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.devicesLocked().whfb = []graph.WHfBEnrollment{{ID: "whfb-default", DisplayName: "All users and all devices", State: state}}
}

// AddAutopilotProfile adds a deployment profile assigned to targets (none: a profile
// nobody assigned, which Intune allows and which reaches no device).
func (t *Tenant) AddAutopilotProfile(id, displayName string, targets ...graph.AssignmentTarget) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.devicesLocked()
	d.profiles = append(d.profiles, graph.AutopilotProfile{ID: id, DisplayName: displayName, Targets: slices.Clone(targets)})
}

// RemoveAutopilotProfiles deletes every deployment profile.
func (t *Tenant) RemoveAutopilotProfiles() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.devicesLocked().profiles = nil
}

// routeDeviceManagement serves v1.0's /deviceManagement: the enrollment
// configurations. windowsAutopilotDeploymentProfiles falls through to Graph's
// answer for a segment v1.0 does not have: the collection is beta only.
func (s *Server) routeDeviceManagement(c *call) reply {
	if len(c.segs) == 2 && strings.EqualFold(c.segs[1], "deviceEnrollmentConfigurations") {
		if c.method != http.MethodGet {
			return fail(errMethod())
		}
		return s.listEnrollmentConfigurations(c)
	}
	return fail(errSegment(c.segs[len(c.segs)-1]))
}

// listEnrollmentConfigurations answers
// https://learn.microsoft.com/en-us/graph/api/intune-onboarding-deviceenrollmentconfiguration-list
// with the shapes of the resource pages: every tenant also has the default
// enrollment limit configuration
// (https://learn.microsoft.com/en-us/graph/api/resources/intune-onboarding-deviceenrollmentlimitconfiguration),
// which a reader must skip.
func (s *Server) listEnrollmentConfigurations(c *call) reply {
	t := s.tenant
	t.mu.Lock()
	items := []map[string]any{{
		"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "id": "limit-default",
		"displayName": "All users and all devices", "description": "", "priority": 0, "version": 1, "limit": 15,
	}}
	for _, w := range t.devicesLocked().whfb {
		items = append(items, map[string]any{
			"@odata.type": "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration", "id": w.ID,
			"displayName": w.DisplayName, "description": "", "priority": w.Priority, "version": 1,
			"pinMinimumLength": 6, "pinMaximumLength": 127, "pinUppercaseCharactersUsage": "allowed",
			"pinLowercaseCharactersUsage": "allowed", "pinSpecialCharactersUsage": "allowed",
			"state": w.State, "securityDeviceRequired": false, "unlockWithBiometricsEnabled": true,
			"remotePassportEnabled": false, "pinPreviousBlockCount": 0, "pinExpirationInDays": 0,
			"enhancedBiometricsState": "notConfigured",
		})
	}
	size := t.PageSize
	t.mu.Unlock()
	return page(c, size, "deviceManagement/deviceEnrollmentConfigurations", items)
}

// routeBeta serves the one beta collection tapbot reads; anything else on beta is a
// request tapbot must not make.
func (s *Server) routeBeta(c *call) reply {
	if len(c.segs) == 2 && strings.EqualFold(c.segs[0], "deviceManagement") && strings.EqualFold(c.segs[1], "windowsAutopilotDeploymentProfiles") {
		if c.method != http.MethodGet {
			return fail(errMethod())
		}
		return s.listAutopilotProfiles(c)
	}
	return fail(gerr(http.StatusBadRequest, "BadRequest", "simtenant serves only deviceManagement/windowsAutopilotDeploymentProfiles on beta, not %s", strings.Join(c.segs, "/")))
}

// listAutopilotProfiles answers
// https://learn.microsoft.com/en-us/graph/api/intune-enrollment-windowsautopilotdeploymentprofile-list?view=graph-rest-beta
// in the shape of the beta resource page (azureADWindowsAutopilotDeploymentProfile,
// the Microsoft Entra join kind). assignments is a relationship: it comes back only
// with $expand=assignments, each a windowsAutopilotDeploymentProfileAssignment whose
// target is a deviceAndAppManagementAssignmentTarget.
func (s *Server) listAutopilotProfiles(c *call) reply {
	expand := slices.ContainsFunc(strings.Split(c.query.Get("$expand"), ","), func(e string) bool { return strings.EqualFold(strings.TrimSpace(e), "assignments") })
	t := s.tenant
	t.mu.Lock()
	var items []map[string]any
	for _, p := range t.devicesLocked().profiles {
		item := map[string]any{
			"@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile", "id": p.ID,
			"displayName": p.DisplayName, "description": "", "locale": "os-default", "deviceType": "windowsPc",
			"deviceNameTemplate": "", "preprovisioningAllowed": false, "hardwareHashExtractionEnabled": false,
			"outOfBoxExperienceSetting": map[string]any{"privacySettingsHidden": true, "eulaHidden": true,
				"userType": "standard", "deviceUsageType": "singleUser", "keyboardSelectionPageSkipped": true, "escapeLinkHidden": true},
		}
		if expand {
			var as []map[string]any
			for i, tg := range p.Targets {
				target := map[string]any{"@odata.type": "#microsoft.graph." + tg.Kind}
				if tg.GroupID != "" {
					target["groupId"] = tg.GroupID
				}
				as = append(as, map[string]any{"@odata.type": "#microsoft.graph.windowsAutopilotDeploymentProfileAssignment",
					"id": p.ID + "_" + string(rune('a'+i)), "target": target, "source": "direct", "sourceId": p.ID})
			}
			item["assignments"] = append([]map[string]any{}, as...)
		}
		items = append(items, item)
	}
	size := t.PageSize
	t.mu.Unlock()
	return page(c, size, "deviceManagement/windowsAutopilotDeploymentProfiles", items)
}
