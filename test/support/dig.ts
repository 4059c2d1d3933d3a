import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DigResult {
  status: string;
  flags: string[];
  /** `name type data` per answer record, e.g. `db.test. A 127.0.0.1`. */
  answers: string[];
  raw: string;
}

/** Real `dig` (dnsutils) against 127.0.0.1:port; `extra` like ['+tcp'], ['+noedns', '+ignore']. */
export async function dig(port: number, name: string, type = 'A', extra: string[] = []): Promise<DigResult> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), name, type, '+noall', '+comments', '+answer', '+tries=1', '+time=3', ...extra]);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'NONE';
  const flags = (/;; flags: ([^;]*);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const answers = stdout
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .map((l) => l.split(/\s+/))
    .filter((f) => f.length >= 5)
    .map((f) => `${f[0]} ${f[3]} ${f.slice(4).join(' ')}`);
  return { status, flags, answers, raw: stdout };
}

export const digAvailable = async (): Promise<boolean> =>
  run('dig', ['-v']).then(
    () => true,
    () => false,
  );
