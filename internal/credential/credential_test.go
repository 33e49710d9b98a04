package credential_test

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/tapbot/tapbot/internal/bftest"
	"github.com/tapbot/tapbot/internal/credential"
)

func TestClientSecretAgainstFakeEntra(t *testing.T) {
	cloud, err := bftest.New(bftest.Options{ClientSecret: "right"})
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	for _, tt := range []struct {
		secret string
		ok     bool
	}{{"right", true}, {"wrong", false}} {
		cred, err := credential.New(credential.Config{Kind: credential.ClientSecret, TenantID: cloud.TenantID(),
			ClientID: cloud.AppID(), Secret: tt.secret, AuthorityHost: cloud.AuthorityHost(), Transport: cloud.Client()})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://api.botframework.com/.default"}})
		if (err == nil) != tt.ok {
			t.Fatalf("secret %q: token %q err %v", tt.secret, tok.Token, err)
		}
		if err != nil && strings.Contains(err.Error(), tt.secret) {
			t.Fatal("credential error echoes the secret")
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  credential.Config
		want string
	}{
		{credential.Config{Kind: "magic"}, "unknown kind"},
		{credential.Config{Kind: credential.ClientCertificate, CertificatePath: "/nonexistent.pem"}, "read certificate"},
	}
	for _, tt := range tests {
		if _, err := credential.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: want %q, got %v", tt.cfg, tt.want, err)
		}
	}
}
