// Package secret makes redaction a property of the type: a secret.String prints,
// marshals and logs as "[redacted]" wherever it ends up, so no call site has to
// remember. Reveal is the one explicit way to the value.
package secret

// Redacted is what a secret shows instead of its value.
const Redacted = "[redacted]"

// String is a secret value (client secret, TAP, password).
type String string

// Reveal returns the value. Call it only where the secret must leave the process:
// the request that needs it.
func (s String) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s == "" }

// String implements fmt.Stringer.
func (s String) String() string { return Redacted }

// GoString implements fmt.GoStringer, so %#v redacts too.
func (s String) GoString() string { return Redacted }

// MarshalJSON implements json.Marshaler.
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler (used by encoders that prefer text).
func (s String) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
