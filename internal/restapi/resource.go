package restapi

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Helpers shared by the resource handlers: times, links, extra fields,
// page tokens, conditional updates.

// msString renders a time as BigQuery does: milliseconds since the epoch,
// as a JSON string.
func msString(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// selfLink is the resource's URL under the canonical /bigquery/v2/ prefix.
func (c *call) selfLink(segs ...string) string {
	var b strings.Builder
	b.WriteString(c.s.root(c.r))
	b.WriteString("bigquery/v2/projects")
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// extraFields returns the body members a resource stores verbatim: every
// member except those in skip (output-only members and members the
// handler interprets itself) and explicit nulls.
func extraFields(body object, skip map[string]bool) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(body))
	for k, v := range body {
		if skip[k] || isNull(v) {
			continue
		}
		out[k] = v
	}
	return out
}

// mergeExtra applies a PATCH body to stored extra fields: present members
// replace, explicit nulls delete, absent members stay.
func mergeExtra(cur map[string]json.RawMessage, body object, skip map[string]bool) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(cur)+len(body))
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range body {
		if skip[k] {
			continue
		}
		if isNull(v) {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// resourceMap starts a response object from stored extra fields; the
// caller then sets the typed members, which take precedence.
func resourceMap(extra map[string]json.RawMessage, n int) map[string]any {
	m := make(map[string]any, len(extra)+n)
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// ifMatch returns the If-Match precondition of the request ("" for none or
// "*"), with optional quotes and a weak-validator prefix removed.
func (c *call) ifMatch() string {
	v := strings.TrimSpace(c.r.Header.Get("If-Match"))
	v = strings.TrimPrefix(v, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "*" {
		return ""
	}
	return v
}

// maxUpdateAttempts bounds the read-modify-write retries of a blind
// (no If-Match) patch racing other writers.
const maxUpdateAttempts = 8

// listToken is the opaque page token of datasets.list and tables.list: the
// id of the last item returned. Listing resumes after it, so items created
// or deleted between pages neither repeat nor shift the rest.
func encodeListToken(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("after:" + lastID))
}

func decodeListToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), "after:") {
		return "", fmt.Errorf("%w: Invalid page token: %q", errInvalid, tok)
	}
	return string(b[len("after:"):]), nil
}

// listPage selects one page of n ids (sorted ascending) after the token's
// id; it returns the page bounds and the next token ("" on the last page).
func listPage(ids []string, token string, n int) (lo, hi int, next string, err error) {
	if token != "" {
		after, err := decodeListToken(token)
		if err != nil {
			return 0, 0, "", err
		}
		for lo < len(ids) && ids[lo] <= after {
			lo++
		}
	}
	hi = min(lo+n, len(ids))
	if hi < len(ids) && hi > lo {
		next = encodeListToken(ids[hi-1])
	}
	return lo, hi, next, nil
}

// pageSize reads maxResults for a list method.
func (c *call) pageSize() (int, error) {
	n, err := c.queryUint("maxResults", 32, 0)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return DefaultListPageSize, nil
	}
	return int(min(n, 1<<30)), nil
}

// listETag is a weak content hash for list responses.
func listETag(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h.Sum64())
	return base64.StdEncoding.EncodeToString(b[:])
}

// writeOK writes a 200 JSON response.
func (c *call) writeOK(v any) error {
	writeJSON(c.w, http.StatusOK, v)
	return nil
}

// writeNoContent writes the empty success answer of delete methods.
func (c *call) writeNoContent() error {
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
