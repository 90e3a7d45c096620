package rowcodec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CheckGeography validates a GEOGRAPHY value given as WKT (POINT,
// LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON,
// GEOMETRYCOLLECTION, each possibly EMPTY; keywords in any case; 2-D
// coordinates only) or as a GeoJSON geometry object (not a Feature).
// Coordinates are longitude then latitude; longitude must be in
// [-180, 180] and latitude in [-90, 90]. Linestrings need two points and
// polygon rings four with the first repeated last. The value is stored as
// given. Errors are *LiteralError wrapping ErrSyntax or ErrRange.
func CheckGeography(s string) error {
	t := trimSpace(s)
	if strings.HasPrefix(t, "{") {
		return checkGeoJSON(t)
	}
	p := wktParser{s: t}
	if err := p.geometry(); err != nil {
		return err
	}
	p.ws()
	if p.i != len(p.s) {
		return p.fail("unexpected text after geometry")
	}
	return nil
}

type wktParser struct {
	s string
	i int
}

func (p *wktParser) fail(what string) error {
	return litErr(ErrSyntax, "Invalid WKT geography at position %d: %s", p.i, what)
}

func (p *wktParser) ws() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

func (p *wktParser) word() string {
	p.ws()
	j := p.i
	for j < len(p.s) && (p.s[j]|0x20 >= 'a' && p.s[j]|0x20 <= 'z') {
		j++
	}
	w := strings.ToUpper(p.s[p.i:j])
	p.i = j
	return w
}

func (p *wktParser) peek(c byte) bool {
	p.ws()
	return p.i < len(p.s) && p.s[p.i] == c
}

func (p *wktParser) expect(c byte) error {
	if !p.peek(c) {
		return p.fail(fmt.Sprintf("expected '%c'", c))
	}
	p.i++
	return nil
}

// empty consumes an optional EMPTY keyword.
func (p *wktParser) empty() bool {
	p.ws()
	if len(p.s)-p.i >= 5 && strings.EqualFold(p.s[p.i:p.i+5], "EMPTY") {
		p.i += 5
		return true
	}
	return false
}

func (p *wktParser) geometry() error {
	switch kw := p.word(); kw {
	case "POINT":
		if p.empty() {
			return nil
		}
		if err := p.expect('('); err != nil {
			return err
		}
		if err := p.coord(); err != nil {
			return err
		}
		return p.expect(')')
	case "LINESTRING":
		return p.body(p.lineBody)
	case "POLYGON":
		return p.body(p.polygonBody)
	case "MULTIPOINT":
		return p.body(func() error {
			return p.list(func() error {
				if p.peek('(') {
					p.i++
					if err := p.coord(); err != nil {
						return err
					}
					return p.expect(')')
				}
				return p.coord()
			})
		})
	case "MULTILINESTRING":
		return p.body(func() error { return p.list(func() error { return p.body(p.lineBody) }) })
	case "MULTIPOLYGON":
		return p.body(func() error { return p.list(func() error { return p.body(p.polygonBody) }) })
	case "GEOMETRYCOLLECTION":
		return p.body(func() error { return p.list(p.geometry) })
	case "":
		return p.fail("expected a geometry type")
	default:
		return p.fail("unsupported geometry type " + quoteValue(kw))
	}
}

// body parses EMPTY or "(" inner ")".
func (p *wktParser) body(inner func() error) error {
	if p.empty() {
		return nil
	}
	if err := p.expect('('); err != nil {
		return err
	}
	if err := inner(); err != nil {
		return err
	}
	return p.expect(')')
}

func (p *wktParser) list(item func() error) error {
	for {
		if err := item(); err != nil {
			return err
		}
		if !p.peek(',') {
			return nil
		}
		p.i++
	}
}

// points parses "x y, x y, ..." and returns the count and the first and
// last coordinate.
func (p *wktParser) points() (n int, first, last [2]float64, err error) {
	err = p.list(func() error {
		c, err := p.coordValue()
		if err != nil {
			return err
		}
		if n == 0 {
			first = c
		}
		last = c
		n++
		return nil
	})
	return n, first, last, err
}

func (p *wktParser) lineBody() error {
	n, _, _, err := p.points()
	if err == nil && n < 2 {
		return p.fail("a linestring needs at least two points")
	}
	return err
}

func (p *wktParser) polygonBody() error {
	return p.list(func() error {
		if err := p.expect('('); err != nil {
			return err
		}
		n, first, last, err := p.points()
		if err != nil {
			return err
		}
		if n < 4 {
			return p.fail("a polygon ring needs at least four points")
		}
		if first != last {
			return p.fail("a polygon ring must end at its first point")
		}
		return p.expect(')')
	})
}

func (p *wktParser) coord() error {
	_, err := p.coordValue()
	return err
}

func (p *wktParser) coordValue() ([2]float64, error) {
	var c [2]float64
	for k := 0; k < 2; k++ {
		p.ws()
		j := p.i
		for j < len(p.s) && strings.IndexByte("+-.0123456789eE", p.s[j]) >= 0 {
			j++
		}
		v, err := strconv.ParseFloat(p.s[p.i:j], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return c, p.fail("expected a number")
		}
		p.i = j
		c[k] = v
		if k == 0 && (p.i >= len(p.s) || !isSpace(p.s[p.i])) {
			return c, p.fail("expected a space between longitude and latitude")
		}
	}
	return c, checkLonLat(c[0], c[1])
}

func checkLonLat(lon, lat float64) error {
	if lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return litErr(ErrRange, "Longitude must be in [-180, 180] and latitude in [-90, 90]; got (%v, %v)", lon, lat)
	}
	return nil
}

