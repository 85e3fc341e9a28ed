// nano_client.js - a CouchDB client session recorded by record_couchdb.sh:
// load a database, then read it back the ways a scraper would. Prints what
// the client received, one entry per call, as JSON on stdout.
//   node nano_client.js http://127.0.0.1:5984
'use strict';
const url = process.argv[2];
const nano = require('nano')(url);
const DB = 'customers';
const DOCS = 6000;
const calls = [];

function note(call, method, path, extra) {
  calls.push(Object.assign({ call, method, path }, extra || {}));
}

function customer(i) {   // fixed data: a rerun serves the same documents
  return { _id: 'c' + String(i).padStart(5, '0'), name: 'Customer ' + i,
           email: 'user' + i + '@example.com', tier: i % 3, balance: (i * 7919) % 10000 };
}

async function main() {
  await nano.db.create(DB);
  note('create_db', 'PUT', '/' + DB);
  for (let b = 0; b < DOCS; b += 1000) {
    const docs = [];
    for (let i = b; i < b + 1000; i++) docs.push(customer(i));
    const r = await nano.use(DB).bulk({ docs });
    note('_bulk_docs', 'POST', '/' + DB + '/_bulk_docs', { items: r.length });
  }
  const db = nano.use(DB);
  const dbs = await nano.db.list();
  note('_all_dbs', 'GET', '/_all_dbs', { items: dbs.length });
  const info = await db.info();
  note('db_info', 'GET', '/' + DB, { total: info.doc_count });
  const all = await db.list({ include_docs: true });
  note('_all_docs', 'GET', '/' + DB + '/_all_docs', { items: all.rows.length, total: all.total_rows });
  const page = await db.list({ limit: 1000, skip: 1000 });
  note('_all_docs', 'GET', '/' + DB + '/_all_docs', { items: page.rows.length, total: page.total_rows });
  const found = await db.find({ selector: {}, limit: 2000 });
  note('_find', 'POST', '/' + DB + '/_find', { items: found.docs.length });
  const changes = await db.changes({ include_docs: true });
  note('_changes', 'GET', '/' + DB + '/_changes', { items: changes.results.length });
  const doc = await db.get('c00042');
  note('doc', 'GET', '/' + DB + '/c00042', { items: doc._id ? 1 : 0 });
  const keys = [];
  for (let i = 0; i < 10; i++) keys.push(customer(i * 500)._id);
  const some = await db.fetch({ keys });
  note('_all_docs', 'POST', '/' + DB + '/_all_docs', { items: some.rows.length, total: some.total_rows });
  await nano.db.destroy(DB);
  note('delete_db', 'DELETE', '/' + DB);
  const version = require('nano/package.json').version;
  console.log(JSON.stringify({ client: 'nano', version, calls }));
}

main().catch((e) => { console.error(e); process.exit(1); });
