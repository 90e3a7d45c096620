'use strict';
// How the Node.js clients connect to Penstock: the code the README shows.
// Addresses come from PENSTOCK_HTTP_URL / PENSTOCK_GRPC_ADDR and default to
// Penstock's defaults.
const httpURL = process.env.PENSTOCK_HTTP_URL || 'http://127.0.0.1:9050';
const [grpcHost, grpcPort] = (process.env.PENSTOCK_GRPC_ADDR || '127.0.0.1:9060').split(':');
const projectId = process.env.PENSTOCK_PROJECT || 'my-project';

// --- README snippet: Node.js ---
const {BigQuery} = require('@google-cloud/bigquery');
const {managedwriter} = require('@google-cloud/bigquery-storage');
const grpc = require('@grpc/grpc-js');

// REST: a custom apiEndpoint makes the client send no credentials.
const bq = new BigQuery({projectId, apiEndpoint: httpURL});

// Storage Write API: plaintext gRPC, no credentials.
function newWriterClient() {
  return new managedwriter.WriterClient({
    projectId,
    apiEndpoint: grpcHost,
    port: Number(grpcPort),
    sslCreds: grpc.credentials.createInsecure(),
  });
}
// --- end of README snippet ---

module.exports = {bq, newWriterClient, projectId};
