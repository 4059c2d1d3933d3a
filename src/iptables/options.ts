import { isIPv4, isIPv6 } from 'node:net';
import { LegateError } from '../errors.js';

export type InterceptionMode = 'REDIRECT' | 'TPROXY';

/** Everything `legate iptables` can be told, with defaults in one place (IPTABLES_DEFAULTS). */
export interface IptablesOptions {
  dryRun: boolean;
  clean: boolean;
  /** -p: where outbound TCP is redirected (the sidecar's outbound listener). */
  proxyPort: number;
  /** -z: where inbound TCP is redirected (the sidecar's inbound listener). */
  inboundCapturePort: number;
  /** -e: HBONE tunnel port, never captured inbound. */
  inboundTunnelPort: number;
  /** -u: uids whose traffic is never captured (the proxy's own). */
  proxyUids: string[];
  /** -g: gids whose traffic is never captured; defaults to the uids, as Istio does. */
  proxyGids: string[];
  /** -m: how inbound traffic is captured. */
  mode: InterceptionMode;
  /** -t: packet mark used by TPROXY mode. */
  tproxyMark: number;
  /** -r: routing table used by TPROXY mode. */
  tproxyRouteTable: number;
  /** -i: outbound destinations captured; '*' for all, [] for none. */
  outboundIpRangesInclude: '*' | string[];
  /** -x: outbound destinations never captured. */
  outboundIpRangesExclude: string[];
  /** -b: inbound ports captured; '*' for all, [] for none. */
  inboundPortsInclude: '*' | number[];
  /** -d: inbound ports never captured (only with -b '*'). */
  inboundPortsExclude: number[];
  /** -q: outbound ports always captured, whatever the destination. */
  outboundPortsInclude: number[];
  /** -o: outbound ports never captured. */
  outboundPortsExclude: number[];
  /** --dns-capture: app DNS (UDP and TCP 53) goes to the DNS proxy on 15053. */
  dnsCapture: boolean;
  /** --dns-servers: capture DNS only towards these resolvers; empty = all port-53 traffic. */
  dnsServers: string[];
  /** --ipv6: also write ip6tables rules. */
  ipv6: boolean;
}

/**
 * Defaults are those of the istio-init container the Istio injector adds to a pod
 * (`-p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x "" -b '*' -d 15090,15021,15020`),
 * not those of bare istio-iptables, which captures nothing without -i and -b.
 */
export const IPTABLES_DEFAULTS: Readonly<Omit<IptablesOptions, 'proxyGids'>> = {
  dryRun: false,
  clean: false,
  proxyPort: 15001,
  inboundCapturePort: 15006,
  inboundTunnelPort: 15008,
  proxyUids: ['1337'],
  mode: 'REDIRECT',
  tproxyMark: 1337,
  tproxyRouteTable: 133,
  outboundIpRangesInclude: '*',
  outboundIpRangesExclude: [],
  inboundPortsInclude: '*',
  inboundPortsExclude: [15090, 15021, 15020],
  outboundPortsInclude: [],
  outboundPortsExclude: [],
  dnsCapture: false,
  dnsServers: [],
  ipv6: false,
};

type Kind = 'bool' | 'port' | 'uint' | 'ids' | 'mode' | 'cidrs' | 'cidrs*' | 'ports' | 'ports*' | 'ips';
type Key = keyof IptablesOptions;
interface FlagSpec {
  key: Key;
  kind: Kind;
  long: string;
  short?: string;
  /** Istio's environment variables for this flag, first set one wins; flags win over all. */
  env?: string[];
  help: string;
}

/**
 * Long names and environment variables are istio-iptables' own (its viper binding maps
 * flag `istio-service-cidr` to `ISTIO_SERVICE_CIDR`, …); the second name of a pair is the
 * variable istio-init prints in its "Variables:" dump, accepted for the same meaning.
 */
