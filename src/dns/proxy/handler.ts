import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, Packet, SoaAnswer } from 'dns-packet';
import { DnsCache, DEFAULT_CACHE_LIMITS, type CacheLimits } from '../cache.js';
import type { NameLookup } from '../name_lookup.js';
import { NO_STATS, type DnsCounters } from '../stats.js';
import {
  agedRecords,
  emptyResponse,
  encodeFitting,
  FLAG_AA,
  FLAG_TC,
  formErr,
  LOCAL_TTL_SEC,
  queryOpt,
  RCODE,
  responseFlags,
  responseOpt,
  udpLimit,
  type Query,
} from './message.js';
import type { UpstreamForwarder } from './upstream.js';

type Transport = 'udp' | 'tcp';

interface Cached {
  response: DecodedPacket;
}

const TCP_LIMIT = 65535;

/**
 * One DNS query in, one answer out (or none for garbage that is not even a header). Names in
 * the table are answered here, authoritatively, for A and AAAA (an empty NOERROR when the name
 * has no address of that family); everything else is forwarded upstream byte for byte (EDNS
 * included), and successful or negative answers are cached by name, type, class and the
 * EDNS/DO/CD bits. Upstream failure is SERVFAIL.
 */
export class DnsQueryHandler {
  readonly cache: DnsCache<Cached>;

  constructor(
    private lookup: NameLookup,
    private readonly upstream: UpstreamForwarder,
    private readonly stats: DnsCounters = NO_STATS,
    cacheLimits: CacheLimits = { ...DEFAULT_CACHE_LIMITS, minTtlSec: 0 },
  ) {
    this.cache = new DnsCache(cacheLimits);
  }

  setLookup(lookup: NameLookup): void {
    this.lookup = lookup;
  }

  get names(): NameLookup {
    return this.lookup;
  }

  async handle(raw: Buffer, transport: Transport): Promise<Buffer | undefined> {
    this.stats.inc('proxyQueries');
    let q: Query;
    try {
      q = packet.decode(raw) as Query;
    } catch {
      this.stats.inc('proxyMalformed');
      return formErr(raw);
    }
    if (q.type === 'response') return undefined;
    const question = q.questions?.[0];
    if (!question || q.questions!.length !== 1 || (q.opcode ?? 'QUERY') !== 'QUERY') return this.forward(raw, q, transport);
    const limit = transport === 'udp' ? udpLimit(q) : TCP_LIMIT;
    const qname = question.name.toLowerCase().replace(/\.$/, '');
    if ((question.type === 'A' || question.type === 'AAAA') && (question.class ?? 'IN') === 'IN') {
      const hit = this.lookup.lookup(qname);
      if (hit) {
        this.stats.inc('proxyAnsweredLocal');
        const ips = question.type === 'A' ? hit.v4 : hit.v6;
        const target = hit.viaSearch ? hit.alias : question.name;
        const answers: Answer[] = [];
        if (hit.viaSearch) answers.push({ type: 'CNAME', name: question.name, ttl: LOCAL_TTL_SEC, class: 'IN', data: hit.alias });
        for (const ip of ips) answers.push({ type: question.type, name: target, ttl: LOCAL_TTL_SEC, class: 'IN', data: ip });
        return this.fit({ type: 'response', id: q.id, flags: responseFlags(q, RCODE.NOERROR, FLAG_AA), questions: q.questions, answers, additionals: responseOpt(q) }, limit);
      }
    }
    const key = cacheKey(qname, q);
    const cached = this.cache.get(key);
    if (cached) {
      this.stats.inc('proxyCacheHits');
      const r = cached.value.response;
      const elapsed = Math.floor((Date.now() - cached.storedAt) / 1000);
      const rcode = (r.flags ?? 0) & 0xf;
      if (rcode === RCODE.NXDOMAIN) this.stats.inc('proxyNxdomain');
      return this.fit(
        {
          type: 'response',
          id: q.id,
          flags: responseFlags(q, rcode, (r.flags ?? 0) & FLAG_AA),
          questions: q.questions,
          answers: agedRecords(r.answers, elapsed),
          authorities: agedRecords(r.authorities, elapsed),
          additionals: agedRecords(r.additionals, elapsed),
        },
        limit,
      );
    }
    return this.forward(raw, q, transport, key);
  }

  private fit(p: Packet, limit: number): Buffer {
    const { buf, truncated } = encodeFitting(p, limit);
    if (truncated) this.stats.inc('proxyTruncated');
    return buf;
  }

  private async forward(raw: Buffer, q: Query, transport: Transport, key?: string): Promise<Buffer> {
    this.stats.inc('proxyForwarded');
    let reply: Buffer;
    try {
      reply = await this.upstream.forward(raw, transport);
    } catch {
      this.stats.inc('proxyUpstreamFailures');
      this.stats.inc('proxyServfail');
      return emptyResponse(q, RCODE.SERVFAIL);
    }
    let r: DecodedPacket;
    try {
      r = packet.decode(reply);
    } catch {
      // Relayed as it came: the client may make more of it than we can.
      return reply;
    }
    const rcode = (r.flags ?? 0) & 0xf;
    if (rcode === RCODE.NXDOMAIN) this.stats.inc('proxyNxdomain');
    if (key && !((r.flags ?? 0) & FLAG_TC) && (rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN)) {
      const negative = rcode === RCODE.NXDOMAIN || (r.answers ?? []).length === 0;
      this.cache.set(key, { response: r }, negative ? negativeTtl(r) : minTtl(r.answers ?? []), negative);
    }
    return reply;
  }
}

function cacheKey(qname: string, q: DecodedPacket): string {
  const question = q.questions![0];
  const opt = queryOpt(q);
  return `${qname}|${question.type}|${question.class ?? 'IN'}|${opt ? 'e' : ''}${opt?.flag_do ? 'd' : ''}${q.flag_cd ? 'c' : ''}`;
}

function minTtl(records: Answer[]): number {
  let m = Number.POSITIVE_INFINITY;
  for (const r of records) if (r.type !== 'OPT') m = Math.min(m, r.ttl ?? 0);
  return Number.isFinite(m) ? m : 0;
}

/** RFC 2308: the SOA's own TTL capped by its MINIMUM field; NaN (the configured default) without a SOA. */
function negativeTtl(r: DecodedPacket): number {
  const soa = (r.authorities ?? []).find((a): a is SoaAnswer => a.type === 'SOA');
  return soa ? Math.min(soa.ttl ?? 0, soa.data.minimum ?? Number.POSITIVE_INFINITY) : Number.NaN;
}
