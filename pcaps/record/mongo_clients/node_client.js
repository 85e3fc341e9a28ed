// node_client.js - the official Node driver against mongo_server.py.
//   node node_client.js HOST:PORT
// Prints one JSON object: the driver version and, per call, what the driver
// returned (documents received, databases/collections listed, auth outcome).
'use strict';
const { MongoClient } = require('mongodb');

const host = process.argv[2] || '127.0.0.1:27017';
const calls = [];

async function withClient(uri, fn) {
  const client = new MongoClient(uri, { directConnection: true, heartbeatFrequencyMS: 500,
                                        serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    await fn(client);
  } finally {
    await client.close();
  }
}

async function main() {
  // 1. zlib, no credentials: enumerate, then dump 6000 customers in batches of 1000
  await withClient(`mongodb://${host}/?compressors=zlib&appName=sw-node-dump`, async (c) => {
    const dbs = await c.db('admin').admin().listDatabases();
    calls.push({ call: 'listDatabases', compressor: 'zlib', databases: dbs.databases.length });
    const colls = await c.db('shop').listCollections().toArray();
    calls.push({ call: 'listCollections', compressor: 'zlib', db: 'shop', collections: colls.length });
    const docs = await c.db('shop').collection('customers').find({}, { batchSize: 1000 }).toArray();
    calls.push({ call: 'find', compressor: 'zlib', ns: 'shop.customers', batchSize: 1000, documents: docs.length });
  });
  // 2. zstd: a failed SCRAM-SHA-256 authentication (wrong password)
  let failed = null;
  try {
    await withClient(`mongodb://alice:wrong@${host}/?authSource=admin&authMechanism=SCRAM-SHA-256&compressors=zstd&appName=sw-node-badauth`,
      async () => {});
  } catch (e) {
    failed = e.codeName || e.name;
  }
  calls.push({ call: 'auth', compressor: 'zstd', user: 'alice', ok: false, error: failed });
  // 3. snappy: a successful SCRAM-SHA-256 authentication, then read secure.payroll
  await withClient(`mongodb://alice:s3cret@${host}/?authSource=admin&authMechanism=SCRAM-SHA-256&compressors=snappy&appName=sw-node-auth`,
    async (c) => {
      calls.push({ call: 'auth', compressor: 'snappy', user: 'alice', ok: true });
      const docs = await c.db('secure').collection('payroll').find({}, { batchSize: 40 }).toArray();
      calls.push({ call: 'find', compressor: 'snappy', ns: 'secure.payroll', batchSize: 40, documents: docs.length });
    });
  // 4. zstd: count and a small find, compressed
  await withClient(`mongodb://${host}/?compressors=zstd&appName=sw-node-zstd`, async (c) => {
    const n = await c.db('shop').collection('orders').estimatedDocumentCount();
    calls.push({ call: 'estimatedDocumentCount', compressor: 'zstd', ns: 'shop.orders', n });
    const docs = await c.db('shop').collection('orders').find({ total: { $gt: 0 } }).toArray();
    calls.push({ call: 'find', compressor: 'zstd', ns: 'shop.orders', documents: docs.length });
  });
  const version = require('mongodb/package.json').version;
  process.stdout.write(JSON.stringify({ client: 'node mongodb', version, calls }) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
