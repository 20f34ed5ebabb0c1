// Whole HTTP requests for the fuzz suites: a route of the gateway's own route table (so a new
// route is fuzzed too) with its parameters filled in, a query of the contract's parameters,
// fuzzed headers (Host, Origin, Authorization, Sec-WebSocket-Protocol, Content-Length lies) and
// bodies. Each request keeps what it sent as `inputs`, for the echo check.
import fc from 'fast-check';
import { AUTH_SUBPROTOCOL_PREFIX, FRAMING_SUBPROTOCOLS } from '@enginegate/gateway';
import { CONTRACT_PARAMETERS, anyText, containerRef, oversized, queryValues } from './input-arbitraries.js';
import { jsonStrings } from './answer-checks.js';
import type { FuzzGateway } from './fuzz-gateway.js';

export interface FuzzRequest {
  method: string;
  target: string;
  headers: Array<[string, string]>;
  body: string;
  /** What the client chose: no answer or log line may repeat more than 64 characters of one. */
  inputs: string[];
}

/** Encoded for a URL mostly; else sent as it is (raw unicode, percent garbage, spaces). */
const encoded = (text: fc.Arbitrary<string>) =>
  fc
    .tuple(text, fc.nat({ max: 9 }))
    .map(([value, dice]) => ({ value, sent: dice < 8 ? encodeURIComponent(value) : value }));

function segmentValue(fx: FuzzGateway, parameter: string): fc.Arbitrary<string> {
  const endpointParts = fx.endpoints.flatMap((path) => path.split('/').filter(Boolean));
  switch (parameter) {
    case 'container':
      return containerRef(fx.containers);
    case 'file':
      return fc.oneof(
        fc.constantFrom('viewer.js', 'viewer.css', 'icon.svg', '..', '.', 'index.html', '../package.json'),
        anyText,
      );
    default:
      return fc.oneof(fc.constantFrom(...endpointParts), anyText);
  }
}

/** A path of the route table with its `:parameters` filled in, and what was put in them. */
export function routePath(
  fx: FuzzGateway,
  only: (template: string) => boolean = () => true,
): fc.Arbitrary<{ path: string; inputs: string[] }> {
  const templates = [...new Set(fx.gw.routes.map((route) => route.url))].filter(only);
  const values = new Map<string, fc.Arbitrary<{ value: string; sent: string }>>();
  const valueOf = (parameter: string) => {
    if (!values.has(parameter)) values.set(parameter, encoded(segmentValue(fx, parameter)));
    return values.get(parameter)!;
  };
  const filled = templates.map((template) => {
    const segments = template
      .split('/')
      .map((segment) =>
        segment.startsWith(':') ? valueOf(segment.slice(1)) : fc.constant({ value: segment, sent: segment }),
      );
    return fc.tuple(...segments).map((parts) => ({
      path: parts.map((part) => part.sent).join('/') || '/',
      inputs: parts.map((part) => part.value),
    }));
  });
  return fc.oneof(...filled);
}

/** Paths that are no route: mangled route paths, random ones, over-long ones. */
const otherPath = fc.oneof(
  fc.webPath(),
  fc.constantFrom('*', '//engine', '/engine/', '/ENGINE', '/passthrough/', '/passthrough/engine/logs/', '/%2e%2e/'),
  oversized.map((text) => `/${encodeURIComponent(text)}`),
  anyText.map((text) => `/${text}`),
);

export const query = (fx: FuzzGateway) => {
  const valueOf = queryValues(containerRef(fx.containers));
  const name = fc.oneof(
    { arbitrary: fc.constantFrom(...CONTRACT_PARAMETERS), weight: 6 },
    { arbitrary: anyText, weight: 1 },
  );
  const pair = name.chain((key) => fc.tuple(encoded(fc.constant(key)), encoded(valueOf(key))));
  // Repeated names come from the array itself (fast-check repeats values often) and from doubling.
  return fc
    .tuple(fc.array(pair, { maxLength: 6 }), fc.boolean(), fc.constantFrom('&', '&', '&', ';', '&&'))
    .map(([pairs, doubled, separator]) => {
      const all = doubled ? [...pairs, ...pairs] : pairs;
      return {
        query: all.map(([key, value]) => `${key.sent}=${value.sent}`).join(separator),
        inputs: all.flatMap(([key, value]) => [key.value, value.value]),
      };
    });
};

const METHODS = [
  'GET',
  'GET',
  'GET',
  'GET',
  'HEAD',
  'PUT',
  'POST',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'get',
  'FOO',
];

