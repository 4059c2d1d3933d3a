/**
 * The side effects of `legate iptables`: reading the installed rules with iptables-save,
 * writing with `iptables-restore --noflush` (other tables and chains are kept), and the
 * `ip rule`/`ip route` entries TPROXY needs.
 */
import { spawn } from 'node:child_process';
import { LegateError } from '../errors.js';
import type { Logger } from '../log.js';
import type { IptablesOptions } from './options.js';
import { buildRules, routeCommands, type Family } from './rules.js';
import { emptyState, isClean, nonJumpBuiltinRules, parseSave, renderRestore, ruleLine, tablesWithBuiltinRules, type InstalledState } from './restore.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const TOOLS: Record<Family, { save: string; restore: string; cli: string }> = {
  4: { save: 'iptables-save', restore: 'iptables-restore', cli: 'iptables' },
  6: { save: 'ip6tables-save', restore: 'ip6tables-restore', cli: 'ip6tables' },
};

function run(cmd: string, args: readonly string[], input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      const pkg = cmd === 'ip' ? 'iproute2' : 'iptables';
      if (err.code === 'ENOENT') reject(new LegateError('ENOTFOUND', `${cmd} not found in PATH (install the Debian package ${pkg})`));
      else reject(new LegateError('EEXEC', `cannot run ${cmd}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => {}); // the close handler reports a child that exits early
    child.stdin.end(input ?? '');
  });
}

/** One line saying what failed; for a restore, the input line it rejected. */
function failure(cmd: string, args: readonly string[], r: Result, input?: string): LegateError {
  const stderr = r.stderr.trim();
  if (/permission denied|must be root|operation not permitted/i.test(stderr))
    return new LegateError('EPERM', `${cmd}: permission denied; run as root (or with CAP_NET_ADMIN)`);
  let detail = stderr.split('\n').filter(Boolean).pop() ?? `exit code ${r.code}`;
  const failedLine = /line (\d+) failed/.exec(stderr);
  if (failedLine && input) detail += `: ${JSON.stringify(input.split('\n')[Number(failedLine[1]) - 1] ?? '')}`;
  return new LegateError('EIPTABLES', `${[cmd, ...args].join(' ')} failed: ${detail}`);
}

async function mustRun(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) throw failure(cmd, args, r, input);
  return r.stdout;
}

/** What earlier runs (ours or istio-init's) left in this family's tables. */
async function installedState(family: Family, o: IptablesOptions): Promise<InstalledState> {
  const tools = TOOLS[family];
  const saved = await mustRun(tools.save, []);
  const state = parseSave(saved);
  // TPROXY's mark rules live in built-in mangle chains without jumping to ISTIO_*, so they
  // cannot be told apart in the save output; ask iptables whether each one exists.
  if (tablesWithBuiltinRules(saved).has('mangle')) {
    for (const r of nonJumpBuiltinRules(buildRules({ ...o, mode: 'TPROXY' }, family))) {
      const check = await run(tools.cli, ['-t', r.table, '-C', r.chain, ...r.spec]);
      if (check.code === 0) state.others.set(r.table, [...(state.others.get(r.table) ?? []), ruleLine(r)]);
    }
  }
  return state;
}

async function restore(family: Family, input: string): Promise<void> {
  await mustRun(TOOLS[family].restore, ['--noflush'], input);
}

const families = (o: IptablesOptions): Family[] => (o.ipv6 ? [4, 6] : [4]);

/** Installs the rules; re-running replaces them instead of adding a second copy. */
export async function applyIptables(o: IptablesOptions, log: Logger): Promise<void> {
  for (const family of families(o)) {
    const rules = buildRules(o, family);
    const installed = await installedState(family, o);
    const input = renderRestore(rules, installed);
    log.debug('iptables-restore input', { family, input });
    await restore(family, input);
    log.info(`IPv${family}: installed ${rules.length} rules`, { replaced: !isClean(installed) });
  }
  for (const args of routeCommands(o)) await addRoute(args);
}

async function addRoute(args: string[]): Promise<void> {
  if (args[1] === 'rule') {
    // `ip rule add` happily adds duplicates; add only when missing.
    const [family, , , ...selector] = args;
    if ((await mustRun('ip', [family, 'rule', 'list', ...selector])).trim() !== '') return;
  }
  const r = await run('ip', args);
  // Already there (a re-run): fine. The kernel says so in two ways.
  if (r.code !== 0 && !/file exists|already assigned/i.test(r.stderr)) throw failure('ip', args, r);
}

/**
 * Removes every ISTIO_* chain and every jump to one (whoever wrote them), the TPROXY marks
 * and policy route; succeeds on a namespace that has none of them.
 */
export async function cleanIptables(o: IptablesOptions, log: Logger): Promise<void> {
  for (const family of [4, 6] as const) {
    let installed = emptyState();
    try {
      installed = await installedState(family, o);
    } catch (err) {
      // IPv6 is cleaned when it can be; without --ipv6 a host without ip6tables is fine.
      if (family === 6 && !o.ipv6) {
        log.debug('skipping IPv6 clean-up', { error: (err as Error).message });
        continue;
      }
      throw err;
    }
    if (isClean(installed)) {
      log.info(`IPv${family}: no Istio rules installed`);
      continue;
    }
    await restore(family, renderRestore([], installed));
    log.info(`IPv${family}: removed Istio rules`);
  }
  await removeRoutes(o, log);
}

async function removeRoutes(o: IptablesOptions, log: Logger): Promise<void> {
  const mark = String(o.tproxyMark);
  const table = String(o.tproxyRouteTable);
  for (const [family, any] of [['-4', '0.0.0.0/0'], ['-6', '::/0']] as const) {
    try {
      const selector = ['fwmark', mark, 'lookup', table];
      // Bounded: `ip rule del` removes one copy per call.
      for (let i = 0; i < 16 && (await mustRun('ip', [family, 'rule', 'list', ...selector])).trim() !== ''; i++)
        await mustRun('ip', [family, 'rule', 'del', ...selector]);
      await run('ip', [family, 'route', 'del', 'local', any, 'dev', 'lo', 'table', table]); // absent is fine
    } catch (err) {
      // Only TPROXY needs `ip`; elsewhere a missing iproute2 or IPv6 stack is not an error.
      if (o.mode === 'TPROXY' && (family === '-4' || o.ipv6)) throw err;
      log.debug('skipping policy-route clean-up', { family, error: (err as Error).message });
    }
  }
}
