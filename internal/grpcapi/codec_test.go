package grpcapi

import (
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func sampleRequests() []*storagepb.AppendRowsRequest {
	return []*storagepb.AppendRowsRequest{
		{},
		{WriteStream: "projects/p/datasets/d/tables/t/streams/_default", TraceId: "go-managedwriter:1",
			Offset: wrapperspb.Int64(7),
			Rows: &storagepb.AppendRowsRequest_ProtoRows{ProtoRows: &storagepb.AppendRowsRequest_ProtoData{
				WriterSchema: &storagepb.ProtoSchema{ProtoDescriptor: &descriptorpb.DescriptorProto{Name: proto.String("Row")}},
				Rows:         &storagepb.ProtoRows{SerializedRows: [][]byte{{1, 2}, {}, []byte("xyz")}},
			}},
			MissingValueInterpretations:       map[string]storagepb.AppendRowsRequest_MissingValueInterpretation{"a": storagepb.AppendRowsRequest_DEFAULT_VALUE},
			DefaultMissingValueInterpretation: storagepb.AppendRowsRequest_NULL_VALUE,
		},
		{Rows: &storagepb.AppendRowsRequest_ArrowRows{ArrowRows: &storagepb.AppendRowsRequest_ArrowData{
			Rows: &storagepb.ArrowRecordBatch{SerializedRecordBatch: []byte{9}}}}},
	}
}

func decodeBoth(t *testing.T, b []byte) (ours, std *storagepb.AppendRowsRequest, errOurs, errStd error) {
	ours, std = &storagepb.AppendRowsRequest{}, &storagepb.AppendRowsRequest{}
	errOurs = Codec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, ours)
	errStd = proto.Unmarshal(b, std)
	return
}

func TestAppendRowsCodec(t *testing.T) {
	for i, req := range sampleRequests() {
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		// Split the request in two: proto merges repeated occurrences.
		b = append(b, b...)
		ours, std, e1, e2 := decodeBoth(t, b)
		if e1 != nil || e2 != nil || !proto.Equal(ours, std) {
			t.Errorf("request %d: ours %v (%v), standard %v (%v)", i, ours, e1, std, e2)
		}
	}
	// Other messages go through the standard codec.
	var fin storagepb.FinalizeWriteStreamRequest
	b, _ := proto.Marshal(&storagepb.FinalizeWriteStreamRequest{Name: "x"})
	if err := Codec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &fin); err != nil || fin.GetName() != "x" {
		t.Fatalf("finalize request: %v %v", &fin, err)
	}
}

func FuzzAppendRowsCodec(f *testing.F) {
	for _, req := range sampleRequests() {
		b, _ := proto.Marshal(req)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ours, std, e1, e2 := decodeBoth(t, b)
		if (e1 == nil) != (e2 == nil) {
			t.Fatalf("ours err %v, standard err %v", e1, e2)
		}
		if e1 == nil && !proto.Equal(ours, std) {
			t.Fatalf("ours %v, standard %v", ours, std)
		}
	})
}

func BenchmarkAppendRowsCodec(b *testing.B) {
	rows := make([][]byte, 10000)
	for i := range rows {
		rows[i] = make([]byte, 95)
	}
	msg, _ := proto.Marshal(&storagepb.AppendRowsRequest{WriteStream: "s", Rows: &storagepb.AppendRowsRequest_ProtoRows{
		ProtoRows: &storagepb.AppendRowsRequest_ProtoData{Rows: &storagepb.ProtoRows{SerializedRows: rows}}}})
	for _, impl := range []string{"standard", "penstock"} {
		b.Run("codec="+impl, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				var req storagepb.AppendRowsRequest
				var err error
				if impl == "standard" {
					err = proto.Unmarshal(msg, &req)
				} else {
					err = Codec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(msg)}, &req)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
