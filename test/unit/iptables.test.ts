import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderDryRun } from '../../src/iptables/command.js';
import { IPTABLES_DEFAULTS, parseIptablesOptions, type IptablesOptions } from '../../src/iptables/options.js';
import { isClean, parseSave, renderRestore, stateOf } from '../../src/iptables/restore.js';
import { buildRules, routeCommands } from '../../src/iptables/rules.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const GOLDEN = `${REPO}test/unit/golden/iptables/`;

/** Compares with test/unit/golden/iptables/NAME.txt; UPDATE_GOLDEN=1 rewrites it (review the diff!). */
function golden(t: ExecutionContext, name: string, actual: string): void {
  const file = `${GOLDEN}${name}.txt`;
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  t.is(actual, readFileSync(file, 'utf8'));
}

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): IptablesOptions => parseIptablesOptions(argv, env);
const dryRun = (...argv: string[]): string => renderDryRun(parse(['--dry-run', ...argv]));

// ---- generated rules (goldens were checked line by line against istio-iptables' own goldens)

const GOLDEN_CASES: Array<[string, string[]]> = [
  ['default', []],
  ['ip-ranges', ['-i', '10.96.0.0/12,192.168.0.0/16', '-x', '10.96.0.1/32,169.254.169.254/32']],
  ['ports', ['-b', '8080,9090', '-q', '3306', '-o', '22,25']],
  ['dns-capture', ['--dns-capture']],
  ['dns-servers-ipv6', ['--dns-capture', '--dns-servers', '10.96.0.10,fd00::10', '--ipv6']],
  ['tproxy', ['-m', 'TPROXY']],
  ['tproxy-ports', ['-m', 'TPROXY', '-b', '8080']],
  ['ipv6', ['--ipv6', '-x', 'fd00::/8,10.0.0.0/8', '-i', '*']],
  ['uid-gid-lists', ['-u', '1337,1338', '-g', '1400']],
  ['clean', ['--clean', '-m', 'TPROXY']],
];
for (const [name, argv] of GOLDEN_CASES) test(`golden: ${name}`, (t) => golden(t, name, dryRun(...argv)));

test("-b '*' -d 15090,15021,15020 is istio-init's default, so the same rules", (t) => {
  t.is(dryRun('-b', '*', '-d', '15090,15021,15020'), dryRun());
});

test('default rules: the lines the Istio articles show', (t) => {
  const out = dryRun();
  for (const line of [
    '-A PREROUTING -p tcp -j ISTIO_INBOUND',
    '-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN',
    '-A ISTIO_INBOUND -p tcp -m multiport --dports 15090,15021,15020 -j RETURN',
    '-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006',
    '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
    '-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN',
    '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN',
    '-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN',
    '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN',
  ])
    t.true(out.includes(`\n${line}\n`), line);
  t.true(out.trimEnd().endsWith('-A ISTIO_OUTPUT -j ISTIO_REDIRECT\nCOMMIT'));
});

test('more than 15 excluded ports are split over several multiport rules', (t) => {
  const ports = Array.from({ length: 16 }, (_, i) => 20000 + i);
  const out = dryRun('-d', ports.join(','));
  t.true(out.includes(`-m multiport --dports ${ports.slice(0, 15).join(',')} -j RETURN`));
  t.true(out.includes('-A ISTIO_INBOUND -p tcp --dport 20015 -j RETURN'));
});

test('empty -b and -i capture nothing in that direction', (t) => {
  const out = dryRun('-b', '', '-i', '');
  t.false(out.includes('PREROUTING'));
  t.false(out.includes('-j ISTIO_REDIRECT'));
  t.true(out.includes('-A OUTPUT -j ISTIO_OUTPUT'));
});

test('loopback in -i keeps app → localhost captured (no lo RETURN for non-proxy owners)', (t) => {
  const out = dryRun('-i', '127.0.0.1/32');
  t.false(out.includes('! --uid-owner'));
  t.true(out.includes('-A ISTIO_OUTPUT -d 127.0.0.1/32 -j ISTIO_REDIRECT'));
});

