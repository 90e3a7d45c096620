package write

// Ref locates a logged record.
type Ref struct {
	Segment uint32
	Offset  int64
}

// Backend is the durable log the engine writes its records to (see
// storage/record for their meaning). storage.Engine implements it on the
// embedded write-ahead log; a distributed backend can implement it later.
//
// Records are opaque to the backend. Durability and order are its whole
// contract: a record whose done callback reported success survives a crash,
// and callbacks fire in log order.
type Backend interface {
	// Replay calls fn for every durable record in log order. It is called
	// once, before any append.
	Replay(fn func(ref Ref, data []byte) error) error
	// AppendAsync queues data and returns at once; done is called exactly
	// once, in log order, when data is durable or has failed. data must not
	// be modified until done is called.
	AppendAsync(data []byte, done func(ref Ref, err error))
	// ReadAt returns the record at ref.
	ReadAt(ref Ref) ([]byte, error)
	// Close waits for queued appends and releases the log.
	Close() error
}
