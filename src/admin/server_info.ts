import { readFileSync } from 'node:fs';

/** Who this proxy is and how it was started, for /server_info (Envoy's ServerInfo). */
export interface ServerIdentity {
  /** Istio's node id: `sidecar~<pod ip>~<pod>.<namespace>~<namespace>.svc.cluster.local`. */
  nodeId: string;
  /** Envoy's node.cluster: Istio sets `<app or workload>.<namespace>`. */
  cluster: string;
  metadata: Record<string, unknown>;
  concurrency: number;
  drainTimeMs: number;
  terminationDrainMs: number;
  logLevel: () => string;
  argv: readonly string[];
}

export type ServerState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
export const LEGATE_VERSION: string = pkg.version;


const seconds = (ms: number) => `${Math.floor(ms / 1000)}s`;

/** Envoy's /server_info body (durations as protobuf JSON strings, e.g. "12s"). */
export function serverInfo(id: ServerIdentity | undefined, state: ServerState, startedAt: Date): Record<string, unknown> {
  const uptime = seconds(Date.now() - startedAt.getTime());
  return {
    version: `legate/${LEGATE_VERSION}/Clean/RELEASE/Node.js-${process.versions.node}`,
    state,
    hot_restart_version: 'disabled',
    command_line_options: {
      concurrency: id?.concurrency ?? 1,
      mode: 'Serve',
      log_level: id?.logLevel() ?? 'info',
      service_node: id?.nodeId ?? '',
      service_cluster: id?.cluster ?? '',
      drain_time: seconds(id?.drainTimeMs ?? 45_000),
      parent_shutdown_time: seconds(id?.terminationDrainMs ?? 5000),
      drain_strategy: 'Gradual',
      disable_hot_restart: true,
      restart_epoch: 0,
      argv: id?.argv ?? [],
    },
    node: {
      id: id?.nodeId ?? '',
      cluster: id?.cluster ?? '',
      metadata: id?.metadata ?? {},
      user_agent_name: 'legate',
      user_agent_build_version: { version: { major_number: Number(LEGATE_VERSION.split('.')[0]), minor_number: Number(LEGATE_VERSION.split('.')[1]), patch: Number(LEGATE_VERSION.split('.')[2]) } },
    },
    uptime_current_epoch: uptime,
    uptime_all_epochs: uptime,
  };
}
