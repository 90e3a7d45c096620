"""Penstock client conformance: the official Python clients.

google-cloud-bigquery-storage (AppendRowsStream on PENDING, COMMITTED and
_default streams, with proto rows and with pyarrow record batches) and google-cloud-bigquery (insert_rows_json, list_rows),
plus the seed documents' Python samples, against a running Penstock. Every
test reads the rows back. Run by test/clients/clients_test.go:

    PENSTOCK_GRPC_ADDR=127.0.0.1:9060 PENSTOCK_HTTP_URL=http://127.0.0.1:9050 \
        .venv/bin/python -m unittest -v
"""

import contextlib
import datetime
import io
import os
import pathlib
import time
import unittest

import pyarrow as pa
from google.api_core import exceptions
from google.protobuf import descriptor_pb2

HERE = pathlib.Path(__file__).resolve().parent


def _compile_customer_record():
    """Generates samples/customer_record_pb2.py with grpcio-tools' protoc."""
    from grpc_tools import protoc

    samples = HERE / "samples"
    rc = protoc.main(
        ["protoc", f"-I{samples}", f"--python_out={samples}", str(samples / "customer_record.proto")]
    )
    if rc != 0:
        raise RuntimeError(f"protoc failed with status {rc}")


_compile_customer_record()

from google.cloud import bigquery  # noqa: E402
from google.cloud.bigquery_storage_v1 import types, writer  # noqa: E402

from penstock_connect import PROJECT, bq, write_client  # noqa: E402
from samples import append_rows_pending, customer_record_pb2, table_insert_rows  # noqa: E402

DATASET = f"py_{os.getpid()}_{int(time.time())}"

CUSTOMERS = [
    bigquery.SchemaField("customer_name", "STRING"),
    bigquery.SchemaField("row_num", "INTEGER", mode="REQUIRED"),
]


def setUpModule():
    bq.create_dataset(bigquery.Dataset(f"{PROJECT}.{DATASET}"))


def create_table(table_id, schema):
    bq.create_table(bigquery.Table(f"{PROJECT}.{DATASET}.{table_id}", schema=schema))
    return write_client.table_path(PROJECT, DATASET, table_id)


def rows_of(table_id):
    """The table's rows through tabledata.list, as tuples in stored order."""
    return [tuple(r.values()) for r in bq.list_rows(f"{PROJECT}.{DATASET}.{table_id}")]


def customer(row_num, name):
    row = customer_record_pb2.CustomerRecord()
    row.row_num = row_num
    row.customer_name = name
    return row.SerializeToString()


def template(stream_name):
    """The first-request template AppendRowsStream sends: stream and schema."""
    descriptor = descriptor_pb2.DescriptorProto()
    customer_record_pb2.CustomerRecord.DESCRIPTOR.CopyToProto(descriptor)
    req = types.AppendRowsRequest()
    req.write_stream = stream_name
    data = types.AppendRowsRequest.ProtoData()
    data.writer_schema = types.ProtoSchema(proto_descriptor=descriptor)
    req.proto_rows = data
    return req


def request(rows, offset=None):
    req = types.AppendRowsRequest()
    data = types.AppendRowsRequest.ProtoData()
    data.rows = types.ProtoRows(serialized_rows=rows)
    req.proto_rows = data
    if offset is not None:
        req.offset = offset
    return req


def create_stream(parent, stream_type):
    return write_client.create_write_stream(
        parent=parent, write_stream=types.WriteStream(type_=stream_type)
    )


