package simtenant

import (
	"net/http"
	"strings"
	"time"

	"github.com/tapbot/tapbot/graph"
)

// methodKind describes one authentication method type: its @odata.type, the
// navigation property that lists it, and a well-known id where Graph uses one.
type methodKind struct {
	odataType string
	segment   string
	fixedID   string
	// json adds the type's own properties to the common id/@odata.type.
	json func(m graph.Method, obj map[string]any)
}

// methodKinds maps graph.Method.Type to its wire form (authentication methods API
// overview and the per-type resource pages).
var methodKinds = map[string]methodKind{
	"microsoftAuthenticator": {
		odataType: "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
		segment:   "microsoftAuthenticatorMethods",
		json: func(m graph.Method, obj map[string]any) {
			obj["displayName"] = m.DisplayName
			obj["deviceTag"] = "SoftwareTokenActivated"
			obj["phoneAppVersion"] = "6.2401.0119"
			// "This property is null if the device isn't registered for passwordless
			// Phone Sign-In" (createdDateTime and device,
			// https://learn.microsoft.com/en-us/graph/api/resources/microsoftauthenticatorauthenticationmethod).
			if m.MFAOnly {
				obj["createdDateTime"] = nil
			} else {
				obj["createdDateTime"] = graphTime(m.Created)
			}
		},
	},
	"windowsHelloForBusiness": {
		odataType: "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
		segment:   "windowsHelloForBusinessMethods",
		json: func(m graph.Method, obj map[string]any) {
			obj["displayName"] = m.DisplayName
			obj["createdDateTime"] = graphTime(m.Created)
			obj["keyStrength"] = "normal"
		},
	},
	"fido2": {
		odataType: "#microsoft.graph.fido2AuthenticationMethod",
		segment:   "fido2Methods",
		json: func(m graph.Method, obj map[string]any) {
			obj["displayName"] = m.DisplayName
			obj["createdDateTime"] = graphTime(m.Created)
			obj["aaGuid"] = "2fc0579f-8113-47ea-b116-555a8db9202a" // YubiKey 5 NFC
			obj["model"] = "YubiKey 5 NFC"
			obj["attestationCertificates"] = []string{}
			obj["attestationLevel"] = "attested"
		},
	},
	"phone": {
		odataType: "#microsoft.graph.phoneAuthenticationMethod",
		segment:   "phoneMethods",
		fixedID:   "3179e48a-750b-4051-897c-87b9720928f7", // Graph's id for the mobile phone
		json: func(m graph.Method, obj map[string]any) {
			obj["phoneNumber"] = m.DisplayName
			obj["phoneType"] = "mobile"
			obj["smsSignInState"] = "notAllowedByPolicy"
		},
	},
	"email": {
		odataType: "#microsoft.graph.emailAuthenticationMethod",
		segment:   "emailMethods",
		fixedID:   "3ddfcfc8-9383-446f-83cc-3ab9be4be18f", // Graph's id for the email method
		json: func(m graph.Method, obj map[string]any) {
			obj["emailAddress"] = m.DisplayName
		},
	},
	"password": {
		odataType: "#microsoft.graph.passwordAuthenticationMethod",
		segment:   "passwordMethods",
		fixedID:   "28c10230-6103-485e-b985-444c60001490", // Graph's id for the password
		json: func(m graph.Method, obj map[string]any) {
			obj["password"] = nil // never returned
			obj["createdDateTime"] = graphTime(m.Created)
		},
	},
	"softwareOath": {
		odataType: "#microsoft.graph.softwareOathAuthenticationMethod",
		segment:   "softwareOathMethods",
		json: func(m graph.Method, obj map[string]any) {
			obj["secretKey"] = nil // never returned
		},
	},
}

const tapODataType = "#microsoft.graph.temporaryAccessPassAuthenticationMethod"

func methodJSON(m graph.Method) map[string]any {
	kind := methodKinds[m.Type]
	obj := map[string]any{"@odata.type": kind.odataType, "id": m.ID}
	kind.json(m, obj)
	return obj
}

// tapJSON is a pass on the wire. temporaryAccessPass is null except in the answer to
// its creation, as the List example shows.
func tapJSON(v graph.TAP) map[string]any {
	var value any
	if !v.Value.IsZero() {
		value = v.Value.Reveal()
	}
	return map[string]any{
		"@odata.type":           tapODataType,
		"id":                    v.ID,
		"temporaryAccessPass":   value,
		"createdDateTime":       graphTime(v.Created),
		"startDateTime":         graphTime(v.Start),
		"lifetimeInMinutes":     int(v.Lifetime / time.Minute),
		"isUsableOnce":          v.UsableOnce,
		"isUsable":              v.Usable,
		"methodUsabilityReason": v.UsabilityReason,
	}
}

