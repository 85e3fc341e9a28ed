// memjs steps (memcached binary protocol) for the memcached_memjs capture
// (record_memcached.sh).
//
//   NODE_PATH=/tmp/sw-npm-kv/node_modules node memjs_client.js plain PORT
//   NODE_PATH=... node memjs_client.js sasl PORT USER PASSWORD
//
// Prints one JSON object: for every call, what memjs handed back.
'use strict';
const memjs = require('memjs');

const [mode, port, user, password] = process.argv.slice(2);
const out = {client: 'memjs ' + require('memjs/package.json').version, mode, calls: []};
const quiet = {log: () => {}};
const note = (call, result) => out.calls.push(Object.assign({call}, result));

async function attempt(call, p) {
  try { return await p; } catch (e) { note(call, {error: String(e && e.message)}); return undefined; }
}

async function plain() {
  const c = memjs.Client.create('127.0.0.1:' + port, {retries: 0, timeout: 2, logger: quiet});
  note('set js:1', {result: await attempt('set js:1', c.set('js:1', 'hello from memjs', {expires: 600}))});
  const g = await c.get('js:1');
  note('get js:1', {hit: g.value !== null, bytes: g.value ? g.value.length : 0});
  const m = await c.get('js:missing');
  note('get js:missing', {hit: m.value !== null});
  note('increment js:counter 3 (initial 10)', {result: await c.increment('js:counter', 3, {initial: 10})});
  note('increment js:counter 3', {result: await c.increment('js:counter', 3, {})});
  note('delete js:1', {result: await c.delete('js:1')});
  note('delete js:1 again', {result: await c.delete('js:1')});
  const stats = await new Promise(resolve => {
    c.stats((err, server, s) => resolve(err ? {error: String(err)} : {server, stat_lines: Object.keys(s).length}));
  });
  note('stats', stats);
  const f = await c.flush();
  note('flush', {result: f});
  c.close();
}

async function sasl() {
  for (const [label, pw] of [['good password', password], ['wrong password', 'not-' + password]]) {
    const c = memjs.Client.create(user + ':' + pw + '@127.0.0.1:' + port,
                                  {retries: 0, timeout: 2, logger: quiet});
    const r = await attempt('SASL PLAIN ' + label + ' then set js:auth',
                            c.set('js:auth', 'authenticated write', {}));
    if (r !== undefined) note('SASL PLAIN ' + label + ' then set js:auth', {result: r});
    if (r !== undefined) {
      const g = await c.get('js:auth');
      note('get js:auth', {hit: g.value !== null});
    }
    c.close();
  }
}

(mode === 'sasl' ? sasl() : plain())
  .then(() => console.log(JSON.stringify(out)))
  .catch(e => { console.error(e); process.exit(1); });
