package restapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/penstockdb/penstock/internal/catalog"
)

// datasetHandled lists the Dataset members the handlers interpret or
// generate; all others are stored verbatim in Dataset.Extra.
var datasetHandled = map[string]bool{
	"kind": true, "id": true, "etag": true, "selfLink": true, "datasetReference": true,
	"creationTime": true, "lastModifiedTime": true, "location": true, "type": true,
}

// defaultAccess is the access list reported for a dataset created without
// one: BigQuery's project-role defaults.
var defaultAccess = []map[string]string{
	{"role": "WRITER", "specialGroup": "projectWriters"},
	{"role": "OWNER", "specialGroup": "projectOwners"},
	{"role": "READER", "specialGroup": "projectReaders"},
}

type datasetReference struct {
	ProjectID string `json:"projectId"`
	DatasetID string `json:"datasetId"`
}

// datasetResource renders a dataset as the REST Dataset resource.
func (c *call) datasetResource(ds *catalog.Dataset) map[string]any {
	m := resourceMap(ds.Extra, 10)
	m["kind"] = "bigquery#dataset"
	m["id"] = ds.Project + ":" + ds.ID
	m["etag"] = ds.ETag
	m["selfLink"] = c.selfLink(ds.Project, "datasets", ds.ID)
	m["datasetReference"] = datasetReference{ProjectID: ds.Project, DatasetID: ds.ID}
	m["creationTime"] = msString(ds.CreationTime)
	m["lastModifiedTime"] = msString(ds.ModifiedTime)
	m["location"] = ds.Location
	m["type"] = "DEFAULT"
	if _, ok := ds.Extra["access"]; !ok {
		m["access"] = defaultAccess
	}
	return m
}

// datasetsInsert creates a dataset (POST projects/{p}/datasets).
func datasetsInsert(c *call) error {
	body, err := c.readObject()
	if err != nil {
		return err
	}
	var ref datasetReference
	if _, err := body.decodeMember("datasetReference", &ref); err != nil {
		return err
	}
	project := c.params["projectId"]
	if ref.DatasetID == "" {
		return fmt.Errorf("%w: Missing required field: datasetReference.datasetId.", errInvalid)
	}
	if ref.ProjectID != "" && ref.ProjectID != project {
		return fmt.Errorf("%w: The project %s in the dataset reference does not match the project %s of the request.",
			errInvalid, ref.ProjectID, project)
	}
	c.ref.Dataset = ref.DatasetID
	var location string
	if _, err := body.decodeMember("location", &location); err != nil {
		return err
	}
	got, err := c.s.cat.CreateDataset(c.ctx, &catalog.Dataset{
		Project:  project,
		ID:       ref.DatasetID,
		Location: location,
		Extra:    extraFields(body, datasetHandled),
	})
	if err != nil {
		return err
	}
	return c.writeOK(c.datasetResource(got))
}

// datasetsGet returns one dataset.
func datasetsGet(c *call) error {
	ds, err := c.s.cat.GetDataset(c.ctx, c.params["projectId"], c.params["datasetId"])
	if err != nil {
		return err
	}
	return c.writeOK(c.datasetResource(ds))
}

// datasetListItem is one entry of datasets.list (a subset of Dataset).
type datasetListItem struct {
	Kind             string           `json:"kind"`
	ID               string           `json:"id"`
	DatasetReference datasetReference `json:"datasetReference"`
	FriendlyName     json.RawMessage  `json:"friendlyName,omitempty"`
	Labels           json.RawMessage  `json:"labels,omitempty"`
	Location         string           `json:"location"`
}

type datasetList struct {
	Kind          string            `json:"kind"`
	ETag          string            `json:"etag"`
	Datasets      []datasetListItem `json:"datasets,omitempty"`
	NextPageToken string            `json:"nextPageToken,omitempty"`
}

