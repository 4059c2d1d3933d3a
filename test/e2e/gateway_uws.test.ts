/**
 * `legate proxy router --http-frontend uws`: a gateway's plain HTTP listener served by
 * uWebSockets.js in each worker, with the same routes, local replies, access log and reload
 * behaviour as the node engine; and the fallback to the node engine when the addon cannot load.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, gateway, GatewayHost, meshConfigMap, PORTS, serviceEntry, virtualService, type Netns } from './harness/index.js';
import { NODE, programPath } from './harness/programs.js';

const PORT = 80;

/** Gateway on :80 (and `extraPort`) for a.example.com and b.example.com, each routed to its backend (`aTo` picks a's). */
function config(ip: string, aTo = 'svc-a.internal', extraPort?: number): string[] {
  const servers = [{ port: { number: PORT, name: 'http', protocol: 'HTTP' }, hosts: ['*.example.com'] }];
  if (extraPort) servers.push({ port: { number: extraPort, name: 'http-extra', protocol: 'HTTP' }, hosts: ['*.example.com'] });
  return [
    meshConfigMap({ accessLogFile: '/dev/stdout' }),
    serviceEntry({ name: 'be-a', hosts: ['svc-a.internal'], ports: [{ number: 8080, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: ip }] }),
    serviceEntry({ name: 'be-b', hosts: ['svc-b.internal'], ports: [{ number: 8081, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: ip }] }),
    // Nothing listens on 8089: connections to it are refused.
    serviceEntry({ name: 'be-down', hosts: ['svc-down.internal'], ports: [{ number: 8089, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: ip }] }),
    gateway('ingress', { servers }),
    virtualService('a', { hosts: ['a.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: aTo } }] }] }),
    virtualService('b', { hosts: ['b.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'svc-b.internal' } }] }] }),
    virtualService('down', { hosts: ['down.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'svc-down.internal' } }] }] }),
  ];
}

interface CurlOut {
  code: number;
  out: string;
  stderr: string;
}

/** curl from the gateway's namespace to 127.0.0.1:80 (the name resolved there, as with a load balancer's address). */
async function curl(ns: Netns, url: string, args: string[] = []): Promise<CurlOut> {
  const { hostname, port } = new URL(url);
  const r = await ns.exec(['curl', '-sS', '--max-time', '20', '--resolve', `${hostname}:${port || PORT}:127.0.0.1`, ...args, url], { check: false });
  return { code: r.code ?? -1, out: r.stdout, stderr: r.stderr };
}

async function configApplied(ns: Netns): Promise<number> {
  const r = await ns.exec(['curl', '-s', '--max-time', '2', `http://127.0.0.1:${PORTS.admin}/stats`], { check: false });
  return Number(/legate\.config\.update_success: (\d+)/.exec(r.stdout)?.[1] ?? 0);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('uws front end: routes per host, local replies, big bodies both ways, keep-alive, access log, reload between two requests on one connection', async (t) => {
  const gw = await GatewayHost.create(t);
  const a = await gw.backend.httpServer(8080, 'svc-a');
  await gw.backend.httpServer(8081, 'svc-b');
  gw.writeConfig(...config(gw.backend.ip));
  const proxy = await gw.start({ concurrency: 2, args: ['--http-frontend', 'uws'] });
  t.regex(proxy.stderr, /served by the uws front end/, 'the engine in use is said once at start');

  // Routes per host, through the uws engine (its own Date and `uWebSockets` fields tell it apart).
  for (const [host, name] of [['a.example.com', 'svc-a'], ['b.example.com', 'svc-b']]) {
    const r = await curl(gw.ns, `http://${host}/hello?q=1`, ['-D', '-', '-H', 'connection: keep-alive, x-drop', '-H', 'x-drop: 1', '-H', 'keep-alive: 5']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.out, /^HTTP\/1\.1 200 OK/);
    t.regex(r.out, /uWebSockets:/i);
    t.regex(r.out, new RegExp(`x-server-name: ${name}`, 'i'));
    t.regex(r.out, /server: legate/i);
    const report = JSON.parse(r.out.slice(r.out.indexOf('\r\n\r\n') + 4)) as { url: string; headers: Record<string, string | undefined> };
    t.is(report.url, '/hello?q=1');
    t.regex(report.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/, 'x-request-id generated');
    t.is(report.headers['x-forwarded-proto'], 'http');
    t.is(report.headers['x-drop'], undefined, 'fields named by Connection are not forwarded');
    t.is(report.headers['keep-alive'], undefined, 'hop-by-hop fields are not forwarded');
  }

  // Envoy's local replies: 404 NR for a host no route serves, 503 UF (with Envoy's body) for a refused upstream.
  const nr = await curl(gw.ns, 'http://nobody.example.com/x', ['-o', '/dev/null', '-w', '%{http_code}']);
  t.is(nr.out, '404');
  const down = await curl(gw.ns, 'http://down.example.com/x', ['-w', '\n%{http_code}']);
  t.regex(down.out, /^upstream connect error or disconnect\/reset before headers\. .*reset reason: remote connection failure.*\n503$/s);

  // A few MB up (declared length, then chunked) and down (declared length, then chunked), intact both ways.
  const body = randomBytes(3_000_000);
  const file = join(gw.dir, 'up.bin');
  writeFileSync(file, body);
  for (const [upload, chunked] of [[[], '0'], [['-H', 'transfer-encoding: chunked'], '1']] as const) {
    const downFile = join(gw.dir, `down${chunked}.bin`);
    const r = await curl(gw.ns, `http://a.example.com/big?size=2500000&chunked=${chunked}`, [...upload, '--data-binary', `@${file}`, '-o', downFile, '-D', '-']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.out, /^HTTP\/1\.1 200 OK/m, 'curl sent Expect: 100-continue: uWS answered 100 first');
    t.regex(r.out, chunked === '1' ? /transfer-encoding: chunked/i : /content-length: 2500000/i);
    const sent = a.requests().find((e) => e.url === `/big?size=2500000&chunked=${chunked}`);
    t.is(sent?.bodyBytes, body.length);
    t.is(sent?.bodySha256, sha256(body), 'the request body reached the upstream intact');
    t.is(sha256(readFileSync(downFile)), /x-body-sha256: (\w+)/i.exec(r.out)?.[1] ?? 'no x-body-sha256', 'the response body reached the client intact');
  }

  // Keep-alive: curl's second request reuses the first connection.
  const ka = await curl(gw.ns, 'http://a.example.com/one', ['-o', '/dev/null', '-o', '/dev/null', '-w', '%{num_connects} ', 'http://a.example.com/two']);
  t.is(ka.out.trim(), '1 0', 'one connection for both requests');

  // The access log: Istio's text line for a request through the uws engine.
  await proxy.waitForLine((l) => l.includes('"GET /one HTTP/1.1" 200') && l.includes('"a.example.com"') && l.includes('outbound|8080||svc-a.internal'), 5000);
  await proxy.waitForLine((l) => l.includes('"GET /x HTTP/1.1" 404 NR route_not_found'), 5000);

  // A reload that moves a.example.com to svc-b lands between two requests on one open connection.
  const before = await configApplied(gw.ns);
  const client = gw.ns.spawn([NODE, programPath('keepalive_client'), '127.0.0.1', String(PORT), '3000', '/', 'a.example.com'], { label: 'keepalive-client' });
  await client.waitForLine(/^first$/);
  gw.writeConfig(...config(gw.backend.ip, 'svc-b.internal'));
  await eventually('config applied', async () => ((await configApplied(gw.ns)) > before ? true : undefined), 10_000);
  await client.exited;
  const out = JSON.parse(client.stdoutLines.at(-1) ?? '{}') as { codes: number[]; names: string[]; error?: string };
  t.is(out.error, undefined);
  t.deepEqual(out.codes, [200, 200]);
  t.deepEqual(out.names, ['svc-a', 'svc-b'], 'the second request on the same connection followed the change');

  // Shutdown closes every uws socket first (a worker thread exiting with one open aborts the process).
  const exit = await proxy.stop('SIGTERM', 15_000);
  t.is(exit.code, 0, proxy.describe());
});

test('uws front end falls back to the node engine with one line when the addon cannot be loaded', async (t) => {
  const gw = await GatewayHost.create(t);
  await gw.backend.httpServer(8080, 'svc-a');
  await gw.backend.httpServer(8081, 'svc-b');
  gw.writeConfig(...config(gw.backend.ip));
  const proxy = await gw.start({ args: ['--http-frontend', 'uws', '--uws-module', '/nonexistent/uws.node'] });
  const lines = proxy.stderr.split('\n').filter((l) => l.includes('--http-frontend uws'));
  t.is(lines.length, 1, proxy.stderr);
  t.regex(lines[0], /could be loaded.*served by the node engine/);
  const r = await curl(gw.ns, 'http://a.example.com/fallback', ['-D', '-']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.out, /x-server-name: svc-a/i);
  t.notRegex(r.out, /uWebSockets:/i, 'served by the node engine');
});

test('uws front end follows listener changes: a Gateway port added by a reload is served, a removed one stops accepting', async (t) => {
  const gw = await GatewayHost.create(t);
  await gw.backend.httpServer(8080, 'svc-a');
  await gw.backend.httpServer(8081, 'svc-b');
  gw.writeConfig(...config(gw.backend.ip));
  const proxy = await gw.start({ concurrency: 2, args: ['--http-frontend', 'uws'] });
  const status = async (port: number) => (await curl(gw.ns, `http://a.example.com:${port}/p`, ['--max-time', '3', '-o', '/dev/null', '-w', '%{http_code}'])).out;
  t.is(await status(8088), '000', 'not listening yet');
  let applied = await configApplied(gw.ns);
  gw.writeConfig(...config(gw.backend.ip, 'svc-a.internal', 8088));
  await eventually('port 8088 added', async () => ((await configApplied(gw.ns)) > applied ? true : undefined), 10_000);
  // Every worker listens: several connections in a row (the kernel spreads them) are all answered.
  for (let i = 0; i < 4; i++) t.is(await status(8088), '200');
  t.is(await status(PORT), '200');
  applied = await configApplied(gw.ns);
  gw.writeConfig(...config(gw.backend.ip));
  await eventually('port 8088 removed', async () => ((await configApplied(gw.ns)) > applied ? true : undefined), 10_000);
  for (let i = 0; i < 4; i++) t.is(await status(8088), '000', 'the removed listener refuses connections');
  t.is(await status(PORT), '200', 'the listener that stayed still serves');
  const exit = await proxy.stop('SIGTERM', 15_000);
  t.is(exit.code, 0, proxy.describe());
});

test('a worker that dies of an uncaught exception closes its uws sockets first: the process lives on, a replacement serves', async (t) => {
  const gw = await GatewayHost.create(t);
  await gw.backend.httpServer(8080, 'svc-a');
  await gw.backend.httpServer(8081, 'svc-b');
  gw.writeConfig(...config(gw.backend.ip));
  // crash_hook: SIGUSR2 makes one worker throw, as a bug would. An open uWS socket at thread exit
  // would abort the whole process (uv_loop_close() while having open handles).
  const proxy = await gw.start({ concurrency: 2, args: ['--http-frontend', 'uws'], nodeArgs: ['--import', programPath('crash_hook')] });
  const status = async () => (await curl(gw.ns, 'http://a.example.com/c', ['--max-time', '3', '-o', '/dev/null', '-w', '%{http_code}'])).out;
  t.is(await status(), '200');
  proxy.signal('SIGUSR2');
  await eventually('the replacement worker', async () => (proxy.stderr.includes('starting a replacement') ? true : undefined), 10_000);
  t.true(proxy.running, proxy.describe());
  t.notRegex(proxy.stderr, /uv_loop_close/);
  // The replacement listens too: connections in a row (spread by the kernel) are all answered.
  for (let i = 0; i < 6; i++) t.is(await status(), '200');
  const exit = await proxy.stop('SIGTERM', 15_000);
  t.is(exit.code, 0, proxy.describe());
});
