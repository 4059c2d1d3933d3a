/**
 * Istio's sidecar capture rules (what istio-iptables writes in its iptables mode), as data.
 * Pure: options in, rules out; rendering to iptables-restore input is in restore.ts.
 */
import { isIPv4 } from 'node:net';
import type { IptablesOptions } from './options.js';

export type Family = 4 | 6;
export type Table = 'mangle' | 'nat' | 'raw';

export interface Rule {
  table: Table;
  chain: string;
  spec: string[];
  /** `-I chain n` instead of `-A chain` (Istio inserts a few TPROXY guards at the top). */
  insertAt?: number;
}

/** Where istio-agent's DNS proxy listens (Legate's DNS proxy listens there too). */
export const DNS_PROXY_PORT = 15053;
/** TPROXY mode marks proxy → app packets over lo with this, so they are not captured again. */
export const OUTBOUND_MARK = 1338;
/** Istio splits each multiport match in chunks, as `-m multiport` takes at most 15 ports. */
const MULTIPORT_MAX = 15;

export const BUILTIN_CHAINS: ReadonlySet<string> = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);
export const isIstioChain = (name: string): boolean => name.startsWith('ISTIO_');

/** The chain a rule jumps to (-j/-g), if any. */
export function jumpTarget(spec: readonly string[]): string | undefined {
  const i = spec.findIndex((t) => t === '-j' || t === '-g' || t === '--jump' || t === '--goto');
  return i >= 0 ? spec[i + 1] : undefined;
}

function portMatch(ports: readonly number[], negate = false): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ports.length; i += MULTIPORT_MAX) {
    const chunk = ports.slice(i, i + MULTIPORT_MAX);
    const not = negate ? ['!'] : [];
    out.push(chunk.length === 1 ? [...not, '--dport', String(chunk[0])] : ['-m', 'multiport', ...not, '--dports', chunk.join(',')]);
  }
  return out;
}

const familyOf = (addr: string): Family => (isIPv4(addr.split('/')[0]) ? 4 : 6);
const isLoopbackCidr = (cidr: string): boolean => cidr.startsWith('127.') || cidr.split('/')[0] === '::1';

