package penstock.clients;

import com.google.api.core.ApiFuture;
import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryError;
import com.google.cloud.bigquery.DatasetInfo;
import com.google.cloud.bigquery.Field;
import com.google.cloud.bigquery.FieldValue;
import com.google.cloud.bigquery.FieldValueList;
import com.google.cloud.bigquery.InsertAllRequest;
import com.google.cloud.bigquery.InsertAllResponse;
import com.google.cloud.bigquery.Schema;
import com.google.cloud.bigquery.StandardSQLTypeName;
import com.google.cloud.bigquery.StandardTableDefinition;
import com.google.cloud.bigquery.TableId;
import com.google.cloud.bigquery.TableInfo;
import com.google.cloud.bigquery.storage.v1.AppendRowsResponse;
import com.google.cloud.bigquery.storage.v1.BQTableSchemaToProtoDescriptor;
import com.google.cloud.bigquery.storage.v1.BatchCommitWriteStreamsRequest;
import com.google.cloud.bigquery.storage.v1.BatchCommitWriteStreamsResponse;
import com.google.cloud.bigquery.storage.v1.BigQueryWriteClient;
import com.google.cloud.bigquery.storage.v1.CreateWriteStreamRequest;
import com.google.cloud.bigquery.storage.v1.Exceptions;
import com.google.cloud.bigquery.storage.v1.GetWriteStreamRequest;
import com.google.cloud.bigquery.storage.v1.JsonStreamWriter;
import com.google.cloud.bigquery.storage.v1.ProtoRows;
import com.google.cloud.bigquery.storage.v1.ProtoSchemaConverter;
import com.google.cloud.bigquery.storage.v1.StreamWriter;
import com.google.cloud.bigquery.storage.v1.TableName;
import com.google.cloud.bigquery.storage.v1.TableSchema;
import com.google.cloud.bigquery.storage.v1.WriteStream;
import com.google.cloud.bigquery.storage.v1.WriteStreamView;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * Penstock client conformance: the official Java clients. google-cloud-bigquerystorage
 * (StreamWriter and JsonStreamWriter on _default, COMMITTED with offsets, PENDING with finalize
 * and BatchCommit, the connection pool) and google-cloud-bigquery (insertAll, listTableData),
 * plus the seed documents' Java samples, against a running Penstock. Every case reads the rows
 * back. Prints one PASS/FAIL line per case and exits non-zero if any failed.
 */
public final class Main {
  /** One check; throws on failure. */
  interface Case {
    void run() throws Exception;
  }

  static final String PROJECT = Connect.PROJECT;
  static final String DATASET =
      "java_" + ProcessHandle.current().pid() + "_" + System.currentTimeMillis();
  static BigQuery bq;
  static BigQueryWriteClient writeClient;

