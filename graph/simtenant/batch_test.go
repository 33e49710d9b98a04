package simtenant

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// responsesByID indexes a $batch answer's responses.
func responsesByID(t *testing.T, r *resp) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, v := range r.body["responses"].([]any) {
		item := v.(map[string]any)
		out[item["id"].(string)] = item
	}
	return out
}

func itemBodyOf(item map[string]any) map[string]any {
	b, _ := item["body"].(map[string]any)
	return b
}

// TestBatchAsTheSDKSendsIt posts the shape msgraph-sdk-go-core's BatchRequest writes:
// uuid ids, lower-case headers, body null on GETs, dependsOn always present, URLs
// relative to the version root with kiota's %24-escaped query options.
func TestBatchAsTheSDKSendsIt(t *testing.T) {
	h := newHarness(t)
	body := `{"requests":[
		{"id":"0b6f1c3e-7d2a-4a55-9c61-1f1e0d2c3b4a","method":"GET","url":"/users/` + kiotaSegment(GregUPN) + `?%24select=id,accountEnabled,userType","headers":{"accept":"application/json"},"body":null,"dependsOn":[]},
		{"id":"1c7f2d4f-8e3b-4b66-8d72-2a2f1e3d4c5b","method":"GET","url":"/users/` + kiotaSegment(NinaUPN) + `/transitiveMemberOf?%24select=id,displayName,isAssignableToRole&%24top=999","headers":{"accept":"application/json"},"body":null,"dependsOn":[]},
		{"id":"2d803e5a-9f4c-4c77-9e83-3b3a2f4e5d6c","method":"POST","url":"/users/` + kiotaSegment(NinaUPN) + `/checkMemberGroups","headers":{"accept":"application/json","content-type":"application/json"},"body":{"groupIds":["` + GroupNewHires + `","` + GroupProtected + `"]},"dependsOn":[]},
		{"id":"3e914f6b-a05d-4d88-af94-4c4b3a5f6e7d","method":"GET","url":"/users/` + kiotaSegment(NinaUPN) + `/authentication/temporaryAccessPassMethods","headers":{"accept":"application/json"},"dependsOn":[]}
	]}`
	r := h.do("POST", "/$batch", body).want(t, 200, "")
	items := responsesByID(t, r)
	if len(items) != 4 {
		t.Fatalf("%d responses, want 4\n%v", len(items), r.body)
	}
	user := items["0b6f1c3e-7d2a-4a55-9c61-1f1e0d2c3b4a"]
	if user["status"] != 200.0 || itemBodyOf(user)["accountEnabled"] != true || itemBodyOf(user)["userType"] != "Guest" {
		t.Errorf("user item %v, want 200 with accountEnabled true and userType Guest", user)
	}
	if hdr := user["headers"].(map[string]any); !strings.HasPrefix(hdr["Content-Type"].(string), "application/json") {
		t.Errorf("headers %v, want Content-Type application/json (the SDK looks up \"Content-Type\")", hdr)
	}
	if memberOf := itemBodyOf(items["1c7f2d4f-8e3b-4b66-8d72-2a2f1e3d4c5b"])["value"].([]any); fmt.Sprint(memberOf) != "[map[@odata.type:#microsoft.graph.group displayName:New hires id:"+GroupNewHires+" isAssignableToRole:false]]" {
		t.Errorf("memberOf %v, want New hires alone with id, displayName and isAssignableToRole false", memberOf)
	}
	if groups := itemBodyOf(items["2d803e5a-9f4c-4c77-9e83-3b3a2f4e5d6c"])["value"].([]any); fmt.Sprint(groups) != "["+GroupNewHires+"]" {
		t.Errorf("checkMemberGroups %v, want [%s]", groups, GroupNewHires)
	}
	if taps := itemBodyOf(items["3e914f6b-a05d-4d88-af94-4c4b3a5f6e7d"])["value"].([]any); len(taps) != 0 {
		t.Errorf("passes %v, want none", taps)
	}
	if h.srv.RequestCount() != 1 {
		t.Errorf("RequestCount = %d, want 1: a batch is one round trip", h.srv.RequestCount())
	}
	sub := h.srv.BatchedRequests()
	if len(sub) != 4 || sub[0].Method != "GET" || sub[0].Path != "/v1.0/users/"+GregUPN || sub[0].Query.Get("$select") != "id,accountEnabled,userType" ||
		sub[2].Method != "POST" || sub[2].Path != "/v1.0/users/"+NinaUPN+"/checkMemberGroups" || sub[2].Status != 200 {
		t.Errorf("batched requests %+v, want 4: GET /v1.0/users/%s with $select=id,accountEnabled,userType first, POST .../checkMemberGroups answered 200 third", sub, GregUPN)
	}
	if top := h.srv.Requests(); top[0].Path != "/v1.0/$batch" || top[0].Status != 200 {
		t.Errorf("top-level requests %+v, want /v1.0/$batch answered 200", top)
	}
}

