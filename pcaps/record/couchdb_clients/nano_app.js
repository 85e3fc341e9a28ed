// nano_app.js URL NEW-ID - an ordinary application session with nano, for the
// couchdb_app detection scenario (record_scenarios_apps.sh): read 5 known
// documents of customers by id, update one (GET then PUT with its _rev),
// create one new document (NEW-ID). Prints what the client
// received, one entry per call, as JSON on stdout.
//   node nano_app.js http://127.0.0.2:5984 c09001
'use strict';
const [url, newId] = [process.argv[2], process.argv[3]];
const nano = require('nano')(url);
const db = nano.use('customers');
const calls = [];

async function main() {
  for (const id of ['c00007', 'c00042', 'c01001', 'c02500', 'c05999']) {
    const doc = await db.get(id);
    calls.push({ call: 'doc', method: 'GET', id, items: doc._id === id ? 1 : 0 });
  }
  const doc = await db.get('c00042');
  doc.balance += 10;
  const put = await db.insert(doc);
  calls.push({ call: 'doc', method: 'PUT', id: doc._id, ok: put.ok });
  const created = await db.insert({ _id: newId, name: 'Customer new', tier: 1 });
  calls.push({ call: 'doc', method: 'PUT', id: newId, ok: created.ok });
  const version = require('nano/package.json').version;
  process.stdout.write(JSON.stringify({ client: 'nano', version, calls }) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
