package restapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/schema"
)

// errPageFull ends a ReadRows scan when the page reached its byte cap.
var errPageFull = errors.New("restapi: page full")

// tabledataList serves one page of a table's rows
// (GET .../tables/{t}/data).
//
// Paging: the page starts at pageToken's position if given, else at
// startIndex (default 0). It holds at most maxResults rows (0 or absent:
// no request limit), never more than MaxPageRows rows, and stops before
// the row that would take the rendered rows past MaxPageBytes (a page
// always holds at least one row when rows remain). pageToken is returned
// only when rows remain after the page; rows is omitted on an empty page.
//
// Timestamp cells follow formatOptions: timestampOutputFormat INT64 or
// useInt64Timestamp=true give integer microseconds, ISO8601_STRING gives
// RFC 3339, FLOAT64 or nothing gives float seconds (what bq expects). An
// explicit timestampOutputFormat other than UNSPECIFIED wins over
// useInt64Timestamp.
func tabledataList(c *call) error {
	id, err := c.tableID("tabledata.list", false)
	if err != nil {
		return err
	}
	opts, err := c.renderOptions()
	if err != nil {
		return err
	}
	maxResults, err := c.queryUint("maxResults", 32, 0)
	if err != nil {
		return err
	}
	t, err := c.s.cat.GetTable(c.ctx, c.params["projectId"], c.params["datasetId"], id)
	if err != nil {
		return err
	}
	var start uint64
	if tok := c.query("pageToken"); tok != "" {
		if start, err = decodeRowToken(tok, t.UID); err != nil {
			return err
		}
	} else if start, err = c.queryUint("startIndex", 64, 0); err != nil {
		return err
	}
	if start > 1<<62 {
		start = 1 << 62 // beyond any table; keeps int64 arithmetic safe
	}
	sch := t.Schema
	if sch == nil {
		sch = &schema.Table{}
	}
	sel, err := parseSelection(sch, c.query("selectedFields"))
	if err != nil {
		return err
	}
	limit := int64(c.s.maxPageRows)
	if maxResults > 0 && int64(maxResults) < limit {
		limit = int64(maxResults)
	}

	rows := make([]byte, 0, 4096)
	var n int64
	total, err := c.s.data.ReadRows(c.ctx, t, int64(start), limit, func(r rowcodec.Row) error {
		mark := len(rows)
		if n > 0 {
			rows = append(rows, ',')
		}
		rows = sel.AppendRowFV(rows, r, sch, opts) // a nil selection renders every column
		if n > 0 && len(rows) > c.s.maxPageBytes {
			rows = rows[:mark]
			return errPageFull
		}
		n++
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return err
	}

	// The rows are written as they are, between a small head and tail,
	// rather than copied into one buffer.
	head := make([]byte, 0, 256)
	head = append(head, `{"kind":"bigquery#tableDataList","etag":"`...)
	head = append(head, listETag(t.ETag, strconv.FormatInt(total, 10), strconv.FormatUint(start, 10))...)
	head = append(head, `","totalRows":"`...)
	head = strconv.AppendInt(head, total, 10)
	head = append(head, '"')
	if next := int64(start) + n; next < total {
		head = append(head, `,"pageToken":"`...)
		head = append(head, encodeRowToken(t.UID, next)...)
		head = append(head, '"')
	}
	tail := "}\n"
	if n > 0 {
		head = append(head, `,"rows":[`...)
		tail = "]}\n"
	} else {
		rows = rows[:0]
	}
	writeRaw(c.w, http.StatusOK, head, rows, []byte(tail))
	return nil
}

// renderOptions reads the formatOptions.* parameters.
func (c *call) renderOptions() (rowcodec.RenderOptions, error) {
	useInt64, err := c.queryBool("formatOptions.useInt64Timestamp")
	if err != nil {
		return rowcodec.RenderOptions{}, err
	}
	var o rowcodec.RenderOptions
	switch f := c.query("formatOptions.timestampOutputFormat"); strings.ToUpper(f) {
	case "", "TIMESTAMP_OUTPUT_FORMAT_UNSPECIFIED":
		if useInt64 {
			o.Timestamp = rowcodec.TimestampInt64
		} else {
			o.Timestamp = rowcodec.TimestampFloat
		}
	case "FLOAT64":
		o.Timestamp = rowcodec.TimestampFloat
	case "INT64":
		o.Timestamp = rowcodec.TimestampInt64
	case "ISO8601_STRING":
		o.Timestamp = rowcodec.TimestampISO
	default:
		return o, fmt.Errorf("%w: Invalid value for parameter formatOptions.timestampOutputFormat: %q", errInvalid, f)
	}
	return o, nil
}

// parseSelection compiles a selectedFields parameter; "" gives nil (every
// column). Columns come out in table-schema order whatever the list order,
// as BigQuery and the clients that zip cells with the schema expect.
func parseSelection(sch *schema.Table, list string) (*rowcodec.Selection, error) {
	sel, err := rowcodec.ParseSelection(sch, list)
	if errors.Is(err, rowcodec.ErrUnknownField) {
		what := strings.TrimPrefix(err.Error(), rowcodec.ErrUnknownField.Error()+": ")
		return nil, fmt.Errorf("%w: Invalid field in selectedFields: %s", errInvalid, what)
	}
	return sel, err
}

// Row page tokens carry the table's UID and the next row position, so a
// token is refused on another table or on a table recreated under the
// same name.
func encodeRowToken(uid, next int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("rows:" + strconv.FormatInt(uid, 10) + ":" + strconv.FormatInt(next, 10)))
}

func decodeRowToken(tok string, uid int64) (uint64, error) {
	bad := fmt.Errorf("%w: Invalid page token: %q", errInvalid, tok)
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, bad
	}
	rest, ok := strings.CutPrefix(string(b), "rows:")
	if !ok {
		return 0, bad
	}
	u, pos, ok := strings.Cut(rest, ":")
	if !ok || u != strconv.FormatInt(uid, 10) {
		return 0, bad
	}
	next, err := strconv.ParseUint(pos, 10, 63)
	if err != nil {
		return 0, bad
	}
	return next, nil
}
