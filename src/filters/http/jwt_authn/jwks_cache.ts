import type { createLocalJWKSet, JSONWebKeySet } from 'jose';
import { jose } from './jose_lazy.js';
import { logger } from '../../../log.js';

const log = logger('jwt');

export type KeySet = ReturnType<typeof createLocalJWKSet>;

/** How often a fetched JWKS is refreshed (Envoy's remote_jwks cache_duration default is 5 min). */
const REFRESH_MS = 5 * 60_000;
/** A failed fetch is retried this soon while no keys are known. */
const RETRY_MS = 2000;
const FETCH_TIMEOUT_MS = 5000;

interface Entry {
  keys?: KeySet;
  /** Settles when the first fetch (or retry) ends; requests wait on it instead of fetching. */
  ready: Promise<void>;
  error?: string;
}

/**
 * JWKS by URI, per worker: fetched once when a configuration first names the URI, then
 * refreshed in the background. A request never fetches; until the first answer it waits for
 * the fetch already under way (as Envoy pauses a request on a cold remote JWKS).
 */
const entries = new Map<string, Entry>();

export function jwksFor(uri: string): Entry {
  let e = entries.get(uri);
  if (!e) {
    const entry: Entry = { ready: Promise.resolve() };
    entry.ready = refresh(uri, entry);
    entries.set(uri, (e = entry));
    setInterval(() => void refresh(uri, entry), REFRESH_MS).unref();
  }
  return e;
}

async function refresh(uri: string, entry: Entry): Promise<void> {
  try {
    const res = await fetch(uri, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = (await res.json()) as JSONWebKeySet;
    entry.keys = (await jose()).createLocalJWKSet(body);
    entry.error = undefined;
  } catch (err) {
    entry.error = (err as Error).message;
    log.warn(`jwt_authn: JWKS fetch from ${uri} failed: ${entry.error}`);
    if (!entry.keys) setTimeout(() => void refresh(uri, entry), RETRY_MS).unref();
  }
}

/** Inline JWKS (RequestAuthentication `jwks`), parsed once per text. */
const inline = new Map<string, KeySet>();
export async function inlineJwks(text: string): Promise<KeySet | undefined> {
  let k = inline.get(text);
  if (!k) {
    const { createLocalJWKSet } = await jose();
    try {
      inline.set(text, (k = createLocalJWKSet(JSON.parse(text) as JSONWebKeySet)));
    } catch {
      return undefined;
    }
  }
  return k;
}
