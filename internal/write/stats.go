package write

import "time"

// TableStats describes a table's data as tables.get reports it.
type TableStats struct {
	// NumRows and NumBytes count visible rows that have left the streaming
	// buffer (BigQuery's numRows excludes the buffer).
	NumRows  int64
	NumBytes int64
	// BufferRows and BufferBytes count visible rows still in the streaming
	// buffer; OldestBuffered is the append time of the oldest of them
	// (zero when the buffer is empty).
	BufferRows     int64
	BufferBytes    int64
	OldestBuffered time.Time
}
