package bot

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the endpoint does. Labels are fixed vocabularies (activity types,
// command names, rejection classes), never user input or secrets.
type Metrics struct {
	activities *prometheus.CounterVec
	rejections *prometheus.CounterVec
	commands   *prometheus.CounterVec
}

// NewMetrics registers the endpoint's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		activities: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tapbot_activities_total", Help: "Authenticated activities handled, by type and HTTP status.",
		}, []string{"type", "status"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tapbot_activity_rejections_total", Help: "Requests to /api/messages refused before routing, by reason.",
		}, []string{"reason"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tapbot_commands_total", Help: "Commands run, by name.",
		}, []string{"command"}),
	}
	reg.MustRegister(m.activities, m.rejections, m.commands)
	return m
}

// knownTypes keeps the type label's cardinality bounded: the activity type is chosen
// by the sender.
var knownTypes = map[string]bool{
	"message": true, "invoke": true, "conversationUpdate": true, "installationUpdate": true,
	"messageReaction": true, "typing": true, "event": true, "messageUpdate": true, "messageDelete": true,
}

func (m *Metrics) activity(typ string, status int) {
	if !knownTypes[typ] {
		typ = "other"
	}
	m.activities.WithLabelValues(typ, strconv.Itoa(status)).Inc()
}

func (m *Metrics) rejected(reason string) { m.rejections.WithLabelValues(reason).Inc() }

func (m *Metrics) command(name string) { m.commands.WithLabelValues(name).Inc() }
