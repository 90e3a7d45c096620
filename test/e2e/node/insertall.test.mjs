// tabledata.insertAll through the official Node.js client's table.insert:
// plain rows, PartialFailureError with the client's own partial retries
// (which resend every listed row with fresh insertIds), raw rows with
// insertIds, templateSuffix, partition decorators, and the seed document's
// Node sample. Needs PENSTOCK_HTTP_URL (test/e2e/node_test.go sets it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BigQuery } from '@google-cloud/bigquery';

const url = process.env.PENSTOCK_HTTP_URL;
if (!url) {
  throw new Error('PENSTOCK_HTTP_URL is not set (e.g. http://127.0.0.1:9050)');
}

const projectId = 'penstock-node-insert';
const bq = new BigQuery({ projectId, apiEndpoint: url });
const datasetId = `node_insert_${process.pid}_${Date.now()}`;

const schema = {
  fields: [
    { name: 'name', type: 'STRING' },
    { name: 'age', type: 'INTEGER', mode: 'REQUIRED' },
  ],
};

// Every row of a table, sorted by age then name.
async function rowsOf(table) {
  const [rows] = await table.getRows();
  return rows
    .map((r) => ({ name: r.name, age: r.age }))
    .sort((a, b) => a.age - b.age || String(a.name).localeCompare(String(b.name)));
}

// insertFailure runs an insert that must fail and returns its error.
async function insertFailure(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('insert succeeded, want an error');
}

