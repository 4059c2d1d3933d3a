import test from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, startProxy } from './config_proxy_helpers.js';
import { fixture, tempDir } from './config_helpers.js';

/**
 * Reload under continuous TCP traffic through a running proxy, with real iptables
 * interception: a network namespace of its own, where connections to 240.240.0.0/16 are
 * REDIRECTed to the proxy's outbound port (the same rule istio-init writes, narrowed to the
 * test's VIPs), an echo upstream on loopback, and a client making short and long-lived
 * connections while the configuration changes ten times. Needs root (CI runs as root).
 * When the shared netns harness (branch e2e) lands, this can move onto it.
 */
const VIP = '240.240.0.10';

function config(version: number): string {
  const upstream = version % 2 === 0 ? 19001 : 19000;
  const extra = Array.from({ length: version }, (_, i) => `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: extra-${i}}
spec:
  hosts: [extra-${i}.default.svc.cluster.local]
  addresses: [240.240.1.${i + 1}]
  resolution: STATIC
  ports: [{number: 8080, name: http}]
  endpoints: [{address: 127.0.0.1}]
`).join('');
  return `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    defaultConfig:
      drainDuration: 2s
      terminationDrainDuration: 1s
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: echo}
spec:
  hosts: [echo.default.svc.cluster.local]
  addresses: [${VIP}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9000, name: tcp-echo, protocol: TCP}]
  endpoints:
  - address: 127.0.0.1
    ports: {tcp-echo: ${upstream}}
    labels: {version: v${version}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo}
spec:
  host: echo
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: ${1000 + version}}}
${extra}`;
}

async function waitForLog(get: () => string, re: RegExp, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (re.test(get())) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${re} in log within ${ms} ms:\n${get()}`);
}

test('reload under continuous TCP traffic: zero failed and zero reset connections', async (t) => {
  if (process.getuid?.() !== 0) {
    t.fail('needs root for a network namespace and iptables (CI runs as root); run npm test as root');
    return;
  }
  const ns = `legate-cfg-${process.pid}`;
  // `timeout` bounds every process the test starts, even if ava times out and skips teardown.
  const inNs = ['timeout', '-s', 'KILL', '90', 'ip', 'netns', 'exec', ns];
  const procs: ChildProcess[] = [];
  t.teardown(() => {
    // SIGTERM: `timeout` passes it on to the process it runs (the proxy exits after terminationDrainDuration).
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
  });
  const ports = await freePorts(5);
  const outbound = ports[0];
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  // `src` matters: without it the client's source address would be 0.0.0.0 and replies would not come back.
  execFileSync('ip', ['netns', 'exec', ns, 'ip', 'route', 'add', '240.240.0.0/16', 'dev', 'lo', 'src', '127.0.0.1']);
  execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', '240.240.0.0/16', '-j', 'REDIRECT', '--to-ports', String(outbound)]);

  const run = (args: string[]) => {
    const p = spawn(inNs[0], [...inNs.slice(1), process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(p);
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    return { p, out: () => out };
  };
  const echoA = run([fixture('traffic', 'echo.mjs'), '19000']);
  const echoB = run([fixture('traffic', 'echo.mjs'), '19001']);
  await waitForLog(echoA.out, /echo listening/);
  await waitForLog(echoB.out, /echo listening/);

  const dir = tempDir();
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, config(1));
  const proxy = await startProxy('sidecar', [dir], { wrap: inNs, ports });
  procs.push(proxy.child);
  await waitForLog(proxy.log, /configuration version 1 applied/);
  await waitForLog(proxy.log, /listening on 0\.0\.0\.0:\d+ \(virtualOutbound\)/);

  const client = run([fixture('traffic', 'client.mjs'), VIP, '9000', '8']);
  await waitForLog(client.out, /client started/);
  await new Promise((r) => setTimeout(r, 300));
  for (let v = 2; v <= 11; v++) {
    writeFileSync(file, config(v));
    await waitForLog(proxy.log, new RegExp(`configuration version ${v} applied`));
    await new Promise((r) => setTimeout(r, 150));
  }
  await new Promise((r) => setTimeout(r, 300));
  client.p.kill('SIGTERM');
  await Promise.race([new Promise((r) => client.p.once('exit', r)), new Promise((r) => setTimeout(r, 10_000))]);
  const line = client.out().trim().split('\n').at(-1)!;
  const result = JSON.parse(line);
  t.log(`traffic during 10 reloads: ${JSON.stringify(result)}`);
  t.is(result.failed, 0, JSON.stringify(result.errors));
  t.is(result.resets, 0);
  t.is(result.mismatches, 0);
  t.true(result.ok > 100, `only ${result.ok} connections completed`);
  t.true(result.longLivedRounds > 20, 'long-lived connections kept flowing across reloads');
  t.notRegex(proxy.log(), /rejected/);
});
