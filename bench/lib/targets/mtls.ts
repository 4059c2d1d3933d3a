import { chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { runCa } from '../../../src/cli/ca.js';
import { onCpus } from '../cpus.js';
import { MESH_YAML } from '../legate_config.js';
import { LEGATE_VIP, PROXY_UID } from '../netns.js';
import { start } from '../proc.js';
import type { StartArgs, Target } from '../types.js';
import { legateArgv } from './legate.js';
import { PEER_PORT, redirectedEndpoint, VIP_PORTS } from './endpoint.js';
import { haproxyPreamble } from './haproxy.js';

/** The server sidecar's address as the client sidecar dials it; redirected (any uid) to the server's inbound port. */
const SERVER_POD_IP = '240.240.2.1';
/** The second sidecar's ports, beside the first's defaults. */
const SERVER_PORTS = ['--outbound-port', '15101', '--inbound-port', '15106', '--admin-port', '15100', '--readiness-port', '15121', '--prometheus-port', '15190'];

/** Certificates for the two sidecars (and HAProxy), readable by the proxy's uid. */
async function certificates(tmp: string): Promise<{ ca: string; client: string; server: string }> {
  const ca = join(tmp, 'mtls-ca');
  await runCa(['root', '--ca-dir', ca]);
  await runCa(['issue', '--ca-dir', ca, '--out', join(ca, 'client'), '--ns', 'bench', '--sa', 'client']);
  await runCa(['issue', '--ca-dir', ca, '--out', join(ca, 'server'), '--ns', 'bench', '--sa', 'server']);
  for (const d of [ca, join(ca, 'client'), join(ca, 'server')]) for (const f of readdirSync(d)) chownSync(join(d, f), PROXY_UID, PROXY_UID);
  return { ca, client: join(ca, 'client'), server: join(ca, 'server') };
}

/**
 * Two Legate sidecars in a row, as between two pods: the client sidecar (captured VIP, HTTP
 * connection manager) sends to SERVER_POD_IP:<upstream port>, which iptables redirects to the
 * server sidecar's inbound listener; it delivers to 127.0.0.1:<upstream port>. With `mtls`, the
 * endpoint is labelled `tlsMode: istio` (auto mTLS: ISTIO_MUTUAL) and the server is STRICT;
 * without, plaintext and DISABLE. Both share the proxy cores.
 */
function sidecars(mtls: boolean): Target {
  const id = mtls ? 'legate-sidecars-mtls' : 'legate-sidecars-plain';
  return {
    id,
    label: mtls ? 'legate → legate, ISTIO_MUTUAL (two sidecars)' : 'legate → legate, plaintext (two sidecars)',
    layer: 'l7',
    serves: ['http'],
    unavailable: () => undefined,
    async start(a: StartArgs) {
      const certs = await certificates(a.tmp);
      const vipPort = VIP_PORTS.http;
      const conf = (name: string, docs: string[]) => {
        const dir = join(a.tmp, `${id}-${name}`);
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        writeFileSync(join(dir, 'bench.yaml'), docs.join('\n---\n'), { mode: 0o644 });
        return dir;
      };
      const endpoint = { address: SERVER_POD_IP, ports: { http: a.upstream.port }, ...(mtls ? { labels: { 'security.istio.io/tlsMode': 'istio' }, serviceAccount: 'server' } : {}) };
      const se = `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: upstream, namespace: bench}\nspec: ${JSON.stringify({ hosts: ['upstream.bench.internal'], addresses: [LEGATE_VIP], ports: [{ number: vipPort, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', location: 'MESH_INTERNAL', endpoints: [endpoint] })}`;
      const pa = `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: ${mtls ? 'STRICT' : 'DISABLE'}}}`;
      const redirect = ['OUTPUT', '-p', 'tcp', '-d', SERVER_POD_IP, '-j', 'REDIRECT', '--to-ports', '15106'];
      execFileSync('iptables', ['-t', 'nat', '-I', 'OUTPUT', '1', ...redirect.slice(1)]);
      const serverLog = join(a.tmp, `${id}-server.log`);
      const server = start(legateArgv(a.cpus.proxy, conf('server', [MESH_YAML, pa]), a.workers, 'handoff', ['--cert-dir', certs.server, ...SERVER_PORTS]), { logFile: serverLog });
      const logFile = join(a.tmp, `${id}-client.log`);
      const client = start(legateArgv(a.cpus.proxy, conf('client', [MESH_YAML, se]), a.workers, 'handoff', ['--cert-dir', certs.client]), { logFile });
      return {
        endpoint: { host: LEGATE_VIP, port: vipPort },
        pid: client.pid,
        exited: Promise.race([client.exited, server.exited]),
        logFile,
        stop: async () => {
          await Promise.all([client.stop(), server.stop()]);
          execFileSync('iptables', ['-t', 'nat', '-D', ...redirect]);
        },
      };
    },
  };
}

/**
 * HAProxy with TLS on both sides, in one process: an HTTP frontend that originates mutual TLS
 * (client certificate, server verified against the root) to a TLS frontend requiring a client
 * certificate, which forwards to the upstream — the same two hops as two sidecars.
 */
export const haproxyMtls: Target = {
  id: 'haproxy-mtls',
  label: 'haproxy → haproxy, mutual TLS (mode http)',
  layer: 'l7',
  serves: ['http'],
  unavailable: (t) => (t.haproxy ? undefined : 'haproxy is not installed (bench/install-peers.sh)'),
  async start(a: StartArgs) {
    const certs = await certificates(a.tmp);
    const pem = (dir: string) => {
      const file = join(dir, 'haproxy.pem');
      writeFileSync(file, readFileSync(join(dir, 'cert-chain.pem'), 'utf8') + readFileSync(join(dir, 'key.pem'), 'utf8'));
      return file;
    };
    const root = join(certs.ca, 'root-cert.pem');
    const tlsPort = PEER_PORT + 1;
    const file = join(a.tmp, 'haproxy-mtls.cfg');
    writeFileSync(
      file,
      `${haproxyPreamble('http', a.workers)}frontend fe
  bind 127.0.0.1:${PEER_PORT} backlog 8192
  default_backend to_tls
backend to_tls
  server hop 127.0.0.1:${tlsPort} ssl verify required ca-file ${root} crt ${pem(certs.client)} alpn http/1.1
frontend fe_tls
  bind 127.0.0.1:${tlsPort} ssl crt ${pem(certs.server)} ca-file ${root} verify required alpn http/1.1
  default_backend be
backend be
  server up ${a.upstream.host}:${a.upstream.port}
`,
    );
    const logFile = join(a.tmp, 'haproxy-mtls.log');
    const proc = start(onCpus(a.cpus.proxy, ['haproxy', '-db', '-f', file]), { logFile });
    const { endpoint, remove } = redirectedEndpoint(a.upstreamKind, PEER_PORT);
    return { endpoint, pid: proc.pid, exited: proc.exited, logFile, stop: async () => (remove(), await proc.stop()) };
  },
};

export const legateSidecarsMtls = sidecars(true);
export const legateSidecarsPlain = sidecars(false);
