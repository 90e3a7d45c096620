// Package samples holds the seed documents' Go samples as runnable code:
// the pending-stream batch load (appendToPendingStream) and the legacy
// streaming insert (insertRows). Each is the seed's code with one change,
// the endpoint and credentials configuration: the client constructors take
// extra option.ClientOption values. The pending sample's generated
// exampleproto package is replaced by an equivalent message type built at
// run time (see exampleproto.go).
package samples

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// AppendToPendingStream runs the seed's pending-stream sample against the
// table projectID.datasetID.tableID, which must have SampleDataSchema. It
// writes six rows (offsets 0, 1 and 4) through one PENDING stream,
// finalizes and commits it, and prints progress to w. opts point the
// client at the server. It returns the first error the sample meets.
func AppendToPendingStream(w io.Writer, projectID, datasetID, tableID string, opts ...option.ClientOption) error {
	return appendToPendingStream(w, projectID, datasetID, tableID, opts...)
}

// sampleStruct and sampleDataMsg stand in for exampleproto's generated
// types: dynamic messages of the equivalent descriptor.
func sampleDataMsg() *dynamicpb.Message { return dynamicpb.NewMessage(sampleData) }

func sampleStruct() *dynamicpb.Message {
	return dynamicpb.NewMessage(sampleData.Fields().ByName("struct_col").Message())
}

// set assigns a scalar, list or message field of m by name.
func set(m *dynamicpb.Message, name string, v any) {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	switch v := v.(type) {
	case []int64:
		l := m.Mutable(fd).List()
		for _, e := range v {
			l.Append(protoreflect.ValueOfInt64(e))
		}
	case []*dynamicpb.Message:
		l := m.Mutable(fd).List()
		for _, e := range v {
			if e == nil {
				// A nil element of a generated repeated message field
				// marshals as an empty message.
				e = sampleStruct()
			}
			l.Append(protoreflect.ValueOfMessage(e))
		}
	case *dynamicpb.Message:
		m.Set(fd, protoreflect.ValueOfMessage(v))
	default:
		m.Set(fd, protoreflect.ValueOf(v))
	}
}

// generateExampleMessages generates a slice of serialized protobuf messages using a statically defined
// and compiled protocol buffer file, and returns the binary serialized representation.
func generateExampleMessages(numMessages int) ([][]byte, error) {
	msgs := make([][]byte, numMessages)
	for i := 0; i < numMessages; i++ {

		random := rand.New(rand.NewSource(time.Now().UnixNano()))

		// Our example data embeds an array of structs, so we'll construct that first.
		sList := make([]*dynamicpb.Message, 5)
		for i := 0; i < int(random.Int63n(5)+1); i++ {
			sList[i] = sampleStruct()
			set(sList[i], "sub_int_col", random.Int63())
		}

		m := sampleDataMsg()
		set(m, "bool_col", true)
		set(m, "bytes_col", []byte("some bytes"))
		set(m, "float64_col", 3.14)
		set(m, "int64_col", int64(123))
		set(m, "string_col", "example string value")

		// These types require special encoding/formatting to transmit.

		// DATE values are number of days since the Unix epoch.

		set(m, "date_col", int32(time.Now().UnixNano()/86400000000000))

		// DATETIME uses the literal format.
		set(m, "datetime_col", "2022-01-01 12:13:14.000000")

		// GEOGRAPHY uses Well-Known-Text (WKT) format.
		set(m, "geography_col", "POINT(-122.350220 47.649154)")

		// NUMERIC and BIGNUMERIC can be passed as string, or more efficiently
		// using a packed byte representation.
		set(m, "numeric_col", "99999999999999999999999999999.999999999")
		set(m, "bignumeric_col", "578960446186580977117854925043439539266.34992332820282019728792003956564819967")

		// TIME also uses literal format.
		set(m, "time_col", "12:13:14.000000")

		// TIMESTAMP uses microseconds since Unix epoch.
		set(m, "timestamp_col", time.Now().UnixNano()/1000)

		// Int64List is an array of INT64 types.
		set(m, "int64_list", []int64{2, 4, 6, 8})

		// This is a required field, and thus must be present.
		set(m, "row_num", int64(23))

		// StructCol is a single nested message.
		sc := sampleStruct()
		set(sc, "sub_int_col", random.Int63())
		set(m, "struct_col", sc)

		// StructList is a repeated array of a nested message.
		set(m, "struct_list", sList)

		b, err := proto.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("error generating message %d: %w", i, err)
		}
		msgs[i] = b
	}
	return msgs, nil
}

