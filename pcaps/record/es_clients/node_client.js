#!/usr/bin/env node
// The official Elasticsearch node client (@elastic/elasticsearch, pinned in
// package.json) making the calls recorded in pcaps/es_node_client.pcap.
//
//   NODE_PATH=/tmp/sw-npm/node_modules node node_client.js http://127.0.0.1:9200
//
// Prints one JSON object on stdout: the client version and, per call, what the
// client received (documents, totals, status). record_es.sh puts it in the facts.
'use strict'
const { Client, errors } = require('@elastic/elasticsearch')
const clientVersion = require('@elastic/elasticsearch/package.json').version

async function main () {
  const url = process.argv[2] || 'http://127.0.0.1:9200'
  const client = new Client({ node: url })
  const calls = []

  const info = await client.info()
  calls.push({ call: 'info()', version: info.version.number, documents: 0 })

  const cat = await client.cat.indices({ format: 'json' })
  calls.push({
    call: "cat.indices({format:'json'})",
    indices: cat.length,
    docs_total: cat.reduce((s, r) => s + Number(r['docs.count']), 0),
    documents: 0
  })

  const s = await client.search({ index: 'tickets', size: 100, query: { match_all: {} } })
  calls.push({
    call: "search({index:'tickets', size:100, match_all})",
    documents: s.hits.hits.length,
    total: s.hits.total.value
  })

  // scroll helper: search?scroll=1m, then POST /_search/scroll until a page is
  // empty, then DELETE /_search/scroll (the helper clears the scroll itself).
  const pages = []
  let total = null
  for await (const page of client.helpers.scrollSearch({
    index: 'logs-2024', size: 500, query: { match_all: {} }
  })) {
    pages.push(page.documents.length)
    total = page.body.hits.total.value
  }
  calls.push({
    call: "helpers.scrollSearch({index:'logs-2024', size:500})",
    pages,
    documents: pages.reduce((a, b) => a + b, 0),
    total
  })

  const c = await client.count({ index: 'tickets' })
  calls.push({ call: "count({index:'tickets'})", count: c.count, documents: 0 })

  try {
    await client.search({ index: 'no-such-index', query: { match_all: {} } })
    calls.push({ call: "search({index:'no-such-index'})", error: null, documents: 0 })
  } catch (err) {
    if (!(err instanceof errors.ResponseError)) throw err
    calls.push({
      call: "search({index:'no-such-index'})",
      status: err.meta.statusCode,
      error_type: err.meta.body.error.type,
      documents: 0
    })
  }
  await client.close()
  process.stdout.write(JSON.stringify({ client: '@elastic/elasticsearch', version: clientVersion, calls }) + '\n')
}

main().catch(err => { console.error(err); process.exit(1) })
