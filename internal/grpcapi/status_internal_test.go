package grpcapi

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc/codes"

	"github.com/penstockdb/penstock/internal/write"
)

// sentinels names every exported error of the write package. The test
// below parses the package source, so a new Err* that is not listed here
// (and therefore maybe not in errorTable) fails the build of this test.
var sentinels = map[string]error{
	"ErrInvalidStreamName": write.ErrInvalidStreamName, "ErrStreamNotFound": write.ErrStreamNotFound,
	"ErrTableNotFound": write.ErrTableNotFound, "ErrStreamFinalized": write.ErrStreamFinalized,
	"ErrOffsetExists": write.ErrOffsetExists, "ErrOffsetOutOfRange": write.ErrOffsetOutOfRange,
	"ErrOffsetOnDefault": write.ErrOffsetOnDefault, "ErrInvalidStreamType": write.ErrInvalidStreamType,
	"ErrInvalidStreamState": write.ErrInvalidStreamState, "ErrAlreadyCommitted": write.ErrAlreadyCommitted,
	"ErrStreamExpired": write.ErrStreamExpired, "ErrNotOnDefault": write.ErrNotOnDefault,
	"ErrFlushedAlready": write.ErrFlushedAlready, "ErrFlushBeyondEnd": write.ErrFlushBeyondEnd,
	"ErrWrongTable": write.ErrWrongTable, "ErrInvalidArgument": write.ErrInvalidArgument,
	"ErrSchemaExtraFields": write.ErrSchemaExtraFields, "ErrSchemaIncompatible": write.ErrSchemaIncompatible,
	"ErrInvalidDescriptor": write.ErrInvalidDescriptor, "ErrInvalidRows": write.ErrInvalidRows,
	"ErrRequestTooLarge": write.ErrRequestTooLarge, "ErrUnavailable": write.ErrUnavailable,
	"ErrStorage": write.ErrStorage, "ErrInvalidPartition": write.ErrInvalidPartition,
}

func TestErrorTableComplete(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("../write/*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					if !strings.HasPrefix(n.Name, "Err") || !n.IsExported() {
						continue
					}
					found++
					e, ok := sentinels[n.Name]
					if !ok {
						t.Errorf("write.%s is not listed here; add it and to errorTable", n.Name)
						continue
					}
					m := lookup(e)
					if m.err != e {
						t.Errorf("write.%s is missing from errorTable (would be %v)", n.Name, m.code)
					}
				}
			}
		}
	}
	if found != len(sentinels) {
		t.Errorf("found %d Err* in write, %d listed", found, len(sentinels))
	}
}

func TestErrorTable(t *testing.T) {
	tests := []struct {
		err     error
		code    codes.Code
		storage storagepb.StorageError_StorageErrorCode
	}{
		{&write.Error{Kind: write.ErrOffsetExists, Entity: "s", Message: "m"}, codes.AlreadyExists, storagepb.StorageError_OFFSET_ALREADY_EXISTS},
		{&write.Error{Kind: write.ErrOffsetOutOfRange}, codes.OutOfRange, storagepb.StorageError_OFFSET_OUT_OF_RANGE},
		{&write.Error{Kind: write.ErrStreamFinalized}, codes.InvalidArgument, storagepb.StorageError_STREAM_FINALIZED},
		{&write.Error{Kind: write.ErrStreamNotFound}, codes.NotFound, storagepb.StorageError_STREAM_NOT_FOUND},
		{&write.Error{Kind: write.ErrTableNotFound}, codes.NotFound, storagepb.StorageError_TABLE_NOT_FOUND},
		{&write.Error{Kind: write.ErrSchemaExtraFields}, codes.InvalidArgument, storagepb.StorageError_SCHEMA_MISMATCH_EXTRA_FIELDS},
		{&write.Error{Kind: write.ErrInvalidRows}, codes.InvalidArgument, 0},
		{write.ErrUnavailable, codes.Unavailable, 0},
		{write.ErrStorage, codes.Internal, 0},
		{context.Canceled, codes.Canceled, 0},
	}
	for _, tt := range tests {
		st := rpcStatus(tt.err)
		if got := codes.Code(st.GetCode()); got != tt.code {
			t.Errorf("%v: code %v, want %v", tt.err, got, tt.code)
		}
		var got storagepb.StorageError_StorageErrorCode
		for _, d := range st.GetDetails() {
			se := &storagepb.StorageError{}
			if d.UnmarshalTo(se) == nil {
				got = se.GetCode()
				if tt.storage != 0 && se.GetEntity() != "s" && tt.err.(*write.Error).Entity == "s" {
					t.Errorf("%v: entity %q", tt.err, se.GetEntity())
				}
			}
		}
		if got != tt.storage {
			t.Errorf("%v: StorageError %v, want %v", tt.err, got, tt.storage)
		}
	}
}

// TestEveryRPCImplemented walks the service descriptor so that a proto
// upgrade adding an RPC cannot go unnoticed.
func TestEveryRPCImplemented(t *testing.T) {
	sd := storagepb.File_google_cloud_bigquery_storage_v1_storage_proto.Services().ByName("BigQueryWrite")
	if sd == nil {
		t.Fatal("BigQueryWrite not found")
	}
	implemented := map[string]bool{
		"CreateWriteStream": true, "AppendRows": true, "GetWriteStream": true,
		"FinalizeWriteStream": true, "BatchCommitWriteStreams": true, "FlushRows": true,
	}
	for i := 0; i < sd.Methods().Len(); i++ {
		name := string(sd.Methods().Get(i).Name())
		if !implemented[name] {
			t.Errorf("RPC %s is neither implemented nor listed as deliberately unimplemented", name)
		}
		delete(implemented, name)
	}
	for name := range implemented {
		t.Errorf("listed RPC %s is not in the service", name)
	}
}
