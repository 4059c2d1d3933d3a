/**
 * Faults survived, configuration side (issue 10, item 3): under continuous HTTP traffic, the
 * config file is replaced by garbage, by a document set that is half good and half invalid,
 * and by a file truncated in the middle of a write. Each is rejected whole (counted in
 * legate.config.update_rejected), the last good configuration keeps serving, and no request is
 * lost; the completed file is then taken. Counts go to harness/load.ts's JSON record.
 */
import test, { type ExecutionContext } from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  httpLoad, httpRequest, meshConfigMap, report, podWithHttp, recordFaultCounts, serviceEntry, sleep, virtualService, type PodWithHttp,
} from './harness/index.js';

const HOST = 'api.example.internal';
const VIP = '240.240.6.10';
const GOOD = 8080;
/** Nothing listens here: a configuration that sends traffic here must never be applied. */
const CLOSED = 8099;

const docs = (remoteIp: string, port: number, extraHeader = 'v1') => [
  meshConfigMap({ outboundTrafficPolicy: 'REGISTRY_ONLY' }),
  serviceEntry({
    name: 'api', hosts: [HOST], addresses: [VIP],
    ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
    endpoints: [{ address: remoteIp, ports: { http: port } }],
  }),
  virtualService('api', { hosts: [HOST], http: [{ route: [{ destination: { host: HOST } }], headers: { request: { set: { 'x-config': extraHeader } } } }] }),
];

/** Writes config.yaml in place (not an atomic rename): a reader can see it half written. */
function writeRaw(env: PodWithHttp, text: string): void {
  writeFileSync(join(env.pod.configDir, 'config.yaml'), text);
}

async function underLoad(t: ExecutionContext, caseName: string, fault: (env: PodWithHttp) => Promise<void>): Promise<PodWithHttp> {
  const env = await podWithHttp(t, { servers: { api: GOOD }, config: (r) => docs(r.ip, GOOD) });
  await env.pod.waitForStat('legate.config.update_success', 1, 10_000, 0);
  const load = await httpLoad(env.pod.ns, { url: `http://${VIP}/`, host: HOST, parallel: 4, pauseMaxMs: 5 });
  await sleep(300);
  await fault(env);
  await sleep(300);
  const s = await load.stop();
  recordFaultCounts(t, caseName, { sent: s.sent, lost: s.sent - s.ok, statuses: s.statuses, errors: s.errors });
  if (s.sent - s.ok !== 0 || s.sent < 10) throw new Error(`${caseName}: ${JSON.stringify(s)}`);
  return env;
}

test('fault: config file replaced by garbage — rejected, the last good config keeps serving, nothing lost', async (t) => {
  const env = await underLoad(t, 'config-garbage', async (e) => {
    writeRaw(e, '\u0000\u00ff{{{ this is: not [ yaml\n\t- :\n');
    await e.pod.waitForStat('legate.config.update_rejected', 1, 10_000, 0);
    await sleep(500);
  });
  t.is(await env.pod.stat('legate.config.update_success'), 1);
  t.true(env.servers.api!.requests().every((q) => q.headers['x-config'] === 'v1'));
});

test('fault: a half-invalid document set is rejected whole (its good half is not applied)', async (t) => {
  const env = await underLoad(t, 'config-half-invalid', async (e) => {
    // The first documents alone would move the endpoint to a closed port; the last one is invalid.
    const bad = [...docs(e.remote.ip, CLOSED, 'v2'), virtualService('broken', { hosts: [HOST], http: [{ route: [{ destination: { host: HOST } }], timeout: 'forever' }] })];
    writeRaw(e, bad.join('\n---\n') + '\n');
    await e.pod.waitForStat('legate.config.update_rejected', 1, 10_000, 0);
    await sleep(500);
  });
  t.true(env.servers.api!.requests().every((q) => q.headers['x-config'] === 'v1'), 'nothing of the rejected set was applied');
  t.is(await env.pod.stat('legate.config.update_success'), 1);
});

test('fault: config file truncated mid-write — rejected; the completed file is then applied; nothing lost', async (t) => {
  const env = await underLoad(t, 'config-truncated', async (e) => {
    const full = docs(e.remote.ip, GOOD, 'v2').join('\n---\n') + '\n';
    // Cut inside the ServiceEntry's one-line JSON spec, as a writer would leave it mid-write.
    writeRaw(e, full.slice(0, full.indexOf('"endpoints"') + 5));
    await e.pod.waitForStat('legate.config.update_rejected', 1, 10_000, 0);
    await sleep(300);
    writeRaw(e, full);
    await e.pod.waitForStat('legate.config.update_success', 2, 10_000, 0);
    await sleep(300);
  });
  // The truncated file changed nothing (v1 served until the completed file's v2); new requests on
  // the load's keep-alive connections follow the change, as a new connection does.
  const seen = env.servers.api!.requests().map((q) => q.headers['x-config']);
  t.true(seen.every((v) => v === 'v1' || v === 'v2'), [...new Set(seen)].join(','));
  t.is(seen[0], 'v1');
  const fresh = await httpRequest(env.pod.ns, `http://${HOST}/`, { args: ['--resolve', `${HOST}:80:${VIP}`] });
  t.is(report(fresh).headers['x-config'], 'v2');
  t.is(await env.pod.stat('legate.config.update_rejected'), 1);
});