// appendToPendingStream demonstrates using the managedwriter package to write some example data
// to a pending stream, and then committing it to a table.
func appendToPendingStream(w io.Writer, projectID, datasetID, tableID string, opts ...option.ClientOption) error {
	// projectID := "myproject"
	// datasetID := "mydataset"
	// tableID := "mytable"

	ctx := context.Background()
	// Instantiate a managedwriter client to handle interactions with the service.
	// Penstock: opts carry the endpoint and credentials configuration.
	client, err := managedwriter.NewClient(ctx, projectID, opts...)
	if err != nil {
		return fmt.Errorf("managedwriter.NewClient: %w", err)
	}
	// Close the client when we exit the function.
	defer client.Close()

	// Create a new pending stream.  We'll use the stream name to construct a writer.
	pendingStream, err := client.CreateWriteStream(ctx, &storagepb.CreateWriteStreamRequest{
		Parent: fmt.Sprintf("projects/%s/datasets/%s/tables/%s", projectID, datasetID, tableID),
		WriteStream: &storagepb.WriteStream{
			Type: storagepb.WriteStream_PENDING,
		},
	})
	if err != nil {
		return fmt.Errorf("CreateWriteStream: %w", err)
	}

	// We need to communicate the descriptor of the protocol buffer message we're using, which
	// is analagous to the "schema" for the message.  Both SampleData and SampleStruct are
	// two distinct messages in the compiled proto file, so we'll use adapt.NormalizeDescriptor
	// to unify them into a single self-contained descriptor representation.
	m := sampleDataMsg()
	descriptorProto, err := adapt.NormalizeDescriptor(m.ProtoReflect().Descriptor())
	if err != nil {
		return fmt.Errorf("NormalizeDescriptor: %w", err)
	}

	// Instantiate a ManagedStream, which manages low level details like connection state and provides
	// additional features like a future-like callback for appends, etc.  NewManagedStream can also create
	// the stream on your behalf, but in this example we're being explicit about stream creation.
	managedStream, err := client.NewManagedStream(ctx, managedwriter.WithStreamName(pendingStream.GetName()),
		managedwriter.WithSchemaDescriptor(descriptorProto))
	if err != nil {
		return fmt.Errorf("NewManagedStream: %w", err)
	}
	defer managedStream.Close()

	// First, we'll append a single row.
	rows, err := generateExampleMessages(1)
	if err != nil {
		return fmt.Errorf("generateExampleMessages: %w", err)
	}

	// We'll keep track of the current offset in the stream with curOffset.
	var curOffset int64
	// We can append data asyncronously, so we'll check our appends at the end.
	var results []*managedwriter.AppendResult

	result, err := managedStream.AppendRows(ctx, rows, managedwriter.WithOffset(0))
	if err != nil {
		return fmt.Errorf("AppendRows first call error: %w", err)
	}
	results = append(results, result)

	// Advance our current offset.
	curOffset = curOffset + 1

	// This time, we'll append three more rows in a single request.
	rows, err = generateExampleMessages(3)
	if err != nil {
		return fmt.Errorf("generateExampleMessages: %w", err)
	}
	result, err = managedStream.AppendRows(ctx, rows, managedwriter.WithOffset(curOffset))
	if err != nil {
		return fmt.Errorf("AppendRows second call error: %w", err)
	}
	results = append(results, result)

	// Advance our offset again.
	curOffset = curOffset + 3

	// Finally, we'll append two more rows.
	rows, err = generateExampleMessages(2)
	if err != nil {
		return fmt.Errorf("generateExampleMessages: %w", err)
	}
	result, err = managedStream.AppendRows(ctx, rows, managedwriter.WithOffset(curOffset))
	if err != nil {
		return fmt.Errorf("AppendRows third call error: %w", err)
	}
	results = append(results, result)

	// Now, we'll check that our batch of three appends all completed successfully.
	// Monitoring the results could also be done out of band via a goroutine.
	for k, v := range results {
		// GetResult blocks until we receive a response from the API.
		recvOffset, err := v.GetResult(ctx)
		if err != nil {
			return fmt.Errorf("append %d returned error: %w", k, err)
		}
		fmt.Fprintf(w, "Successfully appended data at offset %d.\n", recvOffset)
	}

	// We're now done appending to this stream.  We now mark pending stream finalized, which blocks
	// further appends.
	rowCount, err := managedStream.Finalize(ctx)
	if err != nil {
		return fmt.Errorf("error during Finalize: %w", err)
	}

	fmt.Fprintf(w, "Stream %s finalized with %d rows.\n", managedStream.StreamName(), rowCount)

	// To commit the data to the table, we need to run a batch commit.  You can commit several streams
	// atomically as a group, but in this instance we'll only commit the single stream.
	req := &storagepb.BatchCommitWriteStreamsRequest{
		Parent:       managedwriter.TableParentFromStreamName(managedStream.StreamName()),
		WriteStreams: []string{managedStream.StreamName()},
	}

	resp, err := client.BatchCommitWriteStreams(ctx, req)
	if err != nil {
		return fmt.Errorf("client.BatchCommit: %w", err)
	}
	if len(resp.GetStreamErrors()) > 0 {
		return fmt.Errorf("stream errors present: %v", resp.GetStreamErrors())
	}

	fmt.Fprintf(w, "Table data committed at %s\n", resp.GetCommitTime().AsTime().Format(time.RFC3339Nano))

	return nil
}
