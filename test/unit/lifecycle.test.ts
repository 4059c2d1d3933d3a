import test from 'ava';
import { ACTIVE_CONNECTION_CHECK_MS, terminationSettings, waitForTermination } from '../../src/main/lifecycle.js';
import type { MeshSettings } from '../../src/config/model.js';

const mesh = (terminationDrainDurationMs = 5000, proxyMetadata: Record<string, string> = {}) => ({ terminationDrainDurationMs, proxyMetadata }) as unknown as MeshSettings;

test('termination settings: Istio\'s defaults, mesh terminationDrainDuration, then env over proxyMetadata', (t) => {
  t.deepEqual(terminationSettings({}, mesh()), { terminationDrainMs: 5000, exitOnZeroActiveConnections: false, minimumDrainMs: 5000 });
  t.is(terminationSettings({}, mesh(2000)).terminationDrainMs, 2000);
  t.is(terminationSettings({ TERMINATION_DRAIN_DURATION_SECONDS: '7' }, mesh(2000)).terminationDrainMs, 7000);
  const fromMesh = terminationSettings({}, mesh(5000, { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: '1500ms' }));
  t.true(fromMesh.exitOnZeroActiveConnections);
  t.is(fromMesh.minimumDrainMs, 1500);
  t.false(terminationSettings({ EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'false' }, mesh(5000, { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true' })).exitOnZeroActiveConnections);
  t.throws(() => terminationSettings({ TERMINATION_DRAIN_DURATION_SECONDS: '5s' }, mesh()), { message: /whole seconds/ });
  t.throws(() => terminationSettings({ MINIMUM_DRAIN_DURATION: 'soon' }, mesh()));
});

test('without exit-on-zero the wait is terminationDrainDuration, whatever the connections', async (t) => {
  let asked = 0;
  const started = Date.now();
  await waitForTermination({ terminationDrainMs: 50, exitOnZeroActiveConnections: false, minimumDrainMs: 0 }, () => (asked++, 3));
  t.is(asked, 0);
  t.true(Date.now() - started >= 45);
});

test('exit-on-zero waits the minimum drain, then checks once per interval until no connection is open', async (t) => {
  const seen: number[] = [];
  let open = 2;
  const timer = setTimeout(() => (open = 0), ACTIVE_CONNECTION_CHECK_MS / 2);
  t.teardown(() => clearTimeout(timer));
  await waitForTermination({ terminationDrainMs: 60_000, exitOnZeroActiveConnections: true, minimumDrainMs: 10 }, () => open, (n) => seen.push(n));
  t.deepEqual(seen, [2, 0], 'one check with connections open, the next one finds none');
});
