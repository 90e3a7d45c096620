package grpcapi

import (
	"strings"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/penstockdb/penstock/internal/schema"
	"github.com/penstockdb/penstock/internal/write"
)

var typeToProto = map[schema.Type]storagepb.TableFieldSchema_Type{
	schema.String: storagepb.TableFieldSchema_STRING, schema.Integer: storagepb.TableFieldSchema_INT64,
	schema.Float: storagepb.TableFieldSchema_DOUBLE, schema.Record: storagepb.TableFieldSchema_STRUCT,
	schema.Bytes: storagepb.TableFieldSchema_BYTES, schema.Boolean: storagepb.TableFieldSchema_BOOL,
	schema.Timestamp: storagepb.TableFieldSchema_TIMESTAMP, schema.Date: storagepb.TableFieldSchema_DATE,
	schema.Time: storagepb.TableFieldSchema_TIME, schema.DateTime: storagepb.TableFieldSchema_DATETIME,
	schema.Geography: storagepb.TableFieldSchema_GEOGRAPHY, schema.Numeric: storagepb.TableFieldSchema_NUMERIC,
	schema.BigNumeric: storagepb.TableFieldSchema_BIGNUMERIC, schema.Interval: storagepb.TableFieldSchema_INTERVAL,
	schema.JSON: storagepb.TableFieldSchema_JSON, schema.Range: storagepb.TableFieldSchema_RANGE,
}

var modeToProto = map[schema.Mode]storagepb.TableFieldSchema_Mode{
	schema.Nullable: storagepb.TableFieldSchema_NULLABLE,
	schema.Required: storagepb.TableFieldSchema_REQUIRED,
	schema.Repeated: storagepb.TableFieldSchema_REPEATED,
}

// tableSchemaProto renders a table schema as the Storage API's
// TableSchema: mode always explicit, optional attributes only when the
// table declares them (the Go client compares this exactly).
func tableSchemaProto(t *schema.Table) *storagepb.TableSchema {
	if t == nil {
		return nil
	}
	return &storagepb.TableSchema{Fields: fieldsProto(t.Fields)}
}

func fieldsProto(fs []*schema.Field) []*storagepb.TableFieldSchema {
	out := make([]*storagepb.TableFieldSchema, 0, len(fs))
	for _, f := range fs {
		mode, ok := modeToProto[f.Mode]
		if !ok {
			mode = storagepb.TableFieldSchema_NULLABLE
		}
		p := &storagepb.TableFieldSchema{
			Name:                   f.Name,
			Type:                   typeToProto[f.Type],
			Mode:                   mode,
			Fields:                 fieldsProto(f.Fields),
			Description:            f.Description,
			MaxLength:              f.MaxLength,
			Precision:              f.Precision,
			Scale:                  f.Scale,
			DefaultValueExpression: f.DefaultValueExpression,
		}
		if len(p.Fields) == 0 {
			p.Fields = nil
		}
		if f.RangeElementType != nil {
			p.RangeElementType = &storagepb.TableFieldSchema_FieldElementType{Type: typeToProto[f.RangeElementType.Type]}
		}
		if f.TimestampPrecision != 0 {
			p.TimestampPrecision = wrapperspb.Int64(f.TimestampPrecision)
		}
		out = append(out, p)
	}
	return out
}

func streamTypeProto(t write.StreamType) storagepb.WriteStream_Type {
	switch t {
	case write.Pending:
		return storagepb.WriteStream_PENDING
	case write.Buffered:
		return storagepb.WriteStream_BUFFERED
	}
	return storagepb.WriteStream_COMMITTED
}

func streamTypeFromProto(t storagepb.WriteStream_Type) (write.StreamType, bool) {
	switch t {
	case storagepb.WriteStream_COMMITTED:
		return write.Committed, true
	case storagepb.WriteStream_PENDING:
		return write.Pending, true
	case storagepb.WriteStream_BUFFERED:
		return write.Buffered, true
	}
	return 0, false
}

// writeStreamProto renders stream info; the table schema only for FULL.
func writeStreamProto(info write.StreamInfo, sch *schema.Table) *storagepb.WriteStream {
	ws := &storagepb.WriteStream{
		Name:      info.Name,
		Type:      streamTypeProto(info.Type),
		WriteMode: storagepb.WriteStream_INSERT,
		Location:  location(info.Location),
	}
	if !info.CreateTime.IsZero() {
		ws.CreateTime = timestamppb.New(info.CreateTime)
	}
	if !info.CommitTime.IsZero() {
		ws.CommitTime = timestamppb.New(info.CommitTime)
	}
	if sch != nil {
		ws.TableSchema = tableSchemaProto(sch)
	}
	return ws
}

// location is the dataset location as the Storage API reports it:
// lower case, never empty.
func location(l string) string {
	if l == "" {
		return "us"
	}
	return strings.ToLower(l)
}
