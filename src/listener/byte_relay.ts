import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { setReader } from './socket_reader.js';
import { writeBytes } from './socket_writer.js';
import { runGuarded } from '../guarded_timer.js';

/** What a relay's owner wants to hear about (tcp_proxy: its idle timeout and flow-control stats). */
export interface RelayEvents {
  /** A chunk went across. */
  onChunk?(): void;
  /** `to` is full: `from` stopped reading. */
  onPause?(): void;
  /** `to` drained: `from` reads again. */
  onResume?(): void;
}

/**
 * One direction of a byte relay (tcp_proxy, an HTTP upgrade's tunnel): copies of `from`'s bytes
 * written to `to` straight to its handle (socket_writer.ts), `from` paused while `to` is full,
 * and `from`'s FIN carried across as `to.end()`.
 */
export function relayBytes(from: Socket, to: Socket, events: RelayEvents = {}): void {
  const { onChunk, onPause, onResume } = events;
  setReader(from, (chunk) => {
    onChunk?.();
    // A copy: the read buffer is reused once this returns.
    if (!writeBytes(to, Buffer.from(chunk))) {
      from.pause();
      onPause?.();
    }
  });
  const resume = () => {
    if (!from.isPaused()) return;
    from.resume();
    onResume?.();
  };
  const closeBoth = () => {
    from.destroy();
    to.destroy();
  };
  // Outside a read (whose guard ends the connection on a throw): guarded here, for the owner's onResume.
  to.on('drain', () => runGuarded(resume, 'a relay\'s drain', closeBoth));
  // A FIN that arrived before the relay started has already emitted 'end' when nothing was
  // buffered (net.Socket reads EOF eagerly): carry it across now or it is lost.
  if (from.readableEnded) to.end();
  else from.once('end', () => to.end());
}
