package simtenant

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tapbot/tapbot/graph"
)

// The OData query options the fake understands: $filter with eq comparisons joined by
// and/or, $select, $top and server-driven paging with $skiptoken. Anything else in a
// $filter is refused the way the directory refuses an unsupported query, so a client
// cannot come to rely on something Graph would not answer.

// filterExpr is a parsed $filter: a comparison or an and/or of two expressions.
type filterExpr struct {
	op          string // "eq", "ge", "le" or "in" for a comparison, else "and" / "or"
	prop        string // comparison: property name, lower-case
	value       literal
	values      []literal // "in": the list
	left, right *filterExpr
}

// kindStringIn marks a string property that supports "in" as well as "eq", as Graph's
// resource pages say property by property ("Supports $filter (eq, in)").
const kindStringIn = "string+in"

// kindDateTimeAdvanced marks a DateTimeOffset property that supports eq, ge and le
// only in advanced queries (employeeHireDate: "Support for filter by properties of
// Microsoft Entra ID (directory) objects", https://learn.microsoft.com/en-us/graph/aad-advanced-queries).
const kindDateTimeAdvanced = "datetime+advanced"

// literalKind is the literal kind a property's filter kind compares with.
func literalKind(kind string) string {
	switch kind {
	case kindStringIn:
		return "string"
	case kindDateTimeAdvanced:
		return "datetime"
	}
	return kind
}

// literal is an OData primitive literal: a string, a boolean or null. null parses (it
// is valid OData) but no property the fake filters on accepts it: the directory needs
// an advanced query for "eq null".
type literal struct {
	kind string // "string", "bool", "datetime" or "null"
	str  string
	b    bool
	t    time.Time
}

// filterError is a $filter the fake refuses; unsupported distinguishes a well-formed
// query Graph would not run (Request_UnsupportedQuery) from a syntax error (BadRequest).
type filterError struct {
	unsupported bool
	prop        string // the property an unsupported comparison is on, if that is the reason
	msg         string
}

func (e *filterError) Error() string {
	if e.prop != "" {
		return "unsupported filter on property " + e.prop
	}
	return e.msg
}

// parseFilter parses s. props maps the filterable properties (lower-case) to their
// literal kind; any other property is unsupported.
func parseFilter(s string, props map[string]string) (*filterExpr, error) {
	p := &filterParser{src: s, props: props}
	if err := p.lex(); err != nil {
		return nil, err
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, p.syntax("unexpected '%s'", p.toks[p.pos].text)
	}
	return e, nil
}

type token struct {
	kind string // "ident", "string", "(", ")", ","
	text string // identifier or keyword as written; unquoted string value
	at   int    // byte offset, for messages
}

type filterParser struct {
	src   string
	props map[string]string
	toks  []token
	pos   int
}

func (p *filterParser) syntax(format string, args ...any) error {
	return &filterError{msg: fmt.Sprintf("Invalid filter clause: "+format+" in '%s'.", append(args, p.src)...)}
}

func (p *filterParser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			p.toks = append(p.toks, token{kind: string(c), text: string(c), at: i})
			i++
		case c == '\'':
			// A string literal; a quote inside it is written twice ('O''Brien').
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return p.syntax("unterminated string literal at position %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			p.toks = append(p.toks, token{kind: "string", text: b.String(), at: i})
			i = j + 1
		case c >= '0' && c <= '9':
			// A number or a DateTimeOffset literal (2026-12-01T08:00:00Z), unquoted in OData.
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] == '-' || s[j] == ':' || s[j] == '.') {
				j++
			}
			p.toks = append(p.toks, token{kind: "number", text: s[i:j], at: i})
			i = j
		case isIdentByte(c):
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] == '.' || s[j] == '/') {
				j++
			}
			p.toks = append(p.toks, token{kind: "ident", text: s[i:j], at: i})
			i = j
		default:
			return p.syntax("syntax error at position %d", i)
		}
	}
	if len(p.toks) == 0 {
		return p.syntax("empty expression")
	}
	return nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *filterParser) peekKeyword(kw string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == "ident" && p.toks[p.pos].text == kw
}

func (p *filterParser) or() (*filterExpr, error) {
	left, err := p.and()
	for err == nil && p.peekKeyword("or") {
		p.pos++
		var right *filterExpr
		if right, err = p.and(); err == nil {
			left = &filterExpr{op: "or", left: left, right: right}
		}
	}
	return left, err
}

func (p *filterParser) and() (*filterExpr, error) {
	left, err := p.primary()
	for err == nil && p.peekKeyword("and") {
		p.pos++
		var right *filterExpr
		if right, err = p.primary(); err == nil {
			left = &filterExpr{op: "and", left: left, right: right}
		}
	}
	return left, err
}

