// The seed's Node.js legacy streaming sample (tabledata.insertAll),
// unchanged except for the endpoint configuration marked "Penstock". Run:
//   node insert_rows_as_stream.js DATASET TABLE
'use strict';

function main(datasetId, tableId) {
  // Import the Google Cloud client library
  const {BigQuery} = require('@google-cloud/bigquery');
  // Penstock: the server's REST endpoint (a custom apiEndpoint sends no credentials).
  const bigquery = new BigQuery({
    projectId: process.env.PENSTOCK_PROJECT,
    apiEndpoint: process.env.PENSTOCK_HTTP_URL,
  });

  async function insertRowsAsStream() {
    // Inserts the JSON objects into my_dataset:my_table.

    /**
     * TODO(developer): Uncomment the following lines before running the sample.
     */
    // const datasetId = 'my_dataset';
    // const tableId = 'my_table';
    const rows = [
      {name: 'Tom', age: 30},
      {name: 'Jane', age: 32},
    ];

    // Insert data into a table
    await bigquery.dataset(datasetId).table(tableId).insert(rows);
    console.log(`Inserted ${rows.length} rows`);
  }
  insertRowsAsStream();
}
main(...process.argv.slice(2));
