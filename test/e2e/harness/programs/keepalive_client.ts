/**
 * Two GETs on one keep-alive connection, for tests of what changes between requests on a
 * connection that stays open (a config change, a policy change).
 *
 *   node keepalive_client.js HOST PORT GAP_MS PATH HOST_HEADER
 *     Sends the first GET, prints `first` once it is answered, waits GAP_MS, sends the second on
 *     the same connection, then prints {codes, names} (status codes and x-server-name of both)
 *     or {codes, names, error} if the connection failed.
 */
import { connect } from 'node:net';

const [host, port, gapMs, path, hostHeader] = process.argv.slice(2);
const s = connect(Number(port), host);
let buf = '';
const codes: number[] = [];
const names: string[] = [];
const get = () => s.write(`GET ${path} HTTP/1.1\r\nhost: ${hostHeader}\r\n\r\n`);
s.on('data', (d) => {
  buf += d;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buf.slice(0, end);
    const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (buf.length < end + 4 + len) return;
    buf = buf.slice(end + 4 + len);
    codes.push(Number(head.split(' ')[1]));
    names.push(/x-server-name: *(\S+)/i.exec(head)?.[1] ?? '?');
    if (codes.length === 1) {
      console.log('first');
      setTimeout(get, Number(gapMs));
    } else {
      console.log(JSON.stringify({ codes, names }));
      s.end();
    }
  }
});
s.on('connect', get);
s.on('error', (e) => {
  console.log(JSON.stringify({ codes, names, error: e.message }));
  process.exit(1);
});