// kiotaSegment escapes a path segment as kiota does for {user%2Did}.
func kiotaSegment(s string) string { return strings.ReplaceAll(s, "#", "%23") }

func TestBatchPerItemErrors(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/$batch", map[string]any{"requests": []map[string]any{
		{"id": "ok", "method": "GET", "url": "users/" + GwenID + "/transitiveMemberOf/microsoft.graph.directoryRole?$count=true", "headers": map[string]string{"ConsistencyLevel": "eventual"}},
		{"id": "cast", "method": "GET", "url": "users/" + GwenID + "/transitiveMemberOf/microsoft.graph.directoryRole"},
		{"id": "missing", "method": "GET", "url": "/users/nobody@contoso.com"},
		{"id": "refused", "method": "POST", "url": tapPath(ColinID), "headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{}},
		{"id": "created", "method": "POST", "url": tapPath(NinaID), "headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"lifetimeInMinutes": 30}},
		{"id": "no-type", "method": "POST", "url": tapPath(NinaID), "body": map[string]any{}},
		{"id": "absolute", "method": "GET", "url": h.srv.URL() + "/v1.0/users"},
		{"id": "nested", "method": "POST", "url": "/$batch", "headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"requests": []any{}}},
		{"id": "verb", "method": "PUT", "url": "/users/" + NinaID},
	}}).want(t, 200, "")
	items := responsesByID(t, r)
	for id, want := range map[string]string{
		"ok": "200 ", "cast": "400 Request_UnsupportedQuery", "missing": "404 Request_ResourceNotFound", "refused": "400 badRequest", "created": "201 ",
		"no-type": "400 BadRequest", "absolute": "400 BadRequest", "nested": "400 BadRequest", "verb": "405 Request_BadRequest",
	} {
		item := items[id]
		e, _ := itemBodyOf(item)["error"].(map[string]any)
		code, _ := e["code"].(string)
		if got := fmt.Sprintf("%v %s", item["status"], code); got != want {
			t.Errorf("%s: status and code %q, want %q", id, got, want)
		}
		if e != nil {
			inner := e["innerError"].(map[string]any)
			if !guidRE.MatchString(inner["request-id"].(string)) {
				t.Errorf("%s: innerError %v, want a GUID request-id", id, inner)
			}
		}
	}
	if roles := itemBodyOf(items["ok"])["value"].([]any); len(roles) != 1 {
		t.Errorf("Gwen's roles %v, want 1", roles)
	}
	if v, _ := itemBodyOf(items["created"])["temporaryAccessPass"].(string); len(v) != 8 {
		t.Errorf("created in a batch: %v, want an 8-character temporaryAccessPass", items["created"])
	}
	if n := len(h.tenant.TAPsOf(NinaID)); n != 1 {
		t.Errorf("Nina has %d passes, want 1", n)
	}
}

