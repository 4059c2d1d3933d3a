import { Buffer } from 'node:buffer';
import type { OnReadOpts, Socket } from 'node:net';
import { beginReadRun, endReadRun } from '../loop_clock.js';
import { logger, stackOf } from '../log.js';

const log = logger('connection');

/**
 * How bytes leave a socket on the data path. Sockets the proxy creates read into one buffer per
 * thread (Node's `onread`) and hand each read to the socket's current reader synchronously:
 * no Readable stream, no buffer allocated per read (which also keeps the young generation and
 * external memory quiet, so fewer GC pauses land on requests).
 *
 * The contract for readers: **the bytes are valid only during the call** (and so is the Buffer
 * object: the same view may come back for a later read). A reader that keeps them, or writes
 * them to another socket, copies them first (`Buffer.from(bytes)`; small
 * copies come from Node's buffer pool). Sockets made elsewhere (a `net.Server`'s, in reuseport
 * mode) deliver 'data' events to the same readers under the same contract.
 */
export type BytesReader = (bytes: Buffer) => void;

interface ReaderState {
  reader: BytesReader | undefined;
  /** Bytes that arrived while no reader was set (copies), handed to the next reader. */
  early: Buffer[] | undefined;
  earlyBytes: number;
  /** Reading stopped because too many bytes waited for a reader. */
  pausedEarly: boolean;
  /** Stream-mode sockets: the 'data' listener that feeds the reader. */
  onData?: (b: Buffer) => void;
}

/** Past this many bytes waiting for a reader, the socket stops reading (as a Readable's highWaterMark would). */
const EARLY_LIMIT = 64 * 1024;

function newState(): ReaderState {
  return { reader: undefined, early: undefined, earlyBytes: 0, pausedEarly: false };
}

function keep(socket: Socket, s: ReaderState, b: Buffer): void {
  (s.early ??= []).push(b);
  s.earlyBytes += b.length;
  if (s.earlyBytes > EARLY_LIMIT && !s.pausedEarly) {
    s.pausedEarly = true;
    socket.pause();
  }
}

const READ_BUFFER_BYTES = 64 * 1024;
let threadBuffer: Buffer | undefined;
/**
 * Each socket's reader state, kept on the socket itself: read on every read, where a WeakMap
 * lookup (a hash probe) cost more than the rest of the read handler.
 */
const kReaderState = Symbol('legate.readerState');
type TrackedSocket = Socket & { [kReaderState]?: ReaderState };

function stateOf(socket: Socket): ReaderState | undefined {
  return (socket as TrackedSocket)[kReaderState];
}

function setState(socket: Socket, s: ReaderState | undefined): void {
  (socket as TrackedSocket)[kReaderState] = s;
}

/**
 * Views of the thread's read buffer, one per read length, made once: every read lands at its
 * start, and Buffer#subarray (a species lookup and a new object) cost more than the rest of the
 * read handler. Reads longer than VIEW_CACHE_MAX (rare for HTTP heads) take a fresh view. The
 * readers' contract already holds the bytes valid only during the call, which covers the view.
 */
const VIEW_CACHE_MAX = 4096;
const views: (Buffer | undefined)[] = new Array<Buffer | undefined>(VIEW_CACHE_MAX).fill(undefined);

function viewOf(buf: Buffer, nread: number): Buffer {
  if (nread >= VIEW_CACHE_MAX || buf !== threadBuffer) return buf.subarray(0, nread);
  return (views[nread] ??= buf.subarray(0, nread));
}

function onRead(this: Socket, nread: number, buf: Buffer): void {
  let s = stateOf(this);
  if (!s) setState(this, (s = newState()));
  const bytes = viewOf(buf, nread);
  beginReadRun();
  try {
    if (s.reader) s.reader(bytes);
    else keep(this, s, Buffer.from(bytes));
  } catch (err) {
    readerFailed(this, err);
  } finally {
    endReadRun();
  }
}

/**
 * A reader threw: a bug met on this connection's bytes. Only this connection goes (its close
 * handlers clean up what it was part of); uncaught, the exception would end the worker thread
 * and every connection on it, which a client could then do at will.
 */
function readerFailed(socket: Socket, err: unknown): void {
  log.error(`connection closed: its bytes failed a handler: ${stackOf(err)}`);
  socket.destroy();
}

/** Options for `new Socket()` / `connect()` that make the socket read into the thread's buffer. */
export function readerSocketOptions(): { onread: OnReadOpts } {
  threadBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
  return { onread: { buffer: threadBuffer, callback: onRead as (n: number, b: Uint8Array) => boolean } };
}

/** Call right after creating a socket with readerSocketOptions(): bytes before a reader is set are kept. */
export function trackReads(socket: Socket): Socket {
  setState(socket, newState());
  return socket;
}

/**
 * Sends the socket's bytes to `reader` from now on (undefined: keep them until the next reader).
 * Bytes kept meanwhile are handed over first.
 */
export function setReader(socket: Socket, reader: BytesReader | undefined): void {
  let s = stateOf(socket);
  if (!s) {
    // A stream-mode socket (not created with readerSocketOptions): same contract over 'data'.
    const state: ReaderState = (s = newState());
    setState(socket, state);
    state.onData = (b: Buffer) => {
      try {
        if (state.reader) state.reader(b);
        else keep(socket, state, b);
      } catch (err) {
        readerFailed(socket, err);
      }
    };
    socket.on('data', state.onData);
  }
  s.reader = reader;
  const early = s.early;
  if (!reader || !early) return;
  s.early = undefined;
  s.earlyBytes = 0;
  for (let i = 0; i < early.length; i++) {
    // A reader may hand the socket on (or set none) while it is replayed to: follow s.reader.
    if (!s.reader) {
      for (const b of early.slice(i)) keep(socket, s, b);
      return;
    }
    s.reader(early[i]!);
  }
  if (s.pausedEarly) {
    s.pausedEarly = false;
    socket.resume();
  }
}

/** The socket's current reader (a reader that handed the socket on mid-read passes the rest of its bytes on). */
export function readerOf(socket: Socket): BytesReader | undefined {
  return stateOf(socket)?.reader;
}

/**
 * Hands the socket to another consumer that reads it itself (a TLSSocket wrapping it): no
 * reader any more, and the bytes kept meanwhile are returned for that consumer to start from.
 */
export function detachReader(socket: Socket): Buffer[] {
  const s = stateOf(socket);
  if (!s) return [];
  setState(socket, undefined);
  if (s.onData) {
    socket.off('data', s.onData);
    socket.pause();
  }
  if (s.pausedEarly) socket.resume();
  return s.early ?? [];
}
