package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/penstockdb/penstock/internal/config"
)

func TestLoad_InsertAllSettings(t *testing.T) {
	file := writeFile(t, "streamingBuffer: 2s\ndedupWindow: 90s\n")
	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		buf, dedup time.Duration
	}{
		{"defaults", nil, nil, 5 * time.Second, time.Minute},
		{"file", []string{"--config", file}, nil, 2 * time.Second, 90 * time.Second},
		{"env over file", []string{"--config", file},
			map[string]string{"PENSTOCK_STREAMING_BUFFER": "250ms", "PENSTOCK_DEDUP_WINDOW": "0"}, 250 * time.Millisecond, 0},
		{"flags over env", []string{"--streaming-buffer", "0", "--dedup-window=10m"},
			map[string]string{"PENSTOCK_STREAMING_BUFFER": "1s"}, 0, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(tc.args, envFunc(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.StreamingBuffer != tc.buf || c.DedupWindow != tc.dedup {
				t.Errorf("streaming buffer %v, dedup window %v; want %v, %v", c.StreamingBuffer, c.DedupWindow, tc.buf, tc.dedup)
			}
		})
	}
}

func TestLoad_InsertAllErrors(t *testing.T) {
	badFile := writeFile(t, "dedupWindow: a minute\n")
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		invalid bool
		want    string
	}{
		{"negative buffer", []string{"--streaming-buffer=-1s"}, nil, true, "--streaming-buffer -1s: must not be negative"},
		{"negative window", nil, map[string]string{"PENSTOCK_DEDUP_WINDOW": "-5s"}, true, "--dedup-window -5s: must not be negative"},
		{"bad env", nil, map[string]string{"PENSTOCK_STREAMING_BUFFER": "soon"}, false, "PENSTOCK_STREAMING_BUFFER"},
		{"bad file", []string{"--config", badFile}, nil, false, `dedupWindow "a minute": want a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(tc.args, envFunc(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if got := errors.Is(err, config.ErrInvalid); got != tc.invalid {
				t.Errorf("errors.Is(ErrInvalid) = %v, want %v", got, tc.invalid)
			}
		})
	}
}

func TestUsage_InsertAllFlags(t *testing.T) {
	var b strings.Builder
	config.Usage(&b)
	for _, want := range []string{"--streaming-buffer", "PENSTOCK_STREAMING_BUFFER", "--dedup-window", "PENSTOCK_DEDUP_WINDOW"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage lacks %s", want)
		}
	}
}
