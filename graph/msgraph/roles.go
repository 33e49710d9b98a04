package msgraph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// maxTokenBytes bounds the token GrantedRoles decodes. Entra access tokens are a few
// KiB even with many roles.
const maxTokenBytes = 64 << 10

// errUnreadableToken says the credential's token is not a JWT whose payload can be read.
var errUnreadableToken = errors.New("the access token is not a readable JWT")

// GrantedRoles returns the application permissions (app roles) Microsoft Graph grants
// tapbot: the roles claim of the access token the client's credential gets for
// Graph, sorted. The token comes through the same authentication provider as every
// call, so it is the one requests carry. Its payload is decoded without checking the
// signature: it is tapbot's own token, fresh from Entra over TLS, and nothing is
// authorised on it here. The token itself is never logged or returned, and errors do
// not quote it.
//
// Entra documents access tokens as opaque to clients; Graph's are JWTs today. If that
// changes, GrantedRoles fails with an error rather than guessing.
func (c *Client) GrantedRoles(ctx context.Context) ([]string, error) {
	var roles []string
	err := c.do(ctx, "read granted roles", func(ctx context.Context) error {
		token, err := c.bearerToken(ctx)
		if err != nil {
			return err
		}
		roles, err = rolesClaim(token)
		return err
	})
	return roles, err
}

// bearerToken asks the adapter to authenticate a request to Graph's root (it is
// never sent) and takes the token from its Authorization header.
func (c *Client) bearerToken(ctx context.Context) (string, error) {
	info, err := c.sdk.Organization().ToGetRequestInformation(ctx, nil)
	if err != nil {
		return "", err
	}
	native, err := c.adapter.ConvertToNativeRequest(ctx, info)
	if err != nil {
		return "", fmt.Errorf("get a token: %w", err)
	}
	req, ok := native.(*http.Request)
	if !ok {
		return "", errors.New("get a token: the adapter built no HTTP request")
	}
	scheme, token, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", errors.New("get a token: the credential attached no bearer token")
	}
	return strings.TrimSpace(token), nil
}

// rolesClaim reads the roles claim of a JWT (JWS compact serialisation: header,
// payload and signature, base64url without padding). A token without the claim has
// no application permissions: the answer is empty, not an error.
func rolesClaim(token string) ([]string, error) {
	if len(token) > maxTokenBytes {
		return nil, errUnreadableToken
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errUnreadableToken // an encrypted token (JWE) has five parts
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errUnreadableToken
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, errUnreadableToken
	}
	roles := []string{}
	for _, r := range claims.Roles {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	slices.Sort(roles)
	return roles, nil
}
