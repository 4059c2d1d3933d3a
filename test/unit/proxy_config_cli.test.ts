import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { BIN, startProxy } from '../support/proxy.js';
import { freePort } from '../support/servers.js';
import { fixture } from './config_helpers.js';

const run = promisify(execFile);
const legate = (...args: string[]) => run(process.execPath, [BIN, ...args]);

test('proxy-config and proxy-status read a live proxy through its admin API', async (t) => {
  const p = await startProxy('sidecar', [fixture('bookinfo')], { concurrency: 1 });
  t.teardown(() => p.stop());
  await p.waitFor((d) => d.legate?.version === 1);
  const admin = `127.0.0.1:${p.admin}`;

  const clusters = (await legate('proxy-config', 'clusters', '--admin', admin)).stdout.split('\n');
  t.regex(clusters[0], /^SERVICE FQDN +PORT +SUBSET +DIRECTION +TYPE +DESTINATION RULE$/);
  t.true(clusters.some((l) => /^reviews\.default\.svc\.cluster\.local +9080 +v2 +outbound +EDS +reviews\.default$/.test(l)), clusters.join('\n'));
  t.true(clusters.some((l) => /^BlackHoleCluster +- +- +- +STATIC$/.test(l)));

  const listeners = (await legate('proxy-config', 'listeners', '--admin', `http://${admin}/`)).stdout.split('\n');
  t.regex(listeners[0], /^ADDRESSES +PORT +MATCH +DESTINATION$/);
  t.true(listeners.some((l) => /^0\.0\.0\.0 +9080 +Trans: raw_buffer; App: http\/1\.1,h2c +Route: 9080$/.test(l)), listeners.join('\n'));
  t.true(listeners.some((l) => new RegExp(`^0\\.0\\.0\\.0 +${p.ports.outbound} +ALL +Cluster: PassthroughCluster$`).test(l)));

  const routes = (await legate('proxy-config', 'routes', '--admin', admin)).stdout.split('\n');
  t.regex(routes[0], /^NAME +VHOST NAME +DOMAINS +MATCH +VIRTUAL SERVICE$/);
  t.true(routes.some((l) => /^9080 +reviews\.default\.svc\.cluster\.local:9080 +.* \+ \d+ more\.\.\. +\/\* +reviews\.default$/.test(l)), routes.join('\n'));

  const endpoints = (await legate('proxy-config', 'endpoints', '--admin', admin)).stdout.split('\n');
  t.regex(endpoints[0], /^ENDPOINT +STATUS +OUTLIER CHECK +CLUSTER$/);
  t.true(endpoints.some((l) => /^10\.244\.0\.22:9080 +HEALTHY +OK +outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local$/.test(l)), endpoints.join('\n'));

  t.regex((await legate('proxy-config', 'secrets', '--admin', admin)).stdout, /^RESOURCE NAME +TYPE +STATUS +VALID CERT +SERIAL NUMBER +NOT AFTER +NOT BEFORE\n$/);

  const json = JSON.parse((await legate('proxy-config', 'clusters', '--admin', admin, '-o', 'json')).stdout);
  t.true(json.some((c: any) => c.name === 'outbound|9080|v1|reviews.default.svc.cluster.local' && c.type === 'EDS'));
  const yaml = parse((await legate('proxy-config', 'routes', '--admin', admin, '-o', 'yaml')).stdout);
  t.true(yaml.some((r: any) => r.name === '9080'));

  const status = (await legate('proxy-status', '--admin', admin)).stdout.split('\n');
  t.regex(status[0], /^NAME +CLUSTER +CDS +LDS +RDS +LAST UPDATED +READY +VERSION$/);
  t.regex(status[1], /^sidecar~\S+ +\S+ +1 +1 +1 +\d{4}-\d\d-\d\dT\S+ +true +legate\//);
  t.is(JSON.parse((await legate('proxy-status', '--admin', admin, '-o', 'json')).stdout).ready, true);
});

test('proxy-config says in one line when no proxy answers, and refuses unknown types', async (t) => {
  const port = await freePort();
  const err = await t.throwsAsync(legate('proxy-config', 'clusters', '--admin', `127.0.0.1:${port}`));
  t.regex((err as any).stderr, new RegExp(`^legate: EADMIN: cannot reach the proxy's admin at http://127\\.0\\.0\\.1:${port}`));
  const bad = await t.throwsAsync(legate('proxy-config', 'bogus', '--admin', `127.0.0.1:${port}`));
  t.regex((bad as any).stderr, /unknown config type "bogus"/);
});