export const IPTABLES_FLAGS: readonly FlagSpec[] = [
  { key: 'dryRun', kind: 'bool', long: 'dry-run', short: 'n', help: 'print the iptables-restore input, change nothing' },
  { key: 'clean', kind: 'bool', long: 'clean', help: 'remove the ISTIO_* chains and every jump to them' },
  { key: 'proxyPort', kind: 'port', long: 'envoy-port', short: 'p', env: ['ENVOY_PORT'], help: 'outbound capture port (15001)' },
  { key: 'inboundCapturePort', kind: 'port', long: 'inbound-capture-port', short: 'z', env: ['INBOUND_CAPTURE_PORT'], help: 'inbound capture port (15006)' },
  { key: 'inboundTunnelPort', kind: 'port', long: 'inbound-tunnel-port', short: 'e', env: ['INBOUND_TUNNEL_PORT'], help: 'inbound tunnel port, never captured (15008)' },
  { key: 'proxyUids', kind: 'ids', long: 'proxy-uid', short: 'u', env: ['PROXY_UID'], help: 'uids not captured (1337)' },
  { key: 'proxyGids', kind: 'ids', long: 'proxy-gid', short: 'g', env: ['PROXY_GID'], help: 'gids not captured (same as -u)' },
  { key: 'mode', kind: 'mode', long: 'istio-inbound-interception-mode', short: 'm', env: ['ISTIO_INBOUND_INTERCEPTION_MODE', 'INBOUND_INTERCEPTION_MODE'], help: 'REDIRECT or TPROXY (REDIRECT)' },
  { key: 'tproxyMark', kind: 'uint', long: 'istio-inbound-tproxy-mark', short: 't', env: ['ISTIO_INBOUND_TPROXY_MARK', 'INBOUND_TPROXY_MARK'], help: 'TPROXY packet mark (1337)' },
  { key: 'tproxyRouteTable', kind: 'uint', long: 'istio-inbound-tproxy-route-table', short: 'r', env: ['ISTIO_INBOUND_TPROXY_ROUTE_TABLE', 'INBOUND_TPROXY_ROUTE_TABLE'], help: 'TPROXY routing table (133)' },
  { key: 'outboundIpRangesInclude', kind: 'cidrs*', long: 'istio-service-cidr', short: 'i', env: ['ISTIO_SERVICE_CIDR', 'OUTBOUND_IP_RANGES_INCLUDE'], help: "outbound CIDRs captured, '*' for all (*)" },
  { key: 'outboundIpRangesExclude', kind: 'cidrs', long: 'istio-service-exclude-cidr', short: 'x', env: ['ISTIO_SERVICE_EXCLUDE_CIDR', 'OUTBOUND_IP_RANGES_EXCLUDE'], help: 'outbound CIDRs not captured' },
  { key: 'inboundPortsInclude', kind: 'ports*', long: 'istio-inbound-ports', short: 'b', env: ['ISTIO_INBOUND_PORTS', 'INBOUND_PORTS_INCLUDE'], help: "inbound ports captured, '*' for all (*)" },
  { key: 'inboundPortsExclude', kind: 'ports', long: 'istio-local-exclude-ports', short: 'd', env: ['ISTIO_LOCAL_EXCLUDE_PORTS', 'INBOUND_PORTS_EXCLUDE'], help: "inbound ports not captured with -b '*' (15090,15021,15020)" },
  { key: 'outboundPortsInclude', kind: 'ports', long: 'istio-outbound-ports', short: 'q', env: ['ISTIO_OUTBOUND_PORTS', 'OUTBOUND_PORTS_INCLUDE'], help: 'outbound ports always captured' },
  { key: 'outboundPortsExclude', kind: 'ports', long: 'istio-local-outbound-ports-exclude', short: 'o', env: ['ISTIO_LOCAL_OUTBOUND_PORTS_EXCLUDE', 'OUTBOUND_PORTS_EXCLUDE'], help: 'outbound ports not captured' },
  { key: 'dnsCapture', kind: 'bool', long: 'dns-capture', env: ['REDIRECT_DNS', 'ISTIO_META_DNS_CAPTURE'], help: 'send app DNS (UDP/TCP 53) to 15053' },
  { key: 'dnsServers', kind: 'ips', long: 'dns-servers', help: 'with --dns-capture: only DNS to these resolvers (default: all)' },
  { key: 'ipv6', kind: 'bool', long: 'ipv6', env: ['ENABLE_INBOUND_IPV6'], help: 'also write ip6tables rules' },
];

/** istio-iptables spells --dns-capture as --redirect-dns. */
const LONG_ALIASES: Record<string, string> = { 'redirect-dns': 'dns-capture' };

function usageError(message: string): never {
  throw new LegateError('EUSAGE', message);
}

function list(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

function port(where: string, s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > 65535) usageError(`${where}: expected a port 1-65535, got ${JSON.stringify(s)}`);
  return n;
}

/** A CIDR as iptables takes it; a bare address is refused so typos do not widen capture. */
export function checkCidr(where: string, s: string): string {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const bits = slash < 0 ? '' : s.slice(slash + 1);
  const max = isIPv4(addr) ? 32 : isIPv6(addr) ? 128 : -1;
  if (max < 0 || !/^\d+$/.test(bits) || Number(bits) > max)
    usageError(`${where}: expected a CIDR such as 10.0.0.0/8 or fd00::/8, got ${JSON.stringify(s)}`);
  return `${addr.toLowerCase()}/${Number(bits)}`;
}

