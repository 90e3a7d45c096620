// Package wal is Penstock's write-ahead log: one shared, segmented log of opaque byte records
// per server, with group commit. It gives records no meaning; internal/storage/record does.
//
// Appends from any number of goroutines are queued and written by one flusher goroutine in
// rounds: each round is one gathered write (large payloads are written from the caller's slice
// without a copy) and, with SyncAlways, one fdatasync; then the round's done callbacks run in
// log order. Every acknowledged append in Penstock waits on this, so it is the durability and
// the throughput bottleneck of the server.
//
// On disk the log is a directory of segment files 0000000001.wal, 0000000002.wal, ... Each
// starts with a 16-byte header (magic, format version, segment number), followed by frames of
// a 12-byte header (length and flags, CRC-32C of the payload, CRC-32C of the header) and the
// payload. docs/format/wal.md specifies the bytes and the recovery rules.
//
// Preallocation: with SyncAlways (on Linux) a background goroutine zero-fills and syncs the next
// segment as a spare (NNNNNNNNNN.wal.tmp) before it is needed, paced at two bytes of zeros per
// byte of records; the roll renames it into place. Records then overwrite zeros instead of
// growing the file, so a round's fdatasync need not commit a new file size. The zeros after the
// last record are a torn tail to recovery, so the byte format is unchanged; Size and Stats.Bytes
// do not count them.
//
// Recovery: Open cuts a torn tail off the last segment; any other damage is a
// *CorruptionError, and the server must not start on it. After a write or sync error the log
// is permanently failed (ErrFailed): retrying an fsync after an error can report success for
// data the kernel already dropped.
package wal