func (p *filterParser) primary() (*filterExpr, error) {
	if p.pos >= len(p.toks) {
		return nil, p.syntax("expression expected at end of input")
	}
	t := p.toks[p.pos]
	if t.kind == "(" {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != ")" {
			return nil, p.syntax("')' expected")
		}
		p.pos++
		return e, nil
	}
	if t.kind != "ident" {
		return nil, p.syntax("syntax error at position %d", t.at)
	}
	p.pos++
	if p.pos < len(p.toks) && p.toks[p.pos].kind == "(" {
		// startswith(...), any(...) and other functions: valid OData the fake does not run.
		return nil, &filterError{unsupported: true, msg: "Unsupported Query."}
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != "ident" {
		return nil, p.syntax("operator expected after '%s'", t.text)
	}
	op := p.toks[p.pos].text
	switch op {
	case "eq":
	case "in":
		p.pos++
		return p.inList(t)
	case "ge", "le":
		if p.props[strings.ToLower(t.text)] != kindDateTimeAdvanced {
			return nil, &filterError{unsupported: true, msg: "Unsupported Query."}
		}
	case "ne", "gt", "lt", "has":
		return nil, &filterError{unsupported: true, msg: "Unsupported Query."}
	default:
		return nil, p.syntax("unknown operator '%s' at position %d", op, p.toks[p.pos].at)
	}
	p.pos++
	if p.pos >= len(p.toks) {
		return nil, p.syntax("literal expected after '%s'", op)
	}
	v := p.toks[p.pos]
	p.pos++
	var lit literal
	switch {
	case v.kind == "string":
		lit = literal{kind: "string", str: v.text}
	case v.kind == "ident" && (v.text == "true" || v.text == "false"):
		lit = literal{kind: "bool", b: v.text == "true"}
	case v.kind == "ident" && v.text == "null":
		lit = literal{kind: "null"}
	case v.kind == "number":
		at, err := time.Parse(time.RFC3339Nano, v.text)
		if err != nil {
			return nil, p.syntax("literal expected at position %d", v.at)
		}
		lit = literal{kind: "datetime", t: at}
	default:
		return nil, p.syntax("literal expected at position %d", v.at)
	}
	kind, known := p.props[strings.ToLower(t.text)]
	if !known || lit.kind != literalKind(kind) {
		return nil, &filterError{unsupported: true, prop: t.text}
	}
	return &filterExpr{op: op, prop: strings.ToLower(t.text), value: lit}, nil
}

// inList parses "('a', 'b')" after "prop in": string literals only, and only on
// properties documented to support "in".
func (p *filterParser) inList(prop token) (*filterExpr, error) {
	if p.props[strings.ToLower(prop.text)] != kindStringIn {
		return nil, &filterError{unsupported: true, prop: prop.text}
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != "(" {
		return nil, p.syntax("'(' expected after 'in'")
	}
	p.pos++
	var values []literal
	for {
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != "string" {
			return nil, p.syntax("string literal expected in the 'in' list")
		}
		values = append(values, literal{kind: "string", str: p.toks[p.pos].text})
		p.pos++
		if p.pos < len(p.toks) && p.toks[p.pos].kind == "," {
			p.pos++
			continue
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != ")" {
			return nil, p.syntax("')' expected")
		}
		p.pos++
		return &filterExpr{op: "in", prop: strings.ToLower(prop.text), values: values}, nil
	}
}

// match evaluates the filter against an object's property values, keyed by lower-case
// name. String comparisons are case-insensitive, as in the directory.
func (e *filterExpr) match(get func(prop string) any) bool {
	switch e.op {
	case "and":
		return e.left.match(get) && e.right.match(get)
	case "or":
		return e.left.match(get) || e.right.match(get)
	case "in":
		v, ok := get(e.prop).(string)
		return ok && slices.ContainsFunc(e.values, func(l literal) bool { return strings.EqualFold(v, l.str) })
	}
	switch v := get(e.prop).(type) {
	case string:
		if e.value.kind == "datetime" {
			return compareTime(v, e.op, e.value.t)
		}
		return e.value.kind == "string" && strings.EqualFold(v, e.value.str)
	case bool:
		return e.value.kind == "bool" && v == e.value.b
	}
	return false
}

// keeps reports whether obj passes the filter; a nil filter (no $filter) keeps
// everything.
func (e *filterExpr) keeps(obj map[string]any) bool {
	return e == nil || e.match(func(p string) any { return lookupFold(obj, p) })
}

// compareTime applies eq, ge or le to a DateTimeOffset as the fake writes it.
func compareTime(v, op string, lit time.Time) bool {
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return false
	}
	switch op {
	case "ge":
		return !at.Before(lit)
	case "le":
		return !at.After(lit)
	}
	return at.Equal(lit)
}

// needsAdvanced reports whether any comparison is on a property that supports
// $filter only in advanced queries.
func (e *filterExpr) needsAdvanced(props map[string]string) bool {
	if e.op == "and" || e.op == "or" {
		return e.left.needsAdvanced(props) || e.right.needsAdvanced(props)
	}
	return props[e.prop] == kindDateTimeAdvanced
}

// scopes reports whether every match requires one of props to equal a value: the
// expression is such a comparison, or an "and" with one on either side.
func (e *filterExpr) scopes(props ...string) bool {
	switch e.op {
	case "and":
		return e.left.scopes(props...) || e.right.scopes(props...)
	case "eq":
		return slices.Contains(props, e.prop)
	}
	return false
}

// filterParam parses the request's $filter, if any, into Graph's error answers.
// resource names the entity type in messages ("User").
func filterParam(q url.Values, props map[string]string, resource string) (*filterExpr, *graph.Error) {
	if !q.Has("$filter") {
		return nil, nil
	}
	f, err := parseFilter(q.Get("$filter"), props)
	var fe *filterError
	if errors.As(err, &fe) {
		switch {
		case fe.prop != "":
			return nil, gerr(http.StatusBadRequest, "Request_UnsupportedQuery",
				"Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", fe.prop, resource)
		case fe.unsupported:
			return nil, gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "%s", fe.msg)
		}
		return nil, gerr(http.StatusBadRequest, "BadRequest", "%s", fe.msg)
	}
	return f, nil
}

// selectParam parses $select against the properties an entity type has, as Graph
// spells them; names match case-insensitively. It returns the properties to answer
// with, nil for the default set; an unknown property is refused with the directory's
// message.
func selectParam(q url.Values, props []string, typeName string) ([]string, *graph.Error) {
	if !q.Has("$select") {
		return nil, nil
	}
	var out []string
	for _, name := range strings.Split(q.Get("$select"), ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(props, func(p string) bool { return strings.EqualFold(p, name) })
		if i < 0 {
			return nil, gerr(http.StatusBadRequest, "Request_BadRequest",
				"Could not find a property named '%s' on type '%s'.", name, typeName)
		}
		if !slices.Contains(out, props[i]) {
			out = append(out, props[i])
		}
	}
	return out, nil
}

// project keeps only the selected properties of obj (and its @odata.type, which
// Graph keeps on derived types).
func project(obj map[string]any, sel []string) map[string]any {
	out := make(map[string]any, len(sel)+1)
	if t, ok := obj["@odata.type"]; ok {
		out["@odata.type"] = t
	}
	for _, p := range sel {
		out[p] = obj[p]
	}
	return out
}

// selectContext is the "(a,b)" part Graph adds to @odata.context after $select.
func selectContext(sel []string) string {
	if sel == nil {
		return ""
	}
	return "(" + strings.Join(sel, ",") + ")"
}

// page cuts a collection into Graph's server-driven pages: it answers one page and,
// when more remain, an @odata.nextLink that repeats the request with a $skiptoken.
// The token is opaque to clients, as Graph's are.
func page(c *call, pageSize int, context string, items []map[string]any) reply {
	size := pageSize
	if c.query.Has("$top") {
		n, err := strconv.Atoi(c.query.Get("$top"))
		if err != nil || n < 1 || n > 999 {
			return fail(gerr(http.StatusBadRequest, "Request_BadRequest", "Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", c.query.Get("$top")))
		}
		size = n
	}
	offset := 0
	if c.query.Has("$skiptoken") {
		n, ok := decodeSkipToken(c.query.Get("$skiptoken"))
		if !ok || n > len(items) {
			return fail(gerr(http.StatusBadRequest, "Request_BadRequest", "Specified skip token is invalid."))
		}
		offset = n
	}
	end := min(offset+size, len(items))
	value := append([]map[string]any{}, items[offset:end]...) // [] rather than null when empty
	body := map[string]any{"@odata.context": c.context(context), "value": value}
	if end < len(items) {
		body["@odata.nextLink"] = c.link(end)
	}
	return ok(body)
}

const skipTokenPrefix = "simtenant:"

func encodeSkipToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(skipTokenPrefix + strconv.Itoa(offset)))
}

func decodeSkipToken(s string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(b), skipTokenPrefix) {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), skipTokenPrefix))
	return n, err == nil && n >= 0
}

// encodeQuery writes query options as Graph writes them in links: "$" left as is,
// values escaped, keys in a stable order.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, strings.ReplaceAll(url.QueryEscape(k), "%24", "$")+"="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	return strings.Join(parts, "&")
}