  /** Keeps the client's per-connection INFO logging out of the output (held strongly). */
  static final java.util.logging.Logger STORAGE_LOG =
      java.util.logging.Logger.getLogger("com.google.cloud.bigquery.storage");

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--resolve-only")) {
      // The install step: Maven has resolved and compiled everything by now.
      System.out.println("resolved");
      return;
    }
    STORAGE_LOG.setLevel(java.util.logging.Level.WARNING);
    bq = Connect.bigQuery();
    writeClient = Connect.writeClient();
    bq.create(DatasetInfo.newBuilder(DATASET).setLocation("US").build());

    Map<String, Case> cases = new LinkedHashMap<>();
    cases.put("StreamWriter _default", Main::streamWriterDefault);
    cases.put("StreamWriter COMMITTED with offsets", Main::streamWriterCommitted);
    cases.put("JsonStreamWriter COMMITTED with offsets", Main::jsonWriterCommitted);
    cases.put("JsonStreamWriter PENDING, finalize, BatchCommit", Main::jsonWriterPending);
    cases.put("JsonStreamWriter _default with the connection pool", Main::jsonWriterPool);
    cases.put("JsonStreamWriter picks up a table schema change (updated_schema)", Main::jsonWriterSchemaUpdate);
    cases.put("BigQuery insertAll and listTableData", Main::insertAll);
    cases.put("seed WritePendingStream", Main::seedWritePendingStream);
    cases.put("seed TableInsertRows", Main::seedTableInsertRows);
    cases.put("seed TableInsertRowsWithoutRowIds", Main::seedTableInsertRowsWithoutRowIds);

    int passed = 0;
    int failed = 0;
    for (Map.Entry<String, Case> c : cases.entrySet()) {
      long start = System.nanoTime();
      try {
        c.getValue().run();
        passed++;
        System.out.printf("PASS %s (%d ms)%n", c.getKey(), (System.nanoTime() - start) / 1_000_000);
      } catch (Throwable e) {
        failed++;
        System.out.printf("FAIL %s: %s%n", c.getKey(), e);
        e.printStackTrace(System.out);
      }
    }
    System.out.printf("java: %d passed, %d failed%n", passed, failed);
    writeClient.close();
    writeClient.awaitTermination(10, TimeUnit.SECONDS);
    System.out.flush();
    System.exit(failed == 0 ? 0 : 1);
  }

  // ---- helpers ----

  static void check(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new AssertionError(String.format(format, args));
    }
  }

  static void checkEquals(Object got, Object want, String what) {
    check(got.equals(want), "%s: got %s, want %s", what, got, want);
  }

  static final Schema PEOPLE =
      Schema.of(
          Field.of("name", StandardSQLTypeName.STRING),
          Field.newBuilder("n", StandardSQLTypeName.INT64).setMode(Field.Mode.REQUIRED).build());

  /** Creates a table and returns its Storage Write API path. */
  static String createTable(String table, Schema schema) {
    bq.create(TableInfo.of(TableId.of(DATASET, table), StandardTableDefinition.of(schema)));
    return TableName.of(PROJECT, DATASET, table).toString();
  }

  /** The table's rows through tabledata.list, each as its cells joined by spaces. */
  static List<String> rows(String table) {
    List<String> out = new ArrayList<>();
    for (FieldValueList row : bq.listTableData(TableId.of(DATASET, table)).iterateAll()) {
      List<String> cells = new ArrayList<>();
      for (FieldValue v : row) {
        cells.add(v.isNull() ? "null" : v.getValue().toString());
      }
      out.add(String.join(" ", cells));
    }
    return out;
  }

  static TableSchema tableSchema(String tablePath) {
    return writeClient
        .getWriteStream(
            GetWriteStreamRequest.newBuilder()
                .setName(tablePath + "/streams/_default")
                .setView(WriteStreamView.FULL)
                .build())
        .getTableSchema();
  }

  static ProtoRows people(Descriptor d, Object... nameN) {
    ProtoRows.Builder rows = ProtoRows.newBuilder();
    for (int i = 0; i < nameN.length; i += 2) {
      rows.addSerializedRows(
          DynamicMessage.newBuilder(d)
              .setField(d.findFieldByName("name"), nameN[i])
              .setField(d.findFieldByName("n"), ((Number) nameN[i + 1]).longValue())
              .build()
              .toByteString());
    }
    return rows.build();
  }

  static JSONArray json(Object... nameN) {
    JSONArray arr = new JSONArray();
    for (int i = 0; i < nameN.length; i += 2) {
      arr.put(new JSONObject().put("name", nameN[i]).put("n", nameN[i + 1]));
    }
    return arr;
  }

  static long offset(ApiFuture<AppendRowsResponse> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS).getAppendResult().getOffset().getValue();
  }

  /** Waits for an append that must fail and returns the cause. */
  static Throwable failure(ApiFuture<AppendRowsResponse> f) throws Exception {
    try {
      AppendRowsResponse r = f.get(30, TimeUnit.SECONDS);
      throw new AssertionError("append succeeded: " + r);
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  static WriteStream createStream(String table, WriteStream.Type type) {
    return writeClient.createWriteStream(
        CreateWriteStreamRequest.newBuilder()
            .setParent(table)
            .setWriteStream(WriteStream.newBuilder().setType(type))
            .build());
  }

  // ---- Storage Write API ----

  static void streamWriterDefault() throws Exception {
    String table = createTable("sw_default", PEOPLE);
    Descriptor d = BQTableSchemaToProtoDescriptor.convertBQTableSchemaToProtoDescriptor(tableSchema(table));
    try (StreamWriter w =
        StreamWriter.newBuilder(table + "/streams/_default", writeClient)
            .setWriterSchema(ProtoSchemaConverter.convert(d))
            .build()) {
      w.append(people(d, "ada", 1, "bob", 2)).get(30, TimeUnit.SECONDS);
      checkEquals(rows("sw_default"), List.of("ada 1", "bob 2"), "rows after first append");
      w.append(people(d, "cy", 3)).get(30, TimeUnit.SECONDS);
    }
    checkEquals(rows("sw_default"), List.of("ada 1", "bob 2", "cy 3"), "rows");
  }

  static void streamWriterCommitted() throws Exception {
    String table = createTable("sw_committed", PEOPLE);
    WriteStream stream = createStream(table, WriteStream.Type.COMMITTED);
    Descriptor d = BQTableSchemaToProtoDescriptor.convertBQTableSchemaToProtoDescriptor(stream.getTableSchema());
    try (StreamWriter w =
        StreamWriter.newBuilder(stream.getName(), writeClient)
            .setWriterSchema(ProtoSchemaConverter.convert(d))
            .build()) {
      checkEquals(offset(w.append(people(d, "c0", 1, "c1", 2), 0)), 0L, "first offset");
      checkEquals(rows("sw_committed"), List.of("c0 1", "c1 2"), "rows visible at once");
      checkEquals(offset(w.append(people(d, "c2", 3), 2)), 2L, "second offset");
      Throwable dup = failure(w.append(people(d, "dup", 9), 0));
      check(dup instanceof Exceptions.OffsetAlreadyExists, "repeated offset: %s", dup);
      Throwable gap = failure(w.append(people(d, "gap", 9), 7));
      check(gap instanceof Exceptions.OffsetOutOfRange, "offset gap: %s", gap);
      checkEquals(offset(w.append(people(d, "c3", 4), 3)), 3L, "offset after errors");
    }
    checkEquals(writeClient.finalizeWriteStream(stream.getName()).getRowCount(), 4L, "row count");
    checkEquals(rows("sw_committed"), List.of("c0 1", "c1 2", "c2 3", "c3 4"), "rows");
  }

  static void jsonWriterCommitted() throws Exception {
    String table = createTable("jw_committed", PEOPLE);
    WriteStream stream = createStream(table, WriteStream.Type.COMMITTED);
    try (JsonStreamWriter w = JsonStreamWriter.newBuilder(stream.getName(), writeClient).build()) {
      checkEquals(offset(w.append(json("j0", 1, "j1", 2), 0)), 0L, "first offset");
      checkEquals(offset(w.append(json("j2", 3), 2)), 2L, "second offset");
      Throwable dup = failure(w.append(json("dup", 9), 1));
      check(dup instanceof Exceptions.OffsetAlreadyExists, "repeated offset: %s", dup);
    }
    checkEquals(rows("jw_committed"), List.of("j0 1", "j1 2", "j2 3"), "rows");
  }

  static void jsonWriterPending() throws Exception {
    String table = createTable("jw_pending", PEOPLE);
    List<String> names = new ArrayList<>();
    for (int s = 0; s < 2; s++) {
      WriteStream stream = createStream(table, WriteStream.Type.PENDING);
      try (JsonStreamWriter w =
          JsonStreamWriter.newBuilder(stream.getName(), stream.getTableSchema(), writeClient).build()) {
        checkEquals(offset(w.append(json("s" + s + "a", 10 * s + 1, "s" + s + "b", 10 * s + 2), 0)), 0L, "offset");
        checkEquals(offset(w.append(json("s" + s + "c", 10 * s + 3), 2)), 2L, "offset");
      }
      checkEquals(writeClient.finalizeWriteStream(stream.getName()).getRowCount(), 3L, "row count");
      names.add(stream.getName());
    }
    checkEquals(rows("jw_pending"), List.of(), "rows before commit");
    BatchCommitWriteStreamsResponse resp =
        writeClient.batchCommitWriteStreams(
            BatchCommitWriteStreamsRequest.newBuilder().setParent(table).addAllWriteStreams(names).build());
    check(resp.hasCommitTime() && resp.getStreamErrorsCount() == 0, "commit failed: %s", resp);
    checkEquals(
        rows("jw_pending"),
        List.of("s0a 1", "s0b 2", "s0c 3", "s1a 11", "s1b 12", "s1c 13"),
        "rows after commit");
  }

  static void jsonWriterPool() throws Exception {
    String[] tables = {createTable("pool_a", PEOPLE), createTable("pool_b", PEOPLE)};
    List<JsonStreamWriter> writers = new ArrayList<>();
    try {
      for (String t : tables) {
        writers.add(JsonStreamWriter.newBuilder(t, writeClient).setEnableConnectionPool(true).build());
      }
      List<ApiFuture<AppendRowsResponse>> futures = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < writers.size(); j++) {
          futures.add(writers.get(j).append(json((char) ('a' + j) + "" + i, 10 * j + i)));
        }
      }
      for (ApiFuture<AppendRowsResponse> f : futures) {
        AppendRowsResponse r = f.get(30, TimeUnit.SECONDS);
        check(!r.hasError(), "append error: %s", r.getError());
      }
    } finally {
      for (JsonStreamWriter w : writers) {
        w.close();
      }
    }
    checkEquals(rows("pool_a"), List.of("a0 0", "a1 1", "a2 2"), "pool_a rows");
    checkEquals(rows("pool_b"), List.of("b0 10", "b1 11", "b2 12"), "pool_b rows");
  }

  /**
   * The table gains a column while a JsonStreamWriter writes to it: responses carry updated_schema,
   * the writer reconnects with the new schema and accepts rows using the column, and once it is
   * current no response carries updated_schema any more (otherwise it would reconnect forever).
   */
  static void jsonWriterSchemaUpdate() throws Exception {
    String table = createTable("jw_evolve", PEOPLE);
    try (JsonStreamWriter w = JsonStreamWriter.newBuilder(table, writeClient).build()) {
      AppendRowsResponse r = w.append(json("a", 1)).get(30, TimeUnit.SECONDS);
      check(!r.hasError() && !r.hasUpdatedSchema(), "first append: %s", r);
      Schema evolved =
          Schema.of(
              Field.of("name", StandardSQLTypeName.STRING),
              Field.newBuilder("n", StandardSQLTypeName.INT64).setMode(Field.Mode.REQUIRED).build(),
              Field.of("extra", StandardSQLTypeName.STRING));
      bq.getTable(TableId.of(DATASET, "jw_evolve"))
          .toBuilder()
          .setDefinition(StandardTableDefinition.of(evolved))
          .build()
          .update();
      boolean saw = false;
      for (int i = 0; i < 5 && !saw; i++) {
        r = w.append(json("b" + i, 10 + i)).get(30, TimeUnit.SECONDS);
        check(!r.hasError(), "append after the change: %s", r.getError());
        saw = r.hasUpdatedSchema();
      }
      check(saw, "no response carried updated_schema after the table changed");
      JSONArray withExtra =
          new JSONArray().put(new JSONObject().put("name", "c").put("n", 99).put("extra", "x"));
      r = w.append(withExtra).get(30, TimeUnit.SECONDS);
      check(!r.hasError(), "row using the new column: %s", r.getError());
      for (int i = 0; i < 3; i++) {
        r = w.append(json("d" + i, 100 + i)).get(30, TimeUnit.SECONDS);
        check(!r.hasError() && !r.hasUpdatedSchema(), "updated_schema still sent to a current writer: %s", r);
      }
    }
    List<String> got = rows("jw_evolve");
    check(got.contains("c 99 x"), "the new column's value is missing: %s", got);
    check(got.get(0).equals("a 1 null"), "a row written before the change: %s", got.get(0));
    checkEquals(got.size(), 6, "row count");
  }

  // ---- REST ----

  static void insertAll() {
    Schema schema =
        Schema.of(
            Field.newBuilder("name", StandardSQLTypeName.STRING).setMode(Field.Mode.REQUIRED).build(),
            Field.of("n", StandardSQLTypeName.INT64),
            Field.newBuilder("tags", StandardSQLTypeName.STRING).setMode(Field.Mode.REPEATED).build());
    createTable("insert_all", schema);
    TableId id = TableId.of(DATASET, "insert_all");
    InsertAllResponse resp =
        bq.insertAll(
            InsertAllRequest.newBuilder(id)
                .addRow("r1", Map.of("name", "ann", "n", 1, "tags", List.of("x", "y")))
                .addRow("r2", Map.of("name", "ben", "n", 2))
                .build());
    check(!resp.hasErrors(), "insert errors: %s", resp.getInsertErrors());
    // A retry with the same row ids is deduplicated.
    resp = bq.insertAll(InsertAllRequest.newBuilder(id).addRow("r1", Map.of("name", "ann", "n", 1)).build());
    check(!resp.hasErrors(), "insert errors on retry: %s", resp.getInsertErrors());
    checkEquals(rowsWithTags(id), List.of("ann 1 [x, y]", "ben 2 []"), "rows");

    // One bad row: nothing written; the bad row is "invalid", the good one "stopped".
    Map<String, Object> bad = new HashMap<>();
    bad.put("name", "dee");
    bad.put("nope", 1);
    resp =
        bq.insertAll(
            InsertAllRequest.newBuilder(id).addRow(Map.of("name", "cy")).addRow(bad).build());
    Map<Long, String> reasons = new TreeMap<>();
    for (Map.Entry<Long, List<BigQueryError>> e : resp.getInsertErrors().entrySet()) {
      reasons.put(e.getKey(), e.getValue().get(0).getReason());
    }
    checkEquals(reasons.toString(), "{0=stopped, 1=invalid}", "row error reasons");
    checkEquals(rowsWithTags(id).size(), 2, "row count after rejected insert");
  }

  static List<String> rowsWithTags(TableId id) {
    List<String> out = new ArrayList<>();
    for (FieldValueList row : bq.listTableData(id).iterateAll()) {
      List<String> tags = new ArrayList<>();
      for (FieldValue t : row.get(2).getRepeatedValue()) {
        tags.add(t.getStringValue());
      }
      out.add(row.get(0).getStringValue() + " " + row.get(1).getLongValue() + " " + tags);
    }
    return out;
  }

  // ---- seed samples ----

  static void seedWritePendingStream() throws Exception {
    createTable("seed_pending", Schema.of(Field.of("col1", StandardSQLTypeName.STRING)));
    WritePendingStream.writePendingStream(PROJECT, DATASET, "seed_pending");
    List<String> want = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 10; j++) {
        want.add(String.format("batch-record %03d-%03d", i, j));
      }
    }
    checkEquals(rows("seed_pending"), want, "rows");
  }

  static void seedTableInsertRows() {
    createTable(
        "seed_insert",
        Schema.of(
            Field.of("booleanField", StandardSQLTypeName.BOOL),
            Field.of("numericField", StandardSQLTypeName.NUMERIC)));
    Map<String, Object> rowContent = new HashMap<>();
    rowContent.put("booleanField", true);
    rowContent.put("numericField", "3.14");
    TableInsertRows.tableInsertRows(DATASET, "seed_insert", "ROW_ID", rowContent);
    checkEquals(rows("seed_insert"), List.of("true 3.14"), "rows");
  }

  static void seedTableInsertRowsWithoutRowIds() {
    createTable(
        "seed_insert_no_ids",
        Schema.of(
            Field.of("stringField", StandardSQLTypeName.STRING),
            Field.of("numericField", StandardSQLTypeName.NUMERIC)));
    TableInsertRowsWithoutRowIds.tableInsertRowsWithoutRowIds(DATASET, "seed_insert_no_ids");
    checkEquals(
        rows("seed_insert_no_ids"), List.of("Phred Phlyntstone 32", "Wylma Phlyntstone 29"), "rows");
  }
}
