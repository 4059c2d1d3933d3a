/**
 * Rendering rules as `iptables-restore --noflush` input, and reading `iptables-save` output
 * to know what an earlier run left. Pure: no I/O.
 *
 * Applying and cleaning are each one restore transaction per address family: the jumps to
 * ISTIO_* chains are deleted, the ISTIO_* chains flushed (and deleted when no longer wanted),
 * and the new rules written, so that re-applying never duplicates a jump, and no reader ever
 * sees half a rule set. Other chains and tables are left as they are.
 */
import { BUILTIN_CHAINS, isIstioChain, jumpTarget, type Rule, type Table } from './rules.js';

const TABLE_ORDER: readonly Table[] = ['mangle', 'nat', 'raw'];

/** What is installed now, per table, as far as Istio's rules are concerned. */
export interface InstalledState {
  /** ISTIO_* chains that exist. */
  chains: Map<string, Set<string>>;
  /** Rules outside ISTIO_* chains that jump to one, as iptables-save prints them (`-A …`). */
  jumps: Map<string, string[]>;
  /** Other rules of ours outside ISTIO_* chains (TPROXY marks) known to exist, as `-A` specs we wrote. */
  others: Map<string, string[]>;
}

export const emptyState = (): InstalledState => ({ chains: new Map(), jumps: new Map(), others: new Map() });

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function ruleLine(r: Rule): string {
  const head = r.insertAt === undefined ? `-A ${r.chain}` : `-I ${r.chain} ${r.insertAt}`;
  return `${head} ${r.spec.join(' ')}`;
}

/** ISTIO_* chains the rules use (as the chain written to, or as a jump target), in first-use order. */
export function chainsOf(rules: readonly Rule[]): Map<Table, string[]> {
  const out = new Map<Table, string[]>();
  const note = (table: Table, chain: string | undefined): void => {
    if (!chain || !isIstioChain(chain)) return;
    const list = out.get(table) ?? [];
    if (!list.includes(chain)) list.push(chain);
    out.set(table, list);
  };
  for (const r of rules) note(r.table, r.chain);
  for (const r of rules) note(r.table, jumpTarget(r.spec));
  return out;
}

/** Rules we write into built-in chains that do not jump to an ISTIO_* chain (found with `iptables -C`). */
export function nonJumpBuiltinRules(rules: readonly Rule[]): Rule[] {
  return rules.filter((r) => BUILTIN_CHAINS.has(r.chain) && !isIstioChain(jumpTarget(r.spec) ?? ''));
}

/** Reads iptables-save output: ISTIO_* chains, and rules elsewhere that jump to them. */
export function parseSave(text: string): InstalledState {
  const state = emptyState();
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith(':')) {
      const chain = line.slice(1).split(/\s+/)[0];
      if (isIstioChain(chain)) {
        const set = state.chains.get(table) ?? new Set<string>();
        set.add(chain);
        state.chains.set(table, set);
      }
    } else if (line.startsWith('-A ')) {
      const tokens = line.split(/\s+/);
      const target = jumpTarget(tokens);
      if (!isIstioChain(tokens[1]) && target && isIstioChain(target)) push(state.jumps, table, line);
    }
  }
  return state;
}

/** The state our own rules make, as if applied to a clean namespace (for `--clean --dry-run`). */
export function stateOf(rules: readonly Rule[]): InstalledState {
  const state = emptyState();
  for (const [table, chains] of chainsOf(rules)) state.chains.set(table, new Set(chains));
  for (const r of rules) {
    if (isIstioChain(r.chain)) continue;
    push(isIstioChain(jumpTarget(r.spec) ?? '') ? state.jumps : state.others, r.table, ruleLine(r));
  }
  return state;
}

export function isClean(state: InstalledState): boolean {
  const lists = [...state.jumps.values(), ...state.others.values()];
  return [...state.chains.values()].every((s) => s.size === 0) && lists.every((l) => l.length === 0);
}

/**
 * One restore transaction that removes what `installed` describes and writes `rules`.
 * With an empty `installed`, this is what istio-iptables writes; with no rules, a clean-up.
 */
export function renderRestore(rules: readonly Rule[], installed: InstalledState = emptyState(), header?: string): string {
  const wanted = chainsOf(rules);
  const tables = TABLE_ORDER.filter(
    (t) => rules.some((r) => r.table === t) || installed.chains.has(t) || installed.jumps.has(t) || installed.others.has(t),
  );
  const out: string[] = header ? [header] : [];
  for (const table of tables) {
    const existing = installed.chains.get(table) ?? new Set<string>();
    const want = wanted.get(table) ?? [];
    out.push(`*${table}`);
    // Jumps first: a chain cannot be deleted while anything still refers to it.
    for (const line of installed.jumps.get(table) ?? []) out.push(line.replace(/^-A /, '-D '));
    for (const line of installed.others.get(table) ?? []) out.push(line.replace(/^-A /, '-D '));
    for (const chain of existing) out.push(`-F ${chain}`);
    for (const chain of existing) if (!want.includes(chain)) out.push(`-X ${chain}`);
    for (const chain of want) if (!existing.has(chain)) out.push(`-N ${chain}`);
    for (const r of rules) if (r.table === table) out.push(ruleLine(r));
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

/** Tables of iptables-save output with at least one rule in a built-in chain. */
export function tablesWithBuiltinRules(text: string): Set<string> {
  const out = new Set<string>();
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith('-A ') && BUILTIN_CHAINS.has(line.split(/\s+/)[1])) out.add(table);
  }
  return out;
}