function convert(where: string, kind: Kind, raw: string): unknown {
  switch (kind) {
    case 'bool': {
      // Go's strconv.ParseBool, which Istio's flags and environment use.
      if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw)) return true;
      if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(raw)) return false;
      return usageError(`${where}: expected true or false, got ${JSON.stringify(raw)}`);
    }
    case 'port':
      return port(where, raw.trim());
    case 'uint': {
      const s = raw.trim();
      if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 0xffffffff) usageError(`${where}: expected an integer 1-4294967295, got ${JSON.stringify(raw)}`);
      return Number(s);
    }
    case 'ids': {
      const ids = list(raw);
      if (ids.length === 0) usageError(`${where}: expected one or more numeric ids, got ${JSON.stringify(raw)}`);
      for (const id of ids) if (!/^\d+$/.test(id) || Number(id) > 0xfffffffe) usageError(`${where}: expected numeric ids (e.g. 1337), got ${JSON.stringify(id)}`);
      return ids;
    }
    case 'mode': {
      const m = raw.trim().toUpperCase();
      if (m === '') return 'REDIRECT'; // Istio's default for an empty -m
      if (m !== 'REDIRECT' && m !== 'TPROXY') usageError(`${where}: expected REDIRECT or TPROXY, got ${JSON.stringify(raw)}`);
      return m;
    }
    case 'cidrs*':
      if (raw.trim() === '*') return '*';
      return list(raw).map((c) => checkCidr(where, c));
    case 'cidrs':
      if (raw.trim() === '*') usageError(`${where}: '*' is not allowed here; give CIDRs`);
      return list(raw).map((c) => checkCidr(where, c));
    case 'ports*':
      if (raw.trim() === '*') return '*';
      return list(raw).map((p) => port(where, p));
    case 'ports':
      return list(raw).map((p) => port(where, p));
    case 'ips':
      return list(raw).map((ip) => {
        if (!isIPv4(ip) && !isIPv6(ip)) usageError(`${where}: expected IP addresses, got ${JSON.stringify(ip)}`);
        return ip.toLowerCase();
      });
  }
}

function findFlag(arg: string): { spec: FlagSpec; name: string; inline?: string } {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const long = LONG_ALIASES[name] ?? name;
    const spec = IPTABLES_FLAGS.find((f) => f.long === long);
    if (!spec) usageError(`unknown option --${name} (see legate iptables --help)`);
    return { spec, name: `--${name}`, inline: eq < 0 ? undefined : arg.slice(eq + 1) };
  }
  // pflag shorthand forms: -p 15001, -p15001, -p=15001
  const spec = IPTABLES_FLAGS.find((f) => f.short === arg[1]);
  if (!spec || arg.length < 2) usageError(`unknown option ${arg} (see legate iptables --help)`);
  const rest = arg.slice(2);
  if (rest === '') return { spec, name: arg };
  if (spec.kind === 'bool' && !rest.startsWith('=')) usageError(`unknown option ${arg} (see legate iptables --help)`);
  return { spec, name: arg.slice(0, 2), inline: rest.startsWith('=') ? rest.slice(1) : rest };
}

/** Parses flags over Istio's environment variables over IPTABLES_DEFAULTS. */
export function parseIptablesOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): IptablesOptions {
  const set = new Map<Key, unknown>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-' || arg === '--') usageError(`unexpected argument ${JSON.stringify(arg)} (see legate iptables --help)`);
    const { spec, name, inline } = findFlag(arg);
    let raw: string;
    if (inline !== undefined) raw = inline;
    else if (spec.kind === 'bool') raw = 'true';
    else if (i + 1 < argv.length) raw = argv[++i]; // may be "" on purpose: -b "" turns inbound capture off
    else usageError(`${name} needs a value`);
    set.set(spec.key, convert(name, spec.kind, raw));
  }
  for (const spec of IPTABLES_FLAGS) {
    if (set.has(spec.key)) continue;
    // Empty variables count as unset, as with Istio's viper binding.
    const name = spec.env?.find((e) => env[e] !== undefined && env[e] !== '');
    if (name) set.set(spec.key, convert(`${name} (environment, for --${spec.long})`, spec.kind, env[name]!));
  }
  const opts = { ...IPTABLES_DEFAULTS, proxyGids: [] as string[] } as IptablesOptions;
  for (const [key, value] of set) (opts as unknown as Record<string, unknown>)[key] = value;
  if (!set.has('proxyGids')) opts.proxyGids = [...opts.proxyUids];
  return opts;
}

/** The help text, built from the flag table so that it cannot drift from what is parsed. */
export function iptablesUsage(): string {
  const lines = IPTABLES_FLAGS.map((f) => {
    const names = `${f.short ? `-${f.short}, ` : '    '}--${f.long}${f.kind === 'bool' ? '' : ' V'}`;
    const env = f.env ? `  [env ${f.env.join(', ')}]` : '';
    return `  ${names.padEnd(46)} ${f.help}${env}`;
  });
  return `usage: legate iptables [--dry-run] [--clean] [flags]\n${lines.join('\n')}\n`;
}
