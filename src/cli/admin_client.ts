import { LegateError } from '../errors.js';

/** The flags every command that reads a running proxy takes. */
export interface AdminFlags {
  admin: string;
  output: 'short' | 'json' | 'yaml';
  positional: string[];
}

/** `--admin URL` (default: the local proxy, 127.0.0.1:15000, or LEGATE_ADMIN) and `-o short|json|yaml`. */
export function parseAdminFlags(args: string[], usage: string): AdminFlags {
  const flags: AdminFlags = { admin: process.env.LEGATE_ADMIN ?? 'http://127.0.0.1:15000', output: 'short', positional: [] };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].startsWith('--') ? args[i].split(/=(.*)/s, 2) : [args[i], undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new LegateError('EUSAGE', `${flag} needs a value\n${usage}`);
      return v;
    };
    if (flag === '--admin') flags.admin = value();
    else if (flag === '-o' || flag === '--output') {
      const o = value();
      if (o !== 'short' && o !== 'json' && o !== 'yaml') throw new LegateError('EUSAGE', `-o must be short, json or yaml\n${usage}`);
      flags.output = o;
    } else if (flag.startsWith('-')) throw new LegateError('EUSAGE', `unknown flag ${JSON.stringify(flag)}\n${usage}`);
    else flags.positional.push(flag);
  }
  if (!/^https?:\/\//.test(flags.admin)) flags.admin = `http://${flags.admin}`;
  flags.admin = flags.admin.replace(/\/+$/, '');
  return flags;
}

/** GETs an admin path; a proxy that does not answer is a one-line error, not a stack trace. */
export async function adminGet(admin: string, path: string): Promise<Response> {
  try {
    return await fetch(admin + path, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    throw new LegateError('EADMIN', `cannot reach the proxy's admin at ${admin}: ${(err as Error).cause ?? (err as Error).message}`);
  }
}

export async function adminJson(admin: string, path: string): Promise<any> {
  const res = await adminGet(admin, path);
  if (!res.ok) throw new LegateError('EADMIN', `${admin}${path}: HTTP ${res.status}`);
  return res.json();
}
