// Drives tools/qdrant_test_server with the official Qdrant JavaScript client
// (@qdrant/js-client-rest), so the test server is checked against a real
// client's requests and response parsing, not only against our own reading of
// the spec. Run with run.sh, or: QDRANT_TEST_SERVER=<binary> node --test
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { QdrantClient, QdrantClientResourceExhaustedError } from '@qdrant/js-client-rest';
import { startServer, stopServer } from './server_process.mjs';

const API_KEY = 'js-client-test-key';
const COLLECTION = 'js_client';
const DIM = 4;

let server;
let url;
let client;

async function admin(method, path, body) {
  const response = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  return (await response.json()).result;
}

// Deterministic vectors, so a failure can be replayed.
function vectors(n, seed) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  return Array.from({ length: n }, () => Array.from({ length: DIM }, next));
}

const unit = (v) => {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};
const cosine = (a, b) => unit(a).reduce((sum, x, i) => sum + x * unit(b)[i], 0);

// Rejects with the HTTP status the client saw.
async function statusOf(promise) {
  try {
    await promise;
  } catch (error) {
    return error.status ?? error.response?.status ?? error.message;
  }
  return 200;
}

const INT_VECTORS = vectors(10, 42);
const UUIDS = [
  'A0000000000000000000000000000001',
  'b0000000-0000-0000-0000-000000000002',
  'C0000000000000000000000000000003',
];
const UUID_VECTORS = vectors(3, 7);
const hyphenated = (u) => {
  const h = u.replaceAll('-', '').toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

before(async () => {
  ({ proc: server, url } = await startServer(['--api-key', API_KEY]));
  client = new QdrantClient({ url, apiKey: API_KEY });
});

after(async () => {
  assert.equal(await stopServer(server), 0);
});

test('reports the version of a Qdrant 1.19 server', async () => {
  const info = await client.versionInfo();
  assert.equal(info.title, 'qdrant - vector search engine');
  assert.equal(info.version, '1.19.0');
});

test('creates a collection and echoes its config', async () => {
  assert.equal(
    await client.createCollection(COLLECTION, {
      vectors: { size: DIM, distance: 'Cosine' },
      hnsw_config: { m: 8, ef_construct: 64 },
      optimizers_config: { indexing_threshold: 0 },
      shard_number: 1,
      replication_factor: 1,
    }),
    true,
  );
  assert.deepEqual(await client.collectionExists(COLLECTION), { exists: true });
  const { collections } = await client.getCollections();
  assert.ok(collections.some((c) => c.name === COLLECTION));
  const info = await client.getCollection(COLLECTION);
  assert.deepEqual(info.config.params.vectors, { size: DIM, distance: 'Cosine' });
  assert.equal(info.config.hnsw_config.m, 8);
  assert.equal(info.config.hnsw_config.ef_construct, 64);
  assert.equal(info.config.optimizer_config.indexing_threshold, 0);
  assert.equal(
    await statusOf(client.createCollection(COLLECTION, { vectors: { size: DIM, distance: 'Cosine' } })),
    409,
  );
});

test('upserts points in both forms', async () => {
  const listed = await client.upsert(COLLECTION, {
    wait: true,
    points: INT_VECTORS.map((vector, i) => ({ id: i, vector, payload: { sample_id: `s${i % 3}` } })),
  });
  assert.equal(listed.status, 'completed');
  const batched = await client.upsert(COLLECTION, {
    wait: true,
    batch: { ids: UUIDS, vectors: UUID_VECTORS, payloads: UUIDS.map(() => ({ sample_id: 'uuid' })) },
  });
  assert.equal(batched.status, 'completed');
  assert.equal((await client.getCollection(COLLECTION)).points_count, 13);

  const status = await statusOf(client.upsert(COLLECTION, { wait: true, points: [{ id: 99, vector: [1, 2, 3] }] }));
  assert.equal(status, 400);
});

test('query returns the brute-force nearest points with cosine scores', async () => {
  const query = [0.3, -0.2, 0.5, 0.1];
  const all = [
    ...INT_VECTORS.map((v, i) => ({ id: i, score: cosine(query, v) })),
    ...UUID_VECTORS.map((v, i) => ({ id: hyphenated(UUIDS[i]), score: cosine(query, v) })),
  ].sort((a, b) => b.score - a.score);

  const { points } = await client.query(COLLECTION, { query, limit: 5, with_payload: true });
  assert.deepEqual(points.map((p) => p.id), all.slice(0, 5).map((p) => p.id));
  points.forEach((p, i) => assert.ok(Math.abs(p.score - all[i].score) < 1e-5, `score ${p.score} vs ${all[i].score}`));
  assert.ok('sample_id' in points[0].payload);
});

test('query by point id leaves that point out', async () => {
  const { points } = await client.query(COLLECTION, { query: 3, limit: 100 });
  assert.equal(points.length, 12);
  assert.ok(!points.some((p) => p.id === 3));
});

test('query filters by has_id and by payload', async () => {
  const byId = await client.query(COLLECTION, {
    query: INT_VECTORS[0],
    filter: { must: [{ has_id: [1, 2, hyphenated(UUIDS[0])] }] },
    limit: 10,
  });
  assert.deepEqual(byId.points.map((p) => p.id).sort(), [1, 2, hyphenated(UUIDS[0])].sort());
  const notIds = await client.query(COLLECTION, { query: INT_VECTORS[0], filter: { must_not: [{ has_id: [0, 1] }] }, limit: 100 });
  assert.equal(notIds.points.length, 11);
  const byPayload = await client.query(COLLECTION, {
    query: INT_VECTORS[0],
    filter: { must: [{ key: 'sample_id', match: { any: ['s1', 'uuid'] } }] },
    limit: 100,
    with_payload: true,
  });
  assert.equal(byPayload.points.length, 6);
  assert.ok(byPayload.points.every((p) => ['s1', 'uuid'].includes(p.payload.sample_id)));
});

test('query batch answers each search in order', async () => {
  const searches = [
    { query: INT_VECTORS[2], limit: 2 },
    { query: 5, limit: 3, filter: { must: [{ key: 'sample_id', match: { value: 's0' } }] } },
  ];
  const results = await client.queryBatch(COLLECTION, { searches });
  assert.equal(results.length, 2);
  assert.equal(results[0].points[0].id, 2);
  assert.deepEqual(results[1], await client.query(COLLECTION, searches[1]));
});

test('scroll pages through every point in id order', async () => {
  const seen = [];
  let offset;
  let pages = 0;
  do {
    const page = await client.scroll(COLLECTION, { limit: 4, offset, with_payload: true });
    seen.push(...page.points.map((p) => p.id));
    offset = page.next_page_offset ?? undefined;
    pages += 1;
  } while (offset !== undefined && pages < 10);
  assert.equal(pages, 4);
  const uuids = UUIDS.map(hyphenated).sort();
  assert.deepEqual(seen, [...Array(10).keys(), ...uuids]);
});

test('count, with and without a filter', async () => {
  assert.deepEqual(await client.count(COLLECTION, { exact: true }), { count: 13 });
  const filtered = await client.count(COLLECTION, { filter: { should: [{ key: 'sample_id', match: { value: 's2' } }] } });
  assert.equal(filtered.count, 3);
});

test('retrieve returns hyphenated ids and normalised cosine vectors', async () => {
  const records = await client.retrieve(COLLECTION, { ids: [UUIDS[2], 2, 12345], with_vector: true });
  assert.deepEqual(records.map((r) => r.id), [hyphenated(UUIDS[2]), 2]);
  unit(UUID_VECTORS[2]).forEach((x, i) => assert.ok(Math.abs(records[0].vector[i] - x) < 1e-6));
  assert.deepEqual(records[1].payload, { sample_id: 's2' });
});

test('delete points by id and by filter', async () => {
  const byIds = await client.delete(COLLECTION, { wait: true, points: [0, 1, 777] });
  assert.equal(byIds.status, 'completed');
  assert.equal((await client.count(COLLECTION)).count, 11);
  await client.delete(COLLECTION, { wait: true, filter: { must: [{ key: 'sample_id', match: { value: 'uuid' } }] } });
  assert.equal((await client.count(COLLECTION)).count, 8);
});

test('errors: missing collection and wrong api key', async () => {
  assert.equal(await statusOf(client.count('no_such_collection')), 404);
  const stranger = new QdrantClient({ url, apiKey: 'wrong', checkCompatibility: false });
  assert.equal(await statusOf(stranger.getCollections()), 401);
});

test('injected faults reach the client, then service resumes', async () => {
  await admin('DELETE', '/__test/stats');
  await admin('POST', '/__test/faults', { mode: 'status', status: 503, count: 1, path_prefix: `/collections/${COLLECTION}` });
  assert.equal(await statusOf(client.count(COLLECTION)), 503);
  assert.equal((await client.count(COLLECTION)).count, 8);

  await admin('POST', '/__test/faults', { mode: 'status', status: 429, retry_after: 2 });
  await assert.rejects(client.count(COLLECTION), (error) => {
    assert.ok(error instanceof QdrantClientResourceExhaustedError);
    assert.equal(error.retry_after, 2);
    return true;
  });

  await admin('POST', '/__test/faults', { mode: 'drop' });
  await assert.rejects(client.count(COLLECTION));
  assert.equal((await client.count(COLLECTION)).count, 8);
  const stats = await admin('GET', '/__test/stats');
  assert.equal(stats.requests[`POST /collections/${COLLECTION}/points/count`], 5);
});

test('deletes the collection', async () => {
  assert.equal(await client.deleteCollection(COLLECTION), true);
  assert.equal(await client.deleteCollection(COLLECTION), false);
  assert.deepEqual(await client.collectionExists(COLLECTION), { exists: false });
});
