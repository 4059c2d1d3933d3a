import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** What the proxy takes from /etc/resolv.conf: upstream servers and the search path. */
export interface ResolvConf {
  /** `host:port` (IPv6 as `[addr]:port`). */
  nameservers: string[];
  /** Search domains, lower case, no trailing dot, in order. */
  search: string[];
  ndots: number;
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], ndots: 1 };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...args] = line.split(/\s+/);
    if (key === 'nameserver' && args[0]) {
      const ip = args[0].replace(/%.*$/, '');
      if (isIP(ip)) out.nameservers.push(formatServer(ip, 53));
    } else if (key === 'search' || key === 'domain') {
      // The last search/domain line wins, as in glibc.
      out.search = args.map((d) => d.toLowerCase().replace(/\.$/, '')).filter(Boolean);
    } else if (key === 'options') {
      for (const o of args) {
        const m = /^ndots:(\d+)$/.exec(o);
        if (m) out.ndots = Math.min(15, Number(m[1]));
      }
    }
  }
  return out;
}

export function readResolvConf(path = '/etc/resolv.conf'): ResolvConf {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return { nameservers: [], search: [], ndots: 1 };
  }
}

export function formatServer(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` → address and port (53 by default); throws on garbage. */
export function parseServer(s: string): { address: string; port: number } {
  let host = s.trim();
  let port = 53;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (v6) {
    host = v6[1];
    if (v6[2]) port = Number(v6[2]);
  } else if (isIP(host) !== 6) {
    const i = host.lastIndexOf(':');
    if (i > 0) {
      port = Number(host.slice(i + 1));
      host = host.slice(0, i);
    }
  }
  if (isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid DNS server ${JSON.stringify(s)} (expected IP or IP:port)`);
  return { address: host, port };
}
