package restapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/write"
)

// Inserter is the data path of tabledata.insertAll. The write engine
// implements it; a TableData that does not makes insertAll answer 501.
type Inserter interface {
	// InsertAll performs one request; see write.Engine.InsertAll for the
	// semantics and errors.
	InsertAll(ctx context.Context, req write.InsertRequest) (write.InsertResult, error)
}

// insertAllRequest is the TableDataInsertAllRequest body, as
// parseInsertAll reads it (insertall_parse.go).
type insertAllRequest struct {
	SkipInvalidRows     bool
	IgnoreUnknownValues bool
	TemplateSuffix      string
	Rows                []insertAllRow
}

// insertAllRow is one element of rows: JSON is the json member's bytes
// (nil when absent or null), InsertID "" when absent or null.
type insertAllRow struct {
	InsertID string
	JSON     []byte
}

// insertAllOK is the whole answer to a request whose rows were all
// written.
var insertAllOK = []byte(`{"kind":"bigquery#tableDataInsertAllResponse"}` + "\n")

// tabledataInsertAll streams rows into a table
// (POST .../tables/{t}/insertAll, spec rest-api.md §2).
//
// The answer is 200 whenever the request itself is acceptable. Invalid
// rows are listed in insertErrors with reason "invalid", their location
// and message; unless skipInvalidRows, nothing is written and every other
// row is listed with reason "stopped" (after the invalid ones, as
// BigQuery orders them). insertErrors is absent when every row was
// written or de-duplicated. Request-level failures (missing dataset or
// table, no rows, over 50,000 rows, a body over MaxRequestBytes, a bad
// partition decorator or template suffix) are error envelopes with
// BigQuery's non-retryable reasons.
func tabledataInsertAll(c *call) error {
	ins, ok := c.s.data.(Inserter)
	if !ok {
		// Only a server built without a data engine gets here.
		return fmt.Errorf("%w: Penstock does not implement tabledata.insertAll yet", errNotImplemented)
	}
	if _, err := c.tableID("tabledata.insertAll", true); err != nil {
		return err
	}
	data, err := c.body()
	if err != nil {
		return err
	}
	var body insertAllRequest
	if err := parseInsertAll(data, &body); err != nil {
		return err
	}
	req := write.InsertRequest{
		Project:             c.params["projectId"],
		Dataset:             c.params["datasetId"],
		Table:               c.params["tableId"],
		TemplateSuffix:      body.TemplateSuffix,
		SkipInvalidRows:     body.SkipInvalidRows,
		IgnoreUnknownValues: body.IgnoreUnknownValues,
		Rows:                make([]write.InsertRow, len(body.Rows)),
	}
	for i, r := range body.Rows {
		req.Rows[i] = write.InsertRow{InsertID: r.InsertID, JSON: r.JSON}
	}
	res, err := ins.InsertAll(c.ctx, req)
	if err != nil {
		return err
	}
	if len(res.RowErrors) == 0 {
		writeRaw(c.w, http.StatusOK, insertAllOK)
		return nil
	}
	writeRaw(c.w, http.StatusOK, appendInsertErrors(nil, res, len(req.Rows)))
	return nil
}

// appendInsertErrors renders a TableDataInsertAllResponse with
// insertErrors: one entry per invalid row (all its errors), then, when
// the request was stopped, one "stopped" entry for every other row.
func appendInsertErrors(dst []byte, res write.InsertResult, n int) []byte {
	dst = append(dst, `{"kind":"bigquery#tableDataInsertAllResponse","insertErrors":[`...)
	errs := res.RowErrors
	first := true
	for i := 0; i < len(errs); {
		j := i
		for j < len(errs) && errs[j].Index == errs[i].Index {
			j++
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendRowEntry(dst, errs[i].Index, errs[i:j])
		i = j
	}
	if res.Stopped {
		k := 0
		for idx := 0; idx < n; idx++ {
			for k < len(errs) && errs[k].Index < idx {
				k++
			}
			if k < len(errs) && errs[k].Index == idx {
				continue
			}
			dst = append(dst, ',')
			dst = appendRowEntry(dst, idx, nil)
		}
	}
	return append(dst, "]}\n"...)
}

// appendRowEntry renders one insertErrors element; errs nil means the row
// was stopped.
func appendRowEntry(dst []byte, index int, errs []rowcodec.RowError) []byte {
	dst = append(dst, `{"index":`...)
	dst = strconv.AppendInt(dst, int64(index), 10)
	dst = append(dst, `,"errors":[`...)
	if errs == nil {
		dst = append(dst, `{"reason":"stopped","location":"","debugInfo":"","message":""}`...)
	}
	for i, e := range errs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"reason":"invalid","location":`...)
		dst = appendJSONString(dst, e.Location)
		dst = append(dst, `,"debugInfo":"","message":`...)
		dst = appendJSONString(dst, e.Message)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// appendJSONString appends s as a JSON string (without HTML escaping).
func appendJSONString(dst []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}
