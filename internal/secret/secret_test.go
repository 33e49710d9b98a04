package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestSecretNeverPrints(t *testing.T) {
	const value = "ABCD-1234-tap-value"
	s := String(value)
	type holder struct {
		Name string
		Pass String
	}
	h := holder{"x", s}
	js, _ := json.Marshal(h)
	outs := []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", h, h, h, s), string(js)}
	// Through zap's real JSON and console encoders, as production logs are written.
	for _, enc := range []zapcore.Encoder{
		zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()),
	} {
		var buf bytes.Buffer
		log := zap.New(zapcore.NewCore(enc, zapcore.AddSync(&buf), zap.DebugLevel))
		log.Info("m", zap.Any("any", s), zap.Stringer("str", s), zap.Reflect("reflect", h), zap.Any("struct", h))
		outs = append(outs, buf.String())
	}
	for _, o := range outs {
		if strings.Contains(o, value) {
			t.Fatalf("secret printed: %s", o)
		}
		if !strings.Contains(o, Redacted) {
			t.Fatalf("no redaction marker in %s", o)
		}
	}
	if s.Reveal() != value {
		t.Fatal("Reveal lost the value")
	}
}
