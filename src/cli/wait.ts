import { LegateError } from '../errors.js';

/**
 * `legate wait [--url URL] [--timeout SECONDS]`: returns once the proxy is ready, like
 * `pilot-agent wait`; the injected postStart hook of holdApplicationUntilProxyStarts, so
 * the kubelet starts the app only after its proxy serves.
 */
export async function runWait(args: string[]): Promise<number> {
  let url = `http://127.0.0.1:${process.env.LEGATE_READINESS_PORT ?? 15021}/healthz/ready`;
  let timeoutS = 60;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--url') url = args[++i];
    else if (args[i] === '--timeout') timeoutS = Number(args[++i]);
    else throw new LegateError('EUSAGE', `unknown flag ${JSON.stringify(args[i])}\nusage: legate wait [--url URL] [--timeout SECONDS]`);
  }
  const until = Date.now() + timeoutS * 1000;
  while (Date.now() < until) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).status === 200) return 0;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.stderr.write(`legate wait: ${url} not ready after ${timeoutS}s\n`);
  return 1;
}
