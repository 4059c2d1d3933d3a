import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { formatDiagnostic } from '../../config/diagnostics.js';
import { FileConfigSource, type LoadOutcome } from '../../config/source.js';
import { DEFAULT_TRANSLATE_OPTIONS } from '../../config/translate/context.js';
import { LegateError } from '../../errors.js';
import { logger } from '../../log.js';
import { AdsServer } from './ads_server.js';
import { ConfigStore } from './config_store.js';
import { startStatusServer } from './status_server.js';

const log = logger('xds-server');

export interface XdsServerOptions {
  config: string[];
  address: string;
  port: number;
  debugPort: number;
  outboundPort: number;
  inboundPort: number;
}

export interface RunningXdsServer {
  port: number;
  debugPort: number;
  store: ConfigStore;
  ads: AdsServer;
  close(): void;
}

const port = (flag: string, v: string | undefined, dflt: number) => {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new LegateError('EOPTION', `${flag}: expected a port 0–65535, got ${JSON.stringify(v)}`);
  return Number(v);
};

export function parseXdsServerOptions(argv: string[]): XdsServerOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', multiple: true },
      address: { type: 'string' },
      port: { type: 'string' },
      'debug-port': { type: 'string' },
      'outbound-port': { type: 'string' },
      'inbound-port': { type: 'string' },
    },
  });
  const config = values.config ?? process.env.LEGATE_CONFIG?.split(',').filter(Boolean) ?? [];
  if (config.length === 0) throw new LegateError('EOPTION', 'xds-server: pass --config PATH (a file or directory), once or more');
  return {
    config,
    address: values.address ?? '0.0.0.0',
    port: port('--port', values.port, 15010),
    debugPort: port('--debug-port', values['debug-port'], 8080),
    outboundPort: port('--outbound-port', values['outbound-port'], DEFAULT_TRANSLATE_OPTIONS.outboundPort),
    inboundPort: port('--inbound-port', values['inbound-port'], DEFAULT_TRANSLATE_OPTIONS.inboundPort),
  };
}

/**
 * `legate xds-server`: reads and watches the files as a proxy would (the same loader and
 * watcher, which also validates each change for a default sidecar), and serves every good
 * version over ADS. A bad change is logged and the last good one keeps being served.
 */
export async function startXdsServer(opts: XdsServerOptions): Promise<RunningXdsServer> {
  const store = new ConfigStore({ outboundPort: opts.outboundPort, inboundPort: opts.inboundPort });
  const files = new FileConfigSource(opts.config, { ...DEFAULT_TRANSLATE_OPTIONS, outboundPort: opts.outboundPort, inboundPort: opts.inboundPort });
  files.on('files', (outcome: LoadOutcome) => store.set(outcome.resources ?? []));
  const first = files.load();
  if (!first.snapshot) throw new LegateError('ECONFIG', `configuration rejected:\n${first.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n')}`);
  files.watch();
  const ads = new AdsServer(store);
  const bound = await ads.listen(opts.address, opts.port);
  const debug = await startStatusServer(ads, store, opts.address, opts.debugPort);
  const debugPort = (debug.address() as AddressInfo).port;
  log.info(`ADS (SotW and Delta) on ${opts.address}:${bound}, /debug/syncz on ${debugPort}, serving ${opts.config.join(', ')}`);
  return {
    port: bound,
    debugPort,
    store,
    ads,
    close() {
      files.close();
      ads.close();
      debug.close();
    },
  };
}

export async function runXdsServer(argv: string[]): Promise<void> {
  const server = await startXdsServer(parseXdsServerOptions(argv));
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
