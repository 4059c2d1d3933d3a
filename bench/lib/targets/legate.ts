import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCpus } from '../cpus.js';
import { LEGATE_VIP, asProxyUser } from '../netns.js';
import { REPO } from '../paths.js';
import { start } from '../proc.js';
import { destinationRule, MESH_YAML, serviceEntry } from '../legate_config.js';
import type { RunningTarget, StartArgs, Target } from '../types.js';
import { VIP_PORTS } from './endpoint.js';

export const ADMIN = { host: '127.0.0.1', port: 15000 };

/** The argv of `legate proxy sidecar`, run as uid 1337 on `cpus`. */
export function legateArgv(cpus: string, configDir: string, workers: number, acceptMode: 'handoff' | 'reuseport', extra: string[] = []): string[] {
  // BENCH_LEGATE_NODE_ARGS: extra node flags for profiling runs (e.g. --perf-basic-prof).
  const nodeArgs = process.env.BENCH_LEGATE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const cli = [process.execPath, ...nodeArgs, join(REPO, 'bin', 'legate.js'), 'proxy', 'sidecar', '--config', configDir];
  return onCpus(cpus, asProxyUser([...cli, '--concurrency', String(workers), '--accept-mode', acceptMode, ...extra]));
}

/**
 * Legate through iptables REDIRECT, as a sidecar runs: a ServiceEntry per upstream maps
 * LEGATE_VIP:<vip port> to the upstream. With a TCP port the proxy forwards bytes with
 * tcp_proxy (labelled so); with an HTTP port every request goes through the HTTP connection
 * manager, route table, router and upstream pool, with the access log off and Istio's metrics on
 * (as a sidecar runs) unless the target says they are off. `leastRequest`: the ServiceEntry lists
 * every upstream the scenario started and a DestinationRule sets LEAST_REQUEST, so each request
 * is balanced (issue 7). `busyPoll`: the workers poll without sleeping (`--busy-poll`), for the
 * latency rows next to HAProxy's `busy-polling`.
 */
interface LegateVariant {
  istioStats: boolean;
  leastRequest: boolean;
  busyPoll: boolean;
}

/** What the id and the config directory carry for a variant: `-nostats` (--disable-istio-stats: the cost of metrics on the hot path), `-busy-poll`. */
const variantSuffix = (v: LegateVariant) => (v.istioStats ? '' : '-nostats') + (v.busyPoll ? '-busy-poll' : '');

function legate(acceptMode: 'handoff' | 'reuseport', protocol: 'TCP' | 'HTTP' | 'GRPC' = 'TCP', opts: Partial<LegateVariant> = {}): Target {
  const v: LegateVariant = { istioStats: true, leastRequest: false, busyPoll: false, ...opts };
  const mode = acceptMode === 'handoff' ? 'hand-off' : 'reuseport';
  const http = `legate ${mode} (HTTP connection manager + router${v.leastRequest ? ', LEAST_REQUEST' : ''})`;
  if (protocol === 'GRPC') {
    return { ...legate(acceptMode, 'HTTP', opts), id: 'legate-grpc', label: `legate ${mode} (GRPC port: h2c both sides)`, serves: ['grpc'], start: (a) => startLegate(a, acceptMode, 'GRPC', v) };
  }
  return {
    id: (v.leastRequest ? 'legate-http-least-request' : protocol === 'HTTP' ? 'legate-http' : `legate-${acceptMode}`) + variantSuffix(v),
    label: (protocol === 'HTTP' ? http : `legate ${mode} (tcp_proxy, no HTTP processing)`) + (v.istioStats ? '' : ', Istio metrics off') + (v.busyPoll ? ', --busy-poll' : ''),
    layer: protocol === 'HTTP' ? 'l7' : 'l4',
    serves: protocol === 'HTTP' ? ['http'] : ['http', 'tcp-source'],
    unavailable: () => undefined,
    start: (a) => startLegate(a, acceptMode, protocol, v),
  };
}

async function startLegate(a: StartArgs, acceptMode: 'handoff' | 'reuseport', protocol: 'TCP' | 'HTTP' | 'GRPC', v: LegateVariant): Promise<RunningTarget> {
  // Its own directory: the proxy watches it, so nothing else may be written there.
  const name = `legate-${acceptMode}${variantSuffix(v)}${protocol === 'GRPC' ? '-grpc' : ''}`;
  const dir = join(a.tmp, `${name}-conf`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const vipPort = VIP_PORTS[a.upstreamKind];
  const more = v.leastRequest ? a.upstreams.slice(1).map((u) => u.port) : [];
  const docs = [MESH_YAML, serviceEntry({ name: 'upstream', vip: LEGATE_VIP, port: vipPort, endpointPort: a.upstream.port, moreEndpointPorts: more, protocol })];
  if (v.leastRequest) docs.push(destinationRule('upstream', 'LEAST_REQUEST'));
  writeFileSync(join(dir, 'bench.yaml'), docs.join('---\n'), { mode: 0o644 });
  const logFile = join(a.tmp, `${name}.log`);
  const flags = [...(v.istioStats ? [] : ['--disable-istio-stats']), ...(v.busyPoll ? ['--busy-poll'] : [])];
  const proc = start(legateArgv(a.cpus.proxy, dir, a.workers, acceptMode, flags), { logFile });
  return { endpoint: { host: LEGATE_VIP, port: vipPort }, pid: proc.pid, exited: proc.exited, logFile, stop: () => proc.stop() };
}

export const legateHandoff = legate('handoff');
export const legateReuseport = legate('reuseport');
export const legateHttp = legate('handoff', 'HTTP');
export const legateHttpNoStats = legate('handoff', 'HTTP', { istioStats: false });
export const legateHttpBusyPoll = legate('handoff', 'HTTP', { busyPoll: true });
export const legateHttpLeastRequest = legate('handoff', 'HTTP', { leastRequest: true });
export const legateGrpc = legate('handoff', 'GRPC');
