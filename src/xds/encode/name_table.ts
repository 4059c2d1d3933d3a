import type { NameInfo } from '../../config/model.js';
import type { Json } from './values.js';

/**
 * The DNS proxy's table → Istio's NameTable (NDS). Every name the table answers becomes its
 * own entry (the model has already expanded short names), so nothing depends on alt_hosts.
 */
export function encodeNameTable(table: Readonly<Record<string, NameInfo>>): Json {
  const out: Record<string, Json> = {};
  for (const [host, info] of Object.entries(table)) out[host] = { ips: info.ips, namespace: info.namespace };
  return { table: out };
}
