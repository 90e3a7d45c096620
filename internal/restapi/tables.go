package restapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/schema"
	"github.com/penstockdb/penstock/internal/write"
)

// tableGenerated lists the Table members that are output-only: ignored in
// request bodies, generated in responses.
var tableGenerated = []string{
	"kind", "id", "etag", "selfLink", "tableReference", "creationTime", "lastModifiedTime",
	"location", "type", "numRows", "numBytes", "numLongTermBytes", "numPhysicalBytes",
	"numTimeTravelPhysicalBytes", "numTotalLogicalBytes", "numActiveLogicalBytes",
	"numLongTermLogicalBytes", "numTotalPhysicalBytes", "numActivePhysicalBytes",
	"numLongTermPhysicalBytes", "numCurrentPhysicalBytes", "numPartitions", "streamingBuffer",
}

// tableTyped lists the Table members held in typed catalog.Table fields.
var tableTyped = []string{"schema", "timePartitioning", "rangePartitioning", "clustering"}

// tableHandled is tableGenerated ∪ tableTyped: members never stored in
// Table.Extra.
var tableHandled = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range tableGenerated {
		m[k] = true
	}
	for _, k := range tableTyped {
		m[k] = true
	}
	return m
}()

type tableReference struct {
	ProjectID string `json:"projectId"`
	DatasetID string `json:"datasetId"`
	TableID   string `json:"tableId"`
}

type streamingBuffer struct {
	EstimatedRows   string `json:"estimatedRows"`
	EstimatedBytes  string `json:"estimatedBytes"`
	OldestEntryTime string `json:"oldestEntryTime,omitempty"`
}

// tableResource renders a table as the REST Table resource. sch is the
// schema to show (the table's, or a selectedFields projection of it).
func (c *call) tableResource(t *catalog.Table, sch *schema.Table, st write.TableStats) map[string]any {
	m := resourceMap(t.Extra, 20)
	m["kind"] = "bigquery#table"
	m["id"] = t.Project + ":" + t.Dataset + "." + t.ID
	m["etag"] = t.ETag
	m["selfLink"] = c.selfLink(t.Project, "datasets", t.Dataset, "tables", t.ID)
	m["tableReference"] = tableReference{ProjectID: t.Project, DatasetID: t.Dataset, TableID: t.ID}
	if sch != nil && len(sch.Fields) > 0 {
		m["schema"] = schema.Normalize(sch)
	}
	m["numRows"] = strconv.FormatInt(st.NumRows, 10)
	m["numBytes"] = strconv.FormatInt(st.NumBytes, 10)
	m["numLongTermBytes"] = "0"
	m["creationTime"] = msString(t.CreationTime)
	m["lastModifiedTime"] = msString(t.ModifiedTime)
	m["location"] = t.Location
	m["type"] = "TABLE"
	if t.TimePartitioning != nil {
		m["timePartitioning"] = t.TimePartitioning
	}
	if t.RangePartitioning != nil {
		m["rangePartitioning"] = t.RangePartitioning
	}
	if t.Clustering != nil {
		m["clustering"] = t.Clustering
	}
	if st.BufferRows > 0 {
		sb := streamingBuffer{
			EstimatedRows:  strconv.FormatInt(st.BufferRows, 10),
			EstimatedBytes: strconv.FormatInt(st.BufferBytes, 10),
		}
		if !st.OldestBuffered.IsZero() {
			sb.OldestEntryTime = msString(st.OldestBuffered)
		}
		m["streamingBuffer"] = sb
	}
	return m
}

// splitDecorator separates a partition decorator: "t$20240131" →
// ("t", "20240131").
func splitDecorator(id string) (base, decorator string) {
	base, decorator, _ = strings.Cut(id, "$")
	return base, decorator
}

// tableID returns the addressed table id without decorator and points the
// error messages at it. allowDecorator=false refuses a decorator: the
// method would act on a partition, which Penstock does not model.
func (c *call) tableID(method string, allowDecorator bool) (string, error) {
	raw := c.params["tableId"]
	base, dec := splitDecorator(raw)
	c.ref.Table = base
	if dec != "" && !allowDecorator {
		return "", fmt.Errorf("%w: Partition decorators are not supported by %s: %s", errInvalid, method, raw)
	}
	return base, nil
}

