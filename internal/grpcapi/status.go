package grpcapi

import (
	"context"
	"errors"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/penstockdb/penstock/internal/write"
)

// mapping is one row of the error table: a domain error, the gRPC code it
// becomes, and the StorageError code put in the status details (0 = none).
type mapping struct {
	err     error
	code    codes.Code
	storage storagepb.StorageError_StorageErrorCode
}

// errorTable is the ONLY place domain errors become gRPC codes. It is
// walked in order with errors.Is, so wrapped errors match. A test checks
// that every exported Err* of the write package appears here.
var errorTable = []mapping{
	{write.ErrInvalidStreamName, codes.InvalidArgument, 0},
	{write.ErrStreamNotFound, codes.NotFound, storagepb.StorageError_STREAM_NOT_FOUND},
	{write.ErrTableNotFound, codes.NotFound, storagepb.StorageError_TABLE_NOT_FOUND},
	{write.ErrStreamFinalized, codes.InvalidArgument, storagepb.StorageError_STREAM_FINALIZED},
	{write.ErrOffsetExists, codes.AlreadyExists, storagepb.StorageError_OFFSET_ALREADY_EXISTS},
	{write.ErrOffsetOutOfRange, codes.OutOfRange, storagepb.StorageError_OFFSET_OUT_OF_RANGE},
	{write.ErrOffsetOnDefault, codes.InvalidArgument, 0},
	{write.ErrInvalidStreamType, codes.InvalidArgument, storagepb.StorageError_INVALID_STREAM_TYPE},
	{write.ErrInvalidStreamState, codes.InvalidArgument, storagepb.StorageError_INVALID_STREAM_STATE},
	{write.ErrAlreadyCommitted, codes.InvalidArgument, storagepb.StorageError_STREAM_ALREADY_COMMITTED},
	{write.ErrStreamExpired, codes.InvalidArgument, storagepb.StorageError_INVALID_STREAM_STATE},
	{write.ErrNotOnDefault, codes.InvalidArgument, 0},
	// Beam reads ALREADY_EXISTS on FlushRows as "already flushed up to here".
	{write.ErrFlushedAlready, codes.AlreadyExists, 0},
	{write.ErrFlushBeyondEnd, codes.OutOfRange, storagepb.StorageError_OFFSET_OUT_OF_RANGE},
	{write.ErrWrongTable, codes.InvalidArgument, 0},
	{write.ErrInvalidArgument, codes.InvalidArgument, 0},
	{write.ErrInvalidPartition, codes.InvalidArgument, 0}, // insertAll decorators; never on gRPC
	{write.ErrSchemaExtraFields, codes.InvalidArgument, storagepb.StorageError_SCHEMA_MISMATCH_EXTRA_FIELDS},
	{write.ErrSchemaIncompatible, codes.InvalidArgument, 0},
	{write.ErrInvalidDescriptor, codes.InvalidArgument, 0},
	// Row errors carry no StorageError: Java would hide row_errors behind it.
	{write.ErrInvalidRows, codes.InvalidArgument, 0},
	{write.ErrRequestTooLarge, codes.InvalidArgument, 0},
	{write.ErrUnavailable, codes.Unavailable, 0},
	{write.ErrStorage, codes.Internal, 0},
	{context.Canceled, codes.Canceled, 0},
	{context.DeadlineExceeded, codes.DeadlineExceeded, 0},
}

func lookup(err error) mapping {
	for _, m := range errorTable {
		if errors.Is(err, m.err) {
			return m
		}
	}
	return mapping{err: err, code: codes.Internal}
}

// rpcStatus converts an engine error into a google.rpc.Status proto (for
// in-band AppendRowsResponse.error), with a StorageError detail where the
// table says so.
func rpcStatus(err error) *status.Status {
	m := lookup(err)
	msg := err.Error()
	var entity string
	var we *write.Error
	if errors.As(err, &we) {
		entity = we.Entity
	}
	if m.code == codes.Internal && !errors.Is(err, write.ErrStorage) {
		msg = "internal error: " + msg
	}
	st := &status.Status{Code: int32(m.code), Message: msg}
	if m.storage != 0 {
		if a, aerr := anypb.New(&storagepb.StorageError{Code: m.storage, Entity: entity, ErrorMessage: msg}); aerr == nil {
			st.Details = append(st.Details, a)
		}
	}
	return st
}

// toGRPC converts an engine error into a gRPC error (for unary RPCs and
// for ending an AppendRows call).
func toGRPC(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := grpcstatus.FromError(err); ok {
		return err
	}
	return grpcstatus.ErrorProto(rpcStatus(err))
}

// storageErrorCode returns the StorageError code for a batch-commit
// stream error.
func storageErrorCode(kind error) storagepb.StorageError_StorageErrorCode {
	if m := lookup(kind); m.storage != 0 {
		return m.storage
	}
	return storagepb.StorageError_STORAGE_ERROR_CODE_UNSPECIFIED
}
