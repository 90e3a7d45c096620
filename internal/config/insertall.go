package config

import (
	"flag"
	"fmt"
	"time"
)

// insertAll settings.
const (
	// DefaultStreamingBuffer is how long rows streamed through insertAll or
	// a _default stream count as "in the streaming buffer" (tables.get
	// reports them in streamingBuffer and leaves them out of numRows).
	DefaultStreamingBuffer = 5 * time.Second
	// DefaultDedupWindow is how long insertAll remembers a row's insertId
	// (BigQuery: at least a minute).
	DefaultDedupWindow = time.Minute
)

func insertAllFlags(fs *flag.FlagSet, c *Config) {
	fs.DurationVar(&c.StreamingBuffer, "streaming-buffer", c.StreamingBuffer,
		"how long streamed rows stay in the streaming buffer of tables.get; 0 reports none")
	fs.DurationVar(&c.DedupWindow, "dedup-window", c.DedupWindow,
		"how long insertAll remembers insertIds to drop repeated rows; 0 turns de-duplication off")
}

func (c Config) validateInsertAll() []string {
	var problems []string
	if c.StreamingBuffer < 0 {
		problems = append(problems, fmt.Sprintf("--streaming-buffer %v: must not be negative", c.StreamingBuffer))
	}
	if c.DedupWindow < 0 {
		problems = append(problems, fmt.Sprintf("--dedup-window %v: must not be negative", c.DedupWindow))
	}
	return problems
}

// applyInsertAllFile sets the insertAll settings a config file names.
func applyInsertAllFile(c *Config, f *fileConfig) error {
	for _, s := range []struct {
		key string
		v   *string
		dst *time.Duration
	}{
		{"streamingBuffer", f.StreamingBuffer, &c.StreamingBuffer},
		{"dedupWindow", f.DedupWindow, &c.DedupWindow},
	} {
		if s.v == nil {
			continue
		}
		d, err := time.ParseDuration(*s.v)
		if err != nil {
			return fmt.Errorf("%s %q: want a duration such as 5s", s.key, *s.v)
		}
		*s.dst = d
	}
	return nil
}
