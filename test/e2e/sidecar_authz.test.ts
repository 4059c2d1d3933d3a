/**
 * End-to-end: AuthorizationPolicy and RequestAuthentication on inbound traffic (issue 12
 * items 4–5). Real curl from a remote host to the pod IP, captured to 15006, to a real app on
 * loopback; a JWKS served by a real HTTP server in the pod. See test/e2e/README.md.
 */
import test from 'ava';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { accessLogEntries, APP_UID, eventually, httpRequest, meshConfigMap, podWithHttp, podWithRemote, startHttpServer, startTcpServer, tcpClient } from './harness/index.js';
import { NODE, programPath } from './harness/programs.js';

function policy(name: string, spec: Record<string, unknown>, kind = 'AuthorizationPolicy'): string {
  return ['apiVersion: security.istio.io/v1', `kind: ${kind}`, 'metadata:', `  name: ${name}`, '  namespace: default', `spec: ${JSON.stringify(spec)}`].join('\n');
}

test('HTTP: allow and deny by path, method, header, source ipBlocks and port; DENY over ALLOW; allow-nothing on other ports', async (t) => {
  const { pod, remote } = await podWithHttp(t, {
    servers: {},
    config: (r) => [
      meshConfigMap({ accessLogFile: '/dev/stdout' }),
      policy('deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }),
      policy('deny-header', { action: 'DENY', rules: [{ when: [{ key: 'request.headers[x-block]', values: ['yes'] }] }] }),
      policy('allow-get', { action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'], ports: ['8081'] } }] }] }),
      policy('allow-upload-from-remote', { action: 'ALLOW', rules: [{ from: [{ source: { ipBlocks: [`${r.ip}/32`] } }], to: [{ operation: { methods: ['POST'], paths: ['/upload'] } }] }] }),
    ],
  });
  const app = await startHttpServer(pod.ns, 8081, { uid: APP_UID, host: '127.0.0.1', name: 'app' });
  const other = await startHttpServer(pod.ns, 8082, { uid: APP_UID, host: '127.0.0.1', name: 'other' });
  const get = (port: number, path: string, args: string[] = []) => httpRequest(remote.ns, `http://${pod.ip}:${port}${path}`, { uid: 0, args });

  t.is((await get(8081, '/ok')).status, 200);
  const admin = await get(8081, '/admin/users');
  t.is(admin.status, 403);
  t.is(admin.body.toString(), 'RBAC: access denied');
  t.is(admin.headers.server, 'istio-envoy');
  t.is((await get(8081, '/ok', ['-H', 'x-block: yes'])).status, 403, 'header condition');
  t.is((await get(8081, '/upload', ['-X', 'POST', '--data', 'x'])).status, 200, 'POST allowed from the remote ipBlock');
  t.is((await get(8081, '/other', ['-X', 'POST', '--data', 'x'])).status, 403, 'POST elsewhere matches no ALLOW');
  t.is((await get(8082, '/ok')).status, 403, 'no ALLOW rule for port 8082');

  t.deepEqual(app.requests().map((r) => `${r.method} ${r.url}`), ['GET /ok', 'POST /upload']);
  t.is(other.requests().length, 0);
  t.is(await pod.waitForStat('http.inbound_0.0.0.0_15006.rbac.denied', 4), 4);
  t.is(await pod.stat('http.inbound_0.0.0.0_15006.downstream_rq_4xx'), 4);
  // Envoy's details name the policy that denied (or none, when no ALLOW matched).
  await eventually('access log', () => accessLogEntries(pod).length >= 6 || undefined);
  const details = (path: string, method = 'GET') => accessLogEntries(pod).find((e) => e.path === path && e.method === method)?.response_code_details;
  t.is(details('/admin/users'), 'rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]');
  t.is(details('/other', 'POST'), 'rbac_access_denied_matched_policy[none]');
});

test('HTTP: an ALLOW policy that allows nothing denies every request', async (t) => {
  const { pod, remote } = await podWithHttp(t, { servers: {}, config: () => [meshConfigMap(), policy('allow-nothing', { action: 'ALLOW' })] });
  const app = await startHttpServer(pod.ns, 8081, { uid: APP_UID, host: '127.0.0.1', name: 'app' });
  const r = await httpRequest(remote.ns, `http://${pod.ip}:8081/`, { uid: 0 });
  t.is(r.status, 403);
  t.is(app.requests().length, 0);
  // /config_dump shows what is enforced: an ALLOW filter without policies on the inbound HTTP chain.
  const dump = JSON.parse(await pod.admin('/config_dump?resource=dynamic_listeners')) as { configs: { name: string; active_state: { listener: { filterChains: { name: string; filters: { authorization?: unknown }[] }[] } } }[] };
  const inbound = dump.configs.find((c) => c.name === 'virtualInbound')!.active_state.listener;
  t.deepEqual(inbound.filterChains.find((c) => c.name === 'virtualInbound-catchall-http')?.filters[0].authorization, { rbac: [{ action: 'ALLOW', policies: [] }] });
});

test('TCP: a DENY on a port closes the connection before it reaches the app; other ports pass', async (t) => {
  const { remote, pod } = await podWithRemote(t, { config: [meshConfigMap(), policy('deny-8000', { action: 'DENY', rules: [{ to: [{ operation: { ports: ['8000'] } }] }] })] });
  const app = await startTcpServer(pod.ns, [{ port: 8000, mode: 'digest', host: '127.0.0.1' }, { port: 8001, mode: 'digest', host: '127.0.0.1' }], { uid: APP_UID });
  const denied = await tcpClient(remote.ns, { host: pod.ip, port: 8000, send: 1000, uid: 0, timeoutMs: 5000 });
  t.is(denied.rxHead ?? '', '', JSON.stringify(denied));
  t.is(app.accepts(8000).length, 0);
  const ok = await tcpClient(remote.ns, { host: pod.ip, port: 8001, send: 1000, uid: 0 });
  t.is((JSON.parse(ok.rxHead) as { rx: number }).rx, 1000);
  t.is(await pod.waitForStat('tcp.rbac.denied', 1), 1);
});

test('JWT: valid token allowed by requestPrincipals, invalid → 401, missing → 403; JWKS from a real HTTP server on loopback', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'e2e', alg: 'RS256' }] });
  const other = await generateKeyPair('RS256');
  const sign = (key: CryptoKey) => new SignJWT({ scope: 'read' }).setProtectedHeader({ alg: 'RS256', kid: 'e2e' }).setIssuer('https://issuer.e2e').setSubject('alice').setExpirationTime('10m').sign(key);
  const JWKS_PORT = 8099;
  const { pod, remote } = await podWithHttp(t, {
    servers: {},
    config: () => [
      meshConfigMap(),
      policy('jwt', { jwtRules: [{ issuer: 'https://issuer.e2e', jwksUri: `http://127.0.0.1:${JWKS_PORT}/jwks.json` }] }, 'RequestAuthentication'),
      policy('require-jwt', { rules: [{ from: [{ source: { requestPrincipals: ['https://issuer.e2e/*'] } }] }] }),
    ],
  });
  // The JWKS server runs in the pod, on loopback, as the app would.
  const server = pod.ns.spawn([NODE, '-e', 'const [j,p]=process.argv.slice(1);require("http").createServer((q,s)=>{s.setHeader("content-type","application/json");s.end(j)}).listen(+p,"127.0.0.1")', jwks, String(JWKS_PORT)], { uid: APP_UID, label: 'jwks' });
  t.teardown(() => server.stop("SIGTERM", 1000));
  const app = await startHttpServer(pod.ns, 8081, { uid: APP_UID, host: '127.0.0.1', name: 'app' });
  const url = `http://${pod.ip}:8081/data`;

  // The proxy fetches the JWKS when the configuration arrives; a failed first fetch is retried.
  let ok = await httpRequest(remote.ns, url, { uid: 0, args: ['-H', `authorization: Bearer ${await sign(privateKey)}`] });
  // Each 401 while the JWKS was not yet fetched is a jwt_authn denial too.
  let early401 = 0;
  for (let i = 0; i < 10 && ok.status === 401; i++) {
    early401++;
    await new Promise((r) => setTimeout(r, 1000));
    ok = await httpRequest(remote.ns, url, { uid: 0, args: ['-H', `authorization: Bearer ${await sign(privateKey)}`] });
  }
  t.is(ok.status, 200, ok.body.toString());
  t.false('authorization' in app.requests()[0].headers, 'the verified token is not forwarded (forwardOriginalToken false)');

  const bad = await httpRequest(remote.ns, url, { uid: 0, args: ['-H', `authorization: Bearer ${await sign(other.privateKey)}`] });
  t.is(bad.status, 401);
  t.is(bad.body.toString(), 'Jwt verification fails');
  const missing = await httpRequest(remote.ns, url, { uid: 0 });
  t.is(missing.status, 403);
  t.is(missing.body.toString(), 'RBAC: access denied');
  t.is(app.requests().length, 1);
  t.is(await pod.waitForStat('http.inbound_0.0.0.0_15006.jwt_authn.denied', 1 + early401), 1 + early401);
  t.true((await pod.stat('http.inbound_0.0.0.0_15006.jwt_authn.allowed')) >= 2, 'the valid token and the missing one passed jwt_authn');
});

test('a policy change applies to the next request on an open keep-alive connection', async (t) => {
  const allowAll = policy('gate', { action: 'ALLOW', rules: [{}] });
  const denyData = policy('gate', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/data'] } }] }] });
  const { pod, remote } = await podWithHttp(t, { servers: {}, config: () => [meshConfigMap(), allowAll] });
  await startHttpServer(pod.ns, 8081, { uid: APP_UID, host: '127.0.0.1', name: 'app' });
  const applied = await pod.stat('legate.config.update_success');
  const client = remote.ns.spawn([NODE, programPath('keepalive_client'), pod.ip, '8081', '4000', '/data', 'app'], { uid: 0, label: 'keepalive-client' });
  // The change lands after the first answer and before the second request.
  await client.waitForLine(/^first$/);
  pod.writeConfig(meshConfigMap(), denyData);
  await pod.waitForStat('legate.config.update_success', (v) => v > applied, 5000);
  await client.exited;
  const out = JSON.parse(client.stdoutLines.at(-1) ?? '{}') as { codes: number[]; error?: string };
  t.is(out.error, undefined);
  t.deepEqual(out.codes, [200, 403]);
});
