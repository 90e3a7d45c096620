package grpcapi

import (
	"fmt"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the base codec
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Codec returns the server's gRPC codec. It is the standard proto codec
// except for AppendRowsRequest, the hot path: there the request is copied
// once into a buffer of its own and the serialized rows are slices of it,
// instead of one allocation and copy per row. Every other field goes
// through proto.Unmarshal, so the result equals the standard decoding
// (FuzzAppendRowsCodec checks this).
func Codec() encoding.CodecV2 {
	return codec{base: encoding.GetCodecV2("proto")}
}

type codec struct{ base encoding.CodecV2 }

func (c codec) Name() string                           { return c.base.Name() }
func (c codec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }
func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	req, ok := v.(*storagepb.AppendRowsRequest)
	if !ok {
		return c.base.Unmarshal(data, v)
	}
	// Materialize copies into a garbage-collected slice that outlives
	// data, so the rows may alias it.
	return unmarshalAppendRows(data.Materialize(), req)
}

var mergeOpts = proto.UnmarshalOptions{Merge: true}

// Field numbers used by the fast path.
const (
	fieldProtoRows      = 4 // AppendRowsRequest.proto_rows
	fieldArrowRows      = 5 // AppendRowsRequest.arrow_rows
	fieldRows           = 2 // ProtoData.rows
	fieldSerializedRows = 1 // ProtoRows.serialized_rows
)

// unmarshalAppendRows decodes b into req, aliasing serialized rows into b.
// proto_rows and arrow_rows are a oneof: as in proto, the member that
// comes last on the wire wins, and a switch discards what came before.
func unmarshalAppendRows(b []byte, req *storagepb.AppendRowsRequest) error {
	var rest []byte
	var pd *storagepb.AppendRowsRequest_ProtoData
	err := eachField(b, func(num protowire.Number, typ protowire.Type, field, value []byte) error {
		switch {
		case num == fieldProtoRows && typ == protowire.BytesType:
			if pd == nil {
				pd = &storagepb.AppendRowsRequest_ProtoData{}
			}
			return unmarshalProtoData(value, pd)
		case num == fieldArrowRows && typ == protowire.BytesType:
			pd = nil
		}
		rest = append(rest, field...)
		return nil
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		if err := mergeOpts.Unmarshal(rest, req); err != nil {
			return err
		}
	}
	if pd != nil {
		req.Rows = &storagepb.AppendRowsRequest_ProtoRows{ProtoRows: pd}
	}
	return nil
}

// unmarshalProtoData merges a ProtoData message into pd; rows alias b.
func unmarshalProtoData(b []byte, pd *storagepb.AppendRowsRequest_ProtoData) error {
	// First pass: count rows so the slice is allocated once.
	n := 0
	err := eachField(b, func(num protowire.Number, typ protowire.Type, _, value []byte) error {
		if num == fieldRows && typ == protowire.BytesType {
			return eachField(value, func(num protowire.Number, typ protowire.Type, _, _ []byte) error {
				if num == fieldSerializedRows && typ == protowire.BytesType {
					n++
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	var rest []byte
	err = eachField(b, func(num protowire.Number, typ protowire.Type, field, value []byte) error {
		if num != fieldRows || typ != protowire.BytesType {
			rest = append(rest, field...)
			return nil
		}
		if pd.Rows == nil {
			pd.Rows = &storagepb.ProtoRows{}
		}
		if pd.Rows.SerializedRows == nil && n > 0 {
			pd.Rows.SerializedRows = make([][]byte, 0, n)
		}
		var unknown []byte
		err := eachField(value, func(num protowire.Number, typ protowire.Type, field, value []byte) error {
			if num == fieldSerializedRows && typ == protowire.BytesType {
				pd.Rows.SerializedRows = append(pd.Rows.SerializedRows, value[:len(value):len(value)])
				return nil
			}
			unknown = append(unknown, field...)
			return nil
		})
		if err != nil {
			return err
		}
		if len(unknown) > 0 {
			return mergeOpts.Unmarshal(unknown, pd.Rows)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return mergeOpts.Unmarshal(rest, pd)
	}
	return nil
}

// eachField calls fn for every field of an encoded message with its tag,
// the whole field's bytes and, for length-delimited fields, the payload.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, field, value []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("grpcapi: malformed AppendRowsRequest: %w", protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return fmt.Errorf("grpcapi: malformed AppendRowsRequest: %w", protowire.ParseError(m))
		}
		var value []byte
		if typ == protowire.BytesType {
			v, k := protowire.ConsumeBytes(b[n:])
			if k < 0 {
				return fmt.Errorf("grpcapi: malformed AppendRowsRequest: %w", protowire.ParseError(k))
			}
			value = v
		}
		if err := fn(num, typ, b[:n+m], value); err != nil {
			return err
		}
		b = b[n+m:]
	}
	return nil
}
