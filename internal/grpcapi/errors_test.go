package grpcapi_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/penstockdb/penstock/internal/grpcapi"
	"github.com/penstockdb/penstock/internal/schema"
)

func protoReq(stream string, dp *descriptorpb.DescriptorProto, rows [][]byte) *storagepb.AppendRowsRequest {
	pd := &storagepb.AppendRowsRequest_ProtoData{Rows: &storagepb.ProtoRows{SerializedRows: rows}}
	if dp != nil {
		pd.WriterSchema = &storagepb.ProtoSchema{ProtoDescriptor: dp}
	}
	return &storagepb.AppendRowsRequest{WriteStream: stream, Rows: &storagepb.AppendRowsRequest_ProtoRows{ProtoRows: pd}}
}

// inbandStatus returns the in-band error of a response and its StorageError.
func inbandStatus(t *testing.T, resp *storagepb.AppendRowsResponse) (codes.Code, string, *storagepb.StorageError) {
	t.Helper()
	e := resp.GetError()
	if e == nil {
		t.Fatalf("want an in-band error, got %v", resp)
	}
	var se *storagepb.StorageError
	for _, d := range e.GetDetails() {
		m := &storagepb.StorageError{}
		if d.UnmarshalTo(m) == nil {
			se = m
		}
	}
	return codes.Code(e.GetCode()), e.GetMessage(), se
}

