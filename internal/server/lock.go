package server

import "errors"

// ErrDataDirLocked is returned by New when another server (in this process
// or another) already uses the data directory.
var ErrDataDirLocked = errors.New("server: data directory locked")

// lockFileName is the file in the data directory that holds the lock.
const lockFileName = "LOCK"
