package grpcapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/penstockdb/penstock/internal/rowcodec"
	"github.com/penstockdb/penstock/internal/write"
)

// dest is a connection's state for one destination stream.
type dest struct {
	stream *write.Stream
	writer *write.Writer
	desc   *descriptorpb.DescriptorProto
	arrow  []byte // the Arrow writer schema the writer was compiled from
}

// Row formats of a connection (spec §3.3 rule 6: fixed per connection).
const (
	formatUnset = iota
	formatProto
	formatArrow
)

// reply is one request's answer in flight: either an immediate error or
// an engine ack to wait for.
type reply struct {
	name   string
	ack    *write.Ack
	err    error
	dest   *dest
	writer *write.Writer
}

// conn is the state of one AppendRows call.
type conn struct {
	svc        *Service
	srv        storagepb.BigQueryWrite_AppendRowsServer
	dests      map[string]*dest
	current    string
	defaultMVI rowcodec.MissingValue
	requests   int
	format     int // formatUnset until the first request with rows
}

type recvResult struct {
	req *storagepb.AppendRowsRequest
	err error
}

// AppendRows serves one bidirectional append connection: exactly one
// response per request, in request order. Per-request failures are
// answered in-band and the connection lives on; only connection-level
// failures (bad stream name, unknown stream, invalid descriptor, missing
// first-request fields, idle timeout, shutdown) end the call, and only
// after every earlier request has been answered.
func (s *Service) AppendRows(srv storagepb.BigQueryWrite_AppendRowsServer) error {
	c := &conn{svc: s, srv: srv, dests: map[string]*dest{}}
	ctx := srv.Context()

	recv := make(chan recvResult)
	stopRecv := make(chan struct{})
	defer close(stopRecv)
	go func() {
		for {
			req, err := srv.Recv()
			select {
			case recv <- recvResult{req, err}:
			case <-stopRecv:
				return
			}
			if err != nil {
				return
			}
		}
	}()

	out := make(chan *reply, maxInflight)
	sendDone := make(chan error, 1)
	go func() { sendDone <- c.sendLoop(out) }()

	finish := func(endErr error) error {
		close(out)
		if err := <-sendDone; err != nil {
			return err
		}
		return endErr
	}

	idle := time.NewTimer(s.opts.IdleTimeout)
	defer idle.Stop()
	for {
		select {
		case r := <-recv:
			if r.err == io.EOF {
				return finish(nil)
			}
			if r.err != nil {
				return finish(r.err)
			}
			if !idle.Stop() {
				select {
				case <-idle.C:
				default:
				}
			}
			idle.Reset(s.opts.IdleTimeout)
			rep, fatal := c.handle(r.req)
			if fatal != nil {
				return finish(fatal)
			}
			select {
			case out <- rep:
			case err := <-sendDone:
				// The sender failed (client gone); stop.
				sendDone <- err
				return finish(nil)
			}
		case <-idle.C:
			return finish(grpcstatus.Errorf(codes.Aborted,
				"Closing the stream because it has been inactive for %d seconds.", int(s.opts.IdleTimeout/time.Second)))
		case <-s.draining:
			return finish(grpcstatus.Error(codes.Unavailable, "the connection is draining: the server is shutting down"))
		case <-ctx.Done():
			return finish(grpcstatus.FromContextError(ctx.Err()).Err())
		}
	}
}

// sendLoop answers requests in order as their acks complete.
func (c *conn) sendLoop(out <-chan *reply) error {
	var sendErr error
	for rep := range out {
		if rep.ack != nil {
			<-rep.ack.Done()
		}
		if sendErr != nil {
			continue // drain so handlers never block
		}
		if err := c.srv.Send(c.response(rep)); err != nil {
			sendErr = err
		}
	}
	return sendErr
}

func (c *conn) response(rep *reply) *storagepb.AppendRowsResponse {
	resp := &storagepb.AppendRowsResponse{WriteStream: rep.name}
	err := rep.err
	var off int64 = -1
	if err == nil && rep.ack != nil {
		off, err = rep.ack.Result()
	}
	if err != nil {
		resp.Response = &storagepb.AppendRowsResponse_Error{Error: rpcStatus(err)}
		var we *write.Error
		if errors.As(err, &we) {
			for i, re := range we.RowErrors {
				if i == maxRowErrors {
					break
				}
				resp.RowErrors = append(resp.RowErrors, &storagepb.RowError{
					Index: int64(re.Index), Code: storagepb.RowError_FIELDS_ERROR, Message: re.Message,
				})
			}
		}
		return resp
	}
	ar := &storagepb.AppendRowsResponse_AppendResult{}
	if off >= 0 {
		ar.Offset = wrapperspb.Int64(off)
	}
	resp.Response = &storagepb.AppendRowsResponse_AppendResult_{AppendResult: ar}
	// Tell the writer about a newer table schema until it sends one.
	if rep.writer != nil && rep.dest != nil && rep.dest.writer == rep.writer {
		if t, terr := c.svc.opts.Catalog.TableByUID(c.srv.Context(), rep.dest.stream.TableUID()); terr == nil &&
			t.SchemaVersion > rep.writer.TableVersion() {
			resp.UpdatedSchema = tableSchemaProto(t.Schema)
		}
	}
	return resp
}

func inband(name string, err error) (*reply, error) { return &reply{name: name, err: err}, nil }