func TestAppendRows_Errors(t *testing.T) {
	srv := startServer(t, grpcapi.Options{MaxRequestBytes: 4096})
	srv.table("t", simple...)
	md, dp := msgType(t, simple)
	raw := srv.raw()
	ctx := context.Background()
	def := tablePath("t") + "/streams/_default"

	t.Run("InBandThenContinues", func(t *testing.T) {
		c, err := raw.AppendRows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Bad row: n is REQUIRED.
		bad := encode(t, md, map[string]any{"name": "no n"})
		reqs := []*storagepb.AppendRowsRequest{
			protoReq(def, dp, [][]byte{encode(t, md, map[string]any{"n": int64(1)}), bad}),
			{Offset: wrapperspb.Int64(0), Rows: protoReq("", nil, simpleRows(t, md, 0, 1)).Rows},
			{Rows: protoReq("", nil, [][]byte{make([]byte, 5000)}).Rows},
			{Rows: protoReq("", nil, simpleRows(t, md, 7, 1)).Rows},
		}
		for _, r := range reqs {
			if err := c.Send(r); err != nil {
				t.Fatal(err)
			}
		}
		// 1: row errors, no StorageError, message per spec.
		resp, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		code, msg, se := inbandStatus(t, resp)
		if code != codes.InvalidArgument || se != nil || !strings.HasPrefix(msg, "Errors found while processing rows.") ||
			!strings.HasSuffix(msg, "Entity: "+def) {
			t.Fatalf("row errors: %v %q %v", code, msg, se)
		}
		if len(resp.GetRowErrors()) != 1 || resp.GetRowErrors()[0].GetIndex() != 1 ||
			resp.GetRowErrors()[0].GetCode() != storagepb.RowError_FIELDS_ERROR || resp.GetWriteStream() != def {
			t.Fatalf("row_errors: %v", resp)
		}
		// 2: offset on the default stream.
		resp, _ = c.Recv()
		if code, _, _ := inbandStatus(t, resp); code != codes.InvalidArgument {
			t.Fatalf("offset on default: %v", resp)
		}
		// 3: request too large.
		resp, _ = c.Recv()
		if code, msg, _ := inbandStatus(t, resp); code != codes.InvalidArgument || !strings.HasPrefix(msg, "AppendRows request too large: ") {
			t.Fatalf("too large: %v", resp)
		}
		// 4: fine.
		resp, _ = c.Recv()
		if resp.GetError() != nil || resp.GetAppendResult() == nil || resp.GetAppendResult().GetOffset() != nil {
			t.Fatalf("good append on default: %v", resp)
		}
		if err := c.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Recv(); err != io.EOF {
			t.Fatalf("end of call: %v, want io.EOF (OK)", err)
		}
	})

	t.Run("ExtraFields", func(t *testing.T) {
		extra := append(append([]*schema.Field{}, simple...), &schema.Field{Name: "Bogus", Type: schema.String})
		md2, dp2 := msgType(t, extra)
		c, _ := raw.AppendRows(ctx)
		_ = c.Send(protoReq(def, dp2, [][]byte{encode(t, md2, map[string]any{"n": int64(1)})}))
		resp, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		code, msg, se := inbandStatus(t, resp)
		if code != codes.InvalidArgument || se == nil || se.GetCode() != storagepb.StorageError_SCHEMA_MISMATCH_EXTRA_FIELDS ||
			!strings.Contains(msg, "Input schema has more fields than BigQuery schema, extra fields: 'bogus'") {
			t.Fatalf("extra fields: %v %q %v", code, msg, se)
		}
	})

	closes := []struct {
		name string
		req  *storagepb.AppendRowsRequest
		code codes.Code
		msg  string
	}{
		{"InvalidName", protoReq("projects/p/bad", dp, simpleRows(t, md, 0, 1)), codes.InvalidArgument, "Invalid stream name. Entity: projects/p/bad"},
		{"MissingTable", protoReq(tablePath("nope")+"/streams/_default", dp, simpleRows(t, md, 0, 1)), codes.NotFound, "Requested entity was not found."},
		{"MissingStream", protoReq(tablePath("t")+"/streams/nope", dp, simpleRows(t, md, 0, 1)), codes.NotFound, "Requested entity was not found."},
		{"NoWriteStream", protoReq("", dp, simpleRows(t, md, 0, 1)), codes.InvalidArgument, ""},
		{"NoWriterSchema", protoReq(def, nil, simpleRows(t, md, 0, 1)), codes.InvalidArgument, ""},
		{"InvalidDescriptor", protoReq(def, &descriptorpb.DescriptorProto{Name: proto.String("Song"), Field: []*descriptorpb.FieldDescriptorProto{{
			Name: proto.String("composer"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".Composer")}}}, simpleRows(t, md, 0, 1)),
			codes.InvalidArgument, "Invalid proto schema"},
	}
	for _, tc := range closes {
		t.Run("Closes/"+tc.name, func(t *testing.T) {
			c, _ := raw.AppendRows(ctx)
			_ = c.Send(tc.req)
			_, err := c.Recv()
			st, _ := status.FromError(err)
			if st.Code() != tc.code || !strings.Contains(st.Message(), tc.msg) {
				t.Fatalf("got %v %q, want %v containing %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
		})
	}
}

func TestUnaryRPCs(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	srv.table("t", simple...)
	raw := srv.raw()
	ctx := context.Background()
	def := tablePath("t") + "/streams/_default"

	ws, err := raw.GetWriteStream(ctx, &storagepb.GetWriteStreamRequest{Name: def, View: storagepb.WriteStreamView_FULL})
	if err != nil {
		t.Fatal(err)
	}
	if ws.GetType() != storagepb.WriteStream_COMMITTED || ws.GetCreateTime() != nil || ws.GetCommitTime() != nil ||
		ws.GetLocation() != "us" || ws.GetName() != def || len(ws.GetTableSchema().GetFields()) != 2 ||
		ws.GetTableSchema().GetFields()[0].GetMode() != storagepb.TableFieldSchema_NULLABLE {
		t.Fatalf("default stream FULL view: %v", ws)
	}
	ws, _ = raw.GetWriteStream(ctx, &storagepb.GetWriteStreamRequest{Name: def})
	if ws.GetTableSchema() != nil {
		t.Fatalf("BASIC view carries a schema: %v", ws)
	}
	created, err := raw.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath("t"),
		WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_COMMITTED}})
	if err != nil {
		t.Fatal(err)
	}
	if created.GetCreateTime() == nil || !proto.Equal(created.GetCommitTime(), created.GetCreateTime()) ||
		created.GetTableSchema() == nil || strings.Contains(strings.TrimPrefix(created.GetName(), tablePath("t")+"/streams/"), "/") {
		t.Fatalf("created COMMITTED stream: %v", created)
	}

	errCases := []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"CreateMissingTable", func() error {
			_, err := raw.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath("nope"), WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_PENDING}})
			return err
		}, codes.NotFound},
		{"CreateUnspecifiedType", func() error {
			_, err := raw.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath("t"), WriteStream: &storagepb.WriteStream{}})
			return err
		}, codes.InvalidArgument},
		{"GetMissing", func() error {
			_, err := raw.GetWriteStream(ctx, &storagepb.GetWriteStreamRequest{Name: tablePath("t") + "/streams/nope"})
			return err
		}, codes.NotFound},
		{"FinalizeDefault", func() error {
			_, err := raw.FinalizeWriteStream(ctx, &storagepb.FinalizeWriteStreamRequest{Name: def})
			return err
		}, codes.InvalidArgument},
		{"FlushDefault", func() error {
			_, err := raw.FlushRows(ctx, &storagepb.FlushRowsRequest{WriteStream: def})
			return err
		}, codes.InvalidArgument},
		{"FlushCommitted", func() error {
			_, err := raw.FlushRows(ctx, &storagepb.FlushRowsRequest{WriteStream: created.GetName()})
			return err
		}, codes.InvalidArgument},
		{"CommitEmpty", func() error {
			_, err := raw.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{Parent: tablePath("t")})
			return err
		}, codes.InvalidArgument},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := status.Code(tc.call()); got != tc.code {
				t.Fatalf("got %v, want %v", got, tc.code)
			}
		})
	}

	resp, err := raw.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{Parent: tablePath("t"), WriteStreams: []string{created.GetName()}})
	if err != nil || len(resp.GetStreamErrors()) != 1 || resp.GetStreamErrors()[0].GetCode() != storagepb.StorageError_INVALID_STREAM_TYPE ||
		resp.GetStreamErrors()[0].GetErrorMessage() != "Stream must be created in pending mode, actual: WRITE_OPTIMIZED" ||
		resp.GetStreamErrors()[0].GetEntity() != created.GetName() {
		t.Fatalf("commit COMMITTED stream: %v, %v", resp, err)
	}
	pend, _ := raw.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath("t"), WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_PENDING}})
	resp, _ = raw.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{Parent: tablePath("t"), WriteStreams: []string{pend.GetName()}})
	if len(resp.GetStreamErrors()) != 1 || resp.GetStreamErrors()[0].GetCode() != storagepb.StorageError_INVALID_STREAM_STATE {
		t.Fatalf("commit unfinalized: %v", resp)
	}
	fin, err := raw.FinalizeWriteStream(ctx, &storagepb.FinalizeWriteStreamRequest{Name: pend.GetName()})
	if err != nil || fin.GetRowCount() != 0 {
		t.Fatalf("finalize empty stream: %v, %v", fin, err)
	}
	resp, err = raw.BatchCommitWriteStreams(ctx, &storagepb.BatchCommitWriteStreamsRequest{Parent: tablePath("t"), WriteStreams: []string{pend.GetName()}})
	if err != nil || resp.GetCommitTime() == nil {
		t.Fatalf("commit: %v, %v", resp, err)
	}
	got, _ := raw.GetWriteStream(ctx, &storagepb.GetWriteStreamRequest{Name: pend.GetName()})
	if !proto.Equal(got.GetCommitTime(), resp.GetCommitTime()) {
		t.Fatalf("commit_time %v, want %v", got.GetCommitTime(), resp.GetCommitTime())
	}
}