// --- GeoJSON ------------------------------------------------------------------

type geoJSON struct {
	Type        string            `json:"type"`
	Coordinates json.RawMessage   `json:"coordinates"`
	Geometries  []json.RawMessage `json:"geometries"`
}

func checkGeoJSON(s string) error {
	return checkGeoJSONDepth([]byte(s), 0)
}

func checkGeoJSONDepth(b []byte, depth int) error {
	bad := func(what string) error { return litErr(ErrSyntax, "Invalid GeoJSON geography: %s", what) }
	if depth > 32 {
		return bad("geometry collections nested too deeply")
	}
	var g geoJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&g); err != nil {
		return bad("not a JSON object")
	}
	if dec.More() {
		return bad("unexpected text after the object")
	}
	var want int // nesting depth of the coordinates array
	switch g.Type {
	case "Point":
		want = 0
	case "LineString", "MultiPoint":
		want = 1
	case "Polygon", "MultiLineString":
		want = 2
	case "MultiPolygon":
		want = 3
	case "GeometryCollection":
		for _, sub := range g.Geometries {
			if err := checkGeoJSONDepth(sub, depth+1); err != nil {
				return err
			}
		}
		return nil
	default:
		return bad(fmt.Sprintf("unsupported type %q", quoteValue(g.Type)))
	}
	var coords any
	if err := json.Unmarshal(g.Coordinates, &coords); err != nil || coords == nil {
		return bad("missing coordinates")
	}
	return checkGeoCoords(coords, want, g.Type, bad)
}

// checkGeoCoords walks nested coordinate arrays; level 0 is a position.
func checkGeoCoords(v any, level int, typ string, bad func(string) error) error {
	arr, ok := v.([]any)
	if !ok {
		return bad("coordinates must be arrays")
	}
	if level == 0 {
		if len(arr) < 2 || len(arr) > 3 {
			return bad("a position has two or three numbers")
		}
		var ll [2]float64
		for i, x := range arr {
			f, ok := x.(float64)
			if !ok {
				return bad("a position holds numbers")
			}
			if i < 2 {
				ll[i] = f
			}
		}
		return checkLonLat(ll[0], ll[1])
	}
	for _, sub := range arr {
		if err := checkGeoCoords(sub, level-1, typ, bad); err != nil {
			return err
		}
	}
	switch {
	case level == 1 && (typ == "LineString" || typ == "MultiLineString") && len(arr) < 2:
		return bad("a linestring needs at least two positions")
	case level == 1 && (typ == "Polygon" || typ == "MultiPolygon"):
		if len(arr) < 4 {
			return bad("a polygon ring needs at least four positions")
		}
		a, b := arr[0].([]any), arr[len(arr)-1].([]any)
		if a[0] != b[0] || a[1] != b[1] {
			return bad("a polygon ring must end at its first position")
		}
	}
	return nil
}
