/**
 * TCP test client for e2e tests, run as the app inside a pod.
 *
 *   node tcp_client.js --connect HOST:PORT [--send BYTES[,BYTES…]] [--no-half-close] [--timeout MS]
 *     One connection per BYTES value, all at once: each connects, sends BYTES random bytes,
 *     then (unless --no-half-close) shuts down its writing side and reads until the peer ends
 *     or closes. Prints one JSON line per connection, in --send order, when all are done:
 *     {i, connected, error?, local, localPort, sent, sentSha256, rx, rxSha256, rxHead, gotEnd, ms}.
 *
 *   node tcp_client.js --connect HOST:PORT --ping MS [--timeout MS]
 *     Sends "ping N\n" every MS ms and prints {ev:'pong', n, t} for each line echoed back,
 *     until the connection closes or the timeout; then {ev:'done', pongs, error?, gotEnd}.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const [host, portText] = (opt('--connect') ?? '').split(/:(?=\d+$)/);
const port = Number(portText);
const timeoutMs = Number(opt('--timeout') ?? 15000);
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');
const started = Date.now();

/** A connection with the bookkeeping both modes share. */
function open(): { sock: Socket; info: { connected: boolean; error?: string; gotEnd: boolean; local?: string; localPort?: number }; done: Promise<void> } {
  const sock = connect({ host, port, allowHalfOpen: true });
  const info: { connected: boolean; error?: string; gotEnd: boolean; local?: string; localPort?: number } = { connected: false, gotEnd: false };
  sock.on('connect', () => {
    info.connected = true;
    info.local = sock.localAddress;
    info.localPort = sock.localPort;
  });
  sock.on('error', (e: NodeJS.ErrnoException) => (info.error ??= e.code ?? e.message));
  sock.on('end', () => (info.gotEnd = true));
  const timer = setTimeout(() => {
    info.error ??= 'TIMEOUT';
    sock.destroy();
  }, timeoutMs);
  const done = new Promise<void>((resolve) =>
    sock.on('close', () => {
      clearTimeout(timer);
      resolve();
    }),
  );
  return { sock, info, done };
}

async function transfer(i: number, size: number, halfClose: boolean): Promise<Record<string, unknown>> {
  const { sock, info, done } = open();
  const payload = randomBytes(size);
  const rxHash = createHash('sha256');
  let rx = 0;
  const head: Buffer[] = [];
  let headLen = 0;
  sock.on('connect', () => {
    sock.write(payload);
    if (halfClose) sock.end();
  });
  sock.on('data', (b: Buffer) => {
    rx += b.length;
    rxHash.update(b);
    if (headLen < 4096) {
      head.push(b.subarray(0, 4096 - headLen));
      headLen += Math.min(b.length, 4096 - headLen);
    }
  });
  await done;
  return {
    i,
    ...info,
    sent: info.connected ? sock.bytesWritten : 0,
    sentSha256: createHash('sha256').update(payload).digest('hex'),
    rx,
    rxSha256: rxHash.digest('hex'),
    rxHead: Buffer.concat(head).toString('utf8'),
    ms: Date.now() - started,
  };
}

async function ping(everyMs: number): Promise<void> {
  const { sock, info, done } = open();
  let n = 0;
  let pongs = 0;
  let buf = '';
  let every: NodeJS.Timeout | undefined;
  sock.on('connect', () => {
    emit({ ev: 'connected', local: sock.localAddress, localPort: sock.localPort });
    every = setInterval(() => sock.write(`ping ${n++}\n`), everyMs);
  });
  sock.setEncoding('utf8');
  sock.on('data', (s: string) => {
    buf += s;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      pongs++;
      emit({ ev: 'pong', n: Number(line.split(' ')[1]), t: Date.now() });
    }
  });
  await done;
  clearInterval(every);
  emit({ ev: 'done', connected: info.connected, pongs, error: info.error, gotEnd: info.gotEnd, ms: Date.now() - started });
}

const everyMs = opt('--ping');
if (everyMs !== undefined) {
  await ping(Number(everyMs));
} else {
  const sizes = (opt('--send') ?? '0').split(',').map(Number);
  const halfClose = !args.includes('--no-half-close');
  const results = await Promise.all(sizes.map((size, i) => transfer(i, size, halfClose)));
  for (const r of results) emit(r);
}
