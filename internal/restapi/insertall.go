package restapi

import "fmt"

// tabledataInsertAll is the route slot of tabledata.insertAll
// (POST .../tables/{t}/insertAll, spec rest-api.md §2). It answers 501
// notImplemented (not a reason or status any client retries) until the
// streaming-insert issue replaces this body and marks the route
// implemented in routes.go. The body limit (c.body), the decorator split
// (c.tableID) and the error table are ready for it.
func tabledataInsertAll(c *call) error {
	return fmt.Errorf("%w: Penstock does not implement tabledata.insertAll yet", errNotImplemented)
}