func TestFlushAbsentOffsetIsZero(t *testing.T) {
	srv := startServer(t, grpcapi.Options{})
	srv.table("t", simple...)
	md, dp := msgType(t, simple)
	raw := srv.raw()
	ctx := context.Background()
	buf, _ := raw.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{Parent: tablePath("t"), WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_BUFFERED}})
	c, _ := raw.AppendRows(ctx)
	_ = c.Send(protoReq(buf.GetName(), dp, simpleRows(t, md, 0, 3)))
	if resp, err := c.Recv(); err != nil || resp.GetAppendResult().GetOffset().GetValue() != 0 {
		t.Fatalf("append: %v, %v", resp, err)
	}
	fr, err := raw.FlushRows(ctx, &storagepb.FlushRowsRequest{WriteStream: buf.GetName()})
	if err != nil || fr.GetOffset() != 0 {
		t.Fatalf("flush without offset: %v, %v", fr, err)
	}
	if n := len(srv.rows("t")); n != 1 {
		t.Fatalf("%d rows visible, want 1", n)
	}
}

func TestIdleTimeoutAndDrain(t *testing.T) {
	srv := startServer(t, grpcapi.Options{IdleTimeout: 200 * time.Millisecond})
	srv.table("t", simple...)
	md, dp := msgType(t, simple)
	raw := srv.raw()
	ctx := context.Background()
	c, _ := raw.AppendRows(ctx)
	_ = c.Send(protoReq(tablePath("t")+"/streams/_default", dp, simpleRows(t, md, 0, 1)))
	if _, err := c.Recv(); err != nil {
		t.Fatal(err)
	}
	_, err := c.Recv()
	if st, _ := status.FromError(err); st.Code() != codes.Aborted || !strings.Contains(st.Message(), "Closing the stream because it has been inactive") {
		t.Fatalf("idle: %v", err)
	}

	c2, _ := raw.AppendRows(ctx)
	_ = c2.Send(protoReq(tablePath("t")+"/streams/_default", dp, simpleRows(t, md, 1, 1)))
	if _, err := c2.Recv(); err != nil {
		t.Fatal(err)
	}
	srv.svc.Drain()
	if _, err := c2.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("drain: %v", err)
	}
}
