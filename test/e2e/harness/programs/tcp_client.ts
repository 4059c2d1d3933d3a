/**
 * TCP test client for e2e tests, run as the app inside a pod.
 *
 *   node tcp_client.js --connect HOST:PORT [--send BYTES] [--no-half-close] [--timeout MS]
 *     Connects, sends BYTES random bytes, then (unless --no-half-close) shuts down its
 *     writing side and reads until the peer ends or closes. Prints one JSON line:
 *     {connected, error?, local, localPort, sent, sentSha256, rx, rxSha256, rxHead,
 *      gotEnd, ms}.
 *
 *   node tcp_client.js --connect HOST:PORT --ping MS [--timeout MS]
 *     Sends "ping N\n" every MS ms and prints {ev:'pong', n, t} for each line echoed back,
 *     until the connection closes or the timeout; then {ev:'done', pongs, error?, gotEnd}.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

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

const sock = connect({ host, port, allowHalfOpen: true });
let connected = false;
let error: string | undefined;
let gotEnd = false;
let local: string | undefined;
let localPort: number | undefined;
sock.on('connect', () => {
  local = sock.localAddress;
  localPort = sock.localPort;
});
const timer = setTimeout(() => {
  error ??= 'TIMEOUT';
  sock.destroy();
}, timeoutMs);
sock.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
sock.on('end', () => (gotEnd = true));

const ping = opt('--ping');
if (ping !== undefined) {
  let n = 0;
  let pongs = 0;
  let buf = '';
  let every: NodeJS.Timeout | undefined;
  sock.on('connect', () => {
    connected = true;
    emit({ ev: 'connected', local: sock.localAddress, localPort: sock.localPort });
    every = setInterval(() => sock.write(`ping ${n++}\n`), Number(ping));
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
  sock.on('close', () => {
    clearInterval(every);
    clearTimeout(timer);
    emit({ ev: 'done', connected, pongs, error, gotEnd, ms: Date.now() - started });
  });
} else {
  const size = Number(opt('--send') ?? 0);
  const halfClose = !args.includes('--no-half-close');
  const payload = randomBytes(size);
  const rxHash = createHash('sha256');
  let rx = 0;
  const head: Buffer[] = [];
  let headLen = 0;
  sock.on('connect', () => {
    connected = true;
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
  sock.on('close', () => {
    clearTimeout(timer);
    emit({
      connected,
      error,
      local,
      localPort,
      sent: connected ? sock.bytesWritten : 0,
      sentSha256: createHash('sha256').update(payload).digest('hex'),
      rx,
      rxSha256: rxHash.digest('hex'),
      rxHead: Buffer.concat(head).toString('utf8'),
      gotEnd,
      ms: Date.now() - started,
    });
  });
}
