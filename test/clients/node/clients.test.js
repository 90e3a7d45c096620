'use strict';
// Penstock client conformance: the official Node.js clients.
// @google-cloud/bigquery-storage managedwriter (_default, PENDING, BUFFERED
// with flush) and @google-cloud/bigquery (table.insert, getRows), plus the
// seed documents' Node samples, against a running Penstock. Every test reads
// the rows back. Run by test/clients/clients_test.go (`node --test`) with
// PENSTOCK_GRPC_ADDR and PENSTOCK_HTTP_URL set.
const {after, before, describe, test} = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const {execFile} = require('node:child_process');
const {promisify} = require('node:util');

const {adapt, managedwriter} = require('@google-cloud/bigquery-storage');
const {bq, newWriterClient, projectId} = require('./penstock-connect.js');

if (!process.env.PENSTOCK_GRPC_ADDR || !process.env.PENSTOCK_HTTP_URL) {
  throw new Error('set PENSTOCK_GRPC_ADDR and PENSTOCK_HTTP_URL to a running Penstock');
}

const datasetId = `node_${process.pid}_${Date.now()}`;
const dataset = bq.dataset(datasetId);

const people = [
  {name: 'name', type: 'STRING'},
  {name: 'n', type: 'INTEGER', mode: 'REQUIRED'},
];

async function createTable(tableId, fields) {
  await dataset.createTable(tableId, {schema: {fields}});
  return `projects/${projectId}/datasets/${datasetId}/tables/${tableId}`;
}

// The table's rows through tabledata.list, as "name n" strings.
async function rowsOf(tableId, cols = ['name', 'n']) {
  const [rows] = await dataset.table(tableId).getRows();
  return rows.map(r => cols.map(c => String(r[c])).join(' '));
}

// A JSONWriter on a connection, with the descriptor built from the table
// schema the way the client's samples do (GetWriteStream with view FULL).
async function jsonWriter(client, streamId, destinationTable) {
  const connection = await client.createStreamConnection({streamId, destinationTable});
  const ws = await client.getWriteStream({streamId: connection.getStreamId(), view: 'FULL'});
  const protoDescriptor = adapt.convertStorageSchemaToProto2Descriptor(ws.tableSchema, 'root');
  return {connection, writer: new managedwriter.JSONWriter({connection, protoDescriptor})};
}

async function offsetOf(pw) {
  const res = await pw.getResult();
  if (res.error) {
    throw new Error(`append failed: ${res.error.code} ${res.error.message}`);
  }
  const v = res.appendResult && res.appendResult.offset;
  return v && v.value !== undefined && v.value !== null ? Number(v.value) : null;
}