// datasetsList lists a project's datasets, paged. Datasets whose id starts
// with "_" are hidden unless all=true, as in BigQuery; filter accepts
// BigQuery's label filter ("labels.k" or "labels.k:v", space-separated,
// all must hold).
func datasetsList(c *call) error {
	all, err := c.queryBool("all")
	if err != nil {
		return err
	}
	filter, err := parseLabelFilter(c.query("filter"))
	if err != nil {
		return err
	}
	n, err := c.pageSize()
	if err != nil {
		return err
	}
	list, err := c.s.cat.ListDatasets(c.ctx, c.params["projectId"])
	if err != nil {
		return err
	}
	kept := list[:0:0]
	for _, ds := range list {
		if (!all && strings.HasPrefix(ds.ID, "_")) || !filter.matches(ds.Extra["labels"]) {
			continue
		}
		kept = append(kept, ds)
	}
	slices.SortFunc(kept, func(a, b *catalog.Dataset) int { return strings.Compare(a.ID, b.ID) })
	ids := make([]string, len(kept))
	for i, ds := range kept {
		ids[i] = ds.ID
	}
	lo, hi, next, err := listPage(ids, c.query("pageToken"), n)
	if err != nil {
		return err
	}
	resp := datasetList{Kind: "bigquery#datasetList", NextPageToken: next}
	etagParts := make([]string, 0, hi-lo)
	for _, ds := range kept[lo:hi] {
		resp.Datasets = append(resp.Datasets, datasetListItem{
			Kind:             "bigquery#dataset",
			ID:               ds.Project + ":" + ds.ID,
			DatasetReference: datasetReference{ProjectID: ds.Project, DatasetID: ds.ID},
			FriendlyName:     ds.Extra["friendlyName"],
			Labels:           ds.Extra["labels"],
			Location:         ds.Location,
		})
		etagParts = append(etagParts, ds.ETag)
	}
	resp.ETag = listETag(etagParts...)
	return c.writeOK(resp)
}

// labelFilter is a parsed datasets.list filter.
type labelFilter []struct {
	key, value string
	anyValue   bool
}

func parseLabelFilter(s string) (labelFilter, error) {
	var f labelFilter
	for _, term := range strings.Fields(s) {
		rest, ok := strings.CutPrefix(term, "labels.")
		if !ok || rest == "" {
			return nil, fmt.Errorf("%w: Invalid filter %q: terms must look like labels.key or labels.key:value", errInvalid, s)
		}
		key, value, hasValue := strings.Cut(rest, ":")
		f = append(f, struct {
			key, value string
			anyValue   bool
		}{key: key, value: value, anyValue: !hasValue})
	}
	return f, nil
}

// matches reports whether a dataset's labels member satisfies the filter.
func (f labelFilter) matches(raw json.RawMessage) bool {
	if len(f) == 0 {
		return true
	}
	var labels map[string]string
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &labels) // a malformed labels member matches nothing
	}
	for _, t := range f {
		v, ok := labels[t.key]
		if !ok || (!t.anyValue && v != t.value) {
			return false
		}
	}
	return true
}

// datasetsPatch merges the body's members into the dataset.
func datasetsPatch(c *call) error { return updateDataset(c, false) }

// datasetsUpdate replaces the dataset's descriptive members with the
// body's.
func datasetsUpdate(c *call) error { return updateDataset(c, true) }

// updateDataset applies a patch (replace=false) or update (replace=true).
// The location cannot change. Without If-Match the read-modify-write is
// still atomic: it is conditioned on the etag read and retried.
func updateDataset(c *call, replace bool) error {
	body, err := c.readObject()
	if err != nil {
		return err
	}
	var location string
	if _, err := body.decodeMember("location", &location); err != nil {
		return err
	}
	project, id := c.params["projectId"], c.params["datasetId"]
	want := c.ifMatch()
	for attempt := 1; ; attempt++ {
		cur, err := c.s.cat.GetDataset(c.ctx, project, id)
		if err != nil {
			return err
		}
		if location != "" && !strings.EqualFold(location, cur.Location) {
			return fmt.Errorf("%w: Cannot change the location of dataset %s:%s from %s to %s.",
				errInvalid, project, id, cur.Location, location)
		}
		next := cur.Clone()
		if replace {
			next.Extra = extraFields(body, datasetHandled)
		} else {
			next.Extra = mergeExtra(cur.Extra, body, datasetHandled)
		}
		cond := want
		if cond == "" {
			cond = cur.ETag
		}
		got, err := c.s.cat.UpdateDataset(c.ctx, next, cond)
		if errors.Is(err, catalog.ErrPreconditionFailed) && want == "" && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return err
		}
		return c.writeOK(c.datasetResource(got))
	}
}

// datasetsDelete deletes a dataset; with deleteContents=true also its
// tables.
func datasetsDelete(c *call) error {
	deleteContents, err := c.queryBool("deleteContents")
	if err != nil {
		return err
	}
	if err := c.s.cat.DeleteDataset(c.ctx, c.params["projectId"], c.params["datasetId"], deleteContents); err != nil {
		return err
	}
	return c.writeNoContent()
}
