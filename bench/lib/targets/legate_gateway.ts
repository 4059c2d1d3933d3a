import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCpus } from '../cpus.js';
import { asProxyUser } from '../netns.js';
import { REPO } from '../paths.js';
import { start } from '../proc.js';
import { MESH_YAML, serviceEntry } from '../legate_config.js';
import { benchCertificate } from '../tls_cert.js';
import type { Target } from '../types.js';
import { PEER_PORT, redirectedEndpoint } from './endpoint.js';

/**
 * A Gateway as Istio's ingress docs write it, `hosts: ["*"]`, on 127.0.0.1:`port`: an HTTP
 * server, an HTTPS one terminating with the bench certificate (SIMPLE), or with `protocol:
 * 'TCP'` a TCP server (tcp_proxy: bytes forwarded, no HTTP processing); a VirtualService sends
 * everything to the upstream's ServiceEntry. Also written by bench/instructions.sh.
 */
export function gatewayYaml(port: number, upstreamPort: number, tls?: { cert: string; key: string }, protocol: 'HTTP' | 'TCP' = 'HTTP'): string {
  const tcp = protocol === 'TCP';
  const server = tls
    ? `{port: {number: ${port}, name: https, protocol: HTTPS}, bind: 127.0.0.1, hosts: ["*"], tls: {mode: SIMPLE, serverCertificate: ${tls.cert}, privateKey: ${tls.key}}}`
    : `{port: {number: ${port}, name: ${tcp ? 'tcp' : 'http'}, protocol: ${protocol}}, bind: 127.0.0.1, hosts: ["*"]}`;
  return [
    MESH_YAML,
    // The VIP is never used by a router; the ServiceEntry only names the upstream.
    serviceEntry({ name: 'upstream', vip: '240.240.3.1', port: 80, endpointPort: upstreamPort, protocol }),
    `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: bench}
spec:
  servers: [${server}]
`,
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: all, namespace: bench}
spec:
  hosts: ["*"]
  gateways: [ingress]
  ${tcp ? 'tcp' : 'http'}: [{route: [{destination: {host: upstream.bench.internal, port: {number: 80}}}]}]
`,
  ].join('---\n');
}

/** `legate proxy router` (an ingress gateway), plain HTTP or terminating HTTPS. */
function legateGateway(tls: boolean): Target {
  const id = tls ? 'legate-gateway-https' : 'legate-gateway-http';
  return {
    id,
    label: tls ? 'legate gateway (HTTPS, SIMPLE termination)' : 'legate gateway (HTTP)',
    layer: 'l7',
    serves: ['http'],
    unavailable: () => undefined,
    async start(a) {
      const dir = join(a.tmp, `${id}-conf`);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      writeFileSync(join(dir, 'gateway.yaml'), gatewayYaml(PEER_PORT, a.upstream.port, tls ? await benchCertificate(a.tmp) : undefined), { mode: 0o644 });
      const logFile = join(a.tmp, `${id}.log`);
      const cli = [process.execPath, join(REPO, 'bin', 'legate.js'), 'proxy', 'router', '--config', dir, '--concurrency', String(a.workers)];
      const proc = start(onCpus(a.cpus.proxy, asProxyUser(cli)), { logFile });
      const { endpoint, remove } = redirectedEndpoint(a.upstreamKind, PEER_PORT);
      return { endpoint: { ...endpoint, tls }, pid: proc.pid, exited: proc.exited, logFile, stop: async () => (remove(), await proc.stop()) };
    },
  };
}

export const legateGatewayHttp = legateGateway(false);
export const legateGatewayHttps = legateGateway(true);
