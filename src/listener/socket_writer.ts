import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

/**
 * How bytes enter a socket on the data path. A write goes straight to the socket's libuv handle
 * when nothing waits in the socket's Writable buffer: Node's Writable bookkeeping around each
 * write (state updates, a write request per call, an after-write tick) costs about as much as
 * parsing a small request. What a user relies on is kept:
 * - order: libuv queues a write behind any still pending, and a socket whose Writable holds
 *   bytes (or is connecting, corked or ended) is written through socket.write() as before;
 * - backpressure: the return value is false once the handle's queue reaches the socket's
 *   high-water mark, and 'drain' is emitted when it falls below it again;
 * - errors: a failed write destroys the socket with Node's errno error, as socket.write() does;
 * - Socket.bytesWritten counts these writes (the handle counts them).
 * TLS sockets and runtimes without the stream binding always use socket.write().
 *
 * The contract for callers is socket_reader's: `data` must not be a view of a buffer that is
 * reused (the thread's read buffer); it is held until the kernel has taken it.
 */

interface WriteReq {
  handle: StreamHandle | null;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Buffer | null;
  socket: Socket | null;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
  writeQueueSize: number;
}

interface StreamBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

type SocketInternals = Socket & { _handle: StreamHandle | null; encrypted?: boolean };

function loadBinding(): StreamBinding | undefined {
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamBinding> }).binding('stream_wrap');
    if (typeof b.WriteWrap === 'function' && b.streamBaseState instanceof Int32Array && typeof b.kLastWriteWasAsync === 'number') {
      return b as StreamBinding;
    }
  } catch {
    // Not offered by this runtime: every write takes socket.write().
  }
  return undefined;
}

// LEGATE_SOCKET_WRITE=stream: every write through socket.write() (to rule this path out when debugging).
const binding = process.env.LEGATE_SOCKET_WRITE === 'stream' ? undefined : loadBinding();

/** Whether writes can bypass the Writable on this runtime. */
export const directWrites = binding !== undefined;

/** Sockets whose last direct write returned false and owe a 'drain'. */
const owesDrain = new WeakSet<Socket>();

/**
 * A write request object no write holds. Constructing one is a slow API call (about 900
 * instructions); libuv only binds the object to a native request when the write goes async,
 * so after a write the kernel took whole, the same object serves the next write.
 */
let spareReq: WriteReq | null = null;

function onWriteComplete(this: WriteReq, status: number): void {
  const socket = this.socket!;
  this.buffer = null;
  if (status < 0) {
    socket.destroy(writeError(status));
    return;
  }
  // Below the mark rather than empty: bytes a socket.write() queued behind ours may be what is left.
  if (this.handle!.writeQueueSize < socket.writableHighWaterMark && owesDrain.delete(socket)) socket.emit('drain');
}

function writeError(status: number): NodeJS.ErrnoException {
  const name = getSystemErrorName(status);
  const err: NodeJS.ErrnoException = new Error(`write ${name}`);
  err.code = name;
  err.errno = status;
  err.syscall = 'write';
  return err;
}

/** The data of the last writeBytes call when the kernel took all of it then (see tookWhole). */
let lastTakenWhole: Buffer | undefined;

/**
 * Whether the last writeBytes call was for `data` and the kernel took it whole in that call:
 * nothing holds `data` then, and its memory may be reused (the serializer's head buffers).
 */
export function tookWhole(data: Buffer): boolean {
  return lastTakenWhole === data;
}

/** Writes `data` to `socket`; false means "wait for 'drain'", as socket.write() answers. */
export function writeBytes(socket: Socket, data: Buffer): boolean {
  lastTakenWhole = undefined;
  const s = socket as SocketInternals;
  const handle = s._handle;
  // No `s.destroyed`: destroying a socket drops its handle in the same call, so `handle === null`
  // says it without the getter's two stream-state reads.
  if (
    binding === undefined || handle === null || s.encrypted === true || s.connecting ||
    s.writableLength !== 0 || s.writableCorked !== 0 || s.writableEnded
  ) {
    return socket.write(data);
  }
  const req = spareReq ?? new binding.WriteWrap();
  spareReq = null;
  req.handle = handle;
  req.oncomplete = onWriteComplete;
  req.async = false;
  req.bytes = 0;
  req.buffer = null;
  req.socket = socket;
  const err = handle.writeBuffer(req, data);
  if (err !== 0) {
    // As socket.write(): the error surfaces as the socket's 'error' after this call returns.
    process.nextTick(() => socket.destroy(writeError(err)));
    return false;
  }
  if (binding.streamBaseState[binding.kLastWriteWasAsync] === 0) {
    req.handle = null;
    req.socket = null;
    spareReq = req;
    lastTakenWhole = data;
    return true;
  }
  req.async = true;
  req.buffer = data; // libuv points into it until the write completes
  if (handle.writeQueueSize < socket.writableHighWaterMark) return true;
  owesDrain.add(socket);
  return false;
}

/**
 * Bytes written to `socket` that the kernel has not taken yet: what waits in its Writable plus
 * what direct writes left queued in the handle (the Writable does not see those). Bytes written
 * through socket.write() and already handed to the handle count twice: an upper bound, which is
 * what a buffer limit needs.
 */
export function queuedBytes(socket: Socket): number {
  const handle = (socket as SocketInternals)._handle;
  return socket.writableLength + (handle ? handle.writeQueueSize : 0);
}
