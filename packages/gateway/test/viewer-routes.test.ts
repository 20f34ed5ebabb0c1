// GET / and GET /viewer/{file}: the log viewer page, served without a token (it holds no data),
// with its Content-Security-Policy on every answer.
import t from 'tap';
import { VIEWER_CONTENT_SECURITY_POLICY } from '@enginegate/viewer';
import { startGateway } from './fixtures/harness.js';

const NO_TOKEN = { authorization: '' };

t.test('GET / is the page: no token needed, strict CSP, revalidated by ETag', async (t) => {
  const { client } = await startGateway(t);
  const page = await client.get('/', NO_TOKEN);
  t.equal(page.status, 200);
  t.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  t.equal(page.headers.get('content-security-policy'), VIEWER_CONTENT_SECURITY_POLICY);
  t.equal(page.headers.get('x-content-type-options'), 'nosniff');
  t.equal(page.headers.get('referrer-policy'), 'no-referrer');
  t.equal(page.headers.get('x-frame-options'), 'DENY');
  t.equal(page.headers.get('cache-control'), 'no-cache');
  t.match(page.text, /<script defer src="\/viewer\/viewer\.js"><\/script>/);
  const again = await client.get('/', { ...NO_TOKEN, 'if-none-match': String(page.headers.get('etag')) });
  t.equal(again.status, 304, 'an unchanged page is a 304');
  t.equal(again.body.length, 0);
});

t.test('GET /viewer/{file}: the bundle, the stylesheet, the icon; anything else is a JSON 404', async (t) => {
  const { client } = await startGateway(t);
  const files: Array<[string, string]> = [
    ['viewer.js', 'text/javascript; charset=utf-8'],
    ['viewer.css', 'text/css; charset=utf-8'],
    ['icon.svg', 'image/svg+xml'],
  ];
  for (const [file, type] of files) {
    const answer = await client.get(`/viewer/${file}`, NO_TOKEN);
    t.equal(answer.status, 200, file);
    t.equal(answer.headers.get('content-type'), type, `${file}: ${type}`);
    t.equal(answer.headers.get('content-security-policy'), VIEWER_CONTENT_SECURITY_POLICY);
    t.ok(answer.body.length > 0);
  }
  for (const path of ['/viewer/index.html', '/viewer/viewer.js.map', '/viewer/..%2Fpackage.json', '/viewer/nope.js']) {
    const answer = await client.get(path, NO_TOKEN);
    t.equal(answer.status, 404, `${path}: 404`);
    t.equal(answer.json.error.code, 'NOT_FOUND');
  }
});

t.test('the page needs no token, the data still does', async (t) => {
  const { client } = await startGateway(t);
  t.equal((await client.get('/', NO_TOKEN)).status, 200);
  t.equal((await client.get('/passthrough/engine/containers', NO_TOKEN)).status, 401);
  t.equal(
    (await client.get('/', { ...NO_TOKEN, origin: 'http://evil.example' })).status,
    200,
    'another origin may load the page (it is public); it still cannot read the data',
  );
  t.equal(
    (await client.get('/passthrough/engine/containers', { origin: 'http://evil.example' })).status,
    403,
    'with the token, from another origin: 403',
  );
});
