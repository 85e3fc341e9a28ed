// node_client.js HOST PORT - drives the DataStax Node driver (cassandra-driver,
// protocol v4: the driver does not speak v5) against
// pcaps/record/cassandra_server.py and prints, as JSON, what it received: a
// failed login, a login, the schema enumeration, a paged full-table read
// (pages of 1000), TRUNCATE and DROP TABLE.
'use strict';
const cassandra = require('cassandra-driver');

function client(host, port, password) {
  return new cassandra.Client({
    contactPoints: [host + ':' + port],
    localDataCenter: 'datacenter1',
    authProvider: new cassandra.auth.PlainTextAuthProvider('scraper', password),
    isMetadataSyncEnabled: false,
    protocolOptions: { maxVersion: 4 },
    pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 1 } },
  });
}

async function main() {
  const [host, port] = [process.argv[2], Number(process.argv[3])];
  const calls = [];
  const bad = client(host, port, 'wrong');
  try {
    await bad.connect();
    calls.push({ call: 'login', ok: true });
  } catch (e) {
    calls.push({ call: 'login', ok: false, error: e.name });
  }
  await bad.shutdown();

  const c = client(host, port, 'secret');
  await c.connect();
  calls.push({ call: 'login', ok: true });
  for (const t of ['keyspaces', 'tables', 'columns']) {
    const r = await c.execute('SELECT * FROM system_schema.' + t, [], { prepare: false });
    calls.push({ call: 'select', table: 'system_schema.' + t, rows: r.rows.length });
  }
  let rows = 0, pages = 0, pageState;
  do {
    const r = await c.execute('SELECT * FROM shop.users', [], { prepare: false, fetchSize: 1000, pageState });
    rows += r.rows.length;
    pages += 1;
    pageState = r.pageState;
  } while (pageState);
  calls.push({ call: 'select', table: 'shop.users', rows, pages });
  await c.execute('TRUNCATE shop.orders');
  calls.push({ call: 'truncate', table: 'shop.orders' });
  await c.execute('DROP TABLE shop.users');
  calls.push({ call: 'drop', table: 'shop.users' });
  await c.shutdown();
  const version = require('cassandra-driver/package.json').version;
  process.stdout.write(JSON.stringify({ client: 'cassandra-driver (node)', version, protocol_version: 4, calls }) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