/** All rules for one address family, in Istio's order. */
export function buildRules(o: IptablesOptions, family: Family): Rule[] {
  const rules: Rule[] = [];
  const add = (table: Table, chain: string, ...spec: string[]): void => void rules.push({ table, chain, spec });
  const v6 = family === 6;
  const localhost = v6 ? '::1/128' : '127.0.0.1/32';
  // Source address the proxy binds for inbound passthrough (app ← proxy over lo), never captured.
  const passthroughSource = v6 ? '::6/128' : '127.0.0.6/32';
  const tproxy = o.mode === 'TPROXY';
  const tunnel = String(o.inboundTunnelPort);
  const mark = String(o.tproxyMark);

  add('nat', 'ISTIO_INBOUND', '-p', 'tcp', '--dport', tunnel, '-j', 'RETURN');
  add('nat', 'ISTIO_REDIRECT', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(o.proxyPort));
  add('nat', 'ISTIO_IN_REDIRECT', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(o.inboundCapturePort));

  // Inbound: nat REDIRECT, or mangle TPROXY which keeps the original destination on the socket.
  const include = o.inboundPortsInclude;
  if (include === '*' || include.length > 0) {
    const table: Table = tproxy ? 'mangle' : 'nat';
    if (tproxy) {
      add('mangle', 'ISTIO_DIVERT', '-j', 'MARK', '--set-mark', mark);
      add('mangle', 'ISTIO_DIVERT', '-j', 'ACCEPT');
      add('mangle', 'ISTIO_TPROXY', '!', '-d', localhost, '-p', 'tcp', '-j', 'TPROXY', '--tproxy-mark', `${mark}/0xffffffff`, '--on-port', String(o.inboundCapturePort));
    }
    add(table, 'PREROUTING', '-p', 'tcp', '-j', 'ISTIO_INBOUND');
    if (include === '*') {
      for (const m of portMatch(o.inboundPortsExclude)) add(table, 'ISTIO_INBOUND', '-p', 'tcp', ...m, '-j', 'RETURN');
      if (tproxy) {
        // Packets of connections already accepted by the proxy only need routing to lo.
        add('mangle', 'ISTIO_INBOUND', '-p', 'tcp', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ISTIO_DIVERT');
        add('mangle', 'ISTIO_INBOUND', '-p', 'tcp', '-j', 'ISTIO_TPROXY');
      } else add('nat', 'ISTIO_INBOUND', '-p', 'tcp', '-j', 'ISTIO_IN_REDIRECT');
    } else {
      for (const p of include) {
        if (tproxy) {
          add('mangle', 'ISTIO_INBOUND', '-p', 'tcp', '--dport', String(p), '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ISTIO_DIVERT');
          add('mangle', 'ISTIO_INBOUND', '-p', 'tcp', '--dport', String(p), '-j', 'ISTIO_TPROXY');
        } else add('nat', 'ISTIO_INBOUND', '-p', 'tcp', '--dport', String(p), '-j', 'ISTIO_IN_REDIRECT');
      }
    }
  }

  // Outbound. Every protocol enters ISTIO_OUTPUT; only TCP is redirected (ISTIO_REDIRECT is -p tcp).
  add('nat', 'OUTPUT', '-j', 'ISTIO_OUTPUT');
  // Port exclusions come before everything, including the loopback rules below.
  for (const m of portMatch(o.outboundPortsExclude)) {
    add('nat', 'ISTIO_OUTPUT', '-p', 'tcp', ...m, '-j', 'RETURN');
    add('nat', 'ISTIO_OUTPUT', '-p', 'udp', ...m, '-j', 'RETURN');
  }
  add('nat', 'ISTIO_OUTPUT', '-o', 'lo', '-s', passthroughSource, '-j', 'RETURN');

  const includeRanges = o.outboundIpRangesInclude;
  // Loopback listed in -i means app → localhost must be captured, so the lo RETURN is skipped.
  const includesLoopback = includeRanges !== '*' && includeRanges.some(isLoopbackCidr);
  const dns = o.dnsCapture;
  const owners: Array<['--uid-owner' | '--gid-owner', string]> = [
    ...o.proxyUids.map((id) => ['--uid-owner', id] as ['--uid-owner', string]),
    ...o.proxyGids.map((id) => ['--gid-owner', id] as ['--gid-owner', string]),
  ];
  for (const [owner, id] of owners) {
    // Proxy → own pod IP over lo (app calls itself through a service VIP): send to inbound.
    // Istio leaves port 53 out of this only for uids, not gids; kept as Istio has it.
    const notPorts = dns && owner === '--uid-owner' ? ['-m', 'multiport', '!', '--dports', `53,${tunnel}`] : ['!', '--dport', tunnel];
    add('nat', 'ISTIO_OUTPUT', '-o', 'lo', '!', '-d', localhost, '-p', 'tcp', ...notPorts, '-m', 'owner', owner, id, '-j', 'ISTIO_IN_REDIRECT');
    // App → itself over lo by pod IP: not captured (TCP to port 53 still is, for a DNS server on localhost).
    if (!includesLoopback) {
      const proto = dns ? ['-p', 'tcp', '!', '--dport', '53'] : [];
      add('nat', 'ISTIO_OUTPUT', '-o', 'lo', ...proto, '-m', 'owner', '!', owner, id, '-j', 'RETURN');
    }
    // Anything else the proxy sends, any protocol: never captured (no loops).
    add('nat', 'ISTIO_OUTPUT', '-m', 'owner', owner, id, '-j', 'RETURN');
  }

  if (dns) rules.push(...dnsRules(o, family, owners));

  add('nat', 'ISTIO_OUTPUT', '-d', localhost, '-j', 'RETURN');
  for (const cidr of o.outboundIpRangesExclude) if (familyOf(cidr) === family) add('nat', 'ISTIO_OUTPUT', '-d', cidr, '-j', 'RETURN');
  for (const p of o.outboundPortsInclude) add('nat', 'ISTIO_OUTPUT', '-p', 'tcp', '--dport', String(p), '-j', 'ISTIO_REDIRECT');
  if (includeRanges === '*') add('nat', 'ISTIO_OUTPUT', '-j', 'ISTIO_REDIRECT');
  else for (const cidr of includeRanges) if (familyOf(cidr) === family) add('nat', 'ISTIO_OUTPUT', '-d', cidr, '-j', 'ISTIO_REDIRECT');

  if (tproxy) rules.push(...tproxyMangleRules(o, localhost, passthroughSource, owners));
  return rules;
}

/**
 * DNS capture: app UDP and TCP to port 53 → 15053. The proxy's own queries were already
 * RETURNed by the owner rules above. The raw-table rules put the two legs of a captured
 * UDP query (app → proxy, proxy → resolver) in different conntrack zones, so that their
 * entries cannot clash when the proxy reuses the app's source port.
 */
function dnsRules(o: IptablesOptions, family: Family, owners: Array<[string, string]>): Rule[] {
  const rules: Rule[] = [];
  const add = (table: Table, chain: string, ...spec: string[]): void => void rules.push({ table, chain, spec });
  const all = o.dnsServers.length === 0;
  const servers = o.dnsServers.filter((s) => familyOf(s) === family).map((s) => `${s}/${family === 4 ? 32 : 128}`);
  const to = ['-j', 'REDIRECT', '--to-ports', String(DNS_PROXY_PORT)];

  add('raw', 'OUTPUT', '-j', 'ISTIO_OUTPUT_DNS');
  if (all || servers.length > 0) add('nat', 'ISTIO_OUTPUT', '-j', 'ISTIO_OUTPUT_DNS');
  for (const proto of ['tcp', 'udp']) {
    if (all) add('nat', 'ISTIO_OUTPUT_DNS', '-p', proto, '--dport', '53', ...to);
    else for (const s of servers) add('nat', 'ISTIO_OUTPUT_DNS', '-p', proto, '--dport', '53', '-d', s, ...to);
  }
  for (const [owner, id] of owners) {
    add('raw', 'ISTIO_OUTPUT_DNS', '-p', 'udp', '--dport', '53', '-m', 'owner', owner, id, '-j', 'CT', '--zone', '1');
    add('raw', 'ISTIO_OUTPUT_DNS', '-p', 'udp', '--sport', String(DNS_PROXY_PORT), '-m', 'owner', owner, id, '-j', 'CT', '--zone', '2');
  }
  if (all || servers.length > 0) add('raw', 'PREROUTING', '-j', 'ISTIO_INBOUND');
  if (all) {
    add('raw', 'ISTIO_OUTPUT_DNS', '-p', 'udp', '--dport', '53', '-j', 'CT', '--zone', '2');
    add('raw', 'ISTIO_INBOUND', '-p', 'udp', '--sport', '53', '-j', 'CT', '--zone', '1');
  } else {
    for (const s of servers) {
      add('raw', 'ISTIO_OUTPUT_DNS', '-p', 'udp', '--dport', '53', '-d', s, '-j', 'CT', '--zone', '2');
      add('raw', 'ISTIO_INBOUND', '-p', 'udp', '--sport', '53', '-s', s, '-j', 'CT', '--zone', '1');
    }
  }
  return rules;
}

/** TPROXY mode's mangle rules outside the inbound path: connection marks and loop guards. */
function tproxyMangleRules(o: IptablesOptions, localhost: string, passthroughSource: string, owners: Array<[string, string]>): Rule[] {
  const mark = String(o.tproxyMark);
  const rules: Rule[] = [
    // Keep the mark set by the proxy (original_src) on the connection.
    { table: 'mangle', chain: 'PREROUTING', spec: ['-p', 'tcp', '-m', 'mark', '--mark', mark, '-j', 'CONNMARK', '--save-mark'] },
    { table: 'mangle', chain: 'OUTPUT', spec: ['-p', 'tcp', '-o', 'lo', '-m', 'mark', '--mark', mark, '-j', 'RETURN'] },
  ];
  // Proxy outbound → app via pod IP: mark it so inbound does not capture it a second time.
  for (const [owner, id] of owners)
    rules.push({ table: 'mangle', chain: 'OUTPUT', spec: ['!', '-d', localhost, '-p', 'tcp', '-o', 'lo', '-m', 'owner', owner, id, '-j', 'MARK', '--set-mark', String(OUTBOUND_MARK)] });
  rules.push(
    // Replies of the app to TPROXY'd connections follow the policy route back to the proxy.
    { table: 'mangle', chain: 'OUTPUT', spec: ['-p', 'tcp', '-m', 'connmark', '--mark', mark, '-j', 'CONNMARK', '--restore-mark'] },
    { table: 'mangle', chain: 'ISTIO_INBOUND', insertAt: 1, spec: ['-p', 'tcp', '-m', 'mark', '--mark', mark, '-j', 'RETURN'] },
    { table: 'mangle', chain: 'ISTIO_INBOUND', insertAt: 2, spec: ['-p', 'tcp', '-s', passthroughSource, '-i', 'lo', '-j', 'RETURN'] },
    { table: 'mangle', chain: 'ISTIO_INBOUND', insertAt: 3, spec: ['-p', 'tcp', '-i', 'lo', '-m', 'mark', '!', '--mark', String(OUTBOUND_MARK), '-j', 'RETURN'] },
  );
  return rules;
}

/**
 * `ip` invocations TPROXY needs (marked packets are routed to lo, where the proxy's
 * transparent socket picks them up), and the ::6 address the proxy binds for IPv6 passthrough.
 */
export function routeCommands(o: IptablesOptions): string[][] {
  const cmds: string[][] = [];
  if (o.ipv6) cmds.push(['-6', 'addr', 'add', '::6/128', 'dev', 'lo']);
  const include = o.inboundPortsInclude;
  if (o.mode !== 'TPROXY' || (include !== '*' && include.length === 0)) return cmds;
  for (const f of o.ipv6 ? ['-4', '-6'] : ['-4']) {
    cmds.push([f, 'rule', 'add', 'fwmark', String(o.tproxyMark), 'lookup', String(o.tproxyRouteTable)]);
    cmds.push([f, 'route', 'add', 'local', f === '-4' ? '0.0.0.0/0' : '::/0', 'dev', 'lo', 'table', String(o.tproxyRouteTable)]);
  }
  return cmds;
}