func TestBatchRefusedWhole(t *testing.T) {
	h := newHarness(t)
	item := func(id string) map[string]any {
		return map[string]any{"id": id, "method": "GET", "url": "/users/" + NinaID}
	}
	var twentyOne []map[string]any
	for i := range 21 {
		twentyOne = append(twentyOne, item(fmt.Sprint(i)))
	}
	for name, body := range map[string]any{
		"21 requests":      map[string]any{"requests": twentyOne},
		"none":             map[string]any{"requests": []any{}},
		"no requests":      map[string]any{},
		"not JSON":         `{"requests":[`,
		"duplicate id":     map[string]any{"requests": []map[string]any{item("a"), item("A")}},
		"missing url":      map[string]any{"requests": []map[string]any{{"id": "1", "method": "GET"}}},
		"unknown depends":  map[string]any{"requests": []map[string]any{{"id": "1", "method": "GET", "url": "/users", "dependsOn": []string{"9"}}}},
		"dependency cycle": map[string]any{"requests": []map[string]any{{"id": "1", "method": "GET", "url": "/users", "dependsOn": []string{"2"}}, {"id": "2", "method": "GET", "url": "/users", "dependsOn": []string{"1"}}}},
		"headers not text": `{"requests":[{"id":"1","method":"GET","url":"/users","headers":{"a":1}}]}`,
	} {
		if r := h.do("POST", "/$batch", body); r.status != 400 || r.errCode() != "BadRequest" {
			t.Errorf("%s: %d %q, want 400 \"BadRequest\"", name, r.status, r.errCode())
		}
	}
	if n := len(h.srv.BatchedRequests()); n != 0 {
		t.Errorf("%d items ran from refused batches, want 0", n)
	}
	twenty := twentyOne[:20]
	if r := h.do("POST", "/$batch", map[string]any{"requests": twenty}).want(t, 200, ""); len(r.body["responses"].([]any)) != 20 {
		t.Errorf("20 requests answered %v, want 20 responses", r.body)
	}
}

func TestBatchDependsOn(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/$batch", map[string]any{"requests": []map[string]any{
		// Listed first, runs after "create" it depends on.
		{"id": "list", "method": "GET", "url": tapPath(NinaID), "dependsOn": []string{"create"}},
		{"id": "create", "method": "POST", "url": tapPath(NinaID), "headers": map[string]string{"content-type": "application/json"}, "body": map[string]any{}},
		{"id": "refused", "method": "POST", "url": tapPath(ColinID), "headers": map[string]string{"content-type": "application/json"}, "body": map[string]any{}},
		{"id": "after-refused", "method": "GET", "url": tapPath(ColinID), "dependsOn": []string{"refused"}},
	}}).want(t, 200, "")
	items := responsesByID(t, r)
	if v := itemBodyOf(items["list"])["value"].([]any); len(v) != 1 {
		t.Errorf("list %v, want the pass create made (list must run after create)", items["list"])
	}
	if items["after-refused"]["status"] != 424.0 {
		t.Errorf("dependent of a failure %v, want status 424", items["after-refused"])
	}
	// Responses keep the request order.
	var ids []string
	for _, v := range r.body["responses"].([]any) {
		ids = append(ids, v.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "list,create,refused,after-refused" {
		t.Errorf("response order %v, want list,create,refused,after-refused", ids)
	}
}

func TestBatchBase64Body(t *testing.T) {
	h := newHarness(t)
	raw := base64.StdEncoding.EncodeToString([]byte(`{"groupIds":["` + GroupStaff + `"]}`))
	r := h.do("POST", "/$batch", map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "POST", "url": "/users/" + HanaID + "/checkMemberGroups", "headers": map[string]string{"Content-Type": "application/json"}, "body": raw},
		{"id": "2", "method": "POST", "url": "/users/" + HanaID + "/checkMemberGroups", "headers": map[string]string{"Content-Type": "application/json"}, "body": "%%%"},
	}}).want(t, 200, "")
	items := responsesByID(t, r)
	if v := itemBodyOf(items["1"])["value"].([]any); len(v) != 1 {
		t.Errorf("base64 body answered %v, want 1 group", items["1"])
	}
	if items["2"]["status"] != 400.0 {
		t.Errorf("bad base64 answered %v, want status 400", items["2"])
	}
}

func TestBatchForbiddenAndFaults(t *testing.T) {
	h := newHarness(t)
	h.srv.Forbid("/roleManagement")
	h.srv.FailNext(1, 429, "2")
	batch := map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "GET", "url": "/roleManagement/directory/roleEligibilityScheduleInstances"},
		{"id": "2", "method": "GET", "url": "/users/" + PaulID},
	}}
	h.do("POST", "/$batch", batch).want(t, 429, "TooManyRequests")
	items := responsesByID(t, h.do("POST", "/$batch", batch).want(t, 200, ""))
	if items["1"]["status"] != 403.0 || items["2"]["status"] != 200.0 {
		t.Errorf("items %v, want 1: 403 and 2: 200", items)
	}
	if h.srv.RequestCount() != 2 || len(h.srv.BatchedRequests()) != 2 {
		t.Errorf("%d round trips and %d batched requests, want 2 and 2", h.srv.RequestCount(), len(h.srv.BatchedRequests()))
	}
}
