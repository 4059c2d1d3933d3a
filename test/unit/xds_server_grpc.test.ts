import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './config_helpers.js';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
import { startManagementServer, syncz } from '../support/xds_management.js';

/** A one-method gRPC service with raw byte messages: enough for a real grpc-js server and client. */
const ECHO = {
  say: {
    path: '/legate.test.Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
} as const;

async function echoServer(t: any, name: string): Promise<number> {
  const server = new grpc.Server();
  server.addService(ECHO as unknown as grpc.ServiceDefinition, { say: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(name)) });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  t.teardown(() => server.forceShutdown());
  return port;
}

const config = (v1: number, v2: number) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: echo, namespace: a}
spec:
  hosts: [echo.a.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 7070, name: grpc-echo, protocol: GRPC}]
  endpoints:
  - {address: 127.0.0.1, ports: {grpc-echo: ${v1}}, labels: {version: v1}}
  - {address: 127.0.0.1, ports: {grpc-echo: ${v2}}, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: a}
spec:
  host: echo.a.svc.cluster.local
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo, namespace: a}
spec:
  hosts: [echo.a.svc.cluster.local]
  http:
  - match: [{headers: {x-version: {exact: v2}}}]
    route: [{destination: {host: echo.a.svc.cluster.local, subset: v2}}]
  - route: [{destination: {host: echo.a.svc.cluster.local, subset: v1}}]
`;

test("grpc-js's own xDS client resolves xds:///echo.a.svc.cluster.local:7070 through legate xds-server and calls the real server the VirtualService picks", async (t) => {
  const [v1, v2] = [await echoServer(t, 'v1'), await echoServer(t, 'v2')];
  const dir = tempDir();
  writeFileSync(join(dir, 'echo.yaml'), config(v1, v2));
  const xds = await startManagementServer(t, [dir]);
  // Istio's bootstrap for proxyless gRPC: the GENERATOR metadata asks for API listeners.
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${xds.port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'sidecar~127.0.0.1~grpc-client.a~a.svc.cluster.local', locality: {}, metadata: { GENERATOR: 'grpc', NAMESPACE: 'a' } },
  });
  grpcXds.register();
  const Client = grpc.makeGenericClientConstructor(ECHO as unknown as grpc.ServiceDefinition, 'Echo');
  for (const target of ['xds:///echo.a.svc.cluster.local:7070', 'xds:///echo.a.svc.cluster.local']) {
    const client = new Client(target, grpc.credentials.createInsecure()) as any;
    t.teardown(() => client.close());
    const say = (md: grpc.Metadata) =>
      new Promise<string>((res, rej) => client.say(Buffer.from('hi'), md, { deadline: Date.now() + 10_000 }, (e: Error | null, r: Buffer) => (e ? rej(e) : res(r.toString()))));
    t.is(await say(new grpc.Metadata()), 'v1', `${target}: the default route goes to subset v1`);
    const md = new grpc.Metadata();
    md.set('x-version', 'v2');
    t.is(await say(md), 'v2', `${target}: the header route goes to subset v2`);
  }
  const status = await syncz(xds);
  const grpcClient = status.proxies.find((p) => p.node_id === 'sidecar~127.0.0.1~grpc-client.a~a.svc.cluster.local');
  t.deepEqual(grpcClient.types.listener.subscribed, ['echo.a.svc.cluster.local', 'echo.a.svc.cluster.local:7070']);
  for (const [type, s] of Object.entries<any>(grpcClient.types)) t.is(s.last_nack, null, `${type} accepted by gRPC`);
});

/** Debian's python3-grpcio (gRPC C-core's xDS client), when installed: /usr/bin/python3 is Debian's own interpreter. */
const PYTHON = '/usr/bin/python3';
const hasPythonGrpc = spawnSync(PYTHON, ['-c', 'import grpc'], { stdio: 'ignore' }).status === 0;

test("Debian's python3-grpcio (gRPC C-core's xDS client) resolves and calls through legate xds-server", async (t) => {
  if (!hasPythonGrpc) {
    t.fail('python3-grpcio is not installed (scripts/install-test-deps.sh installs it)');
    return;
  }
  const [v1, v2] = [await echoServer(t, 'v1'), await echoServer(t, 'v2')];
  const dir = tempDir();
  writeFileSync(join(dir, 'echo.yaml'), config(v1, v2));
  const xds = await startManagementServer(t, [dir]);
  const bootstrap = join(tempDir(), 'bootstrap.json');
  writeFileSync(
    bootstrap,
    JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${xds.port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'sidecar~127.0.0.1~py-client.a~a.svc.cluster.local', locality: {}, metadata: { GENERATOR: 'grpc', NAMESPACE: 'a' } },
    }),
  );
  const client = join(REPO_ROOT, 'test', 'fixtures', 'grpc', 'xds_echo_client.py');
  const call = (...args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(PYTHON, [client, 'xds:///echo.a.svc.cluster.local:7070', ...args], { env: { ...process.env, GRPC_XDS_BOOTSTRAP: bootstrap } });
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b));
      p.stderr.on('data', (b: Buffer) => (out += b));
      p.on('exit', (code) => resolve({ code, out: out.trim() }));
    });
  const plain = await call();
  t.is(plain.code, 0, plain.out);
  t.is(plain.out, 'v1', 'the default route goes to subset v1');
  const routed = await call('v2');
  t.is(routed.code, 0, routed.out);
  t.is(routed.out, 'v2', 'the header route goes to subset v2');
  // (The client process has gone by now, and the server forgets closed streams: the routed answers
  // above are the proof that C-core accepted listeners, routes, clusters and endpoints.)
});