class AppendRowsStreamTest(unittest.TestCase):
    def test_pending_stream_is_invisible_until_batch_commit(self):
        parent = create_table("pending", CUSTOMERS)
        stream = create_stream(parent, types.WriteStream.Type.PENDING)
        self.assertEqual(stream.type_, types.WriteStream.Type.PENDING)
        appender = writer.AppendRowsStream(write_client, template(stream.name))
        try:
            f1 = appender.send(request([customer(1, "ann"), customer(2, "ben")], offset=0))
            f2 = appender.send(request([customer(3, "cat")], offset=2))
            self.assertEqual(f1.result(timeout=30).append_result.offset, 0)
            self.assertEqual(f2.result(timeout=30).append_result.offset, 2)
        finally:
            appender.close()
        self.assertEqual(rows_of("pending"), [])
        self.assertEqual(write_client.finalize_write_stream(name=stream.name).row_count, 3)
        self.assertEqual(rows_of("pending"), [])
        resp = write_client.batch_commit_write_streams(
            types.BatchCommitWriteStreamsRequest(parent=parent, write_streams=[stream.name])
        )
        self.assertEqual(list(resp.stream_errors), [])
        self.assertIsNotNone(resp.commit_time)
        self.assertEqual(rows_of("pending"), [("ann", 1), ("ben", 2), ("cat", 3)])
        # A second commit of the same stream is refused per stream.
        again = write_client.batch_commit_write_streams(
            types.BatchCommitWriteStreamsRequest(parent=parent, write_streams=[stream.name])
        )
        self.assertEqual(
            [e.code for e in again.stream_errors],
            [types.StorageError.StorageErrorCode.STREAM_ALREADY_COMMITTED],
        )
        self.assertEqual(len(rows_of("pending")), 3)

    def test_committed_stream_with_offsets(self):
        parent = create_table("committed", CUSTOMERS)
        stream = create_stream(parent, types.WriteStream.Type.COMMITTED)
        appender = writer.AppendRowsStream(write_client, template(stream.name))
        try:
            self.assertEqual(
                appender.send(request([customer(1, "ann")], offset=0)).result(timeout=30).append_result.offset, 0
            )
            # Visible as soon as the append is acknowledged.
            self.assertEqual(rows_of("committed"), [("ann", 1)])
            with self.assertRaises(exceptions.AlreadyExists):
                appender.send(request([customer(9, "dup")], offset=0)).result(timeout=30)
            with self.assertRaises(exceptions.OutOfRange):
                appender.send(request([customer(9, "gap")], offset=5)).result(timeout=30)
            # The connection stays usable after in-band errors.
            self.assertEqual(
                appender.send(request([customer(2, "ben")], offset=1)).result(timeout=30).append_result.offset, 1
            )
        finally:
            appender.close()
        self.assertEqual(rows_of("committed"), [("ann", 1), ("ben", 2)])
        self.assertEqual(write_client.finalize_write_stream(name=stream.name).row_count, 2)

    def test_default_stream(self):
        parent = create_table("default_stream", CUSTOMERS)
        appender = writer.AppendRowsStream(write_client, template(f"{parent}/streams/_default"))
        try:
            futures = [
                appender.send(request([customer(1, "ann"), customer(2, "ben")])),
                appender.send(request([customer(3, "cat")])),
            ]
            for f in futures:
                resp = f.result(timeout=30)
                self.assertFalse(resp.error.code, resp.error.message)
        finally:
            appender.close()
        self.assertEqual(rows_of("default_stream"), [("ann", 1), ("ben", 2), ("cat", 3)])

    def test_bad_row_is_rejected_in_band(self):
        parent = create_table("bad_row", CUSTOMERS)
        appender = writer.AppendRowsStream(write_client, template(f"{parent}/streams/_default"))
        try:
            missing_required = customer_record_pb2.CustomerRecord(customer_name="no number")
            with self.assertRaises(exceptions.InvalidArgument) as ctx:
                appender.send(
                    request([customer(1, "ok"), missing_required.SerializePartialToString()])
                ).result(timeout=30)
            row_errors = ctx.exception.response.row_errors
            self.assertEqual([e.index for e in row_errors], [1])
            appender.send(request([customer(2, "after")])).result(timeout=30)
        finally:
            appender.close()
        self.assertEqual(rows_of("bad_row"), [("after", 2)])


ARROW_TABLE = [
    bigquery.SchemaField("name", "STRING"),
    bigquery.SchemaField("row_num", "INTEGER", mode="REQUIRED"),
    bigquery.SchemaField("joined", "TIMESTAMP"),
    bigquery.SchemaField("tags", "STRING", mode="REPEATED"),
]

ARROW_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("row_num", pa.int64()),
        ("joined", pa.timestamp("us", tz="UTC")),
        ("tags", pa.list_(pa.string())),
    ]
)


def arrow_template(stream_name):
    """An Arrow first-request template: stream and serialized Arrow schema."""
    req = types.AppendRowsRequest()
    req.write_stream = stream_name
    data = types.AppendRowsRequest.ArrowData()
    data.writer_schema.serialized_schema = ARROW_SCHEMA.serialize().to_pybytes()
    req.arrow_rows = data
    return req


def arrow_request(rows, offset=None):
    """One request carrying rows (dicts) as a serialized Arrow record batch."""
    batch = pa.RecordBatch.from_pylist(rows, schema=ARROW_SCHEMA)
    req = types.AppendRowsRequest()
    data = types.AppendRowsRequest.ArrowData()
    data.rows.serialized_record_batch = batch.serialize().to_pybytes()
    req.arrow_rows = data
    if offset is not None:
        req.offset = offset
    return req


