package write

import "time"

// Options configure an Engine. Zero fields take the defaults of
// DefaultOptions.
type Options struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// PendingTTL is how long after creation a PENDING stream can still be
	// committed (BigQuery: 24h).
	PendingTTL time.Duration
	// FinalizedTTL is how long finalized PENDING data waits for a commit
	// (BigQuery: 4h).
	FinalizedTTL time.Duration
	// CommittedIdleTTL expires COMMITTED streams without traffic (3 days).
	CommittedIdleTTL time.Duration
	// BufferedIdleTTL expires BUFFERED streams without traffic (7 days).
	BufferedIdleTTL time.Duration
	// StreamingBuffer is how long rows written through the _default stream
	// (and insertAll) count as "in the streaming buffer" for table stats.
	// Negative means never.
	StreamingBuffer time.Duration
	// SweepInterval is how often expired streams are forgotten (see
	// Engine.Sweep). Zero means one minute; negative disables the sweeper.
	SweepInterval time.Duration
	// DedupWindow is how long insertAll remembers a row's insertId to drop
	// a repeat of it (BigQuery: at least a minute). Negative turns
	// de-duplication off. See dedup.go.
	DedupWindow time.Duration
	// DedupMaxIDs bounds the insertIds remembered per window generation
	// (two generations are kept); past it the effective window shrinks.
	DedupMaxIDs int
}

// DefaultOptions returns BigQuery's windows.
func DefaultOptions() Options {
	return Options{
		Now:              time.Now,
		PendingTTL:       24 * time.Hour,
		FinalizedTTL:     4 * time.Hour,
		CommittedIdleTTL: 72 * time.Hour,
		BufferedIdleTTL:  168 * time.Hour,
		StreamingBuffer:  5 * time.Second,
		SweepInterval:    time.Minute,
		DedupWindow:      time.Minute,
		DedupMaxIDs:      1 << 20,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.PendingTTL <= 0 {
		o.PendingTTL = d.PendingTTL
	}
	if o.FinalizedTTL <= 0 {
		o.FinalizedTTL = d.FinalizedTTL
	}
	if o.CommittedIdleTTL <= 0 {
		o.CommittedIdleTTL = d.CommittedIdleTTL
	}
	if o.BufferedIdleTTL <= 0 {
		o.BufferedIdleTTL = d.BufferedIdleTTL
	}
	if o.SweepInterval == 0 {
		o.SweepInterval = d.SweepInterval
	}
	if o.StreamingBuffer == 0 {
		o.StreamingBuffer = d.StreamingBuffer
	}
	if o.DedupWindow == 0 {
		o.DedupWindow = d.DedupWindow
	}
	if o.DedupMaxIDs <= 0 {
		o.DedupMaxIDs = d.DedupMaxIDs
	}
	return o
}
