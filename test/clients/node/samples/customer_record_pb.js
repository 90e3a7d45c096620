'use strict';
// Stands in for the module the seed sample generates with
// `pbjs customer_record.proto -t static-module -w commonjs`: it exports the
// CustomerRecord message type with camel-cased field names (rowNum,
// customerName), here built by reflection from customer_record.proto.
// (customer_record.json is the `pbjs -t json --keep-case` output the
// sample loads for the descriptor.)
const path = require('path');
const protobufjs = require('protobufjs');

const root = protobufjs.loadSync(path.join(__dirname, 'customer_record.proto'));
module.exports = {CustomerRecord: root.lookupType('CustomerRecord')};
