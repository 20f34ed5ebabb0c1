// Findings 6, 7 (second half) and 8 of issue 12: the socket is never reachable by others, the
// state directory is made 0700; a shutdown does not look like the end of the logs over plain
// HTTP; CORS answers and preflights for the allowed origins.
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '@enginegate/gateway';
import { startGateway, TOKEN } from './fixtures/harness.js';

const SHUTDOWN_LINE = 'enginegate: the gateway is shutting down; the logs did not end here\n';

/** Follows `path` over plain HTTP until the body ends; calls `whenFlowing` once data came. */
function follow(
  url: string,
  path: string,
  accept: string,
  whenFlowing: () => void,
): Promise<{ body: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), {
      headers: { authorization: `Bearer ${TOKEN}`, accept },
      agent: false,
    });
    req.on('response', (res) => {
      let body = '';
      let flowing = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (!flowing && body.includes('\n')) {
          flowing = true;
          whenFlowing();
        }
      });
      res.on('end', () => resolve({ body, complete: res.complete }));
      res.on('aborted', () => resolve({ body, complete: false }));
      res.on('error', () => resolve({ body, complete: false }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('on shutdown an NDJSON stream ends with an error record of code SHUTDOWN', async (t) => {
  const { gw, url } = await startGateway(t);
  const { body } = await follow(
    url,
    '/passthrough/engine/logs/mock-chatty?tail=2',
    'application/x-ndjson',
    () => void gw.close(),
  );
  const records = body
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  t.ok(records.length >= 2, 'lines came first');
  t.match(records.at(-1), { type: 'error', code: 'SHUTDOWN' }, 'the last record says shutdown');
});

t.test('on shutdown a text stream ends with a line saying so, and no complete body', async (t) => {
  const { gw, url } = await startGateway(t);
  const { body, complete } = await follow(
    url,
    '/passthrough/engine/logs/mock-chatty?tail=2',
    'text/plain',
    () => void gw.close(),
  );
  t.ok(body.endsWith(SHUTDOWN_LINE), 'the last line says the gateway is shutting down');
  t.notOk(complete, 'the body is cut off, not completed like the end of the logs');
});

t.test('a unix socket is never seen with group or other permissions while the gateway starts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'enginegate-sock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let seen = 0;
  let loose = 0;
  for (let round = 0; round < 10; round += 1) {
    const socket = join(dir, `gw${round}.sock`);
    let sampling = true;
    const sample = () => {
      try {
        seen += 1;
        if ((statSync(socket).mode & 0o077) !== 0) loose += 1;
      } catch {
        // not there yet
      }
      if (sampling) setImmediate(sample);
    };
    sample();
    const gw = await createGateway({ socket, token: TOKEN, logger: false, engine: null });
    await gw.listen();
    sampling = false;
    t.equal((await stat(socket)).mode & 0o777, 0o600, `round ${round}: 0600`);
    await gw.close();
  }
  t.ok(seen > 10, `sampled ${seen} times`);
  t.equal(loose, 0, 'never group- or other-accessible');
});

t.test('a state directory that exists with 0777 is tightened to 0700 when the token is written', async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'enginegate-state-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  const stateDir = join(parent, 'state');
  await mkdir(stateDir);
  await chmod(stateDir, 0o777);
  const gw = await createGateway({ port: 0, stateDir, logger: false, engine: null });
  t.teardown(() => gw.close());
  t.equal((await stat(stateDir)).mode & 0o777, 0o700, '0700');
  t.equal((await stat(gw.tokenFile!)).mode & 0o777, 0o600, 'the token file 0600');
});

t.test('CORS: allowed origins get Access-Control-Allow-Origin and a preflight; others do not', async (t) => {
  const { client } = await startGateway(t, { allowedOrigins: ['https://ui.example'] });
  const answer = await client.get('/engine', { origin: 'https://ui.example' });
  t.equal(answer.status, 200);
  t.equal(answer.headers.get('access-control-allow-origin'), 'https://ui.example');
  t.match(answer.headers.get('vary'), /Origin/);
  const preflight = await client.request('OPTIONS', '/passthrough/engine/logs/mock-exit', undefined, {
    authorization: '',
    origin: 'https://ui.example',
    'access-control-request-method': 'GET',
    'access-control-request-headers': 'authorization',
  });
  t.equal(preflight.status, 204, 'a preflight without a token is a 204');
  t.match(preflight.headers.get('access-control-allow-methods'), /GET/);
  t.match(preflight.headers.get('access-control-allow-headers'), /authorization/);
  t.equal(preflight.headers.get('access-control-allow-origin'), 'https://ui.example');
  const foreign = await client.request('OPTIONS', '/engine', undefined, {
    origin: 'https://evil.example',
    'access-control-request-method': 'PUT',
  });
  t.equal(foreign.status, 403, 'a foreign preflight is a 403');
  t.equal(foreign.headers.get('access-control-allow-origin'), null);
  const unauthenticated = await client.get('/engine', { authorization: '', origin: 'https://ui.example' });
  t.equal(unauthenticated.status, 401, 'CORS does not replace the token');
});
