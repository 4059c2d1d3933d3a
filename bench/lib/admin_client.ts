import { get } from 'node:http';
import { ADMIN } from './targets/legate.js';

/** GET on Legate's admin port; resolves to the body (rejects on non-200). */
export function adminGet(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: ADMIN.host, port: ADMIN.port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

/** A counter from /stats (text format), 0 when absent. */
export async function adminCounter(name: string): Promise<number> {
  const text = await adminGet(`/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`);
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