// routeAuthentication serves /users/{ref}/authentication/{seg}/{rest...}.
func (s *Server) routeAuthentication(c *call, ref, seg string, rest []string) reply {
	lower := strings.ToLower(seg)
	switch {
	case lower == "methods" && len(rest) == 0:
		if c.method != http.MethodGet {
			return fail(errMethod())
		}
		return s.listMethods(c, ref, "")
	case lower == "temporaryaccesspassmethods" && len(rest) == 0:
		switch c.method {
		case http.MethodGet:
			return s.listMethods(c, ref, "temporaryAccessPass")
		case http.MethodPost:
			return s.createTAP(c, ref)
		}
		return fail(errMethod())
	case lower == "temporaryaccesspassmethods" && len(rest) == 1:
		switch c.method {
		case http.MethodGet, http.MethodDelete:
			return s.tapItem(c, ref, rest[0])
		}
		return fail(errMethod())
	case len(rest) == 0:
		for typ, kind := range methodKinds {
			if strings.EqualFold(kind.segment, seg) {
				if c.method != http.MethodGet {
					return fail(errMethod())
				}
				return s.listMethods(c, ref, typ)
			}
		}
	}
	if len(rest) > 0 {
		return fail(errSegment(rest[len(rest)-1]))
	}
	return fail(errSegment(seg))
}

// listMethods answers a user's methods of one type, or all of them when typ is "".
// These lists are not paged: a user has a handful of methods.
func (s *Server) listMethods(c *call, ref, typ string) reply {
	return s.withUser(ref, func(t *Tenant, u *user) reply {
		value := []map[string]any{}
		for _, m := range t.methods[u.ID] {
			if typ == "" || m.Type == typ {
				value = append(value, methodJSON(m))
			}
		}
		if tp := t.taps[u.ID]; tp != nil && (typ == "" || typ == "temporaryAccessPass") {
			value = append(value, tapJSON(t.tapValueLocked(u.ID, tp, false)))
		}
		nav := "methods"
		if typ != "" {
			nav = typ + "Methods"
			if kind, ok := methodKinds[typ]; ok {
				nav = kind.segment
			}
			// A list of one derived type carries no per-item @odata.type.
			for _, v := range value {
				delete(v, "@odata.type")
			}
		}
		return ok(map[string]any{
			"@odata.context": c.context("users('" + u.ID + "')/authentication/" + nav),
			"value":          value,
		})
	})
}

func (s *Server) createTAP(c *call, ref string) reply {
	var in struct {
		StartDateTime     *string `json:"startDateTime"`
		LifetimeInMinutes *int    `json:"lifetimeInMinutes"`
		IsUsableOnce      *bool   `json:"isUsableOnce"`
	}
	if err := decodeJSON(c.body, &in); err != nil {
		return fail(err)
	}
	p := tapParams{lifetime: in.LifetimeInMinutes, usableOnce: in.IsUsableOnce}
	if in.StartDateTime != nil {
		start, err := time.Parse(time.RFC3339Nano, *in.StartDateTime)
		if err != nil {
			return fail(gerr(http.StatusBadRequest, "badRequest", "Invalid StartDateTime specified: '%s'.", *in.StartDateTime))
		}
		p.start = &start
	}
	return s.withUser(ref, func(t *Tenant, u *user) reply {
		tp, err := t.createTAPLocked(u, p)
		if err != nil {
			return fail(err)
		}
		v := tapJSON(t.tapValueLocked(u.ID, tp, true))
		v["@odata.context"] = c.context("users('" + u.ID + "')/authentication/temporaryAccessPassMethods/$entity")
		return created(v)
	})
}

// tapItem answers GET or DELETE of one pass.
func (s *Server) tapItem(c *call, ref, id string) reply {
	return s.withUser(ref, func(t *Tenant, u *user) reply {
		tp := t.taps[u.ID]
		if tp == nil || !strings.EqualFold(tp.id, id) {
			// Graph's generic not-found code; the authentication methods service's exact
			// text is not documented.
			return fail(gerr(http.StatusNotFound, "itemNotFound", "The Temporary Access Pass method '%s' was not found.", id))
		}
		if c.method == http.MethodDelete {
			delete(t.taps, u.ID)
			return noContent()
		}
		v := tapJSON(t.tapValueLocked(u.ID, tp, false))
		delete(v, "@odata.type")
		v["@odata.context"] = c.context("users('" + u.ID + "')/authentication/temporaryAccessPassMethods/$entity")
		return ok(v)
	})
}
