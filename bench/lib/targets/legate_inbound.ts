import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROXY_UID } from '../netns.js';
import { start } from '../proc.js';
import { MESH_YAML } from '../legate_config.js';
import type { Target } from '../types.js';
import { legateArgv } from './legate.js';

/** Inbound traffic is addressed to this "pod IP" (not in the outbound capture range) and REDIRECTed to 15006. */
const INBOUND_VIP = '240.242.0.1';
const INBOUND_PORT = '15006';

/** Five rules shaped like Istio's examples; the benchmark's GET is allowed by the last ALLOW rule (the longest walk). */
function policies(port: number): string[] {
  const ap = (name: string, spec: unknown) => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: default\nspec: ${JSON.stringify(spec)}\n`;
  return [
    ap('deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*', '*/debug'] } }] }] }),
    ap('deny-header', { action: 'DENY', rules: [{ when: [{ key: 'request.headers[x-block]', values: ['yes'] }] }] }),
    ap('allow-sleep', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/sleep'] } }] }] }),
    ap('allow-upload', { rules: [{ from: [{ source: { ipBlocks: ['192.168.0.0/16'] } }], to: [{ operation: { methods: ['POST'], paths: ['/upload'] } }] }] }),
    ap('allow-get', { rules: [{ to: [{ operation: { methods: ['GET', 'HEAD'], ports: [String(port)] } }] }] }),
  ];
}

function nat(op: '-I' | '-D'): void {
  const rule = ['OUTPUT', ...(op === '-I' ? ['1'] : []), '-p', 'tcp', '-d', INBOUND_VIP, '-m', 'owner', '!', '--uid-owner', String(PROXY_UID), '-j', 'REDIRECT', '--to-ports', INBOUND_PORT];
  execFileSync('iptables', ['-t', 'nat', op, ...rule], { stdio: 'ignore' });
}

/**
 * Legate's inbound path, as a pod's sidecar serves its app: the client connects to the "pod
 * IP", iptables REDIRECTs it to 15006, http_inspector picks `virtualInbound-catchall-http`,
 * and the connection manager sends it to 127.0.0.1:<port> from 127.0.0.6. With `authz`, five
 * AuthorizationPolicy rules are evaluated on every request (the cost the issue asks about).
 */
function legateInbound(authz: boolean): Target {
  const id = `legate-http-inbound${authz ? '-authz' : ''}`;
  return {
    id,
    label: `legate hand-off, inbound HTTP (15006)${authz ? ' + 5 AuthorizationPolicy rules' : ''}`,
    layer: 'l7',
    serves: ['http'],
    unavailable: () => undefined,
    async start(a) {
      const dir = join(a.tmp, `${id}-conf`);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      writeFileSync(join(dir, 'bench.yaml'), [MESH_YAML, ...(authz ? policies(a.upstream.port) : [])].join('---\n'), { mode: 0o644 });
      execFileSync('ip', ['route', 'replace', `${INBOUND_VIP}/32`, 'dev', 'lo', 'src', '127.0.0.1'], { stdio: 'ignore' });
      nat('-I');
      const logFile = join(a.tmp, `${id}.log`);
      const proc = start(legateArgv(a.cpus.proxy, dir, a.workers, 'handoff'), { logFile });
      return {
        endpoint: { host: INBOUND_VIP, port: a.upstream.port },
        pid: proc.pid,
        exited: proc.exited,
        logFile,
        stop: async () => {
          await proc.stop();
          nat('-D');
        },
      };
    },
  };
}

export const legateHttpInbound = legateInbound(false);
export const legateHttpInboundAuthz = legateInbound(true);
