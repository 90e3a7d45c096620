package write

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/penstockdb/penstock/internal/catalog"
	"github.com/penstockdb/penstock/internal/rowcodec"
)

// Streaming windows of partitioned tables (spec rest-api.md §2.8).
const (
	// DecoratorDaysBack and DecoratorDaysAhead bound the day a partition
	// decorator may name, relative to the current UTC date.
	DecoratorDaysBack  = 31
	DecoratorDaysAhead = 16
	// ColumnDaysBack and ColumnDaysAhead bound the date of a streamed
	// value of a time-unit partitioning column, relative to the current
	// UTC date.
	ColumnDaysBack  = 1825
	ColumnDaysAhead = 366
)

const microsPerDay = 86_400_000_000

// isIngestionTime reports whether t is partitioned by ingestion time.
func isIngestionTime(t *catalog.Table) bool {
	return t.TimePartitioning != nil && t.TimePartitioning.Field == ""
}

// partitionType is the table's time-partitioning granularity, DAY when the
// catalog left it empty.
func partitionType(tp *catalog.TimePartitioning) string {
	if tp == nil || tp.Type == "" {
		return "DAY"
	}
	return strings.ToUpper(tp.Type)
}

// PartitionStart returns the start (UTC) of the time-unit partition of the
// given granularity (DAY, HOUR, MONTH or YEAR; anything else counts as
// DAY) that holds at.
func PartitionStart(typ string, at time.Time) time.Time {
	at = at.UTC()
	y, m, d := at.Date()
	switch strings.ToUpper(typ) {
	case "HOUR":
		return time.Date(y, m, d, at.Hour(), 0, 0, 0, time.UTC)
	case "MONTH":
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	case "YEAR":
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// floorDiv divides rounding toward minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// utcDay is the number of days since 1970-01-01 of t's UTC date.
func utcDay(t time.Time) int64 { return floorDiv(t.UnixMicro(), microsPerDay) }

// parseDecorator parses a YYYYMMDD partition decorator into its day's
// midnight, UTC.
func parseDecorator(dec string) (time.Time, bool) {
	if len(dec) != 8 {
		return time.Time{}, false
	}
	for i := 0; i < len(dec); i++ {
		if dec[i] < '0' || dec[i] > '9' {
			return time.Time{}, false
		}
	}
	y, _ := strconv.Atoi(dec[:4])
	m, _ := strconv.Atoi(dec[4:6])
	d, _ := strconv.Atoi(dec[6:])
	day := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if day.Year() != y || int(day.Month()) != m || day.Day() != d {
		return time.Time{}, false // e.g. 20240230
	}
	return day, true
}

// decoratorPartition checks a partition decorator against t and the
// clock and returns the partition it names. rawID is the table id as
// addressed ("t$20240131"), for messages. Errors: ErrInvalidPartition.
func decoratorPartition(t *catalog.Table, rawID, dec string, now time.Time) (time.Time, error) {
	day, ok := parseDecorator(dec)
	if !ok {
		return time.Time{}, &Error{Kind: ErrInvalidPartition,
			Message: fmt.Sprintf("Invalid partition decorator in table id %s: insertAll accepts only $YYYYMMDD day partitions.", rawID)}
	}
	if !isIngestionTime(t) || partitionType(t.TimePartitioning) != "DAY" {
		return time.Time{}, &Error{Kind: ErrInvalidPartition,
			Message: fmt.Sprintf("Cannot stream to partition %s: insertAll takes a partition decorator only on tables partitioned by ingestion time with DAY granularity.", rawID)}
	}
	today := utcDay(now)
	if d := utcDay(day); d < today-DecoratorDaysBack || d > today+DecoratorDaysAhead {
		return time.Time{}, &Error{Kind: ErrInvalidPartition,
			Message: fmt.Sprintf("The destination table's partition %s is outside the allowed bounds. You can only stream to partitions within %d days in the past and %d days in the future relative to the current date.",
				rawID, DecoratorDaysBack, DecoratorDaysAhead)}
	}
	return day, nil
}

// partitionColumn returns the index of t's time-unit partitioning column
// in t.Schema, or -1 when t is not partitioned by a column.
func partitionColumn(t *catalog.Table) int {
	if t.TimePartitioning == nil || t.TimePartitioning.Field == "" || t.Schema == nil {
		return -1
	}
	return t.Schema.Lookup(t.TimePartitioning.Field)
}

// checkColumnPartition reports whether a partitioning column's value lies
// in the streaming window around today (days since the epoch), and how to
// show the value in the message. NULL is always accepted (the __NULL__
// partition).
func checkColumnPartition(v rowcodec.Value, today int64) (ok bool, shown string) {
	var day int64
	switch x := v.(type) {
	case nil:
		return true, ""
	case rowcodec.Timestamp:
		day = floorDiv(int64(x), microsPerDay)
		shown = strconv.FormatInt(int64(x), 10) // BigQuery reports TIMESTAMPs in microseconds
	case rowcodec.DateTime:
		day = floorDiv(int64(x), microsPerDay)
		shown = time.UnixMicro(int64(x)).UTC().Format("2006-01-02T15:04:05.999999")
	case rowcodec.Date:
		day = int64(x)
		shown = time.Unix(int64(x)*86400, 0).UTC().Format("2006-01-02")
	default:
		return true, ""
	}
	return day >= today-ColumnDaysBack && day <= today+ColumnDaysAhead, shown
}

// columnPartitionErrors decodes the rows listed in idx (valid rows of a
// request) and returns a row error for each whose partitioning column
// value is outside the streaming window. col is the column's index in
// t.Schema.
func columnPartitionErrors(dec *rowcodec.JSONDecoder, t *catalog.Table, col int, rows [][]byte, idx []int, jo *rowcodec.JSONOptions, now time.Time) ([]rowcodec.RowError, error) {
	sub := make([][]byte, len(idx))
	for i, j := range idx {
		sub[i] = rows[j]
	}
	name := t.Schema.Fields[col].Name
	table := t.Project + ":" + t.Dataset + "." + t.ID
	today := utcDay(now)
	var out []rowcodec.RowError
	err := dec.Decode(sub, jo, func(i int, r rowcodec.Row) error {
		if col >= len(r) {
			return nil
		}
		if ok, shown := checkColumnPartition(r[col], today); !ok {
			out = append(out, rowcodec.RowError{Index: idx[i], Location: name,
				Message: fmt.Sprintf("Value %s for partition column %s of the destination table %s is outside the allowed bounds. You can only stream to partitions of date range within %d days in the past and %d days in the future relative to the current date.",
					shown, name, table, ColumnDaysBack, ColumnDaysAhead)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: decoding validated rows: %v", ErrStorage, err)
	}
	return out, nil
}

// partitionOf returns the ingestion-time partition of rows appended at
// micros to t, or false when t is not partitioned by ingestion time.
func partitionOf(t *catalog.Table, micros int64) (time.Time, bool) {
	if !isIngestionTime(t) {
		return time.Time{}, false
	}
	return PartitionStart(partitionType(t.TimePartitioning), time.UnixMicro(micros)), true
}
