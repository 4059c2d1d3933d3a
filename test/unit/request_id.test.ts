import test from 'ava';
import { newRequestId } from '../../src/filters/network/http_connection_manager/request_id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('x-request-id values are version-4 UUIDs, distinct across many refills of the random pool', (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = newRequestId();
    if (!UUID_V4.test(id)) return t.fail(`not a v4 UUID: ${id}`);
    seen.add(id);
  }
  t.is(seen.size, 5000);
});

test('each x-request-id is its own string (the scratch buffer is not shared with earlier ids)', (t) => {
  const a = newRequestId();
  const copy = `${a}`;
  newRequestId();
  t.is(a, copy);
});
