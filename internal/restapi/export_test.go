package restapi

// Test hooks for the black-box tests in package restapi_test.

// RouteInfo describes one entry of the route table.
type RouteInfo struct {
	Resource, Method, HTTPMethod, Path string
	Implemented                        bool
}

// Routes returns the route table.
func Routes() []RouteInfo {
	var out []RouteInfo
	for _, r := range apiRoutes() {
		out = append(out, RouteInfo{Resource: r.resource, Method: r.name, HTTPMethod: r.httpMethod,
			Path: r.path, Implemented: r.implemented})
	}
	return out
}

// LookupError resolves err through the error table for a resource p:d.t.
func LookupError(err error) (code int, reason, status, message string, internal bool) {
	e := lookupError(err, resourceRef{Project: "p", Dataset: "d", Table: "t"})
	return e.Code, e.Reason, e.Status, e.Message, e.Internal
}