def arrow_row(row_num, name, tags=()):
    joined = datetime.datetime(2024, 1, 2, 3, 4, 5, row_num, tzinfo=datetime.timezone.utc)
    return {"name": name, "row_num": row_num, "joined": joined, "tags": list(tags)}


class ArrowAppendTest(unittest.TestCase):
    def test_default_stream_arrow_rows(self):
        parent = create_table("arrow_default", ARROW_TABLE)
        appender = writer.AppendRowsStream(write_client, arrow_template(f"{parent}/streams/_default"))
        try:
            futures = [
                appender.send(arrow_request([arrow_row(1, "ann", ["a"]), arrow_row(2, "ben")])),
                appender.send(arrow_request([arrow_row(3, "cat", ["x", "y"])])),
            ]
            for f in futures:
                resp = f.result(timeout=30)
                self.assertFalse(resp.error.code, resp.error.message)
            # A NULL in the REQUIRED column is a row error, in band.
            bad = {"name": "no number", "row_num": None, "joined": None, "tags": []}
            with self.assertRaises(exceptions.InvalidArgument) as ctx:
                appender.send(arrow_request([arrow_row(4, "ok"), bad])).result(timeout=30)
            self.assertEqual([e.index for e in ctx.exception.response.row_errors], [1])
        finally:
            appender.close()
        got = [
            (r["name"], r["row_num"], r["joined"], list(r["tags"]))
            for r in bq.list_rows(f"{PROJECT}.{DATASET}.arrow_default")
        ]
        want = [(r["name"], r["row_num"], r["joined"], r["tags"]) for r in (
            arrow_row(1, "ann", ["a"]), arrow_row(2, "ben"), arrow_row(3, "cat", ["x", "y"]))]
        self.assertEqual(got, want)

    def test_committed_stream_arrow_offsets(self):
        parent = create_table("arrow_committed", ARROW_TABLE)
        stream = create_stream(parent, types.WriteStream.Type.COMMITTED)
        appender = writer.AppendRowsStream(write_client, arrow_template(stream.name))
        try:
            first = appender.send(arrow_request([arrow_row(1, "ann"), arrow_row(2, "ben")], offset=0))
            self.assertEqual(first.result(timeout=30).append_result.offset, 0)
            # Offsets count rows: the next batch starts at 2.
            with self.assertRaises(exceptions.AlreadyExists):
                appender.send(arrow_request([arrow_row(9, "dup")], offset=1)).result(timeout=30)
            third = appender.send(arrow_request([arrow_row(3, "cat")], offset=2))
            self.assertEqual(third.result(timeout=30).append_result.offset, 2)
        finally:
            appender.close()
        self.assertEqual([r[:2] for r in rows_of("arrow_committed")], [("ann", 1), ("ben", 2), ("cat", 3)])
        self.assertEqual(write_client.finalize_write_stream(name=stream.name).row_count, 3)


PEOPLE = [
    bigquery.SchemaField("name", "STRING", mode="REQUIRED"),
    bigquery.SchemaField("age", "INTEGER"),
    bigquery.SchemaField("active", "BOOLEAN"),
    bigquery.SchemaField("joined", "TIMESTAMP"),
    bigquery.SchemaField("tags", "STRING", mode="REPEATED"),
]


class RestTest(unittest.TestCase):
    def test_insert_rows_json_and_list_rows(self):
        create_table("people", PEOPLE)
        table_id = f"{PROJECT}.{DATASET}.people"
        errors = bq.insert_rows_json(
            table_id,
            [
                {"name": "ann", "age": "41", "active": "true", "joined": "2024-05-01T10:00:00.5Z", "tags": ["a", "b"]},
                {"name": "ben", "age": 7, "active": False, "joined": 1714557600, "tags": []},
            ],
            row_ids=["r1", "r2"],
        )
        self.assertEqual(errors, [])
        # A retry with the same insert ids is deduplicated.
        self.assertEqual(bq.insert_rows_json(table_id, [{"name": "ann"}], row_ids=["r1"]), [])
        rows = list(bq.list_rows(table_id))
        self.assertEqual([r["name"] for r in rows], ["ann", "ben"])
        self.assertEqual([r["age"] for r in rows], [41, 7])
        self.assertEqual([r["active"] for r in rows], [True, False])
        self.assertEqual(
            [r["joined"].isoformat() for r in rows],
            ["2024-05-01T10:00:00.500000+00:00", "2024-05-01T10:00:00+00:00"],
        )
        self.assertEqual([r["tags"] for r in rows], [["a", "b"], []])

        # One bad row: nothing is written, the good row is "stopped".
        errors = bq.insert_rows_json(table_id, [{"name": "cy"}, {"name": "dee", "nope": 1}])
        reasons = {e["index"]: [x["reason"] for x in e["errors"]] for e in errors}
        self.assertEqual(reasons, {0: ["stopped"], 1: ["invalid"]})
        self.assertEqual(bq.get_table(table_id).schema[0].name, "name")
        self.assertEqual(len(list(bq.list_rows(table_id))), 2)
        # skip_invalid_rows writes the good ones.
        errors = bq.insert_rows_json(
            table_id, [{"name": "cy"}, {"name": "dee", "nope": 1}], skip_invalid_rows=True
        )
        self.assertEqual([e["index"] for e in errors], [1])
        self.assertEqual([r["name"] for r in bq.list_rows(table_id)], ["ann", "ben", "cy"])


