// ioredis steps for the redis_ioredis capture (record_redis_clients.sh).
//
//   NODE_PATH=/tmp/sw-npm-kv/node_modules node ioredis_client.js PORT
//
// Prints one JSON object: for every call, what ioredis handed back.
// ioredis 5 speaks RESP2 only: HELLO 3 sent with redis.call() gets a RESP3 map
// ("%7") that its parser rejects ("Protocol error, got "%" as reply type
// byte"), and it drops the connection. That is recorded as it happens; the
// RESP3 replies themselves (map, set) come from redis-cli -3 in the script.
'use strict';
const Redis = require('ioredis');

const port = Number(process.argv[2] || 6379);
const opts = {host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0,
              retryStrategy: () => null};
const out = {client: 'ioredis ' + require('ioredis/package.json').version, calls: []};
const note = (call, result) => out.calls.push(Object.assign({call}, result));
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function settle(p, ms) {          // what a promise gave within ms
  return Promise.race([
    p.then(v => ({result: v}), e => ({error: e.message})),
    sleep(ms).then(() => ({pending: true})),
  ]);
}

async function hello3() {
  const r = new Redis(opts);
  r.on('error', () => {});
  await r.connect();
  note('connect (ioredis ready check)', {result: 'ready'});
  note("call('HELLO', '3')", await settle(r.call('HELLO', '3'), 1000));
  note('hgetall customer:0001 after HELLO 3', await settle(r.hgetall('customer:0001'), 1000));
  r.disconnect();
}

async function resp2() {
  const r = new Redis(opts);
  r.on('error', () => {});
  await r.connect();
  const h = await r.hgetall('customer:0001');
  note('hgetall customer:0001', {fields: Object.keys(h).length});
  const s = await r.smembers('tags:0001');
  note('smembers tags:0001', {members: s.length});

  // pub/sub: a second connection subscribes, this one publishes 3 messages
  const sub = new Redis(opts);
  sub.on('error', () => {});
  await sub.connect();
  const got = [];
  sub.on('message', (ch, msg) => got.push([ch, msg.length]));
  const n = await sub.subscribe('news');
  note('subscribe news (second connection)', {subscribed_channels: n});
  const receivers = [];
  for (let i = 1; i <= 3; i++) receivers.push(await r.publish('news', 'headline number ' + i));
  await sleep(300);
  note('publish news x3', {receivers});
  note('messages pushed to the subscriber', {messages: got.length});
  await sub.unsubscribe('news');
  sub.disconnect();

  // CLIENT REPLY OFF: the server answers nothing until CLIENT REPLY ON, whose
  // +OK ioredis hands to the oldest pending promise (the OFF call).
  const off = r.call('CLIENT', 'REPLY', 'OFF');
  const set = r.set('replyoff:key', 'v1');
  const get1 = r.get('replyoff:key');
  const on = r.call('CLIENT', 'REPLY', 'ON');
  const get2 = r.get('replyoff:key');
  const res = await Promise.all([off, set, get1, on, get2].map(p => settle(p, 1000)));
  note('CLIENT REPLY OFF; SET; GET; CLIENT REPLY ON; GET (pipelined, not awaited)', {
    promises: {'CLIENT REPLY OFF': res[0], SET: res[1], GET: res[2], 'CLIENT REPLY ON': res[3],
               'GET (after ON)': res[4]},
    server_replies: 2,
  });
  r.disconnect();
}

(async () => {
  await hello3();
  await resp2();
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
