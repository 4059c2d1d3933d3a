/**
 * Structured logging: one line per event, levels changeable at runtime (admin /logging), for
 * every logger at once or one logger (scope) at a time, in every thread of the process.
 */
import { BroadcastChannel, isMainThread } from 'node:worker_threads';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'off';
const ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warning: 3, error: 4, critical: 5, off: 6 };
const NAMES = Object.keys(ORDER) as LogLevel[];

/** Loggers the proxy has, so that /logging lists them even before a thread has used one. */
const KNOWN_LOGGERS = ['admin', 'config', 'dns', 'http', 'iptables', 'listener', 'main', 'native', 'reuseport', 'upstream', 'workers'];

let defaultLevel = ORDER[(process.env.LEGATE_LOG_LEVEL as LogLevel) ?? 'info'] ?? ORDER.info;
let json = process.env.LEGATE_LOG_FORMAT === 'json';
/** One cell per logger, read on every log call (no lookup on the hot path). */
const scopes = new Map<string, { level: number }>();
for (const name of KNOWN_LOGGERS) scopes.set(name, { level: defaultLevel });

interface LevelState {
  defaultLevel: number;
  scopes: [string, number][];
}
type LevelMessage = { state: LevelState } | { ask: true };

// Levels travel to every thread (workers log too). A thread that starts later asks, and the
// main thread, which owns /logging, answers with the current levels.
const channel = new BroadcastChannel('legate.log-levels');
channel.unref();
channel.onmessage = (event) => {
  const msg = (event as { data: LevelMessage }).data;
  if ('ask' in msg) {
    if (isMainThread) channel.postMessage({ state: levelState() } satisfies LevelMessage);
    return;
  }
  defaultLevel = msg.state.defaultLevel;
  for (const [name, level] of msg.state.scopes) cell(name).level = level;
};
if (!isMainThread) channel.postMessage({ ask: true } satisfies LevelMessage);

function cell(scope: string): { level: number } {
  let c = scopes.get(scope);
  if (!c) scopes.set(scope, (c = { level: defaultLevel }));
  return c;
}

function levelState(): LevelState {
  return { defaultLevel, scopes: [...scopes].map(([name, c]) => [name, c.level]) };
}

export function isLogLevel(level: string): level is LogLevel {
  return Object.hasOwn(ORDER, level);
}

/** Every logger to `level` (Envoy's `/logging?level=`), in all threads. */
export function setLogLevel(level: string): boolean {
  if (!isLogLevel(level)) return false;
  defaultLevel = ORDER[level];
  for (const c of scopes.values()) c.level = defaultLevel;
  channel.postMessage({ state: levelState() } satisfies LevelMessage);
  return true;
}

/** Some loggers to their own levels (Envoy's `/logging?paths=name:level,…` and `/logging?name=level`). */
export function setLoggerLevels(levels: Record<string, string>): boolean {
  for (const [name, level] of Object.entries(levels)) if (!scopes.has(name) || !isLogLevel(level)) return false;
  for (const [name, level] of Object.entries(levels)) cell(name).level = ORDER[level as LogLevel];
  channel.postMessage({ state: levelState() } satisfies LevelMessage);
  return true;
}

/** The default level (what `logger()` gets for a new scope). */
export function logLevel(): LogLevel {
  return NAMES[defaultLevel] ?? 'info';
}

/** Every logger and its level, sorted by name. */
export function loggerLevels(): [string, LogLevel][] {
  return [...scopes].map(([name, c]): [string, LogLevel] => [name, NAMES[c.level] ?? 'info']).sort((a, b) => a[0].localeCompare(b[0]));
}

export function setLogFormat(format: 'text' | 'json'): void {
  json = format === 'json';
}

function emit(level: LogLevel, scope: string, msg: string, fields?: Record<string, unknown>): void {
  const time = new Date().toISOString();
  let line: string;
  if (json) line = JSON.stringify({ time, level, scope, msg, ...fields });
  else {
    line = `${time}\t${level}\t${scope}\t${msg}`;
    if (fields) for (const [k, v] of Object.entries(fields)) line += `\t${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
  }
  process.stderr.write(line + '\n');
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function logger(scope: string): Logger {
  const c = cell(scope);
  return {
    debug: (m, f) => c.level <= ORDER.debug && emit('debug', scope, m, f),
    info: (m, f) => c.level <= ORDER.info && emit('info', scope, m, f),
    warn: (m, f) => c.level <= ORDER.warning && emit('warning', scope, m, f),
    error: (m, f) => c.level <= ORDER.error && emit('error', scope, m, f),
  };
}

/** A caught exception for a log line: its stack when it has one (a bug is being reported). */
export function stackOf(err: unknown): string {
  return (err as Error | undefined)?.stack ?? String(err);
}
