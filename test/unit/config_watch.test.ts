import test from 'ava';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { FileConfigSource, type Rejection, type SnapshotUpdate } from '../../src/config/source.js';
import { DEFAULT_TRANSLATE_OPTIONS } from '../../src/config/translate/context.js';
import { serviceEntry, tempDir, write } from './config_helpers.js';

const endpointsOf = (s: FileConfigSource) => s.current!.clusters.find((c) => c.name === 'outbound|80||web.default.svc.cluster.local')?.endpoints.map((e) => e.address);
const yamlWith = (ip: string) => serviceEntry('web', { endpoints: [[ip, { version: 'v1' }]] });

/** The next event; the timer (not unref'd) keeps the loop alive, since the source's watch and timers do not. */
function next<T>(source: FileConfigSource, event: 'update' | 'rejected', ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    once(source, event).then(([v]) => v as T),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

function start(paths: string[]): FileConfigSource {
  const s = new FileConfigSource(paths, DEFAULT_TRANSLATE_OPTIONS, 50, 300);
  const first = s.load();
  if (!first.snapshot) throw new Error(first.diagnostics.map((d) => d.message).join('; '));
  s.watch();
  return s;
}

test('an editor-style atomic rename over a watched file is applied', async (t) => {
  const dir = tempDir();
  const file = write(dir, 'web.yaml', yamlWith('10.1.0.1'));
  const s = start([file]);
  t.teardown(() => s.close());
  t.deepEqual(endpointsOf(s), ['10.1.0.1']);
  const tmp = write(dir, '.web.yaml.swp', yamlWith('10.1.0.2'));
  const updated = next<SnapshotUpdate>(s, 'update');
  renameSync(tmp, file);
  const u = await updated;
  t.is(u.snapshot.version, 2);
  t.deepEqual(endpointsOf(s), ['10.1.0.2']);
  t.deepEqual(u.delta!.clusters.upsert.map((c) => c.name), ['outbound|80||web.default.svc.cluster.local']);
});

test("a Kubernetes ConfigMap update (the ..data symlink swap) is applied", async (t) => {
  const mount = tempDir();
  mkdirSync(join(mount, '..2024_01_01_00_00_00.000000001'));
  writeFileSync(join(mount, '..2024_01_01_00_00_00.000000001', 'web.yaml'), yamlWith('10.2.0.1'));
  symlinkSync('..2024_01_01_00_00_00.000000001', join(mount, '..data'));
  symlinkSync('..data/web.yaml', join(mount, 'web.yaml'));
  const s = start([mount]);
  t.teardown(() => s.close());
  t.deepEqual(endpointsOf(s), ['10.2.0.1']);
  t.is(s.current!.source, `files:${join(mount, 'web.yaml')}`, 'read once, through the visible name');
  // What the kubelet does: new timestamped dir, new ..data_tmp link, atomic rename over ..data.
  mkdirSync(join(mount, '..2024_01_01_00_05_00.000000002'));
  writeFileSync(join(mount, '..2024_01_01_00_05_00.000000002', 'web.yaml'), yamlWith('10.2.0.2'));
  symlinkSync('..2024_01_01_00_05_00.000000002', join(mount, '..data_tmp'));
  const updated = next<SnapshotUpdate>(s, 'update');
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
  await updated;
  t.deepEqual(endpointsOf(s), ['10.2.0.2']);
});

test('a truncated write is rejected whole and the last good config keeps serving; the completed write is applied', async (t) => {
  const dir = tempDir();
  const full = yamlWith('10.3.0.2') + `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web}
spec:
  host: web
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http: [{route: [{destination: {host: web, subset: v1}}]}]
`;
  write(dir, 'web.yaml', yamlWith('10.3.0.1'));
  const s = start([dir]);
  t.teardown(() => s.close());
  const rejected = next<Rejection>(s, 'rejected');
  // Cut inside the flow mapping of the DestinationRule: invalid YAML.
  writeFileSync(join(dir, 'web.yaml'), full.slice(0, full.indexOf('subsets:') + 12));
  const r = await rejected;
  t.is(r.keptVersion, 1);
  t.true(r.errors.length > 0);
  t.is(s.current!.version, 1);
  t.deepEqual(endpointsOf(s), ['10.3.0.1']);
  t.is(s.counts.rejected, 1);
  const updated = next<SnapshotUpdate>(s, 'update');
  writeFileSync(join(dir, 'web.yaml'), full);
  const u = await updated;
  t.is(u.snapshot.version, 2);
  t.deepEqual(endpointsOf(s), ['10.3.0.2']);
  t.truthy(s.current!.clusters.find((c) => c.name === 'outbound|80|v1|web.default.svc.cluster.local'));
});

test('a semantically bad change (subset no DestinationRule defines) is rejected whole, even split across files', async (t) => {
  const dir = tempDir();
  write(dir, 'a-web.yaml', yamlWith('10.4.0.1'));
  const s = start([dir]);
  t.teardown(() => s.close());
  const rejected = next<Rejection>(s, 'rejected');
  write(dir, 'b-vs.yaml', `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http: [{route: [{destination: {host: web, subset: v2}}]}]
`);
  const r = await rejected;
  t.regex(r.errors[0], /b-vs\.yaml:6: VirtualService\/default\/web: spec\.http\[0\]\.route\[0\]\.destination\.subset: subset v2 of web\.default\.svc\.cluster\.local is not defined by any DestinationRule/);
  t.is(s.current!.version, 1);
});

test('rewriting the same bytes, or touching a file, does not make a new version', async (t) => {
  const dir = tempDir();
  const file = write(dir, 'web.yaml', yamlWith('10.5.0.1'));
  const s = start([dir]);
  t.teardown(() => s.close());
  writeFileSync(file, yamlWith('10.5.0.1'));
  write(dir, 'README.txt', 'not config');
  await new Promise((r) => setTimeout(r, 600));
  t.is(s.current!.version, 1);
  t.true(s.counts.unchanged >= 1);
  const updated = next<SnapshotUpdate>(s, 'update');
  write(dir, 'extra.yaml', serviceEntry('extra'));
  await updated;
  t.is(s.current!.version, 2);
  t.truthy(s.current!.clusters.find((c) => c.name === 'outbound|80||extra.default.svc.cluster.local'));
});

test('writes to other files next to a watched config file do not reload it', async (t) => {
  const dir = tempDir();
  const file = write(dir, 'web.yaml', yamlWith('10.1.0.1'));
  const s = start([file]);
  t.teardown(() => s.close());
  let updates = 0;
  s.on('update', () => updates++);
  for (let i = 0; i < 5; i++) {
    writeFileSync(join(dir, 'proxy.log'), `line ${i}\n`, { flag: 'a' });
    await new Promise((r) => setTimeout(r, 80));
  }
  await new Promise((r) => setTimeout(r, 400));
  t.is(updates, 0);
  t.is(s.current!.version, 1);
});
