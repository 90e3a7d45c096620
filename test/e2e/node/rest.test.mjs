// REST side of Penstock through the official Node.js client
// (@google-cloud/bigquery). Starts nothing itself: point it at a running
// server with PENSTOCK_HTTP_URL=http://127.0.0.1:PORT and run `node --test`
// (test/e2e/node_test.go does exactly that).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BigQuery } from '@google-cloud/bigquery';

const url = process.env.PENSTOCK_HTTP_URL;
if (!url) {
  throw new Error('PENSTOCK_HTTP_URL is not set (e.g. http://127.0.0.1:9050)');
}

const projectId = 'penstock-node';
// apiEndpoint makes the client send no credentials (the server ignores
// them anyway) and use the /bigquery/v2/ path prefix.
const bq = new BigQuery({ projectId, apiEndpoint: url });

// Unique names, so a rerun against a long-lived server does not collide.
const suffix = `${process.pid}_${Date.now()}`;
const datasetId = `node_ds_${suffix}`;

const schema = {
  fields: [
    { name: 'id', type: 'INT64', mode: 'REQUIRED' },
    { name: 'name', type: 'STRING', description: 'display name' },
    {
      name: 'address',
      type: 'STRUCT',
      fields: [
        { name: 'city', type: 'STRING' },
        { name: 'zip', type: 'STRING' },
        { name: 'lines', type: 'STRING', mode: 'REPEATED' },
      ],
    },
    { name: 'score', type: 'FLOAT64' },
    { name: 'tags', type: 'STRING', mode: 'REPEATED' },
  ],
};

// The schema as the service returns it: legacy type names, modes explicit.
const normalized = [
  { name: 'id', type: 'INTEGER', mode: 'REQUIRED' },
  { name: 'name', type: 'STRING', mode: 'NULLABLE', description: 'display name' },
  {
    name: 'address',
    type: 'RECORD',
    mode: 'NULLABLE',
    fields: [
      { name: 'city', type: 'STRING', mode: 'NULLABLE' },
      { name: 'zip', type: 'STRING', mode: 'NULLABLE' },
      { name: 'lines', type: 'STRING', mode: 'REPEATED' },
    ],
  },
  { name: 'score', type: 'FLOAT', mode: 'NULLABLE' },
  { name: 'tags', type: 'STRING', mode: 'REPEATED' },
];

// Keeps only the attributes compared below, so extra fields the server
// may add (policyTags, maxLength, ...) do not matter.
function shape(fields) {
  return fields.map((f) => {
    const out = { name: f.name, type: f.type, mode: f.mode };
    if (f.description) out.description = f.description;
    if (f.fields) out.fields = shape(f.fields);
    return out;
  });
}

async function errorCode(promise) {
  try {
    await promise;
  } catch (err) {
    return err.code;
  }
  return 'no error';
}

describe('Penstock REST API with @google-cloud/bigquery', () => {
  let dataset;

  before(async () => {
    [dataset] = await bq.createDataset(datasetId, { location: 'US' });
  });

  after(async () => {
    await bq.dataset(datasetId).delete({ force: true }).catch(() => {});
  });

  test('dataset metadata round-trips', async () => {
    const [md] = await bq.dataset(datasetId).getMetadata();
    assert.equal(md.datasetReference.datasetId, datasetId);
    assert.equal(md.datasetReference.projectId, projectId);
    assert.equal(md.location, 'US');
  });

  test('creating an existing dataset is 409', async () => {
    assert.equal(await errorCode(bq.createDataset(datasetId)), 409);
  });

  test('a missing dataset is 404', async () => {
    assert.equal(await errorCode(bq.dataset(`missing_${suffix}`).getMetadata()), 404);
  });

  test('table with a nested record: create, getMetadata, list, getRows, delete', async () => {
    const [table] = await dataset.createTable('people', { schema, description: 'people table' });
    assert.equal(table.id, 'people');

    const [md] = await dataset.table('people').getMetadata();
    assert.equal(md.tableReference.tableId, 'people');
    assert.equal(md.description, 'people table');
    assert.deepEqual(shape(md.schema.fields), normalized);
    assert.equal(md.numRows, '0');

    const [tables] = await dataset.getTables();
    assert.deepEqual(tables.map((t) => t.id), ['people']);

    const [rows] = await dataset.table('people').getRows();
    assert.deepEqual(rows, []);

    assert.equal(await errorCode(dataset.createTable('people', { schema })), 409);

    await dataset.table('people').delete();
    assert.equal(await errorCode(dataset.table('people').getMetadata()), 404);
    const [after] = await dataset.getTables();
    assert.deepEqual(after, []);
  });

  test('a missing table is 404', async () => {
    assert.equal(await errorCode(dataset.table('nope').getMetadata()), 404);
    assert.equal(await errorCode(dataset.table('nope').getRows()), 404);
  });

  test('deleting a dataset that still has tables needs force', async () => {
    const id = `node_full_${suffix}`;
    const [ds] = await bq.createDataset(id);
    await ds.createTable('t', { schema: 'a:STRING' });
    assert.equal(await errorCode(ds.delete()), 400);
    await ds.delete({ force: true });
    assert.equal(await errorCode(bq.dataset(id).getMetadata()), 404);
  });
});
