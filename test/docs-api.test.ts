// docs/api.md must describe the routes the gateway serves: no documented route missing from
// the route table, no served route missing from the docs.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createGateway } from '@enginegate/gateway';
import { ERROR_CODES } from '@enginegate/plugin-api';

const docsPath = fileURLToPath(new URL('../docs/api.md', import.meta.url));

/** Rows of the "Routes" table: | `GET` | `/path/{param}` | ... */
function documentedRoutes(markdown: string): string[] {
  const rows = [...markdown.matchAll(/^\| `(GET|PUT|POST|DELETE|PATCH)` \| `([^`]+)` \|/gm)];
  return rows.map(([, method, path]) => `${method} ${path}`).sort();
}

/** fastify's `/a/:b` and `/a/*` in the docs' `{b}` form; HEAD routes are fastify's automatic twins. */
function servedRoutes(routes: ReadonlyArray<{ method: string; url: string }>): string[] {
  const seen = new Set<string>();
  for (const { method, url } of routes) {
    if (method === 'HEAD' || method === 'OPTIONS') continue;
    seen.add(`${method} ${url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
  }
  return [...seen].sort();
}

t.test('docs/api.md and the route table agree', async (t) => {
  const gw = await createGateway({ port: 0, token: 'docs-test', engine: null, logger: false });
  t.teardown(() => gw.close());
  const docs = documentedRoutes(await readFile(docsPath, 'utf8'));
  const served = servedRoutes(gw.routes);
  t.ok(docs.length >= 8, `docs/api.md lists routes (${docs.length})`);
  t.same(
    docs.filter((r) => !served.includes(r)),
    [],
    'every route docs/api.md names is served',
  );
  t.same(
    served.filter((r) => !docs.includes(r)),
    [],
    'every served route is in docs/api.md',
  );
});

/** Rows of the "Errors" table: | 404 | `CONTAINER_NOT_FOUND` | ... */
function documentedErrors(markdown: string): string[] {
  return [...markdown.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)]
    .map(([, status, code]) => `${code} ${status}`)
    .sort();
}

t.test('docs/api.md lists every error code with its status', async (t) => {
  const listed = Object.entries(ERROR_CODES)
    .map(([code, status]) => `${code} ${status}`)
    .sort();
  t.same(documentedErrors(await readFile(docsPath, 'utf8')), listed, 'the Errors table is ERROR_CODES');
});
