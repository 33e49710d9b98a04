package msgraph

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph/simtenant"
)

// Joiners asks Graph's documented advanced query, and the simulated tenant, which
// refuses employeeHireDate filters without ConsistencyLevel: eventual and $count=true,
// answers it.
func TestContractJoiners(t *testing.T) {
	srv, c, _ := contoso(t)
	tenant := srv.Tenant()
	now := time.Now().UTC().Truncate(time.Second)
	tenant.SetHireDate(simtenant.NinaID, now.Add(3*24*time.Hour))
	tenant.SetHireDate(simtenant.MaxID, now.Add(10*24*time.Hour)) // beyond the look-ahead
	got, err := c.Joiners(context.Background(), now, now.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != simtenant.NinaID || !got[0].HireDate.Equal(now.Add(3*24*time.Hour)) {
		t.Fatalf("Joiners = %+v, want Nina alone, hired in 3 days", got)
	}
	var asked bool
	for _, r := range srv.Requests() {
		if r.Path == "/v1.0/users" && strings.Contains(r.Query.Get("$filter"), "employeeHireDate ge ") {
			asked = r.Query.Get("$count") == "true" && r.Status == http.StatusOK
		}
	}
	if !asked {
		t.Fatalf("requests %+v, want the employeeHireDate filter sent as an advanced query ($count=true) and answered 200", srv.Requests())
	}
}

func TestFakeRefusesHireDateFilterWithoutAdvancedQuery(t *testing.T) {
	srv, _, _ := contoso(t)
	for _, q := range []string{
		"$filter=employeeHireDate%20ge%202026-01-01T00:00:00Z",             // no header, no $count
		"$filter=employeeHireDate%20le%202026-01-01T00:00:00Z&$count=true", // no header
		"$filter=displayName%20ge%20'a'&$count=true",                       // ge on a property without it
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/v1.0/users?"+q, nil)
		req.Header.Set("Authorization", "Bearer t")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
		}
	}
}