// applyTableBody sets t's typed members from a request body: present
// members replace, explicit nulls clear, absent members are kept.
func applyTableBody(t *catalog.Table, body object) error {
	if raw, ok := body["schema"]; ok {
		if isNull(raw) {
			t.Schema = nil
		} else {
			s, err := decodeSchema(raw)
			if err != nil {
				return err
			}
			t.Schema = s
		}
	}
	if raw, ok := body["timePartitioning"]; ok {
		t.TimePartitioning = nil
		if !isNull(raw) {
			var tp restTimePartitioning
			if _, err := body.decodeMember("timePartitioning", &tp); err != nil {
				return err
			}
			t.TimePartitioning = &catalog.TimePartitioning{
				Type: tp.Type, Field: tp.Field, ExpirationMs: int64(tp.ExpirationMs),
				RequirePartitionFilter: tp.RequirePartitionFilter,
			}
		}
	}
	if raw, ok := body["rangePartitioning"]; ok {
		t.RangePartitioning = nil
		if !isNull(raw) {
			var rp restRangePartitioning
			if _, err := body.decodeMember("rangePartitioning", &rp); err != nil {
				return err
			}
			out := &catalog.RangePartitioning{Field: rp.Field}
			out.Range.Start, out.Range.End, out.Range.Interval =
				int64(rp.Range.Start), int64(rp.Range.End), int64(rp.Range.Interval)
			t.RangePartitioning = out
		}
	}
	if raw, ok := body["clustering"]; ok {
		t.Clustering = nil
		if !isNull(raw) {
			var cl catalog.Clustering
			if _, err := body.decodeMember("clustering", &cl); err != nil {
				return err
			}
			t.Clustering = &cl
		}
	}
	return nil
}

// restTimePartitioning and restRangePartitioning decode leniently (64-bit
// numbers as strings or numbers).
type restTimePartitioning struct {
	Type                   string    `json:"type"`
	Field                  string    `json:"field"`
	ExpirationMs           flexInt64 `json:"expirationMs"`
	RequirePartitionFilter bool      `json:"requirePartitionFilter"`
}

type restRangePartitioning struct {
	Field string `json:"field"`
	Range struct {
		Start    flexInt64 `json:"start"`
		End      flexInt64 `json:"end"`
		Interval flexInt64 `json:"interval"`
	} `json:"range"`
}

// tablesInsert creates a table (POST .../datasets/{d}/tables).
func tablesInsert(c *call) error {
	body, err := c.readObject()
	if err != nil {
		return err
	}
	var ref tableReference
	if _, err := body.decodeMember("tableReference", &ref); err != nil {
		return err
	}
	project, dataset := c.params["projectId"], c.params["datasetId"]
	if ref.TableID == "" {
		return fmt.Errorf("%w: Missing required field: tableReference.tableId.", errInvalid)
	}
	if (ref.ProjectID != "" && ref.ProjectID != project) || (ref.DatasetID != "" && ref.DatasetID != dataset) {
		return fmt.Errorf("%w: The table reference %s:%s.%s does not match the dataset %s:%s of the request.",
			errInvalid, ref.ProjectID, ref.DatasetID, ref.TableID, project, dataset)
	}
	c.ref.Table = ref.TableID
	t := &catalog.Table{Project: project, Dataset: dataset, ID: ref.TableID, Extra: extraFields(body, tableHandled)}
	if err := applyTableBody(t, body); err != nil {
		return err
	}
	got, err := c.s.cat.CreateTable(c.ctx, t)
	if err != nil {
		return err
	}
	return c.writeOK(c.tableResource(got, got.Schema, write.TableStats{}))
}

// tablesGet returns one table with its statistics. selectedFields narrows
// the schema shown; a partition decorator shows the whole table.
func tablesGet(c *call) error {
	id, err := c.tableID("tables.get", true)
	if err != nil {
		return err
	}
	t, err := c.s.cat.GetTable(c.ctx, c.params["projectId"], c.params["datasetId"], id)
	if err != nil {
		return err
	}
	sch := t.Schema
	if sf := c.query("selectedFields"); sf != "" && sch != nil {
		sel, err := parseSelection(sch, sf)
		if err != nil {
			return err
		}
		if sel != nil {
			sch = sel.Schema()
		}
	}
	st, err := c.s.data.Stats(c.ctx, t)
	if err != nil {
		return err
	}
	return c.writeOK(c.tableResource(t, sch, st))
}

// tableListItem is one entry of tables.list (no schema, no statistics).
type tableListItem struct {
	Kind              string                     `json:"kind"`
	ID                string                     `json:"id"`
	TableReference    tableReference             `json:"tableReference"`
	FriendlyName      json.RawMessage            `json:"friendlyName,omitempty"`
	Type              string                     `json:"type"`
	TimePartitioning  *catalog.TimePartitioning  `json:"timePartitioning,omitempty"`
	RangePartitioning *catalog.RangePartitioning `json:"rangePartitioning,omitempty"`
	Clustering        *catalog.Clustering        `json:"clustering,omitempty"`
	Labels            json.RawMessage            `json:"labels,omitempty"`
	CreationTime      string                     `json:"creationTime"`
	ExpirationTime    json.RawMessage            `json:"expirationTime,omitempty"`
}

type tableList struct {
	Kind          string          `json:"kind"`
	ETag          string          `json:"etag"`
	Tables        []tableListItem `json:"tables,omitempty"`
	NextPageToken string          `json:"nextPageToken,omitempty"`
	TotalItems    int             `json:"totalItems"`
}