describe('insertAll with @google-cloud/bigquery', () => {
  let dataset;

  before(async () => {
    [dataset] = await bq.createDataset(datasetId);
  });

  after(async () => {
    await bq.dataset(datasetId).delete({ force: true }).catch(() => {});
  });

  test('rows are stored and read back', async () => {
    const [table] = await dataset.createTable('plain', { schema });
    const [resp] = await table.insert([
      { name: 'Tom', age: 30 },
      { name: 'Jane', age: 32 },
    ]);
    assert.equal(resp.kind, 'bigquery#tableDataInsertAllResponse');
    assert.equal(resp.insertErrors, undefined);
    assert.deepEqual(await rowsOf(table), [
      { name: 'Tom', age: 30 },
      { name: 'Jane', age: 32 },
    ]);
  });

  test('one bad row: PartialFailureError after the client retries, nothing stored', async () => {
    const [table] = await dataset.createTable('stopped', { schema });
    const err = await insertFailure(
      table.insert([
        { name: 'good', age: 1 },
        { name: 'bad', age: 'not a number' },
        { name: 'also good', age: 3 },
      ]),
    );
    assert.equal(err.name, 'PartialFailureError');
    // The client resent all three rows three more times; each attempt was
    // stopped by the bad row, so the last answer still lists all three.
    const byName = Object.fromEntries(err.errors.map((e) => [e.row.name, e.errors.map((x) => x.reason)]));
    assert.deepEqual(byName, { good: ['stopped'], bad: ['invalid'], 'also good': ['stopped'] });
    const bad = err.errors.find((e) => e.row.name === 'bad');
    assert.match(bad.errors[0].message, /age/);
    const stopped = err.errors.find((e) => e.row.name === 'good');
    assert.equal(stopped.errors[0].message, '');
    assert.deepEqual(await rowsOf(table), []);
  });

  test('skipInvalidRows: good rows stored exactly once despite the retries', async () => {
    const [table] = await dataset.createTable('skipping', { schema });
    const err = await insertFailure(
      table.insert(
        [
          { name: 'a', age: 1 },
          { name: 'b', age: 2, unknown: true },
          { name: 'c', age: 3 },
        ],
        { skipInvalidRows: true },
      ),
    );
    assert.equal(err.name, 'PartialFailureError');
    assert.deepEqual(
      err.errors.map((e) => [e.row.name, e.errors[0].reason, e.errors[0].message]),
      [['b', 'invalid', 'no such field: unknown.']],
    );
    assert.deepEqual(await rowsOf(table), [
      { name: 'a', age: 1 },
      { name: 'c', age: 3 },
    ]);
  });

  test('partialRetries: 0 makes a single attempt', async () => {
    const [table] = await dataset.createTable('once', { schema });
    const err = await insertFailure(
      table.insert([{ age: 'x' }, { name: 'ok', age: 5 }], { skipInvalidRows: true, partialRetries: 0 }),
    );
    assert.equal(err.errors.length, 1);
    assert.deepEqual(await rowsOf(table), [{ name: 'ok', age: 5 }]);
  });

  test('ignoreUnknownValues drops unknown fields', async () => {
    const [table] = await dataset.createTable('lenient', { schema });
    await table.insert([{ name: 'x', age: 7, extra: 'dropped' }], { ignoreUnknownValues: true });
    assert.deepEqual(await rowsOf(table), [{ name: 'x', age: 7 }]);
  });

  test('raw rows with insertIds are de-duplicated', async () => {
    const [table] = await dataset.createTable('dedup', { schema });
    const rows = [
      { insertId: 'row-1', json: { name: 'one', age: 1 } },
      { insertId: 'row-2', json: { name: 'two', age: 2 } },
    ];
    await table.insert(rows, { raw: true });
    await table.insert(rows, { raw: true });
    await table.insert([{ json: { name: 'no id', age: 3 } }], { raw: true });
    await table.insert([{ json: { name: 'no id', age: 3 } }], { raw: true });
    assert.deepEqual(await rowsOf(table), [
      { name: 'one', age: 1 },
      { name: 'two', age: 2 },
      { name: 'no id', age: 3 },
      { name: 'no id', age: 3 },
    ]);
  });

  test('templateSuffix creates the instance table from the template', async () => {
    const [template] = await dataset.createTable('events', { schema });
    await template.insert([{ name: 'e', age: 9 }], { templateSuffix: '_2024' });
    const [md] = await dataset.table('events_2024').getMetadata();
    assert.deepEqual(
      md.schema.fields.map((f) => [f.name, f.type, f.mode]),
      [
        ['name', 'STRING', 'NULLABLE'],
        ['age', 'INTEGER', 'REQUIRED'],
      ],
    );
    assert.deepEqual(await rowsOf(dataset.table('events_2024')), [{ name: 'e', age: 9 }]);
    assert.deepEqual(await rowsOf(template), []);
  });

  test('partition decorators: today is accepted, last year is a 400', async () => {
    await dataset.createTable('daily', { schema, timePartitioning: { type: 'DAY' } });
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    await dataset.table(`daily$${today}`).insert([{ name: 'd', age: 1 }]);
    const err = await insertFailure(dataset.table('daily$20200101').insert([{ name: 'd', age: 2 }]));
    assert.equal(err.code, 400);
    assert.match(err.message, /outside the allowed bounds/);
    assert.deepEqual(await rowsOf(dataset.table('daily')), [{ name: 'd', age: 1 }]);
  });

  test('a missing table is a 404, not retried', async () => {
    const err = await insertFailure(dataset.table('missing').insert([{ name: 'x', age: 1 }]));
    assert.equal(err.code, 404);
    assert.match(err.message, /Not found: Table/);
  });

  test("the seed document's Node sample", async () => {
    await dataset.createTable('my_table', {
      schema: [
        { name: 'name', type: 'STRING' },
        { name: 'age', type: 'INTEGER' },
      ],
    });
    const logged = [];
    const log = console.log;
    console.log = (...args) => logged.push(args.join(' '));
    try {
      await seedSample(datasetId, 'my_table');
    } finally {
      console.log = log;
    }
    assert.deepEqual(logged, ['Inserted 2 rows']);
    assert.deepEqual(await rowsOf(dataset.table('my_table')), [
      { name: 'Tom', age: 30 },
      { name: 'Jane', age: 32 },
    ]);
  });
});

// The seed's "Use the legacy streaming API" Node sample; only the client
// construction is changed, to point it at the server.
async function seedSample(datasetId, tableId) {
  const bigquery = new BigQuery({ projectId, apiEndpoint: url });

  async function insertRowsAsStream() {
    // Inserts the JSON objects into my_dataset:my_table.
    const rows = [
      {name: 'Tom', age: 30},
      {name: 'Jane', age: 32},
    ];

    // Insert data into a table
    await bigquery.dataset(datasetId).table(tableId).insert(rows);
    console.log(`Inserted ${rows.length} rows`);
  }
  await insertRowsAsStream();
}