describe('Penstock with the Node.js clients', () => {
  let client;
  before(async () => {
    await dataset.create({location: 'US'});
    client = newWriterClient();
  });
  after(() => client.close());

  test('managedwriter: _default stream rows are visible on acknowledgement', async () => {
    const table = await createTable('mw_default', people);
    const {connection, writer} = await jsonWriter(client, managedwriter.DefaultStream, table);
    assert.equal(connection.getStreamId(), `${table}/streams/_default`);
    await offsetOf(writer.appendRows([{name: 'ada', n: 1}, {name: 'bob', n: 2}]));
    assert.deepEqual(await rowsOf('mw_default'), ['ada 1', 'bob 2']);
    await offsetOf(writer.appendRows([{name: 'cy', n: 3}]));
    writer.close();
    assert.deepEqual(await rowsOf('mw_default'), ['ada 1', 'bob 2', 'cy 3']);
  });

  test('managedwriter: PENDING stream is invisible until batch commit', async () => {
    const table = await createTable('mw_pending', people);
    const ws = await client.createWriteStreamFullResponse({
      streamType: managedwriter.PendingStream,
      destinationTable: table,
    });
    assert.equal(ws.type, 'PENDING');
    const {connection, writer} = await jsonWriter(client, ws.name);
    assert.equal(await offsetOf(writer.appendRows([{name: 'p0', n: 1}, {name: 'p1', n: 2}], 0)), 0);
    assert.equal(await offsetOf(writer.appendRows([{name: 'p2', n: 3}], 2)), 2);
    // An offset already written is refused in-band with ALREADY_EXISTS (6).
    const dup = await writer.appendRows([{name: 'dup', n: 9}], 0).getResult();
    assert.equal(dup.error && dup.error.code, 6, `duplicate offset: ${JSON.stringify(dup.error)}`);
    assert.deepEqual(await rowsOf('mw_pending'), []);
    const fin = await connection.finalize();
    assert.equal(Number(fin.rowCount), 3);
    const resp = await client.batchCommitWriteStream({parent: table, writeStreams: [ws.name]});
    assert.deepEqual(resp.streamErrors, []);
    assert.ok(resp.commitTime, 'commit time set');
    assert.deepEqual(await rowsOf('mw_pending'), ['p0 1', 'p1 2', 'p2 3']);
  });

  test('managedwriter: BUFFERED stream shows rows up to each flush', async () => {
    const table = await createTable('mw_buffered', people);
    const ws = await client.createWriteStreamFullResponse({
      streamType: managedwriter.BufferedStream,
      destinationTable: table,
    });
    const {connection, writer} = await jsonWriter(client, ws.name);
    assert.equal(await offsetOf(writer.appendRows([{name: 'b0', n: 1}, {name: 'b1', n: 2}], 0)), 0);
    assert.equal(await offsetOf(writer.appendRows([{name: 'b2', n: 3}], 2)), 2);
    assert.deepEqual(await rowsOf('mw_buffered'), []);
    // The client drops a zero offset from FlushRows (a falsy check): the
    // server must read the missing offset as 0 and show row 0 only.
    const first = await connection.flushRows({offset: 0});
    assert.equal(Number(first.offset), 0);
    assert.deepEqual(await rowsOf('mw_buffered'), ['b0 1']);
    const second = await connection.flushRows({offset: 2});
    assert.equal(Number(second.offset), 2);
    assert.deepEqual(await rowsOf('mw_buffered'), ['b0 1', 'b1 2', 'b2 3']);
    const fin = await connection.finalize();
    assert.equal(Number(fin.rowCount), 3);
  });

  test('bigquery: table.insert, PartialFailureError and getRows', async () => {
    await createTable('insert', [
      {name: 'name', type: 'STRING', mode: 'REQUIRED'},
      {name: 'n', type: 'INTEGER'},
      {name: 'tags', type: 'STRING', mode: 'REPEATED'},
      {name: 'at', type: 'TIMESTAMP'},
    ]);
    const table = dataset.table('insert');
    await table.insert([
      {name: 'ann', n: 1, tags: ['x', 'y'], at: '2024-05-01T10:00:00.123456Z'},
      {name: 'ben', n: 2, tags: [], at: null},
    ]);
    const [rows] = await table.getRows();
    assert.deepEqual(
      rows.map(r => [r.name, r.n, r.tags]),
      [
        ['ann', 1, ['x', 'y']],
        ['ben', 2, []],
      ],
    );
    // Microseconds survive (PreciseDate may print nanosecond digits).
    assert.match(rows[0].at.value, /^2024-05-01T10:00:00\.123456(000)?Z$/);
    assert.equal(rows[1].at, null);
    // One bad row: nothing written; the bad row is "invalid", the good one
    // "stopped". (The client re-sends both, partialRetries times.)
    let err;
    try {
      await table.insert([{name: 'cy', n: 3}, {name: 'dee', n: 'not a number'}], {partialRetries: 1});
    } catch (e) {
      err = e;
    }
    assert.equal(err && err.name, 'PartialFailureError', `got ${err}`);
    const reasons = err.errors.map(e => `${e.row.name}:${e.errors.map(x => x.reason).join(',')}`).sort();
    assert.deepEqual(reasons, ['cy:stopped', 'dee:invalid']);
    assert.deepEqual(await rowsOf('insert'), ['ann 1', 'ben 2']);
  });

  test('seed sample: pending-mode append (append_rows_pending.js)', async () => {
    await createTable('seed_pending', [
      {name: 'customer_name', type: 'STRING'},
      {name: 'row_num', type: 'INTEGER', mode: 'REQUIRED'},
    ]);
    const {stdout} = await runSample('append_rows_pending.js', projectId, datasetId, 'seed_pending');
    assert.match(stdout, /Row count: 3/);
    assert.deepEqual(await rowsOf('seed_pending', ['customer_name', 'row_num']), [
      'Octavia 1',
      'Turing 2',
      'Bell 3',
    ]);
  });

  test('seed sample: legacy streaming insert (insert_rows_as_stream.js)', async () => {
    await createTable('seed_insert', [
      {name: 'name', type: 'STRING'},
      {name: 'age', type: 'INTEGER'},
    ]);
    const {stdout} = await runSample('insert_rows_as_stream.js', datasetId, 'seed_insert');
    assert.match(stdout, /Inserted 2 rows/);
    assert.deepEqual(await rowsOf('seed_insert', ['name', 'age']), ['Tom 30', 'Jane 32']);
  });
});

// runSample runs a seed sample as its own program from samples/ (the
// sample loads files relative to the working directory).
async function runSample(file, ...args) {
  try {
    return await promisify(execFile)(process.execPath, [file, ...args], {
      cwd: path.join(__dirname, 'samples'),
      env: {...process.env, PENSTOCK_PROJECT: projectId},
      timeout: 60000,
    });
  } catch (e) {
    const clip = s => String(s || '').slice(0, 2000);
    throw new Error(`${file} failed (${e.code}):\n${clip(e.stdout)}\n${clip(e.stderr)}`);
  }
}
