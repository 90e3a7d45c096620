package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// restClient speaks the few REST v2 methods the load generator needs, with
// plain net/http so the client costs little CPU next to the server.
type restClient struct {
	base    string // http://host:port
	project string
	http    *http.Client
}

func newRESTClient(base, project string, conns int) *restClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns + 4
	tr.MaxIdleConnsPerHost = conns + 4
	tr.DisableCompression = true
	return &restClient{base: base, project: project, http: &http.Client{Transport: tr}}
}

// apiError is a REST error envelope (or a non-JSON failure).
type apiError struct {
	Status  int
	Reason  string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Reason, e.Message)
}

// key is the error's name in the errors-by-code table.
func (e *apiError) key() string {
	if e.Reason == "" {
		return "HTTP " + strconv.Itoa(e.Status)
	}
	return "HTTP " + strconv.Itoa(e.Status) + " " + e.Reason
}

func (c *restClient) path(parts ...string) string {
	u := c.base + "/bigquery/v2/projects/" + url.PathEscape(c.project)
	for _, p := range parts {
		u += "/" + p
	}
	return u
}

// do sends a request with an optional JSON body and decodes a 2xx JSON
// answer into out (if not nil). Non-2xx answers return *apiError.
func (c *restClient) do(ctx context.Context, method, u string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return envelope(resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("loadgen: decoding %s %s answer: %w", method, u, err)
		}
	}
	return nil
}

// envelope turns a REST error body into *apiError.
func envelope(status int, body []byte) *apiError {
	var env struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	e := &apiError{Status: status}
	if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
		e.Message = env.Error.Message
		if len(env.Error.Errors) > 0 {
			e.Reason = env.Error.Errors[0].Reason
		}
	} else {
		if len(body) > 200 {
			body = body[:200]
		}
		e.Message = string(bytes.TrimSpace(body))
	}
	return e
}

func (c *restClient) createDataset(ctx context.Context, dataset string) error {
	body := map[string]any{"datasetReference": map[string]string{"projectId": c.project, "datasetId": dataset}}
	return c.do(ctx, http.MethodPost, c.path("datasets"), body, nil)
}

func (c *restClient) createTable(ctx context.Context, dataset, table string, cols []column) error {
	body := map[string]any{
		"tableReference": map[string]string{"projectId": c.project, "datasetId": dataset, "tableId": table},
		"schema":         map[string]any{"fields": restSchema(cols)},
	}
	return c.do(ctx, http.MethodPost, c.path("datasets", dataset, "tables"), body, nil)
}

func (c *restClient) deleteDataset(ctx context.Context, dataset string) error {
	return c.do(ctx, http.MethodDelete, c.path("datasets", dataset)+"?deleteContents=true", nil, nil)
}

// tableInfo is what tables.get tells about a table's size.
type tableInfo struct {
	NumRows         string `json:"numRows"`
	StreamingBuffer *struct {
		EstimatedRows string `json:"estimatedRows"`
	} `json:"streamingBuffer"`
}

func (c *restClient) getTable(ctx context.Context, dataset, table string) (*tableInfo, error) {
	var t tableInfo
	if err := c.do(ctx, http.MethodGet, c.path("datasets", dataset, "tables", table), nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// listPage is one tabledata.list page of the seq column.
type listPage struct {
	TotalRows string `json:"totalRows"`
	PageToken string `json:"pageToken"`
	Rows      []struct {
		F []struct {
			V *string `json:"v"`
		} `json:"f"`
	} `json:"rows"`
}

// totalRows returns tabledata.list's totalRows for the table.
func (c *restClient) totalRows(ctx context.Context, dataset, table string) (int64, error) {
	var p listPage
	if err := c.do(ctx, http.MethodGet, c.path("datasets", dataset, "tables", table, "data")+"?maxResults=1&selectedFields=seq", nil, &p); err != nil {
		return 0, err
	}
	return strconv.ParseInt(p.TotalRows, 10, 64)
}

// scanSeq reads every row's seq column through tabledata.list and calls
// fn for each value. It returns the totalRows of the first page.
func (c *restClient) scanSeq(ctx context.Context, dataset, table string, fn func(seq int64)) (int64, error) {
	base := c.path("datasets", dataset, "tables", table, "data") + "?selectedFields=seq&maxResults=100000"
	var total int64 = -1
	token := ""
	for {
		u := base
		if token != "" {
			u += "&pageToken=" + url.QueryEscape(token)
		}
		var p listPage
		if err := c.do(ctx, http.MethodGet, u, nil, &p); err != nil {
			return total, err
		}
		if total < 0 {
			n, err := strconv.ParseInt(p.TotalRows, 10, 64)
			if err != nil {
				return total, fmt.Errorf("loadgen: tabledata.list totalRows %q: %w", p.TotalRows, err)
			}
			total = n
		}
		for _, r := range p.Rows {
			if len(r.F) != 1 || r.F[0].V == nil {
				return total, fmt.Errorf("loadgen: tabledata.list row without a seq cell")
			}
			v, err := strconv.ParseInt(*r.F[0].V, 10, 64)
			if err != nil {
				return total, fmt.Errorf("loadgen: tabledata.list seq %q: %w", *r.F[0].V, err)
			}
			fn(v)
		}
		if p.PageToken == "" || len(p.Rows) == 0 {
			return total, nil
		}
		token = p.PageToken
	}
}

// insertAll posts one pre-built insertAll body. It returns the number of
// rows the answer lists in insertErrors and, for those, the first reason.
func (c *restClient) insertAll(ctx context.Context, u string, body []byte) (rowErrs int, reason string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, "", envelope(resp.StatusCode, data)
	}
	if !bytes.Contains(data, []byte(`"insertErrors"`)) {
		return 0, "", nil
	}
	var r struct {
		InsertErrors []struct {
			Errors []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"insertErrors"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return 0, "", fmt.Errorf("loadgen: decoding insertAll answer: %w", err)
	}
	for _, e := range r.InsertErrors {
		if reason == "" && len(e.Errors) > 0 {
			reason = e.Errors[0].Reason
		}
	}
	return len(r.InsertErrors), reason, nil
}

// withTimeout runs fn with a fresh context bounded by d, for cleanup
// steps that must run after the caller's context is done.
func withTimeout(d time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return fn(ctx)
}
