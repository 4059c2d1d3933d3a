import { loggerLevels, setLoggerLevels, setLogLevel } from '../log.js';

const USAGE =
  'usage: /logging?<name>=<level> (change single level)\n' +
  'usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n' +
  'usage: /logging?level=<level> (change all levels)\n' +
  'levels: trace debug info warning error critical off\n';

/**
 * Envoy's POST /logging: `?level=` sets every logger, `?paths=a:debug,b:info` or `?a=debug` some
 * of them; the answer lists every logger and its level. Changes reach the workers too (log.ts).
 */
export function changeLogging(params: URLSearchParams): { status: number; body: string } {
  let ok = true;
  const level = params.get('level');
  const paths = params.get('paths');
  if (level !== null) ok = setLogLevel(level);
  else if (paths !== null) {
    const levels: Record<string, string> = {};
    for (const pair of paths.split(',').filter(Boolean)) {
      const [name, lvl] = pair.split(':');
      if (!name || !lvl) ok = false;
      else levels[name] = lvl;
    }
    ok = ok && setLoggerLevels(levels);
  } else {
    const entries = [...params];
    if (entries.length > 1) ok = false;
    else if (entries.length === 1) ok = setLoggerLevels({ [entries[0][0]]: entries[0][1] });
  }
  const active = 'active loggers:\n' + loggerLevels().map(([name, l]) => `  ${name}: ${l}\n`).join('');
  return ok ? { status: 200, body: active } : { status: 404, body: USAGE + active };
}