export function headerChoices(fx: FuzzGateway): Record<string, fc.Arbitrary<string | undefined>> {
  const host = `127.0.0.1:${fx.port}`;
  const framing = fc.constantFrom(...FRAMING_SUBPROTOCOLS.keys());
  const auth = fc
    .constantFrom(Buffer.from(fx.token ?? 'none').toString('base64url'), 'x', '')
    .map((t) => `${AUTH_SUBPROTOCOL_PREFIX}${t}`);
  const may = (value: fc.Arbitrary<string>, presentWeight: number) =>
    fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 10 - presentWeight },
      { arbitrary: value, weight: presentWeight },
    );
  return {
    host: fc.oneof(
      { arbitrary: fc.constant(host), weight: 12 },
      {
        arbitrary: fc.constantFrom(`localhost:${fx.port}`, `[::1]:${fx.port}`, '127.0.0.1', 'evil.example', ''),
        weight: 2,
      },
      { arbitrary: anyText, weight: 1 },
    ),
    authorization: fc.oneof(
      { arbitrary: fc.constant(`Bearer ${fx.token ?? 'none'}`), weight: 12 },
      { arbitrary: fc.constantFrom('Bearer wrong', 'Bearer', 'Basic Zm9vOmJhcg==', 'bearer fuzz-token'), weight: 2 },
      { arbitrary: anyText.map((text) => `Bearer ${text}`), weight: 1 },
      { arbitrary: fc.constant(undefined), weight: 1 },
    ),
    origin: may(fc.oneof(fc.constant(`http://${host}`), fc.constantFrom('http://evil.example', 'null'), anyText), 2),
    'sec-websocket-protocol': may(
      fc.array(fc.oneof(framing, auth, anyText), { maxLength: 5 }).map((offers) => offers.join(', ')),
      1,
    ),
    accept: may(fc.constantFrom('application/x-ndjson', 'text/plain', '*/*', 'application/x-ndjson;q=0'), 2),
    'x-fuzz': may(anyText, 1),
  };
}

/** The body and the Content-Length (and Content-Type) sent with it: mostly true, sometimes lies. */
export function body(): fc.Arbitrary<{ text: string; headers: Array<[string, string]> }> {
  const engineName = fc.oneof(fc.constantFrom('mock', 'moby', 'containerd', 'podman', 'auto', ''), anyText);
  const text = fc.oneof(
    { arbitrary: fc.constant(''), weight: 4 },
    { arbitrary: engineName.map((name) => JSON.stringify({ name })), weight: 4 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify({ name: value })), weight: 2 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? ''), weight: 1 },
    { arbitrary: anyText, weight: 2 },
    {
      arbitrary: fc
        .integer({ min: 16 * 1024 - 16, max: 17 * 1024 })
        .map((n) => JSON.stringify({ name: 'a'.repeat(n) })),
      weight: 1,
    },
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    '',
  );
  // A longer length than sent is answered only by the body timeout (408): rare, to keep runs fast.
  const lie = fc.oneof(
    { arbitrary: fc.constant('exact'), weight: 30 },
    { arbitrary: fc.constantFrom('less', 'garbage', 'none', 'twice'), weight: 4 },
    { arbitrary: fc.constant('more'), weight: 1 },
  );
  return fc.tuple(text, contentType, lie).map(([body, type, length]) => {
    const bytes = Buffer.byteLength(body);
    const value = {
      exact: `${bytes}`,
      less: `${Math.max(0, bytes - 3)}`,
      more: `${bytes + 7}`,
      garbage: '-1',
      twice: `${bytes}`,
    }[length as 'exact'];
    const headers: Array<[string, string]> = [];
    if (type !== '') headers.push(['content-type', type]);
    if (length !== 'none' && (body !== '' || length !== 'exact')) headers.push(['content-length', value]);
    if (length === 'twice') headers.push(['content-length', `${bytes + 1}`]);
    return { text: body, headers };
  });
}

/** A request to the gateway of `fx`: a route of its table mostly, a PUT /engine with a body often. */
export function fuzzRequest(fx: FuzzGateway, routes = routePath(fx)): fc.Arbitrary<FuzzRequest> {
  const path = fc.oneof(
    { arbitrary: routes, weight: 8 },
    { arbitrary: otherPath.map((p) => ({ path: p, inputs: [p] })), weight: 1 },
  );
  const method = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 6 },
    { arbitrary: fc.constantFrom(...METHODS), weight: 2 },
  );
  return fc
    .record({
      path,
      query: query(fx),
      method,
      headers: fc.record(headerChoices(fx)),
      body: body(),
      put: fc.nat({ max: 5 }),
    })
    .map(({ path, query: q, method, headers, body, put }) => {
      // PUT /engine with a body one time in six; other methods' bodies are mostly empty.
      const isPut = put === 0;
      const target = isPut ? '/engine' : q.query === '' ? path.path : `${path.path}?${q.query}`;
      const chosen = Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined);
      const sendBody = isPut || method === 'POST' || method === 'PUT';
      const request: FuzzRequest = {
        method: isPut ? 'PUT' : (method ?? 'GET'),
        target,
        headers: [...chosen, ...(sendBody ? body.headers : [])],
        body: sendBody ? body.text : '',
        inputs: [
          target,
          ...path.inputs,
          ...q.inputs,
          ...chosen.map(([, value]) => value),
          ...(sendBody ? bodyInputs(body.text) : []),
        ],
      };
      return request;
    });
}

/**
 * What of a body a message may repeat: a JSON body's strings (an echoed name comes back in
 * quotes of its own, which the body's JSON syntax would match), else the text itself.
 */
function bodyInputs(text: string): string[] {
  try {
    return jsonStrings(JSON.parse(text));
  } catch {
    return [text];
  }
}

export function requestBytes(request: FuzzRequest): Buffer {
  const head = [
    `${request.method} ${request.target} HTTP/1.1`,
    ...request.headers.map(([n, v]) => `${n}: ${v}`),
    '',
    '',
  ];
  return Buffer.from(head.join('\r\n') + request.body, 'utf8');
}
