/**
 * Slow clients, as slowhttptest makes them (Debian's slowhttptest is not installable here):
 * `node slow_clients.js --connect HOST:PORT --host NAME --slowloris N --slow-read M
 *  [--trickle-ms MS] [--read-path PATH]`.
 * N slowloris connections send a request line and then one more header byte every MS ms, never
 * finishing the head. M slow-read connections send a complete GET for PATH (a large answer)
 * and then stop reading, so the answer backs up into the proxy. Connections are opened in
 * batches; prints `{ev:'open', slowloris, slowRead}` once all are connected, and on SIGTERM
 * `{ev:'summary', slowlorisOpen, slowReadOpen, closedByPeer}` (how many the peer had closed).
 */
import { connect, type Socket } from 'node:net';

const args = process.argv.slice(2);
const opt = (name: string, dflt?: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const [host, portText] = (opt('--connect') ?? '').split(/:(?=\d+$)/);
const port = Number(portText);
const hostHeader = opt('--host', host)!;
const slowloris = Number(opt('--slowloris', '0'));
const slowRead = Number(opt('--slow-read', '0'));
const trickleMs = Number(opt('--trickle-ms', '1000'));
const readPath = opt('--read-path', '/?size=1048576')!;
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

const lorisSockets: Socket[] = [];
const readSockets: Socket[] = [];
let closedByPeer = 0;

function open(kind: 'loris' | 'read'): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      if (kind === 'loris') {
        s.write(`GET /slow HTTP/1.1\r\nHost: ${hostHeader}\r\nX-a: `);
        lorisSockets.push(s);
      } else {
        s.write(`GET ${readPath} HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`);
        // Read nothing: the kernel's receive buffer fills, then the proxy's sends block.
        s.pause();
        readSockets.push(s);
      }
      resolve();
    });
    s.on('error', () => resolve());
    s.on('close', () => closedByPeer++);
  });
}

const BATCH = 50;
for (let i = 0; i < slowloris; i += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, slowloris - i) }, () => open('loris')));
for (let i = 0; i < slowRead; i += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, slowRead - i) }, () => open('read')));
emit({ ev: 'open', slowloris: lorisSockets.length, slowRead: readSockets.length });

const trickle = setInterval(() => {
  for (const s of lorisSockets) if (!s.destroyed) s.write('x');
}, trickleMs);

process.on('SIGTERM', () => {
  clearInterval(trickle);
  emit({
    ev: 'summary',
    slowlorisOpen: lorisSockets.filter((s) => !s.destroyed).length,
    slowReadOpen: readSockets.filter((s) => !s.destroyed).length,
    closedByPeer,
  });
  for (const s of [...lorisSockets, ...readSockets]) s.destroy();
  process.exit(0);
});
