// Package credential builds, from configuration and with azidentity, the Entra ID
// credential tapbot uses for every outbound call: the Bot Connector, Microsoft Graph
// and, with TAPBOT_DATABASE_AUTH=entra, the PostgreSQL login.
package credential

import (
	"fmt"
	"net/http"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Kind names a way to authenticate as the bot's app registration.
type Kind string

const (
	ClientSecret      Kind = "client-secret"
	ClientCertificate Kind = "client-certificate"
	ManagedIdentity   Kind = "managed-identity"
	WorkloadIdentity  Kind = "workload-identity"
)

// Kinds lists the accepted kinds, for validation messages.
var Kinds = []Kind{ClientSecret, ClientCertificate, ManagedIdentity, WorkloadIdentity}

// Config selects and parameterises the credential.
type Config struct {
	Kind     Kind
	TenantID string // token tenant: the bot's own tenant for single-tenant bots
	ClientID string // the bot's app id (or the user-assigned managed identity's client id)
	// Secret is the client secret (ClientSecret only). Never logged.
	Secret string
	// CertificatePath is a PEM or PKCS#12 file with the certificate and its private key.
	CertificatePath     string
	CertificatePassword string
	// TokenFilePath is the federated token file (WorkloadIdentity); default from
	// AZURE_FEDERATED_TOKEN_FILE as set by the AKS workload identity webhook.
	TokenFilePath string
	// AuthorityHost overrides Entra's host for sovereign clouds and tests.
	AuthorityHost string
	// Transport overrides the HTTP client (tests).
	Transport *http.Client
}

// New returns the configured credential. azidentity caches tokens itself; callers add
// their own in-memory cache for the hot path.
func New(c Config) (azcore.TokenCredential, error) {
	opts := azcore.ClientOptions{}
	if c.AuthorityHost != "" {
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: c.AuthorityHost}
	}
	if c.Transport != nil {
		opts.Transport = c.Transport
	}
	// A custom authority (sovereign cloud or test) cannot be validated against the
	// public cloud's instance discovery, which is unreachable from there anyway.
	disableDiscovery := c.AuthorityHost != ""
	switch c.Kind {
	case ClientSecret:
		cred, err := azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.Secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disableDiscovery})
		return wrap(cred, err, c.Kind)
	case ClientCertificate:
		data, err := os.ReadFile(c.CertificatePath)
		if err != nil {
			return nil, fmt.Errorf("credential: read certificate: %w", err)
		}
		var pw []byte
		if c.CertificatePassword != "" {
			pw = []byte(c.CertificatePassword)
		}
		certs, key, err := azidentity.ParseCertificates(data, pw)
		if err != nil {
			return nil, fmt.Errorf("credential: parse certificate %s: %w", c.CertificatePath, err)
		}
		cred, err := azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disableDiscovery, SendCertificateChain: true})
		return wrap(cred, err, c.Kind)
	case ManagedIdentity:
		cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
			ClientOptions: opts, ID: azidentity.ClientID(c.ClientID)})
		return wrap(cred, err, c.Kind)
	case WorkloadIdentity:
		cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, ClientID: c.ClientID, TenantID: c.TenantID, TokenFilePath: c.TokenFilePath,
			DisableInstanceDiscovery: disableDiscovery})
		return wrap(cred, err, c.Kind)
	}
	return nil, fmt.Errorf("credential: unknown kind %q (want one of %v)", c.Kind, Kinds)
}

func wrap(cred azcore.TokenCredential, err error, k Kind) (azcore.TokenCredential, error) {
	if err != nil {
		return nil, fmt.Errorf("credential: %s: %w", k, err)
	}
	return cred, nil
}