test('DNS capture: the proxy owner RETURN precedes the DNS jump, so 1337 is never redirected', (t) => {
  const nat = buildRules(parse(['--dns-capture']), 4).filter((r) => r.table === 'nat' && r.chain === 'ISTIO_OUTPUT').map((r) => r.spec.join(' '));
  const jump = nat.indexOf('-j ISTIO_OUTPUT_DNS');
  t.true(jump > nat.indexOf('-m owner --uid-owner 1337 -j RETURN'));
  t.true(jump > nat.indexOf('-m owner --gid-owner 1337 -j RETURN'));
});

test('TPROXY needs a policy route to lo; REDIRECT needs none', (t) => {
  t.deepEqual(routeCommands(parse(['-m', 'TPROXY'])), [
    ['-4', 'rule', 'add', 'fwmark', '1337', 'lookup', '133'],
    ['-4', 'route', 'add', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', '133'],
  ]);
  t.deepEqual(routeCommands(parse([])), []);
  t.deepEqual(routeCommands(parse(['-m', 'TPROXY', '-b', ''])), []);
  t.deepEqual(routeCommands(parse(['--ipv6']))[0], ['-6', 'addr', 'add', '::6/128', 'dev', 'lo']);
});

// ---- options

test('defaults are those of the injected istio-init', (t) => {
  const o = parse([]);
  t.like(o, { proxyPort: 15001, inboundCapturePort: 15006, inboundTunnelPort: 15008, mode: 'REDIRECT', outboundIpRangesInclude: '*', inboundPortsInclude: '*' });
  t.deepEqual(o.inboundPortsExclude, [15090, 15021, 15020]);
  t.deepEqual(o.proxyUids, ['1337']);
  t.deepEqual(o.proxyGids, ['1337']);
  t.false(o.dnsCapture);
  t.deepEqual(IPTABLES_DEFAULTS.inboundPortsExclude, [15090, 15021, 15020]);
});

test('flag spellings: short, short glued, short =, long, long =', (t) => {
  for (const argv of [['-p', '1'], ['-p1'], ['-p=1'], ['--envoy-port', '1'], ['--envoy-port=1']]) t.is(parse(argv).proxyPort, 1, argv.join(' '));
  t.true(parse(['--redirect-dns']).dnsCapture);
  t.false(parse(['--dns-capture=false']).dnsCapture);
  t.true(parse(['-n']).dryRun);
});

test('gid defaults to the uid given', (t) => {
  t.deepEqual(parse(['-u', '1000']).proxyGids, ['1000']);
  t.deepEqual(parse([], { PROXY_UID: '7' }).proxyGids, ['7']);
  t.deepEqual(parse(['-u', '1000', '-g', '2000,2001']).proxyGids, ['2000', '2001']);
});

test("Istio's environment variables are read; flags win over them", (t) => {
  const env = {
    ENVOY_PORT: '16001', INBOUND_CAPTURE_PORT: '16006', PROXY_UID: '1400', ISTIO_INBOUND_INTERCEPTION_MODE: 'TPROXY',
    ISTIO_SERVICE_CIDR: '10.0.0.0/8', ISTIO_SERVICE_EXCLUDE_CIDR: '10.1.0.0/16', ISTIO_INBOUND_PORTS: '80',
    ISTIO_LOCAL_EXCLUDE_PORTS: '81', ISTIO_OUTBOUND_PORTS: '82', ISTIO_LOCAL_OUTBOUND_PORTS_EXCLUDE: '83',
    ISTIO_META_DNS_CAPTURE: 'true', ENABLE_INBOUND_IPV6: 'true',
  };
  t.like(parse([], env), {
    proxyPort: 16001, inboundCapturePort: 16006, proxyUids: ['1400'], mode: 'TPROXY', outboundIpRangesInclude: ['10.0.0.0/8'],
    outboundIpRangesExclude: ['10.1.0.0/16'], inboundPortsInclude: [80], inboundPortsExclude: [81], outboundPortsInclude: [82],
    outboundPortsExclude: [83], dnsCapture: true, ipv6: true,
  });
  t.like(parse(['-p', '15001', '-m', 'REDIRECT', '--dns-capture=false'], env), { proxyPort: 15001, mode: 'REDIRECT', dnsCapture: false });
});

test('istio-init variable names are accepted too; the istio-iptables name wins; empty means unset', (t) => {
  t.like(parse([], { OUTBOUND_IP_RANGES_INCLUDE: '10.0.0.0/8', INBOUND_PORTS_EXCLUDE: '1', OUTBOUND_PORTS_EXCLUDE: '2', INBOUND_INTERCEPTION_MODE: 'tproxy' }), {
    outboundIpRangesInclude: ['10.0.0.0/8'], inboundPortsExclude: [1], outboundPortsExclude: [2], mode: 'TPROXY',
  });
  t.deepEqual(parse([], { ISTIO_SERVICE_CIDR: '10.1.0.0/16', OUTBOUND_IP_RANGES_INCLUDE: '10.2.0.0/16' }).outboundIpRangesInclude, ['10.1.0.0/16']);
  t.is(parse([], { ENVOY_PORT: '' }).proxyPort, 15001);
  t.is(parse(['-b', ''], { ISTIO_INBOUND_PORTS: '80' }).inboundPortsInclude.length, 0);
});

test('lists: spaces and empty items are tolerated, CIDRs normalised', (t) => {
  const o = parse(['-d', '6000, 7000,', '-x', 'FD00::/8, 10.0.0.0/08']);
  t.deepEqual(o.inboundPortsExclude, [6000, 7000]);
  t.deepEqual(o.outboundIpRangesExclude, ['fd00::/8', '10.0.0.0/8']);
});

const INVALID: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
  [['-p', 'abc'], {}, /^-p: expected a port 1-65535, got "abc"$/],
  [['-z', '0'], {}, /^-z: expected a port/],
  [['--envoy-port=70000'], {}, /^--envoy-port: expected a port/],
  [['-b', '80,http'], {}, /^-b: expected a port 1-65535, got "http"$/],
  [['-d', '-1'], {}, /^-d: expected a port/],
  [['-i', '10.0.0.1'], {}, /^-i: expected a CIDR/],
  [['-i', '10.0.0.0/33'], {}, /^-i: expected a CIDR/],
  [['-x', 'fd00::/129'], {}, /^-x: expected a CIDR/],
  [['-x', '*'], {}, /^-x: '\*' is not allowed here/],
  [['-m', 'NONE'], {}, /^-m: expected REDIRECT or TPROXY, got "NONE"$/],
  [['-u', 'istio-proxy'], {}, /^-u: expected numeric ids/],
  [['-u', ''], {}, /^-u: expected one or more numeric ids/],
  [['-t', 'x'], {}, /^-t: expected an integer/],
  [['--dns-servers', 'dns.local'], {}, /^--dns-servers: expected IP addresses/],
  [['--dns-capture=maybe'], {}, /^--dns-capture: expected true or false/],
  [['--bogus'], {}, /^unknown option --bogus/],
  [['-Z'], {}, /^unknown option -Z/],
  [['-nx'], {}, /^unknown option -nx/],
  [['-p'], {}, /^-p needs a value$/],
  [['stray'], {}, /^unexpected argument "stray"/],
  [[], { INBOUND_CAPTURE_PORT: '99999' }, /^INBOUND_CAPTURE_PORT \(environment, for --inbound-capture-port\): expected a port/],
  [[], { ISTIO_META_DNS_CAPTURE: 'yes' }, /^ISTIO_META_DNS_CAPTURE \(environment, for --dns-capture\): expected true or false/],
];
for (const [argv, env, message] of INVALID)
  test(`invalid: ${JSON.stringify(argv)} ${JSON.stringify(env)}`, (t) => {
    t.throws(() => parse(argv, env), { message, instanceOf: Error });
    t.is((() => { try { parse(argv, env); } catch (e) { return (e as { code?: string }).code; } })(), 'EUSAGE');
  });

