import { join } from 'node:path';
import { CORES, onCpus } from '../cpus.js';
import { canConnect, waitUntil } from '../proc.js';
import type { Target } from '../types.js';
import { startNginxUpstream } from '../upstream.js';
import { redirectedEndpoint } from './endpoint.js';

/** No proxy: the client reaches the upstream through the same VIP redirect the others use. */
export const direct: Target = {
  id: 'direct',
  label: 'direct (no proxy)',
  layer: 'none',
  serves: ['http', 'tcp-source', 'grpc'],
  unavailable: () => undefined,
  async start({ upstream, upstreamKind }) {
    const { endpoint, remove } = redirectedEndpoint(upstreamKind, upstream.port);
    return { endpoint, stop: async () => remove() };
  },
};

/** Where the cross-core upstream listens (clear of the scenario upstreams' 18080–18090). */
const CROSS_CORE_PORT = 18099;

/**
 * Still no proxy, but a second nginx upstream runs on the proxy's core instead of the load's:
 * every request and response crosses between cores once each way, where a proxy on its own core
 * crosses twice. Its "+ms vs direct" is what those wake-ups cost on this machine, apart from
 * any proxy's own work (on a VM, a wake-up of another vCPU can cost milliseconds at the tail).
 */
export const directCrossCore: Target = {
  id: 'direct-cross-core',
  label: "direct, upstream on the proxy's core (no proxy)",
  layer: 'none',
  serves: ['http'],
  unavailable: (t) => (!t.nginx ? 'nginx is not installed (bench/install-peers.sh)' : CORES < 2 ? 'one core: there is no other core to cross to' : undefined),
  async start({ upstreamKind, cpus, tmp }) {
    const dir = join(tmp, 'upstream-nginx-cross-core');
    const proc = startNginxUpstream(dir, CROSS_CORE_PORT, false, (cmd) => onCpus(cpus.proxy, cmd));
    await waitUntil(`nginx upstream on cpu ${cpus.proxy}`, () => canConnect('127.0.0.1', CROSS_CORE_PORT), 10_000, proc.exited);
    const { endpoint, remove } = redirectedEndpoint(upstreamKind, CROSS_CORE_PORT);
    return { endpoint, exited: proc.exited, logFile: join(dir, 'stderr.log'), stop: async () => (remove(), await proc.stop()) };
  },
};
