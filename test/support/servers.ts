import { createServer, type Server, type Socket, connect } from 'node:net';
import { once } from 'node:events';

/** A TCP echo server on loopback that records what it saw. */
export async function echoServer(): Promise<{ server: Server; port: number; connections: number; peers: string[] }> {
  const state = { server: undefined as unknown as Server, port: 0, connections: 0, peers: [] as string[] };
  state.server = createServer({ allowHalfOpen: true }, (s: Socket) => {
    state.connections++;
    state.peers.push(`${s.remoteAddress}`);
    s.pipe(s);
  });
  state.server.listen(0, '127.0.0.1');
  await once(state.server, 'listening');
  state.port = (state.server.address() as { port: number }).port;
  return state;
}

/** `n` distinct free TCP ports on loopback (all held open until each is known, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = createServer().listen(0, '127.0.0.1');
      await once(s, 'listening');
      return s;
    }),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

/** Does a TCP connect to host:port succeed? */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Connects, writes `payload`, half-closes, and collects everything until the peer closes. */
export async function roundTrip(port: number, payload: Buffer, host = '127.0.0.1'): Promise<{ data: Buffer; error?: string }> {
  const sock = connect({ port, host, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  sock.on('data', (c) => chunks.push(c));
  let error: string | undefined;
  sock.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  await once(sock, 'connect').catch(() => undefined);
  sock.end(payload);
  await once(sock, 'close');
  return { data: Buffer.concat(chunks), error };
}
