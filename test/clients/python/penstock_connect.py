"""How the Python clients connect to Penstock: the code the README shows.

The suite imports ``bq`` and ``write_client`` from here. Addresses come from
PENSTOCK_HTTP_URL / PENSTOCK_GRPC_ADDR and default to Penstock's defaults.
"""

import os

HTTP_URL = os.environ.get("PENSTOCK_HTTP_URL", "http://127.0.0.1:9050")
GRPC_ADDR = os.environ.get("PENSTOCK_GRPC_ADDR", "127.0.0.1:9060")
PROJECT = os.environ.get("PENSTOCK_PROJECT", "my-project")

# --- README snippet: Python ---
import grpc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, bigquery_storage_v1
from google.cloud.bigquery_storage_v1.services.big_query_write.transports.grpc import (
    BigQueryWriteGrpcTransport,
)

# REST: datasets, tables, insert_rows_json, list_rows.
bq = bigquery.Client(
    project=PROJECT,
    client_options=ClientOptions(api_endpoint=HTTP_URL),
    credentials=AnonymousCredentials(),
)

# Storage Write API: hand the transport a plaintext channel (and no credentials).
write_client = bigquery_storage_v1.BigQueryWriteClient(
    transport=BigQueryWriteGrpcTransport(channel=grpc.insecure_channel(GRPC_ADDR))
)
# --- end of README snippet ---
