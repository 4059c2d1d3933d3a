import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCpus } from '../cpus.js';
import { LEGATE_VIP, asProxyUser } from '../netns.js';
import { REPO } from '../paths.js';
import { start } from '../proc.js';
import { MESH_YAML, serviceEntry } from '../legate_config.js';
import type { Target } from '../types.js';
import { VIP_PORTS } from './endpoint.js';

export const ADMIN = { host: '127.0.0.1', port: 15000 };

/** The argv of `legate proxy sidecar`, run as uid 1337 on `cpus`. */
export function legateArgv(cpus: string, configDir: string, workers: number, acceptMode: 'handoff' | 'reuseport', extra: string[] = []): string[] {
  const cli = [process.execPath, join(REPO, 'bin', 'legate.js'), 'proxy', 'sidecar', '--config', configDir];
  return onCpus(cpus, asProxyUser([...cli, '--concurrency', String(workers), '--accept-mode', acceptMode, ...extra]));
}

/**
 * Legate through iptables REDIRECT, as a sidecar runs: a ServiceEntry per upstream maps
 * LEGATE_VIP:<vip port> to the upstream, and the proxy forwards bytes with tcp_proxy.
 * It has no HTTP processing yet, and the label says so.
 */
function legate(acceptMode: 'handoff' | 'reuseport'): Target {
  return {
    id: `legate-${acceptMode}`,
    label: `legate ${acceptMode === 'handoff' ? 'hand-off' : 'reuseport'} (tcp_proxy, no HTTP processing)`,
    layer: 'l4',
    serves: ['http', 'tcp-source'],
    unavailable: () => undefined,
    async start(a) {
      // Its own directory: the proxy watches it, so nothing else may be written there.
      const dir = join(a.tmp, `legate-${acceptMode}-conf`);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const vipPort = VIP_PORTS[a.upstreamKind];
      writeFileSync(join(dir, 'bench.yaml'), [MESH_YAML, serviceEntry({ name: 'upstream', vip: LEGATE_VIP, port: vipPort, endpointPort: a.upstream.port })].join('---\n'), { mode: 0o644 });
      const logFile = join(a.tmp, `legate-${acceptMode}.log`);
      const proc = start(legateArgv(a.cpus.proxy, dir, a.workers, acceptMode), { logFile });
      return { endpoint: { host: LEGATE_VIP, port: vipPort }, pid: proc.pid, exited: proc.exited, logFile, stop: () => proc.stop() };
    },
  };
}

export const legateHandoff = legate('handoff');
export const legateReuseport = legate('reuseport');
