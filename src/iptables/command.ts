/** `legate iptables`: Istio's istio-init / istio-iptables for Legate sidecars. */
import { errorCode } from '../errors.js';
import { logger } from '../log.js';
import { applyIptables, cleanIptables } from './apply.js';
import { iptablesUsage, parseIptablesOptions, type IptablesOptions } from './options.js';
import { renderRestore, stateOf } from './restore.js';
import { buildRules, routeCommands, type Family } from './rules.js';

/**
 * What would be written: `iptables-restore --noflush` input for IPv4, then (with --ipv6)
 * the ip6tables-restore input; `ip` commands are listed as comments, so each section stays
 * valid restore input. With --clean, the removal of the rules these options install.
 */
export function renderDryRun(o: IptablesOptions): string {
  const families: Family[] = o.ipv6 ? [4, 6] : [4];
  let out = '';
  for (const family of families) {
    const tool = family === 4 ? 'iptables-restore' : 'ip6tables-restore';
    const rules = buildRules(o, family);
    out += o.clean
      ? renderRestore([], stateOf(rules), `# legate iptables --clean: ${tool} --noflush input (IPv${family}), for rules installed with these flags`)
      : renderRestore(rules, undefined, `# legate iptables: ${tool} --noflush input (IPv${family})`);
  }
  const routes = routeCommands(o);
  if (routes.length > 0 && !o.clean) out += `# and, with ip(8):\n${routes.map((r) => `#   ip ${r.join(' ')}\n`).join('')}`;
  return out;
}

export async function runIptables(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(iptablesUsage());
    return 0;
  }
  let opts: IptablesOptions;
  try {
    opts = parseIptablesOptions(argv);
  } catch (err) {
    process.stderr.write(`legate iptables: ${(err as Error).message}\n`);
    return errorCode(err) === 'EUSAGE' ? 2 : 1;
  }
  if (opts.dryRun) {
    process.stdout.write(renderDryRun(opts));
    return 0;
  }
  const log = logger('iptables');
  try {
    if (opts.clean) await cleanIptables(opts, log);
    else await applyIptables(opts, log);
    return 0;
  } catch (err) {
    process.stderr.write(`legate iptables: ${(err as Error).message}\n`);
    return 1;
  }
}
