import type { MeshSettings } from '../config/model.js';
import { parseDuration } from '../config/duration.js';
import { LegateError } from '../errors.js';
import type { StatsRegistry } from '../stats/store.js';

/** How the proxy ends after SIGTERM, as Istio's pilot-agent decides it. */
export interface TerminationSettings {
  /** How long outbound keeps working after SIGTERM (mesh `terminationDrainDuration`, env `TERMINATION_DRAIN_DURATION_SECONDS`). */
  terminationDrainMs: number;
  /** `EXIT_ON_ZERO_ACTIVE_CONNECTIONS`: exit once no downstream connection is open, instead of after terminationDrainMs. */
  exitOnZeroActiveConnections: boolean;
  /** `MINIMUM_DRAIN_DURATION`: with exitOnZeroActiveConnections, how long to wait before counting connections. */
  minimumDrainMs: number;
}

/** Istio checks the active connection count once a second (pilot-agent's activeConnectionCheckDelay). */
export const ACTIVE_CONNECTION_CHECK_MS = 1000;

/**
 * pilot-agent's settings: environment first (it is what the injector sets, per pod), then the
 * mesh's `defaultConfig.proxyMetadata` (how a mesh-wide default reaches the agent's environment),
 * then `defaultConfig.terminationDrainDuration` (5 s by default).
 */
export function terminationSettings(env: NodeJS.ProcessEnv, mesh: MeshSettings): TerminationSettings {
  const get = (name: string) => env[name] ?? mesh.proxyMetadata[name];
  const secs = get('TERMINATION_DRAIN_DURATION_SECONDS');
  let terminationDrainMs = mesh.terminationDrainDurationMs;
  if (secs !== undefined && secs !== '') {
    if (!/^\d+$/.test(secs)) throw new LegateError('EOPTION', `TERMINATION_DRAIN_DURATION_SECONDS: expected whole seconds, got ${JSON.stringify(secs)}`);
    terminationDrainMs = Number(secs) * 1000;
  }
  const exit = get('EXIT_ON_ZERO_ACTIVE_CONNECTIONS');
  const min = get('MINIMUM_DRAIN_DURATION');
  return {
    terminationDrainMs,
    exitOnZeroActiveConnections: exit === 'true' || exit === '1',
    minimumDrainMs: min ? parseDuration(min) : 5000,
  };
}

/** Open downstream connections on every listener (what pilot-agent sums from `downstream_cx_active`). */
export function activeDownstreamConnections(registry: StatsRegistry): number {
  let n = 0;
  for (const { info, value } of registry.entries()) if (info.name.startsWith('listener.') && info.name.endsWith('.downstream_cx_active')) n += value;
  return n;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The wait between "draining started" and exit: terminationDrainMs, or with
 * exitOnZeroActiveConnections the minimum drain and then until no connection is open.
 */
export async function waitForTermination(s: TerminationSettings, active: () => number, onCheck?: (n: number) => void): Promise<void> {
  if (!s.exitOnZeroActiveConnections) return sleep(s.terminationDrainMs);
  await sleep(s.minimumDrainMs);
  for (;;) {
    const n = active();
    onCheck?.(n);
    if (n === 0) return;
    await sleep(ACTIVE_CONNECTION_CHECK_MS);
  }
}