class DiscoveryTest(unittest.TestCase):
    """The bq CLI builds its client from Penstock's discovery document on
    every call (googleapiclient.discovery): the document must describe every
    served method with paths and parameters that work against Penstock."""

    def test_discovery_document_drives_the_rest_api(self):
        import json
        import urllib.request

        import httplib2
        from googleapiclient import discovery, errors

        root = os.environ["PENSTOCK_HTTP_URL"]
        for url in (root + "/$discovery/rest?version=v2", root + "/discovery/v1/apis/bigquery/v2/rest"):
            doc = json.loads(urllib.request.urlopen(url).read())
            self.assertEqual(doc["rootUrl"].rstrip("/"), root)
        svc = discovery.build_from_document(
            urllib.request.urlopen(root + "/$discovery/rest?version=v2").read().decode(), http=httplib2.Http()
        )
        ds = svc.datasets().insert(
            projectId=PROJECT, body={"datasetReference": {"projectId": PROJECT, "datasetId": "via_discovery"}}
        ).execute()
        self.assertEqual(ds["id"], f"{PROJECT}:via_discovery")
        svc.tables().insert(
            projectId=PROJECT,
            datasetId="via_discovery",
            body={
                "tableReference": {"projectId": PROJECT, "datasetId": "via_discovery", "tableId": "t"},
                "schema": {"fields": [{"name": "a", "type": "INT64"}]},
            },
        ).execute()
        t = svc.tables().get(projectId=PROJECT, datasetId="via_discovery", tableId="t").execute()
        self.assertEqual(t["schema"]["fields"][0]["type"], "INTEGER")
        page = svc.tabledata().list(projectId=PROJECT, datasetId="via_discovery", tableId="t", maxResults=5).execute()
        self.assertEqual(page["totalRows"], "0")
        with self.assertRaises(errors.HttpError) as cm:
            svc.datasets().delete(projectId=PROJECT, datasetId="via_discovery").execute()
        self.assertEqual(cm.exception.resp.status, 400)
        self.assertEqual(json.loads(cm.exception.content)["error"]["errors"][0]["reason"], "resourceInUse")
        svc.datasets().delete(projectId=PROJECT, datasetId="via_discovery", deleteContents=True).execute()


class SeedSampleTest(unittest.TestCase):
    def test_pending_sample(self):
        create_table("seed_pending", CUSTOMERS)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            append_rows_pending.append_rows_pending(PROJECT, DATASET, "seed_pending")
        self.assertIn("have been committed", out.getvalue())
        self.assertEqual(
            rows_of("seed_pending"), [("Alice", 1), ("Bob", 2), ("Charles", 3)]
        )

    def test_insert_rows_samples(self):
        full_name_age = [
            bigquery.SchemaField("full_name", "STRING"),
            bigquery.SchemaField("age", "INTEGER"),
        ]
        for name, sample in [
            ("seed_insert", table_insert_rows.table_insert_rows),
            ("seed_insert_no_ids", table_insert_rows.table_insert_rows_explicit_none_insert_ids),
        ]:
            with self.subTest(sample=sample.__name__):
                create_table(name, full_name_age)
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    sample(f"{PROJECT}.{DATASET}.{name}")
                self.assertIn("New rows have been added.", out.getvalue())
                self.assertEqual(
                    rows_of(name), [("Phred Phlyntstone", 32), ("Wylma Phlyntstone", 29)]
                )


if __name__ == "__main__":
    unittest.main()
