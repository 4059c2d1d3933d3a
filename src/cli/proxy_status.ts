import { adminGet, adminJson, parseAdminFlags } from './admin_client.js';
import { formatTable } from './table.js';

const USAGE = 'usage: legate proxy-status [--admin URL] [-o short|json|yaml]';

/**
 * `legate proxy-status`: istioctl proxy-status for one proxy, from its own admin API rather than
 * istiod: node id, the version of each config type it serves, when that changed, and readiness.
 */
export async function runProxyStatus(args: string[]): Promise<number> {
  const flags = parseAdminFlags(args, USAGE);
  const [info, dump, ready] = await Promise.all([adminJson(flags.admin, '/server_info'), adminJson(flags.admin, '/config_dump'), adminGet(flags.admin, '/ready')]);
  const version = (suffix: string) => String((dump.configs ?? []).find((c: any) => String(c['@type']).endsWith(suffix))?.version_info ?? '-');
  const status = {
    name: info.node?.id || info.command_line_options?.service_node || '-',
    cluster: info.node?.cluster || '-',
    cds: version('ClustersConfigDump'),
    lds: version('ListenersConfigDump'),
    rds: version('RoutesConfigDump'),
    lastUpdated: dump.legate?.last_updated ?? '-',
    ready: ready.status === 200,
    state: (await ready.text()).trim(),
    version: info.version,
  };
  if (flags.output !== 'short') {
    const { stringify } = await import('yaml');
    process.stdout.write(flags.output === 'json' ? JSON.stringify(status, null, 2) + '\n' : stringify(status));
    return 0;
  }
  process.stdout.write(formatTable(['NAME', 'CLUSTER', 'CDS', 'LDS', 'RDS', 'LAST UPDATED', 'READY', 'VERSION'],
    [[status.name, status.cluster, status.cds, status.lds, status.rds, status.lastUpdated, status.ready ? 'true' : `false (${status.state})`, status.version]]));
  return 0;
}