// tablesList lists a dataset's tables, paged; totalItems counts them all.
func tablesList(c *call) error {
	n, err := c.pageSize()
	if err != nil {
		return err
	}
	list, err := c.s.cat.ListTables(c.ctx, c.params["projectId"], c.params["datasetId"])
	if err != nil {
		return err
	}
	list = slices.Clone(list)
	slices.SortFunc(list, func(a, b *catalog.Table) int { return strings.Compare(a.ID, b.ID) })
	ids := make([]string, len(list))
	for i, t := range list {
		ids[i] = t.ID
	}
	lo, hi, next, err := listPage(ids, c.query("pageToken"), n)
	if err != nil {
		return err
	}
	resp := tableList{Kind: "bigquery#tableList", NextPageToken: next, TotalItems: len(list)}
	etagParts := make([]string, 0, hi-lo)
	for _, t := range list[lo:hi] {
		resp.Tables = append(resp.Tables, tableListItem{
			Kind:              "bigquery#table",
			ID:                t.Project + ":" + t.Dataset + "." + t.ID,
			TableReference:    tableReference{ProjectID: t.Project, DatasetID: t.Dataset, TableID: t.ID},
			FriendlyName:      t.Extra["friendlyName"],
			Type:              "TABLE",
			TimePartitioning:  t.TimePartitioning,
			RangePartitioning: t.RangePartitioning,
			Clustering:        t.Clustering,
			Labels:            t.Extra["labels"],
			CreationTime:      msString(t.CreationTime),
			ExpirationTime:    t.Extra["expirationTime"],
		})
		etagParts = append(etagParts, t.ETag)
	}
	resp.ETag = listETag(etagParts...)
	return c.writeOK(resp)
}

// tablesPatch replaces the members present in the body (explicit null
// clears one).
func tablesPatch(c *call) error { return updateTable(c, "tables.patch", false) }

// tablesUpdate replaces the table's descriptive members (Extra) wholesale.
// Its structural members (schema, partitioning, clustering) follow the
// patch rule: replaced when present, cleared when null, kept when absent,
// because BigQuery never drops them implicitly.
func tablesUpdate(c *call) error { return updateTable(c, "tables.update", true) }

// updateTable is the read-modify-write behind patch and update; schema
// evolution rules are the catalog's. Without If-Match the write is
// conditioned on the etag read and retried, so concurrent patches of
// different members both land.
func updateTable(c *call, method string, replace bool) error {
	id, err := c.tableID(method, false)
	if err != nil {
		return err
	}
	body, err := c.readObject()
	if err != nil {
		return err
	}
	project, dataset := c.params["projectId"], c.params["datasetId"]
	want := c.ifMatch()
	for attempt := 1; ; attempt++ {
		cur, err := c.s.cat.GetTable(c.ctx, project, dataset, id)
		if err != nil {
			return err
		}
		next := cur.Clone()
		if replace {
			next.Extra = extraFields(body, tableHandled)
		} else {
			next.Extra = mergeExtra(cur.Extra, body, tableHandled)
		}
		if err := applyTableBody(next, body); err != nil {
			return err
		}
		cond := want
		if cond == "" {
			cond = cur.ETag
		}
		got, err := c.s.cat.UpdateTable(c.ctx, next, cond)
		if errors.Is(err, catalog.ErrPreconditionFailed) && want == "" && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return err
		}
		st, err := c.s.data.Stats(c.ctx, got)
		if err != nil {
			return err
		}
		return c.writeOK(c.tableResource(got, got.Schema, st))
	}
}

// tablesDelete deletes a table.
func tablesDelete(c *call) error {
	id, err := c.tableID("tables.delete", false)
	if err != nil {
		return err
	}
	if err := c.s.cat.DeleteTable(c.ctx, c.params["projectId"], c.params["datasetId"], id); err != nil {
		return err
	}
	return c.writeNoContent()
}

// decodeSchema decodes a TableSchema member. The API encodes 64-bit field
// attributes (maxLength, precision, scale, timestampPrecision) as strings;
// hand-written schema files often use numbers, which BigQuery accepts, so
// numbers are turned into strings before decoding into schema.Table.
func decodeSchema(raw json.RawMessage) (*schema.Table, error) {
	var generic any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("%w: Invalid value for field schema: %v", errInvalid, err)
	}
	stringifyInt64Attrs(generic)
	norm, err := json.Marshal(generic)
	if err != nil {
		return nil, fmt.Errorf("%w: Invalid value for field schema: %v", errInvalid, err)
	}
	var s schema.Table
	if err := json.Unmarshal(norm, &s); err != nil {
		return nil, fmt.Errorf("%w: Invalid value for field schema: %s", errInvalid, jsonErrorText(err))
	}
	for _, f := range s.Fields {
		if f == nil {
			return nil, fmt.Errorf("%w: Invalid value for field schema: null field", errInvalid)
		}
	}
	return &s, nil
}

// int64Attrs are the TableFieldSchema members encoded as JSON strings.
var int64Attrs = []string{"maxLength", "precision", "scale", "timestampPrecision"}

// stringifyInt64Attrs walks a decoded schema ({"fields":[...]}, nested
// through "fields") and rewrites numeric int64 attributes as strings.
func stringifyInt64Attrs(v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, k := range int64Attrs {
		if n, ok := obj[k].(json.Number); ok {
			obj[k] = n.String()
		}
	}
	if fs, ok := obj["fields"].([]any); ok {
		for _, f := range fs {
			stringifyInt64Attrs(f)
		}
	}
}
