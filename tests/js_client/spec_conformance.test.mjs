// Checks the test server's answers against Qdrant 1.19's OpenAPI spec
// (shared/qdrant/openapi.json beside the repository, or $QDRANT_OPENAPI):
// every request this test sends is first checked against the operation's
// request schema, and every answer against its 200 or 4XX response schema.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OpenApi } from './openapi_schema.mjs';
import { startServer, stopServer } from './server_process.mjs';

const SPEC_PATH =
  process.env.QDRANT_OPENAPI ?? fileURLToPath(new URL('../../../shared/qdrant/openapi.json', import.meta.url));
const skip = existsSync(SPEC_PATH) ? false : `no spec at ${SPEC_PATH}`;

let spec;
let server;
let url;

before(async () => {
  if (skip) return;
  spec = new OpenApi(SPEC_PATH);
  ({ proc: server, url } = await startServer());
});

after(async () => {
  if (server) assert.equal(await stopServer(server), 0);
});

// Sends one request of the spec operation `method specPath` to `path` and
// checks both sides against the spec. Resolves with [status, parsed body].
async function call(method, specPath, path, body) {
  if (body !== undefined) {
    const requestErrors = spec.validate(body, spec.requestSchema(specPath, method));
    assert.deepEqual(requestErrors, [], `the test's own ${method} ${path} body breaks the spec`);
  }
  const response = await fetch(url + path, {
    method: method.toUpperCase(),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed = await response.json();
  const schema = spec.responseSchema(specPath, method, response.status === 200 ? 200 : 400);
  assert.deepEqual(spec.validate(parsed, schema), [], `${method} ${path} -> ${JSON.stringify(parsed).slice(0, 300)}`);
  return [response.status, parsed];
}

const C = '/collections/{collection_name}';

test('every implemented operation answers as the spec says', { skip }, async () => {
  const ok = async (...args) => {
    const [status, body] = await call(...args);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.status, 'ok');
    return body.result;
  };
  const [rootStatus, root] = await call('get', '/', '/');  // the one answer without the envelope
  assert.equal(rootStatus, 200);
  assert.equal(root.version, '1.19.0');
  await ok('put', C, '/collections/spec', {
    vectors: { size: 3, distance: 'Dot', on_disk: false },
    shard_number: 1,
    hnsw_config: { m: 8, ef_construct: 50 },
    optimizers_config: { max_optimization_threads: 'auto', deleted_threshold: 0.3 },
    wal_config: { wal_capacity_mb: null },
    sparse_vectors: { 'sparse-text': {} },
    on_disk_payload: true,
  });
  await ok('get', '/collections', '/collections');
  await ok('get', `${C}/exists`, '/collections/spec/exists');
  await ok('put', `${C}/points`, '/collections/spec/points?wait=true', {
    points: [
      { id: 1, vector: [1, 0, 0], payload: { city: 'Berlin', price: 1.5 } },
      { id: '00000000000000000000000000000002', vector: [0, 1, 0], payload: null },
    ],
  });
  await ok('put', `${C}/points`, '/collections/spec/points', {
    batch: { ids: [3, 4], vectors: [[0, 0, 1], [1, 1, 1]], payloads: [{ city: 'Moscow' }, { city: ['Berlin', 'Paris'] }] },
  });
  await ok('put', `${C}/index`, '/collections/spec/index?wait=true', { field_name: 'city', field_schema: 'keyword' });
  const info = await ok('get', C, '/collections/spec');
  assert.equal(info.points_count, 4);
  assert.equal(info.payload_schema.city.data_type, 'keyword');
  await ok('post', `${C}/points`, '/collections/spec/points', { ids: [1, '00000000-0000-0000-0000-000000000002'], with_vector: true });
  await ok('get', `${C}/points/{id}`, '/collections/spec/points/1');
  await ok('post', `${C}/points/scroll`, '/collections/spec/points/scroll', {
    limit: 2,
    with_payload: { exclude: ['price'] },
    filter: { should: [{ key: 'city', match: { value: 'Berlin' } }] },
  });
  await ok('post', `${C}/points/count`, '/collections/spec/points/count', { exact: false });
  const query = await ok('post', `${C}/points/query`, '/collections/spec/points/query', {
    query: { nearest: [1, 1, 0] },
    filter: { must_not: [{ has_id: [4] }] },
    with_payload: ['city'],
    with_vector: true,
    score_threshold: 0.5,
    params: { hnsw_ef: 16, exact: true },
  });
  assert.deepEqual(query.points.map((p) => p.id), [1, '00000000-0000-0000-0000-000000000002']);
  await ok('post', `${C}/points/query`, '/collections/spec/points/query', { limit: 2 });
  await ok('post', `${C}/points/query/batch`, '/collections/spec/points/query/batch', {
    searches: [{ query: 1 }, { query: [0, 0, 1], limit: 1 }],
  });
  await ok('post', `${C}/points/delete`, '/collections/spec/points/delete?wait=true', { points: [3] });
  await ok('post', `${C}/points/delete`, '/collections/spec/points/delete', {
    filter: { must: [{ key: 'city', match: { any: ['Moscow'] } }] },
  });
  await ok('delete', `${C}/index/{field_name}`, '/collections/spec/index/city');
  assert.equal(await ok('delete', C, '/collections/spec'), true);
  assert.equal(await ok('delete', C, '/collections/spec'), false);
});

test('errors come in the spec ErrorResponse with Qdrant codes', { skip }, async () => {
  const [missing, body] = await call('post', `${C}/points/scroll`, '/collections/absent/points/scroll', {});
  assert.equal(missing, 404);
  assert.equal(body.status.error, 'Not found: Collection `absent` doesn\'t exist!');
  await call('put', C, '/collections/limits', { vectors: { size: 2, distance: 'Cosine' } });
  const [tooBig, tooBigBody] = await call('put', C, '/collections/limits2', { vectors: { size: 65537, distance: 'Cosine' } });
  assert.equal(tooBig, 422);
  assert.match(tooBigBody.status.error, /^Validation error in JSON body: \[vectors\.size:/);
  const [exists] = await call('put', C, '/collections/limits', { vectors: { size: 2, distance: 'Cosine' } });
  assert.equal(exists, 409);
  const [dim, dimBody] = await call('put', `${C}/points`, '/collections/limits/points', {
    points: [{ id: 1, vector: [1, 2, 3] }],
  });
  assert.equal(dim, 400);
  assert.equal(dimBody.status.error, 'Wrong input: Vector dimension error: expected dim: 2, got 3');
});
