package server

import (
	"bytes"
	"sync"
)

// SyncBuffer lets the black-box tests (package server_test) share
// syncBuffer; it exists only in test builds.
type SyncBuffer = syncBuffer

// syncBuffer is a bytes.Buffer safe for concurrent writes (log handlers
// write from several goroutines).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
