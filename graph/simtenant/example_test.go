package simtenant_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tapbot/tapbot/graph/simtenant"
)

// A Contoso tenant served over TLS, called with plain net/http. msgraph-sdk-go is
// pointed at the same URL()+"/v1.0" with Client()'s transport.
func ExampleNewServer() {
	srv := simtenant.NewServer(simtenant.Contoso())
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL()+"/v1.0/users/"+simtenant.NinaUPN+"/authentication/temporaryAccessPassMethods",
		strings.NewReader(`{"lifetimeInMinutes":120}`))
	req.Header.Set("Authorization", "Bearer any-token")
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var tap struct {
		TemporaryAccessPass   string
		LifetimeInMinutes     int
		MethodUsabilityReason string
	}
	_ = json.NewDecoder(res.Body).Decode(&tap)
	fmt.Println(res.StatusCode, len(tap.TemporaryAccessPass), tap.LifetimeInMinutes, tap.MethodUsabilityReason)
	fmt.Println(srv.RequestCount(), "round trip")
	// Output:
	// 201 8 120 EnabledByPolicy
	// 1 round trip
}
