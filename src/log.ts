/** Structured logging: one line per event, level changeable at runtime (admin /logging). */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'off';
const ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warning: 3, error: 4, critical: 5, off: 6 };

let threshold = ORDER[(process.env.LEGATE_LOG_LEVEL as LogLevel) ?? 'info'] ?? ORDER.info;
let json = process.env.LEGATE_LOG_FORMAT === 'json';

export function setLogLevel(level: string): boolean {
  if (!(level in ORDER)) return false;
  threshold = ORDER[level as LogLevel];
  return true;
}
export function logLevel(): LogLevel {
  return (Object.keys(ORDER) as LogLevel[]).find((k) => ORDER[k] === threshold) ?? 'info';
}
export function setLogFormat(format: 'text' | 'json'): void {
  json = format === 'json';
}

function emit(level: LogLevel, scope: string, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
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
  return {
    debug: (m, f) => emit('debug', scope, m, f),
    info: (m, f) => emit('info', scope, m, f),
    warn: (m, f) => emit('warning', scope, m, f),
    error: (m, f) => emit('error', scope, m, f),
  };
}
