import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet } from 'dns-packet';

/** RFC 1035 / 6895 response codes used here. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export const FLAG_AA = 1 << 10;
export const FLAG_TC = 1 << 9;
export const FLAG_RD = 1 << 8;
export const FLAG_RA = 1 << 7;
export const FLAG_CD = 1 << 4;
const OPCODE_MASK = 0xf << 11;

/** What a decoded query carries besides the header (dns-packet leaves these untyped). */
export type Query = DecodedPacket & { rcode?: string; opcode?: string };

/** The TTL Istio's agent gives the names it answers itself. */
export const LOCAL_TTL_SEC = 30;
/** Our own EDNS UDP payload size (the DNS flag day 2020 value). */
export const EDNS_UDP_SIZE = 1232;

export function queryOpt(q: DecodedPacket): OptAnswer | undefined {
  return q.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
}

/** The largest UDP response the client accepts: its EDNS size (at least 512), else 512. */
export function udpLimit(q: DecodedPacket): number {
  const opt = queryOpt(q);
  return opt ? Math.max(512, Math.min(65535, opt.udpPayloadSize)) : 512;
}

/** Header flags of a response to `q`: opcode, RD and CD echoed, RA set (the proxy recurses via upstream). */
export function responseFlags(q: DecodedPacket, rcode: number, extra = 0): number {
  return ((q.flags ?? 0) & (OPCODE_MASK | FLAG_RD | FLAG_CD)) | FLAG_RA | extra | rcode;
}

/** An OPT record for a response when the query had one (RFC 6891: answer EDNS with EDNS). */
export function responseOpt(q: DecodedPacket): OptAnswer[] {
  const opt = queryOpt(q);
  if (!opt) return [];
  return [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: opt.flags & 0x8000, flag_do: opt.flag_do, options: [] }];
}

/**
 * Encodes a response within `max` bytes. When it does not fit, TC is set and answer records
 * are dropped from the end until it does (authority and non-OPT additional records first);
 * a UDP client then retries over TCP.
 */
export function encodeFitting(p: Packet, max: number): { buf: Buffer; truncated: boolean } {
  const full = packet.encode(p);
  if (full.length <= max) return { buf: full, truncated: false };
  const additionals = (p.additionals ?? []).filter((a) => a.type === 'OPT');
  const answers = p.answers ?? [];
  const shrunk = (k: number): Packet => ({ ...p, flags: (p.flags ?? 0) | FLAG_TC, answers: answers.slice(0, k), authorities: [], additionals });
  let lo = 0;
  let hi = answers.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (packet.encodingLength(shrunk(mid)) <= max) lo = mid;
    else hi = mid - 1;
  }
  return { buf: packet.encode(shrunk(lo)), truncated: true };
}

/** A response with no records: SERVFAIL, NXDOMAIN, NOTIMP… echoing the question. */
export function emptyResponse(q: DecodedPacket, rcode: number): Buffer {
  return packet.encode({ type: 'response', id: q.id, flags: responseFlags(q, rcode), questions: q.questions, additionals: responseOpt(q) });
}

/** FORMERR for a query that could not be decoded: only its ID is known. */
export function formErr(raw: Buffer): Buffer | undefined {
  if (raw.length < 12) return undefined;
  return packet.encode({ type: 'response', id: raw.readUInt16BE(0), flags: ((raw.readUInt16BE(2) & (OPCODE_MASK | FLAG_RD)) | FLAG_RA | RCODE.FORMERR) as number });
}

/** Copies answers with TTLs lowered by the seconds they spent in the cache. */
export function agedRecords(records: Answer[] | undefined, elapsedSec: number): Answer[] {
  return (records ?? []).map((r) => (r.type === 'OPT' ? r : { ...r, ttl: Math.max(0, (r.ttl ?? 0) - elapsedSec) })) as Answer[];
}

/** Byte length of the question section starting at offset 12 (labels, then type and class), or -1. */
export function questionEnd(buf: Buffer): number {
  let i = 12;
  while (i < buf.length) {
    const len = buf[i];
    if (len === 0) return i + 5 <= buf.length ? i + 5 : -1;
    if ((len & 0xc0) !== 0) return -1;
    i += len + 1;
  }
  return -1;
}
