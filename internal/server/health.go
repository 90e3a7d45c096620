package server

import (
	"net/http"
)

// healthPath answers readiness probes: 200 while the server serves, 503
// once shutdown has begun. Scripts and CI wait on it before starting
// clients ("curl --retry-connrefused http://127.0.0.1:9050/healthz").
const healthPath = "/healthz"

// withHealth serves healthPath itself and passes everything else to api.
func (s *Server) withHealth(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != healthPath {
			api.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		select {
		case <-s.closing:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"shutting down"}` + "\n"))
		default:
			_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
		}
	})
}
