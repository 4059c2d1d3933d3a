import { stringify } from 'yaml';
import { LegateError } from '../errors.js';
import { adminJson, parseAdminFlags } from './admin_client.js';
import { formatTable } from './table.js';
import {
  CLUSTER_HEADER, ENDPOINT_HEADER, LISTENER_HEADER, ROUTE_HEADER, SECRET_HEADER,
  clusterRow, endpointRows, listenerRows, routeRows,
} from './proxy_config_tables.js';

const USAGE = 'usage: legate proxy-config clusters|listeners|routes|endpoints|secrets [--admin URL] [-o short|json|yaml]';

const SECTIONS = {
  clusters: 'dynamic_active_clusters',
  listeners: 'dynamic_listeners',
  routes: 'dynamic_route_configs',
} as const;

/**
 * `legate proxy-config <type>`: istioctl proxy-config for one proxy, read from its admin API
 * (istioctl reaches Envoy's admin through the pod; here the URL is given). `-o json|yaml`
 * prints the config_dump entries (endpoints: /clusters?format=json) instead of the table.
 */
export async function runProxyConfig(args: string[]): Promise<number> {
  const flags = parseAdminFlags(args, USAGE);
  const [type, ...extra] = flags.positional;
  if (extra.length) throw new LegateError('EUSAGE', `unexpected ${JSON.stringify(extra[0])}\n${USAGE}`);
  const print = (raw: unknown, header: string[], rows: () => string[][]) => {
    if (flags.output === 'json') process.stdout.write(JSON.stringify(raw, null, 2) + '\n');
    else if (flags.output === 'yaml') process.stdout.write(stringify(raw));
    else process.stdout.write(formatTable(header, rows()));
  };
  switch (type) {
    case 'clusters':
    case 'listeners':
    case 'routes': {
      const dump = await adminJson(flags.admin, `/config_dump?resource=${SECTIONS[type]}`);
      const entries: any[] = dump.configs ?? [];
      if (type === 'clusters') print(entries.map((e) => e.cluster), CLUSTER_HEADER, () => entries.map((e) => clusterRow(e.cluster)));
      else if (type === 'listeners') print(entries.map((e) => e.active_state?.listener), LISTENER_HEADER, () => entries.flatMap((e) => listenerRows(e.active_state?.listener ?? {})));
      else print(entries.map((e) => e.route_config), ROUTE_HEADER, () => entries.flatMap((e) => routeRows(e.route_config)));
      return 0;
    }
    case 'endpoints': {
      const status = await adminJson(flags.admin, '/clusters?format=json');
      print(status.cluster_statuses ?? [], ENDPOINT_HEADER, () => endpointRows(status));
      return 0;
    }
    case 'secrets':
      // Legate has no SDS / TLS certificates yet: the table is empty, as for a proxy without workload certs.
      print([], SECRET_HEADER, () => []);
      return 0;
    default:
      throw new LegateError('EUSAGE', `unknown config type ${JSON.stringify(type)}\n${USAGE}`);
  }
}
