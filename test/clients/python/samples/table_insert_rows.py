"""The seed's legacy streaming samples (tabledata.insertAll) for Python,
each wrapped in a function taking table_id; only the client construction
(endpoint and credentials) differs from the seed."""

# Penstock: endpoint and credentials configuration.
import os
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials


def _client():
    from google.cloud import bigquery

    return bigquery.Client(
        project=os.environ.get("PENSTOCK_PROJECT", "my-project"),
        client_options=ClientOptions(api_endpoint=os.environ["PENSTOCK_HTTP_URL"]),
        credentials=AnonymousCredentials(),
    )


def table_insert_rows(table_id: str) -> None:
    from google.cloud import bigquery

    # Construct a BigQuery client object.
    client = _client()  # Penstock: was bigquery.Client()

    # TODO(developer): Set table_id to the ID of table to append to.
    # table_id = "your-project.your_dataset.your_table"

    rows_to_insert = [
        {"full_name": "Phred Phlyntstone", "age": 32},
        {"full_name": "Wylma Phlyntstone", "age": 29},
    ]

    errors = client.insert_rows_json(table_id, rows_to_insert)  # Make an API request.
    if errors == []:
        print("New rows have been added.")
    else:
        print("Encountered errors while inserting rows: {}".format(errors))


def table_insert_rows_explicit_none_insert_ids(table_id: str) -> None:
    from google.cloud import bigquery

    # Construct a BigQuery client object.
    client = _client()  # Penstock: was bigquery.Client()

    # TODO(developer): Set table_id to the ID of table to append to.
    # table_id = "your-project.your_dataset.your_table"

    rows_to_insert = [
        {"full_name": "Phred Phlyntstone", "age": 32},
        {"full_name": "Wylma Phlyntstone", "age": 29},
    ]

    errors = client.insert_rows_json(
        table_id, rows_to_insert, row_ids=[None] * len(rows_to_insert)
    )  # Make an API request.
    if errors == []:
        print("New rows have been added.")
    else:
        print("Encountered errors while inserting rows: {}".format(errors))
