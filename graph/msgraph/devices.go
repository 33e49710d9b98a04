package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/devicemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/tapbot/tapbot/graph"
)

// WHfBEnrollments lists Intune's Windows Hello for Business enrollment
// configurations:
//
//	GET /deviceManagement/deviceEnrollmentConfigurations
//
// (v1.0, https://learn.microsoft.com/en-us/graph/api/intune-onboarding-deviceenrollmentconfiguration-list;
// DeviceManagementServiceConfig.Read.All). The list holds every kind of enrollment
// configuration; only deviceEnrollmentWindowsHelloForBusinessConfiguration is kept.
func (c *Client) WHfBEnrollments(ctx context.Context) ([]graph.WHfBEnrollment, error) {
	b := c.sdk.DeviceManagement().DeviceEnrollmentConfigurations()
	var all []models.DeviceEnrollmentConfigurationable
	err := c.do(ctx, "list enrollment configurations", func(ctx context.Context) error {
		first, err := b.Get(ctx, nil)
		if err != nil {
			return err
		}
		all, err = collect(ctx, c, first, func(ctx context.Context, link string) (models.DeviceEnrollmentConfigurationCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, &devicemanagement.DeviceEnrollmentConfigurationsRequestBuilderGetRequestConfiguration{})
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []graph.WHfBEnrollment
	for _, cfg := range all {
		w, ok := cfg.(models.DeviceEnrollmentWindowsHelloForBusinessConfigurationable)
		if !ok {
			continue
		}
		e := graph.WHfBEnrollment{ID: deref(w.GetId()), DisplayName: deref(w.GetDisplayName()), Priority: int(deref(w.GetPriority()))}
		if s := w.GetState(); s != nil {
			e.State = s.String()
		}
		out = append(out, e)
	}
	return out, nil
}

// AutopilotProfiles lists the Windows Autopilot deployment profiles with their
// assignments:
//
//	GET https://graph.microsoft.com/beta/deviceManagement/windowsAutopilotDeploymentProfiles?$expand=assignments
//
// Graph serves this collection on beta only (its pages exist for beta alone, and the
// v1.0 SDK has no request builder for it;
// https://learn.microsoft.com/en-us/graph/api/intune-enrollment-windowsautopilotdeploymentprofile-list?view=graph-rest-beta,
// DeviceManagementServiceConfig.Read.All). tapbot's client is v1.0, and taking the
// whole beta SDK for one read would be out of proportion, so this one request is
// built by hand on the same adapter (token, retry, error mapping) with the base URL's
// version swapped for beta, and its answer decoded from the documented JSON. Only
// doctor calls it, and doctor reads a failure as "not checked".
func (c *Client) AutopilotProfiles(ctx context.Context) ([]graph.AutopilotProfile, error) {
	beta, err := c.betaBase()
	if err != nil {
		return nil, err
	}
	link := beta + "/deviceManagement/windowsAutopilotDeploymentProfiles?$expand=assignments"
	var out []graph.AutopilotProfile
	err = c.do(ctx, "list Autopilot profiles (beta)", func(ctx context.Context) error {
		out = nil
		for n := 0; link != ""; n++ {
			if n >= maxPages {
				return fmt.Errorf("more than %d pages", maxPages)
			}
			if !strings.HasPrefix(link, beta+"/") {
				return fmt.Errorf("nextLink outside %s", beta)
			}
			p, err := c.getBeta(ctx, link)
			if err != nil {
				return err
			}
			for _, v := range p.Value {
				out = append(out, v.profile())
			}
			link = p.NextLink
		}
		return nil
	})
	return out, err
}

// betaBase is the client's base URL with its version segment v1.0 replaced by beta.
func (c *Client) betaBase() (string, error) {
	root, ok := strings.CutSuffix(c.base, "/v1.0")
	if !ok {
		return "", fmt.Errorf("msgraph: base URL %s does not end in /v1.0, so the beta endpoint is unknown", c.base)
	}
	return root + "/beta", nil
}

// autopilotPage is the documented JSON of the beta collection, as far as tapbot reads it.
type autopilotPage struct {
	Value    []autopilotValue `json:"value"`
	NextLink string           `json:"@odata.nextLink"`
}

type autopilotValue struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Assignments []struct {
		Target struct {
			Type    string `json:"@odata.type"`
			GroupID string `json:"groupId"`
		} `json:"target"`
	} `json:"assignments"`
}

func (c *Client) getBeta(ctx context.Context, link string) (autopilotPage, error) {
	u, err := url.Parse(link)
	if err != nil {
		return autopilotPage{}, fmt.Errorf("beta link: %w", err)
	}
	info := abstractions.NewRequestInformation()
	info.Method = abstractions.GET
	info.SetUri(*u)
	info.Headers.TryAdd("Accept", "application/json")
	raw, err := c.adapter.SendPrimitive(ctx, info, "[]byte", abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		return autopilotPage{}, err
	}
	body, ok := raw.([]byte)
	if !ok {
		return autopilotPage{}, errors.New("answer has no body")
	}
	var p autopilotPage
	if err := json.Unmarshal(body, &p); err != nil {
		return autopilotPage{}, fmt.Errorf("decode Autopilot profiles: %w", err)
	}
	return p, nil
}

func (v autopilotValue) profile() graph.AutopilotProfile {
	p := graph.AutopilotProfile{ID: v.ID, DisplayName: v.DisplayName}
	for _, a := range v.Assignments {
		kind := a.Target.Type[strings.LastIndex(a.Target.Type, ".")+1:]
		p.Targets = append(p.Targets, graph.AssignmentTarget{Kind: kind, GroupID: a.Target.GroupID})
	}
	return p
}
