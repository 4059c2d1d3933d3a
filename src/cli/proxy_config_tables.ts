/**
 * istioctl proxy-config's tables over Legate's /config_dump (the model's camelCase fields)
 * and /clusters?format=json. Column names are istioctl's.
 */
type Obj = Record<string, any>;

/** `name.namespace` of the Istio resource behind a cluster or route (istioctl's DESTINATION RULE / VIRTUAL SERVICE). */
function istioResource(path: unknown): string {
  if (typeof path !== 'string' || !path) return '';
  const parts = path.split('/');
  return `${parts[parts.length - 1]}.${parts[parts.length - 3]}`;
}

export const CLUSTER_HEADER = ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'];

/** `outbound|9080|v1|reviews.default.svc.cluster.local` → FQDN, port, subset, direction; other names as they are. */
export function clusterRow(c: Obj): string[] {
  const parts = String(c.name).split('|');
  if (parts.length === 4) return [parts[3], parts[1], parts[2] || '-', parts[0], c.type, istioResource(c.istioConfig)];
  return [c.name, '-', '-', '-', c.type, istioResource(c.istioConfig)];
}

export const LISTENER_HEADER = ['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'];

function chainMatch(m: Obj | undefined): string {
  const parts: string[] = [];
  if (m?.prefixRanges?.length) parts.push(`Addr: ${m.prefixRanges.join(',')}`);
  if (m?.destinationPort) parts.push(`Port: ${m.destinationPort}`);
  if (m?.serverNames?.length) parts.push(`SNI: ${m.serverNames.join(',')}`);
  if (m?.transportProtocol) parts.push(`Trans: ${m.transportProtocol}`);
  if (m?.applicationProtocols?.length) parts.push(`App: ${m.applicationProtocols.join(',')}`);
  return parts.length ? parts.join('; ') : 'ALL';
}

function chainDestination(chain: Obj): string {
  const f = chain.filters?.[0] ?? {};
  if (f.routeConfigName !== undefined) return `Route: ${f.routeConfigName}`;
  if (f.weightedClusters?.length) return `Cluster: ${f.weightedClusters.map((w: Obj) => w.name).join(',')}`;
  if (f.cluster) return `Cluster: ${f.cluster}`;
  return 'Non-HTTP/Non-TCP';
}

/** One row per filter chain (and the default chain), as istioctl lists them. */
export function listenerRows(l: Obj): string[][] {
  const chains: Obj[] = [...(l.filterChains ?? []), ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])];
  const addr = String(l.address?.address ?? '');
  const port = String(l.address?.port ?? '');
  if (chains.length === 0) return [[addr, port, 'ALL', 'Non-HTTP/Non-TCP']];
  return chains.map((ch) => [addr, port, chainMatch(ch.match), chainDestination(ch)]);
}

export const ROUTE_HEADER = ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'];

function routeMatch(m: Obj | undefined): string {
  if (m?.prefix !== undefined) return m.prefix === '/' ? '/*' : `${m.prefix}*`;
  if (m?.path !== undefined) return m.path;
  if (m?.safeRegex !== undefined) return m.safeRegex;
  return '/*';
}

/** istioctl shortens long domain lists: the first two and `+ N more...`. */
function domains(list: string[]): string {
  return list.length <= 2 ? list.join(', ') : `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...`;
}

export function routeRows(rc: Obj): string[][] {
  const rows: string[][] = [];
  for (const vh of rc.virtualHosts ?? []) {
    for (const r of vh.routes ?? []) rows.push([rc.name, vh.name, domains(vh.domains ?? []), routeMatch(r.match), istioResource(r.istioConfig)]);
  }
  return rows;
}

export const ENDPOINT_HEADER = ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'];

/** From /clusters?format=json: every host of every cluster. */
export function endpointRows(status: Obj): string[][] {
  const rows: string[][] = [];
  for (const c of status.cluster_statuses ?? []) {
    for (const h of c.host_statuses ?? []) {
      const a = h.address?.socket_address ?? {};
      rows.push([`${a.address}:${a.port_value}`, h.health_status?.eds_health_status ?? 'HEALTHY', h.health_status?.failed_outlier_check ? 'FAILED' : 'OK', c.name]);
    }
  }
  return rows;
}

export const SECRET_HEADER = ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'];
