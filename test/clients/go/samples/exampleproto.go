package samples

import (
	"fmt"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The seed's Go pending-stream sample marshals rows of a generated message,
// exampleproto.SampleData, from the golang-samples repository. That module
// is not a dependency of Penstock, so this file builds an equivalent message
// type at run time: the descriptor comes from the table schema through
// adapt (the same conversion the client library offers), with the columns
// that exampleproto sends as text (NUMERIC, BIGNUMERIC, DATETIME, TIME)
// switched to proto strings as in exampleproto's .proto file. Rows are
// dynamicpb messages with the same field names and values.

// SampleDataSchema is the table schema the Go pending sample writes to: the
// columns of exampleproto.SampleData.
var SampleDataSchema = bigquery.Schema{
	{Name: "bool_col", Type: bigquery.BooleanFieldType},
	{Name: "bytes_col", Type: bigquery.BytesFieldType},
	{Name: "float64_col", Type: bigquery.FloatFieldType},
	{Name: "int64_col", Type: bigquery.IntegerFieldType},
	{Name: "string_col", Type: bigquery.StringFieldType},
	{Name: "date_col", Type: bigquery.DateFieldType},
	{Name: "datetime_col", Type: bigquery.DateTimeFieldType},
	{Name: "geography_col", Type: bigquery.GeographyFieldType},
	{Name: "numeric_col", Type: bigquery.NumericFieldType},
	{Name: "bignumeric_col", Type: bigquery.BigNumericFieldType},
	{Name: "time_col", Type: bigquery.TimeFieldType},
	{Name: "timestamp_col", Type: bigquery.TimestampFieldType},
	{Name: "int64_list", Type: bigquery.IntegerFieldType, Repeated: true},
	{Name: "struct_col", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{
		{Name: "sub_int_col", Type: bigquery.IntegerFieldType},
	}},
	{Name: "struct_list", Type: bigquery.RecordFieldType, Repeated: true, Schema: bigquery.Schema{
		{Name: "sub_int_col", Type: bigquery.IntegerFieldType},
	}},
	{Name: "row_num", Type: bigquery.IntegerFieldType, Required: true},
}

// textColumns are the columns exampleproto declares as proto strings.
var textColumns = map[string]bool{
	"numeric_col": true, "bignumeric_col": true, "datetime_col": true, "time_col": true,
}

// sampleData is the message type standing in for exampleproto.SampleData.
var sampleData = mustSampleData()

func mustSampleData() protoreflect.MessageDescriptor {
	md, err := buildSampleData()
	if err != nil {
		panic(fmt.Sprintf("samples: building the SampleData descriptor: %v", err))
	}
	return md
}

func buildSampleData() (protoreflect.MessageDescriptor, error) {
	ts, err := adapt.BQSchemaToStorageTableSchema(SampleDataSchema)
	if err != nil {
		return nil, err
	}
	d, err := adapt.StorageSchemaToProto2Descriptor(ts, "SampleData")
	if err != nil {
		return nil, err
	}
	dp, err := adapt.NormalizeDescriptor(d.(protoreflect.MessageDescriptor))
	if err != nil {
		return nil, err
	}
	for _, f := range dp.GetField() {
		if textColumns[f.GetName()] {
			f.Type = descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
		}
	}
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name:        proto.String("sample_data.proto"),
		Syntax:      proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{dp},
	}, nil)
	if err != nil {
		return nil, err
	}
	return fd.Messages().Get(0), nil
}