// ---- restore input against what is installed

const SAVED = `# Generated by iptables-save v1.8.9 (nf_tables)
*mangle
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -o eth0 -j MARK --set-xmark 0x7/0xffffffff
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:ISTIO_INBOUND - [0:0]
:ISTIO_OUTPUT - [0:0]
:ISTIO_OLD - [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -p tcp -j ISTIO_INBOUND
-A OUTPUT -j ISTIO_OUTPUT
-A OUTPUT -j KUBE-SERVICES
-A KUBE-SERVICES -p tcp -j ISTIO_OLD
-A ISTIO_OUTPUT -j ISTIO_OLD
-A POSTROUTING -j MASQUERADE
COMMIT
`;

test('parseSave finds ISTIO_* chains and the foreign rules that jump to them', (t) => {
  const s = parseSave(SAVED);
  t.deepEqual([...(s.chains.get('nat') ?? [])], ['ISTIO_INBOUND', 'ISTIO_OUTPUT', 'ISTIO_OLD']);
  t.deepEqual(s.jumps.get('nat'), ['-A PREROUTING -p tcp -j ISTIO_INBOUND', '-A OUTPUT -j ISTIO_OUTPUT', '-A KUBE-SERVICES -p tcp -j ISTIO_OLD']);
  t.false(s.chains.has('mangle'));
  t.false(isClean(s));
  t.true(isClean(parseSave('*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j ACCEPT\nCOMMIT\n')));
});

