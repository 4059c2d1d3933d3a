import { Buffer } from 'node:buffer';

/**
 * Where the serializer writes heads: one slab per thread, cut front to back, and cut again from
 * its start once every head cut from it has been released. A head is released by the code that
 * wrote it, when the kernel took it whole (socket_writer's `tookWhole`) or its bytes were copied
 * elsewhere; a head that is queued, held or dropped is never released, and the slab it came
 * from is left to it (and to the GC) when the slab fills: a new one is made then.
 *
 * Why: `Buffer.allocUnsafe` per head took a new 8 KiB ArrayBuffer from V8 every few heads,
 * and one costs about 5 µs (backing store, its GC bookkeeping, the free after a scavenge), about
 * 150 ns a head. A released slab hands out the same views again (one per length from its start).
 */
/**
 * As Node's Buffer pool (8 KiB, pooled below 4 KiB): a head a client never reads keeps at most
 * this much memory alive, as it did before.
 */
const SLAB_BYTES = 8 * 1024;
/** Longer heads get a Buffer of their own: a few would fill the slab. */
const SLAB_HEAD_MAX = 4 * 1024;
/** Heads out at once from one slab (usually one or two); past it the slab is left to them. */
const CUTS_MAX = 64;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let offset = 0;
/**
 * The heads cut from the slab and not released, first `outstanding` entries. Identity tells a
 * head of this slab from one of a slab left behind (a `.buffer` read is a call into C++).
 */
const cuts: (Buffer | undefined)[] = new Array<Buffer | undefined>(CUTS_MAX).fill(undefined);
let outstanding = 0;
/** Views of the slab's first `length` bytes, by length: most heads are cut there. */
let views: (Buffer | undefined)[] = [];

/** A Buffer of `length` bytes for a head; release it with releaseHeadBuffer when it is done with. */
export function headBuffer(length: number): Buffer {
  if (length > SLAB_HEAD_MAX) return Buffer.allocUnsafe(length);
  if (offset + length > SLAB_BYTES || outstanding === CUTS_MAX) newSlab();
  const b = offset === 0 ? (views[length] ??= slab.subarray(0, length)) : slab.subarray(offset, offset + length);
  offset += length;
  cuts[outstanding++] = b;
  return b;
}

/**
 * `head` (from headBuffer) is no longer referenced by anything that will read it: not queued on
 * a socket, not held. Its bytes may be handed out again. A head of its own Buffer, or of a slab
 * left behind, is not among the cuts: the GC has it.
 */
export function releaseHeadBuffer(head: Buffer): void {
  for (let i = outstanding - 1; i >= 0; i--) {
    if (cuts[i] !== head) continue;
    cuts[i] = cuts[--outstanding];
    cuts[outstanding] = undefined;
    if (outstanding === 0) offset = 0;
    return;
  }
}

function newSlab(): void {
  slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  offset = 0;
  cuts.fill(undefined);
  outstanding = 0;
  views = [];
}

/** For tests: heads cut and not released from the current slab, and where the next is cut. */
export function headBufferState(): { outstanding: number; offset: number } {
  return { outstanding, offset };
}