// handle turns one request into a reply, or returns a connection-level
// error that ends the call.
func (c *conn) handle(req *storagepb.AppendRowsRequest) (*reply, error) {
	c.requests++
	first := c.requests == 1
	ctx := c.srv.Context()
	name := req.GetWriteStream()
	if name == "" {
		name = c.current
	}
	if name == "" {
		return nil, grpcstatus.Error(codes.InvalidArgument, "The first request on a connection must set write_stream.")
	}
	d := c.dests[name]
	if d == nil {
		s, err := c.svc.opts.Engine.Resolve(ctx, name)
		if err != nil {
			return nil, toGRPC(err)
		}
		d = &dest{stream: s}
		c.dests[name] = d
	}
	c.current = name

	var rows [][]byte
	format := formatUnset
	switch req.GetRows().(type) {
	case *storagepb.AppendRowsRequest_ProtoRows:
		format = formatProto
	case *storagepb.AppendRowsRequest_ArrowRows:
		format = formatArrow
	}
	if format != formatUnset {
		if c.format == formatUnset {
			c.format = format
		} else if format != c.format {
			return inband(name, &write.Error{Kind: write.ErrInvalidArgument, Entity: name,
				Message: "A connection carries either proto_rows or arrow_rows, not both; open another connection for the other format."})
		}
	}
	schemaField := "proto_rows.writer_schema"
	switch r := req.GetRows().(type) {
	case *storagepb.AppendRowsRequest_ProtoRows:
		if ws := r.ProtoRows.GetWriterSchema(); ws != nil {
			desc := ws.GetProtoDescriptor()
			if desc == nil {
				return inband(name, fmt.Errorf("%w: writer_schema.proto_descriptor is empty", write.ErrInvalidArgument))
			}
			if d.desc == nil || d.writer == nil || d.writer.IsArrow() || !proto.Equal(desc, d.desc) {
				w, err := c.svc.opts.Engine.CompileWriter(ctx, d.stream, desc)
				if err != nil {
					if errors.Is(err, write.ErrInvalidDescriptor) {
						return nil, toGRPC(err)
					}
					return inband(name, err)
				}
				d.writer, d.desc, d.arrow = w, desc, nil
			}
		}
		rows = r.ProtoRows.GetRows().GetSerializedRows()
	case *storagepb.AppendRowsRequest_ArrowRows:
		schemaField = "arrow_rows.writer_schema"
		if ws := r.ArrowRows.GetWriterSchema(); ws != nil {
			ss := ws.GetSerializedSchema()
			if len(ss) == 0 {
				return inband(name, fmt.Errorf("%w: arrow_rows.writer_schema.serialized_schema is empty", write.ErrInvalidArgument))
			}
			if d.writer == nil || !d.writer.IsArrow() || !bytes.Equal(ss, d.arrow) {
				w, err := c.svc.opts.Engine.CompileArrowWriter(ctx, d.stream, ss)
				if err != nil {
					if errors.Is(err, write.ErrInvalidDescriptor) {
						return nil, toGRPC(err)
					}
					return inband(name, err)
				}
				d.writer, d.desc, d.arrow = w, nil, bytes.Clone(ss) // ss aliases the whole request
			}
		}
		if b := r.ArrowRows.GetRows().GetSerializedRecordBatch(); len(b) > 0 {
			rows = [][]byte{b}
		}
	default:
		return inband(name, &write.Error{Kind: write.ErrInvalidArgument, Entity: name, Message: "The request has no rows."})
	}
	if d.writer == nil {
		err := &write.Error{Kind: write.ErrInvalidArgument, Entity: name,
			Message: "No writer schema: the first request for a stream on a connection must carry " + schemaField + "."}
		if first {
			return nil, toGRPC(err)
		}
		return inband(name, err)
	}
	if size := proto.Size(req); size > c.svc.opts.MaxRequestBytes {
		return inband(name, &write.Error{Kind: write.ErrRequestTooLarge, Entity: name,
			Message: fmt.Sprintf("AppendRows request too large: %d limit %d", size, c.svc.opts.MaxRequestBytes)})
	}
	if len(rows) == 0 {
		return inband(name, &write.Error{Kind: write.ErrInvalidArgument, Entity: name, Message: "The request has no rows."})
	}

	if v := req.GetDefaultMissingValueInterpretation(); v != storagepb.AppendRowsRequest_MISSING_VALUE_INTERPRETATION_UNSPECIFIED {
		c.defaultMVI = rowcodec.MissingValue(v)
	}
	opts := write.AppendOptions{Offset: -1, DefaultMissing: c.defaultMVI}
	if m := req.GetMissingValueInterpretations(); len(m) > 0 {
		opts.MissingValues = make(map[string]rowcodec.MissingValue, len(m))
		sch := d.writer.Table().Schema
		for col, v := range m {
			if v == storagepb.AppendRowsRequest_MISSING_VALUE_INTERPRETATION_UNSPECIFIED {
				return inband(name, &write.Error{Kind: write.ErrInvalidArgument, Entity: name,
					Message: fmt.Sprintf("missing_value_interpretations for column %q must not be UNSPECIFIED.", col)})
			}
			if sch.Lookup(col) < 0 {
				return inband(name, &write.Error{Kind: write.ErrInvalidArgument, Entity: name,
					Message: fmt.Sprintf("missing_value_interpretations names column %q, which is not a top-level column of the table.", col)})
			}
			opts.MissingValues[col] = rowcodec.MissingValue(v)
		}
	}
	if o := req.GetOffset(); o != nil {
		if o.GetValue() < 0 {
			return inband(name, &write.Error{Kind: write.ErrInvalidArgument, Entity: name,
				Message: fmt.Sprintf("Offset must not be negative, got %d.", o.GetValue())})
		}
		opts.Offset = o.GetValue()
	}
	ack := c.svc.opts.Engine.Append(d.stream, d.writer, rows, opts)
	return &reply{name: name, ack: ack, dest: d, writer: d.writer}, nil
}