test('re-applying replaces: jumps deleted, chains flushed, unused ones deleted, only new ones created', (t) => {
  const rules = buildRules(parse(['-b', '', '-i', '']), 4);
  const out = renderRestore(rules, parseSave(SAVED));
  const lines = out.split('\n');
  t.deepEqual(lines.slice(0, 10), [
    '*nat',
    '-D PREROUTING -p tcp -j ISTIO_INBOUND',
    '-D OUTPUT -j ISTIO_OUTPUT',
    '-D KUBE-SERVICES -p tcp -j ISTIO_OLD',
    '-F ISTIO_INBOUND',
    '-F ISTIO_OUTPUT',
    '-F ISTIO_OLD',
    '-X ISTIO_OLD',
    '-N ISTIO_REDIRECT',
    '-N ISTIO_IN_REDIRECT',
  ]);
  t.false(out.includes('-N ISTIO_OUTPUT'));
  t.false(out.includes('MASQUERADE'), 'rules of others are not touched');
  t.false(out.includes('*mangle'), 'tables without Istio rules are not touched');
});

test('clean of what the rules install removes exactly that, and a clean state renders nothing to do', (t) => {
  const rules = buildRules(parse(['-m', 'TPROXY', '--dns-capture']), 4);
  const state = stateOf(rules);
  const out = renderRestore([], state);
  t.true(out.includes('-D OUTPUT -p tcp -m connmark --mark 1337 -j CONNMARK --restore-mark'));
  t.true(out.includes('*raw\n-D OUTPUT -j ISTIO_OUTPUT_DNS\n-D PREROUTING -j ISTIO_INBOUND\n'));
  t.false(/^-[AIN] /m.test(out));
  t.true(isClean(parseSave('')));
});

// ---- the command's exit codes (no root needed: usage errors and --dry-run only)

const legate = (...argv: string[]) => legateWithPath(process.env.PATH ?? '', ...argv);
const legateWithPath = (path: string, ...argv: string[]) =>
  spawnSync(process.execPath, [`${REPO}bin/legate.js`, 'iptables', ...argv], { encoding: 'utf8', env: { PATH: path } });

test('exit 2 and one line naming the flag for a bad value or unknown flag', (t) => {
  for (const [argv, line] of [[['-p', 'x'], 'legate iptables: -p: expected a port 1-65535, got "x"\n'], [['--nope'], 'legate iptables: unknown option --nope (see legate iptables --help)\n']] as const) {
    const r = legate(...argv);
    t.is(r.status, 2);
    t.is(r.stderr, line);
    t.is(r.stdout, '');
  }
});

test('--dry-run prints to stdout and exits 0; --help lists flags and variables', (t) => {
  const r = legate('--dry-run');
  t.is(r.status, 0);
  t.is(r.stdout, dryRun());
  const h = legate('--help');
  t.is(h.status, 0);
  t.regex(h.stdout, /-i, --istio-service-cidr V .*ISTIO_SERVICE_CIDR, OUTBOUND_IP_RANGES_INCLUDE/);
});

test('exit 1 and one line when iptables is not installed', (t) => {
  const r = legateWithPath('/nonexistent');
  t.is(r.status, 1);
  t.is(r.stderr, 'legate iptables: iptables-save not found in PATH (install the Debian package iptables)\n');
});
