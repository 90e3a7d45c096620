package restapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// gzipSlack is how far the compressed body may exceed MaxRequestBytes: gzip
// framing can make an incompressible body slightly larger, but a body much
// larger than its decoded form (empty gzip members, say) is refused.
const gzipSlack = 64 << 10

// body reads the request body, decoding gzip, and enforces the size limit.
func (c *call) body() ([]byte, error) {
	limit := c.s.maxBody
	tooLarge := fmt.Errorf("%w: Request payload size exceeds the limit: %d bytes.", errPayloadTooLarge, limit)
	var rd io.Reader = c.r.Body
	switch enc := strings.ToLower(strings.TrimSpace(c.r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if c.r.ContentLength > limit {
			return nil, tooLarge
		}
	case "gzip", "x-gzip":
		raw := &limitedReader{r: c.r.Body, n: limit + gzipSlack}
		zr, err := gzip.NewReader(raw)
		if err != nil {
			if raw.exceeded {
				return nil, tooLarge
			}
			return nil, fmt.Errorf("%w: Invalid gzip request body: %v", errBadRequest, err)
		}
		defer zr.Close()
		rd = &gzipBody{zr: zr, raw: raw}
	default:
		return nil, fmt.Errorf("%w: Unsupported Content-Encoding %q.", errBadRequest, enc)
	}
	data, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		if errors.Is(err, errPayloadTooLarge) {
			return nil, tooLarge
		}
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: Invalid gzip request body: %v", errBadRequest, err)
		}
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge
	}
	return data, nil
}

// limitedReader fails once more than n bytes have been read.
type limitedReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		l.exceeded = true
		return 0, errPayloadTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		l.exceeded = true
		return n, errPayloadTooLarge
	}
	return n, err
}

// gzipBody reports the raw-size limit rather than a gzip error when the
// compressed stream is cut short by it.
type gzipBody struct {
	zr  *gzip.Reader
	raw *limitedReader
}

func (g *gzipBody) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF && g.raw.exceeded {
		return n, errPayloadTooLarge
	}
	return n, err
}

// object is a JSON object body with its members kept raw, so handlers can
// tell an absent member from an explicit null.
type object map[string]json.RawMessage

// readObject reads the body as one JSON object. An empty body is an empty
// object.
func (c *call) readObject() (object, error) {
	data, err := c.body()
	if err != nil {
		return nil, err
	}
	return parseObject(data)
}

// parseObject decodes one JSON object and nothing else.
func parseObject(data []byte) (object, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return object{}, nil
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: Invalid JSON payload received. Expected an object.", errBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var o object
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("%w: Invalid JSON payload received. %v.", errBadRequest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: Invalid JSON payload received. Unexpected data after the object.", errBadRequest)
	}
	if o == nil {
		o = object{}
	}
	return o, nil
}

// isNull reports whether a raw member is JSON null.
func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// decodeMember unmarshals member key into v if present and not null. The
// error names the member.
func (o object) decodeMember(key string, v any) (bool, error) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("%w: Invalid value for field %s: %v", errInvalid, key, jsonErrorText(err))
	}
	return true, nil
}

// jsonErrorText shortens encoding/json errors to the useful part.
func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s: cannot use a JSON %s", te.Field, te.Value)
		}
		return fmt.Sprintf("cannot use a JSON %s", te.Value)
	}
	return err.Error()
}

// flexInt64 decodes an int64 sent as a JSON string (the API's encoding of
// 64-bit numbers) or, leniently, as a JSON number.
type flexInt64 int64

func (f *flexInt64) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a 64-bit integer", s)
	}
	*f = flexInt64(v)
	return nil
}

// Query parameters.

// queryUint parses an unsigned integer query parameter; absent or empty
// gives def.
func (c *call) queryUint(name string, bits int, def uint64) (uint64, error) {
	s := c.values().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: Invalid value for parameter %s: %q", errInvalid, name, s)
	}
	return v, nil
}

// queryBool parses a boolean query parameter; absent or empty gives false.
func (c *call) queryBool(name string) (bool, error) {
	s := c.values().Get(name)
	if s == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%w: Invalid value for parameter %s: %q", errInvalid, name, s)
	}
	return v, nil
}

// query returns a string query parameter.
func (c *call) query(name string) string { return c.values().Get(name) }
