import t from 'tap';
import { Writable } from 'node:stream';
import {
  buildLogsQuery,
  clientCommand,
  dockerSocketFromEnv,
  formatContainerTable,
  formatDiscovery,
  formatEngineStatus,
  main,
  parseGatewayAddress,
  parseListenAddress,
  resolvePluginSpecifier,
  parsePluginConfigFlags,
  startBanner,
  viewerLink,
  UsageError,
  type CommandContext,
} from '@enginegate/cli';

function context(): CommandContext & { out: () => string; err: () => string } {
  const sink = () => {
    const chunks: string[] = [];
    return { chunks, stream: new Writable({ write: (c: Buffer, _e, done) => (chunks.push(String(c)), done()) }) };
  };
  const out = sink();
  const err = sink();
  return {
    stdout: out.stream,
    stderr: err.stream,
    env: {},
    cwd: process.cwd(),
    out: () => out.chunks.join(''),
    err: () => err.chunks.join(''),
  };
}

t.test('--listen takes HOST:PORT, [IPv6]:PORT, :PORT and HOST', async (t) => {
  t.same(parseListenAddress('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  t.same(parseListenAddress('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
  t.same(parseListenAddress('[::1]:7071'), { host: '::1', port: 7071 });
  t.same(parseListenAddress(':9000'), { host: '127.0.0.1', port: 9000 });
  t.same(parseListenAddress('localhost'), { host: 'localhost', port: 7070 });
  for (const bad of ['host:port', '1.2.3.4:65536', '::1:80', 'h:-1', 'h:'])
    t.throws(() => parseListenAddress(bad), UsageError, bad);
});

t.test('--url takes http(s) URLs and unix sockets', async (t) => {
  const tcp = parseGatewayAddress('http://127.0.0.1:7070/');
  t.equal(tcp.display, 'http://127.0.0.1:7070');
  t.equal(tcp.basePath, '');
  t.equal(parseGatewayAddress('https://gw.example/base/').basePath, '/base');
  t.same(parseGatewayAddress('unix:/run/eg.sock'), {
    display: 'unix:/run/eg.sock',
    socketPath: '/run/eg.sock',
    basePath: '',
  });
  t.equal(parseGatewayAddress('unix:///run/eg.sock').socketPath, '/run/eg.sock');
  for (const bad of ['ftp://x', 'not a url', 'unix:', 'http://h/?q=1'])
    t.throws(() => parseGatewayAddress(bad), UsageError, bad);
});

t.test('the logs query: follow always explicit, times absolute, stream filters', async (t) => {
  const base = { container: 'web', follow: false, timestamps: false, stdout: true, stderr: true };
  t.equal(String(buildLogsQuery(base)), 'follow=false');
  const now = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z
  const query = buildLogsQuery(
    {
      ...base,
      follow: true,
      tail: '5',
      since: '10m',
      until: '2024-01-01T00:00:00.5Z',
      namespace: 'k8s.io',
      stderr: false,
    },
    now,
  );
  t.equal(query.get('follow'), 'true');
  t.equal(query.get('tail'), '5');
  t.equal(query.get('since'), '1704066600.000000000', 'a duration becomes a fixed point, so reconnects do not move it');
  t.equal(query.get('until'), '1704067200.500000000');
  t.equal(query.get('namespace'), 'k8s.io');
  t.equal(query.get('stderr'), 'false');
  t.equal(query.get('stdout'), null);
  t.throws(() => buildLogsQuery({ ...base, since: 'yesterday' }), { code: 'INVALID_ARGUMENT', parameter: 'since' });
});

t.test('plugins: paths relative to the working directory, names left to the gateway', async (t) => {
  t.equal(resolvePluginSpecifier('./my-plugin.js', '/srv/app'), '/srv/app/my-plugin.js');
  t.equal(resolvePluginSpecifier('../p/index.mjs', '/srv/app'), '/srv/p/index.mjs');
  t.equal(resolvePluginSpecifier('/opt/plugin.js', '/srv/app'), '/opt/plugin.js');
  t.equal(resolvePluginSpecifier('file:///opt/plugin.js', '/srv/app'), '/opt/plugin.js');
  t.equal(resolvePluginSpecifier('./my-plugin', '/srv/app'), '/srv/app/my-plugin', 'a folder');
  t.equal(resolvePluginSpecifier('.', '/srv/app'), '/srv/app');
  t.equal(
    resolvePluginSpecifier('enginegate-plugin-nonexistent', '/srv/app'),
    'enginegate-plugin-nonexistent',
    'left to the gateway',
  );
  t.equal(resolvePluginSpecifier('@enginegate/plugin-moby', '/'), '@enginegate/plugin-moby');
});

t.test('--plugin-config NAME.KEY=VALUE: settings per plugin, values as given', async (t) => {
  t.same(parsePluginConfigFlags(['my.dir=/tmp/x', 'my.max=5', 'process-logs.commandsFile=/a=b']), {
    my: { dir: '/tmp/x', max: '5' },
    'process-logs': { commandsFile: '/a=b' },
  });
  t.throws(() => parsePluginConfigFlags(['dir=/tmp/x']), { name: 'UsageError', message: /write NAME\.KEY=VALUE/ });
});

t.test('DOCKER_HOST: unix:// becomes a socket path', async (t) => {
  t.equal(dockerSocketFromEnv('unix:///var/run/docker.sock'), '/var/run/docker.sock');
  t.equal(dockerSocketFromEnv('tcp://10.0.0.1:2375'), 'tcp://10.0.0.1:2375');
  t.equal(dockerSocketFromEnv(''), undefined);
});

t.test('ps table: 12-character IDs, running only unless --all, namespace column when present', async (t) => {
  const containers = [
    { id: 'a'.repeat(64), names: ['/web'], image: 'nginx:1', state: 'running', tty: false, createdAt: '', labels: {} },
    {
      id: 'b'.repeat(64),
      names: ['db', 'db-alias'],
      image: 'postgres:16',
      state: 'exited',
      tty: false,
      createdAt: '',
      labels: {},
    },
  ];
  t.equal(
    formatContainerTable(containers, { all: false }),
    `CONTAINER ID   IMAGE     STATE     NAMES\n${'a'.repeat(12)}   nginx:1   running   web\n`,
  );
  const all = formatContainerTable(containers, { all: true }).split('\n');
  t.equal(all.length, 4);
  t.equal(all[2], `${'b'.repeat(12)}   postgres:16   exited    db,db-alias`);
  const namespaced = formatContainerTable([{ ...containers[0]!, namespace: 'k8s.io' }], { all: false });
  t.match(namespaced, /^CONTAINER ID +IMAGE +STATE +NAMES +NAMESPACE\n.* web +k8s\.io\n$/);
});

t.test('engine status and discovery', async (t) => {
  t.equal(
    formatEngineStatus({ name: 'mock', state: 'running', available: ['containerd', 'mock', 'moby'] }),
    'engine:    mock\nstate:     running\navailable: containerd, mock, moby\n',
  );
  t.equal(formatEngineStatus({ name: null, state: 'stopped' }), 'engine:    none\nstate:     stopped\n');
  t.equal(
    formatDiscovery({
      engine: { name: 'mock', state: 'running' },
      endpoints: [{ controller: 'engine', endpoint: 'logs', path: '/passthrough/engine/logs' }],
    }),
    'engine: mock (running)\nCONTROLLER   ENDPOINT   PATH\nengine       logs       /passthrough/engine/logs\n',
  );
});

t.test('the serve banner says where, which engine, where the token is, and what to try', async (t) => {
  const banner = startBanner({
    url: 'http://127.0.0.1:7070',
    viewerUrl: viewerLink('http://127.0.0.1:7070', 'a+b/c='),
    engine: { name: 'mock', state: 'running' },
    tokenFile: '/var/lib/enginegate/token',
    tokenOrigin: '/var/lib/enginegate/token',
    stateDir: undefined,
  });
  t.match(banner, /listening on http:\/\/127\.0\.0\.1:7070\n/);
  t.match(banner, /engine mock \(running\)\n/);
  t.match(banner, /token in \/var\/lib\/enginegate\/token\n/);
  t.match(banner, 'enginegate: viewer http://127.0.0.1:7070/#token=a%2Bb%2Fc%3D\n', 'the viewer link, token escaped');
  t.match(banner, /\n {2}enginegate logs mock-chatty -f\n/);
  t.match(
    banner,
    '  curl -N -H "Authorization: Bearer $(cat /var/lib/enginegate/token)" http://127.0.0.1:7070/passthrough/engine/logs/mock-chatty\n',
  );
  const other = startBanner({
    url: 'http://127.0.0.1:9999',
    engine: { name: 'moby', state: 'running' },
    tokenFile: undefined,
    tokenOrigin: 'from --token',
    stateDir: undefined,
  });
  t.match(other, /token from --token/);
  t.match(other, /\n {2}enginegate ps --url http:\/\/127\.0\.0\.1:9999\n/);
  t.match(other, /\n {2}enginegate logs CONTAINER -f --url http:\/\/127\.0\.0\.1:9999\n/);
  t.notMatch(other, /mock-chatty/);
  t.match(
    banner,
    /\n {2}# it follows \(follow=true is the default\); add \?follow=false to print what is there and end\n/,
  );
  t.notMatch(other, /viewer/, 'no viewer line without a link');
});

t.test('the banner names the client command as it works where serve was started', async (t) => {
  t.equal(clientCommand({}), 'enginegate', 'a global install: the bare name is on PATH');
  t.equal(clientCommand({ npm_command: 'start' }), 'npx enginegate', 'npm start: the bin is in node_modules/.bin');
  t.equal(clientCommand({ npm_command: 'exec' }), 'npx enginegate', 'npx enginegate serve');
  const banner = startBanner({
    url: 'http://127.0.0.1:7070',
    engine: { name: 'moby', state: 'running' },
    tokenFile: undefined,
    tokenOrigin: 'from ENGINEGATE_TOKEN',
    stateDir: undefined,
    command: 'npx enginegate',
  });
  t.match(banner, /\n {2}npx enginegate ps\n {2}npx enginegate logs CONTAINER -f\n/);
});

t.test('the viewer link: the token in the fragment, none for --no-auth or a unix socket', async (t) => {
  t.equal(viewerLink('http://127.0.0.1:7070', 'tok'), 'http://127.0.0.1:7070/#token=tok');
  t.equal(viewerLink('http://[::1]:7070', null), 'http://[::1]:7070/');
  t.equal(viewerLink('unix:/run/enginegate.sock', 'tok'), undefined);
});

t.test('the command line: help, unknown commands and flags are one line with exit 2', async (t) => {
  let c = context();
  t.equal(await main(['--help'], c), 0);
  t.match(c.out(), /^Usage: enginegate COMMAND/);
  c = context();
  t.equal(await main(['logs', '--help'], c), 0);
  t.match(c.out(), /^Usage: enginegate logs \[OPTIONS\] CONTAINER/);
  c = context();
  t.equal(await main(['frobnicate'], c), 2);
  t.equal(c.err(), 'enginegate: unknown command "frobnicate" (see `enginegate --help`)\n');
  c = context();
  t.equal(await main(['ps', '--bogus'], c), 2);
  t.equal(c.err(), 'enginegate: unknown option --bogus (see `enginegate ps --help`)\n');
  c = context();
  t.equal(await main(['logs'], c), 2);
  t.equal(c.err(), 'enginegate: missing CONTAINER (see `enginegate logs --help`)\n');
  c = context();
  t.equal(await main(['logs', '--tail'], c), 2);
  t.equal(c.err().split('\n').length, 2, 'one line');
  c = context();
  t.equal(await main(['engine', 'use', 'a', 'b'], c), 2);
  c = context();
  t.equal(await main(['serve', '--listen', '1.2.3.4:99999'], c), 2);
  t.equal(c.err(), 'enginegate: --listen 1.2.3.4:99999: the port must be a number from 0 to 65535\n');
  c = context();
  t.equal(await main([], c), 2);
  t.match(c.err(), /^Usage:/);
});

t.test('bad container references never reach the gateway', async (t) => {
  const c = context();
  // Port 9 (discard) on loopback: if the CLI tried to connect, the message would say so.
  t.equal(await main(['logs', '--url', 'http://127.0.0.1:9', '--token', 'x', '../etc/passwd'], c), 1);
  t.match(
    c.err(),
    /^enginegate: container reference "\.\.\/etc\/passwd" is not an ID or a name .*\(INVALID_ARGUMENT\)\n$/,
  );
});
