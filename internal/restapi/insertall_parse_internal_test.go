package restapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// referenceInsertAll decodes a body with encoding/json, member by member
// and with exact key matching: the semantics parseInsertAll implements.
func referenceInsertAll(data []byte) (insertAllRequest, error) {
	var req insertAllRequest
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return req, errors.New("not an object")
	}
	isNull := func(r json.RawMessage) bool { return string(r) == "null" }
	for _, k := range []string{"skipInvalidRows", "ignoreUnknownValues"} {
		if r, ok := top[k]; ok && !isNull(r) {
			var b bool
			if err := json.Unmarshal(r, &b); err != nil {
				return req, err
			}
			if k == "skipInvalidRows" {
				req.SkipInvalidRows = b
			} else {
				req.IgnoreUnknownValues = b
			}
		}
	}
	if r, ok := top["templateSuffix"]; ok && !isNull(r) {
		if err := json.Unmarshal(r, &req.TemplateSuffix); err != nil {
			return req, err
		}
	}
	r, ok := top["rows"]
	if !ok || isNull(r) {
		return req, nil
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(r, &rows); err != nil {
		return req, err
	}
	req.Rows = []insertAllRow{}
	for _, raw := range rows {
		var row insertAllRow
		if !isNull(raw) {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				return req, err
			}
			if j, ok := m["json"]; ok && !isNull(j) {
				row.JSON = j
			}
			if id, ok := m["insertId"]; ok && !isNull(id) {
				switch id[0] {
				case '"':
					if err := json.Unmarshal(id, &row.InsertID); err != nil {
						return req, err
					}
				case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
					row.InsertID = string(id)
				default:
					return req, errors.New("insertId is not a string")
				}
			}
		}
		req.Rows = append(req.Rows, row)
	}
	return req, nil
}

func sameRequest(a, b insertAllRequest) bool {
	if a.SkipInvalidRows != b.SkipInvalidRows || a.IgnoreUnknownValues != b.IgnoreUnknownValues ||
		a.TemplateSuffix != b.TemplateSuffix || len(a.Rows) != len(b.Rows) {
		return false
	}
	for i := range a.Rows {
		if a.Rows[i].InsertID != b.Rows[i].InsertID || !bytes.Equal(a.Rows[i].JSON, b.Rows[i].JSON) ||
			(a.Rows[i].JSON == nil) != (b.Rows[i].JSON == nil) {
			return false
		}
	}
	return true
}

// checkParse compares parseInsertAll with the reference on one input.
func checkParse(t *testing.T, data []byte) {
	t.Helper()
	if bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) > maxBodyDepth-10 {
		return // beyond the parser's nesting bound, by design
	}
	var got insertAllRequest
	err := parseInsertAll(data, &got)
	want, werr := referenceInsertAll(data)
	switch {
	case err != nil && !errors.Is(err, errBadRequest):
		t.Fatalf("%q: error %v does not wrap errBadRequest", data, err)
	case (err == nil) != (werr == nil):
		t.Fatalf("%q: parse error %v, reference error %v", data, err, werr)
	case err == nil && !sameRequest(got, want):
		t.Fatalf("%q:\n got %+v\nwant %+v", data, got, want)
	}
}

var parseCases = []string{
	`{}`,
	` { "rows" : [ ] } `,
	`{"rows":null,"skipInvalidRows":null,"ignoreUnknownValues":null,"templateSuffix":null,"kind":null,"traceId":null}`,
	`{"kind":"bigquery#tableDataInsertAllRequest","skipInvalidRows":true,"ignoreUnknownValues":false,"templateSuffix":"_x","traceId":"abc","rows":[{"insertId":"a","json":{"n":1}}]}`,
	`{"rows":[{"json":{"a":[1,2,{"b":null}],"c":"\u00e9\"\\"}},{"insertId":null},null,{"json":null,"insertId":12.5e3},{"insertId":"\u0041\n","other":{"x":[]}}]}`,
	`{"rows":[{"json":{}},{"json":"not an object"},{"json":[1]},{"json":-0.5E-3}]}`,
	`{"rows":[{"json":{"n":1}}],"rows":[{"json":{"n":2}}]}`,
	`{"templateSuffix":"a","templateSuffix":"b","unknown":[true,false,null,{"deep":[[[]]]}]}`,
	`{"rows":[{"json":{"s":"` + "\xff\xfe" + `"}}],"templateSuffix":"` + "\xc3" + `"}`,
	`{"SkipInvalidRows":true}`,
	// malformed
	``, `[]`, `null`, `{`, `{"rows":[`, `{"rows":[{"json":{"n":1,}}]}`, `{"rows":[{"json":{"n":01}}]}`,
	`{"rows":[{"json":{"n":1}}]} x`, `{"rows":{}}`, `{"rows":[1]}`, `{"rows":["x"]}`,
	`{"skipInvalidRows":"true"}`, `{"skipInvalidRows":1}`, `{"templateSuffix":1}`, `{"rows":[{"insertId":true}]}`,
	`{"rows":[{"insertId":{}}]}`, `{"rows":[{"json":{"s":"a` + "\n" + `b"}}]}`, `{"rows":[{"json":{"s":"\x"}}]}`,
	`{"rows":[{"json":{"s":"\u12"}}]}`, `{"a":tru}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a" 1}`, `{a:1}`,
	`{"a":1,}`, `{"a":[1,]}`, `{"a":nul}`, "{\"a\":\"\x00\"}",
}

func TestParseInsertAll(t *testing.T) {
	for _, c := range parseCases {
		checkParse(t, []byte(c))
	}
	deep := `{"x":` + strings.Repeat("[", maxBodyDepth+5) + strings.Repeat("]", maxBodyDepth+5) + `}`
	var req insertAllRequest
	if err := parseInsertAll([]byte(deep), &req); !errors.Is(err, errBadRequest) {
		t.Fatalf("deep nesting: %v", err)
	}
}

func FuzzParseInsertAll(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data) })
}

func BenchmarkParseInsertAll(b *testing.B) {
	var body strings.Builder
	body.WriteString(`{"rows":[`)
	for i := 0; i < 500; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"insertId":"%032x","json":{"seq":%d,"ts":"2026-05-01T12:00:00.123456Z","user_id":"user-%d","event":"click","amount":12.5,"ok":true}}`, i, i, i)
	}
	body.WriteString(`]}`)
	data := []byte(body.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var req insertAllRequest
	for i := 0; i < b.N; i++ {
		if err := parseInsertAll(data, &req); err != nil {
			b.Fatal(err)
		}
	}
}
