// The WebSocket fuzz's cases — a real upgrade of the logs, merged or events route, then
// generated frames — and what is wrong with the gateway's side of one connection.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { AUTH_SUBPROTOCOL_PREFIX, FRAMING_SUBPROTOCOLS } from '@enginegate/gateway';
import { answerProblems } from './answer-checks.js';
import type { FuzzGateway } from './fuzz-gateway.js';
import { frameInputs, frameSequence, sentCloseCodes } from './websocket-frame-arbitraries.js';
import type { WebSocketCase, WebSocketResult } from './websocket-exchange.js';

/** docs/api.md's close-code table. */
const DOCUMENTED_CLOSE_CODES = new Set(
  [
    ...readFileSync(fileURLToPath(new URL('../../docs/api.md', import.meta.url)), 'utf8').matchAll(/^\| (1\d{3}) \|/gm),
  ].map(([, code]) => Number(code)),
);
/** RFC 6455 §7.4: the codes a client may send (which ws echoes in its answer). */
const sendable = (code: number) =>
  (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);

function upgradeTarget(fx: FuzzGateway): fc.Arbitrary<{ path: string; events: boolean }> {
  const names = fx.containers.flatMap((c) => c.names);
  const query = fc
    .tuple(fc.option(fc.nat({ max: 50 })), fc.constantFrom('', 'follow=false', 'follow=true'))
    .map(([tail, follow]) => [tail === null ? '' : `tail=${tail}`, follow].filter(Boolean).join('&'));
  const logs = fc
    .tuple(fc.constantFrom(...names), query)
    .map(([name, q]) => ({ path: `/passthrough/engine/logs/${name}?${q}`, events: false }));
  const merged = fc
    .tuple(fc.constantFrom('all=true', 'container=mock-chatty&container=mock-exit', 'container=mock-bytes'), query)
    .map(([selector, q]) => ({ path: `/passthrough/engine/logs?${selector}&${q}`, events: false }));
  const events = fc.constant({ path: '/passthrough/engine/events', events: true });
  return fc.oneof(logs, merged, events);
}

/** `end`: every case ends so (else each its own). */
export function webSocketCase(fx: FuzzGateway, end?: WebSocketCase['end']): fc.Arbitrary<WebSocketCase> {
  const framings = [...FRAMING_SUBPROTOCOLS.keys()];
  const auth = `${AUTH_SUBPROTOCOL_PREFIX}${Buffer.from(fx.token ?? '').toString('base64url')}`;
  return fc
    .record({
      target: upgradeTarget(fx),
      framing: fc.option(fc.constantFrom(...framings)),
      authBySubprotocol: fc.boolean(),
      frames: frameSequence,
      withRequest: fc.nat({ max: 5 }).map((n) => n === 0),
      pieces: fc.integer({ min: 1, max: 4 }),
      cutAt: fc.oneof(
        { arbitrary: fc.constant(1), weight: 4 },
        { arbitrary: fc.double({ min: 0, max: 1, noNaN: true }), weight: 1 },
      ),
      end: end === undefined ? fc.constantFrom('destroy', 'fin', 'wait', 'close' as const) : fc.constant(end),
      pipelined: fc.nat({ max: 5 }).map((n) => n === 0),
    })
    .map(({ target, framing, authBySubprotocol, frames, withRequest, pieces, cutAt, end, pipelined }) => {
      const protocols = [target.events ? (framing === null ? null : 'v1.json.enginegate') : framing];
      if (authBySubprotocol) protocols.push(auth);
      const offered = protocols.filter((p): p is string => p !== null);
      const head = [
        `GET ${target.path} HTTP/1.1`,
        `Host: 127.0.0.1:${fx.port}`,
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        ...(offered.length > 0 ? [`Sec-WebSocket-Protocol: ${offered.join(', ')}`] : []),
        ...(authBySubprotocol ? [] : [`Authorization: Bearer ${fx.token}`]),
      ];
      return {
        request: `${head.join('\r\n')}\r\n\r\n`,
        // Pipelined behind a request on the same connection: the upgrade is served after its answer.
        before: pipelined ? `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${fx.port}\r\n\r\n` : undefined,
        frames,
        withRequest,
        pieces,
        cutAt,
        end,
        inputs: frameInputs(frames),
        what: `${pipelined ? '(pipelined) ' : ''}${target.path} [${frames.map((f) => f.what).join('; ')}] cut ${cutAt.toFixed(2)}, ${end}`,
      };
    });
}

export function resultProblems(c: WebSocketCase, r: WebSocketResult): string[] {
  if (c.before && r.beforeStatus !== 200) return [`the request before the upgrade got ${r.beforeStatus}`];
  if (r.answer.status !== 101) {
    const problems = answerProblems({ ...r.answer, closedByServer: r.closedByServer, timedOut: false }, c.inputs);
    if (r.answer.status === 0) return [`no answer to the upgrade (${r.closedByServer ? 'closed' : 'timed out'})`];
    return [`no 101 but ${r.answer.status}: ${r.answer.body.toString('utf8').slice(0, 200)}`, ...problems];
  }
  const problems: string[] = [];
  if (r.frameError) problems.push(`the gateway sent a malformed frame: ${r.frameError}`);
  if (r.afterClose) problems.push('the gateway sent frames after its close frame');
  if (r.close) {
    const echoed = sentCloseCodes(c.frames).filter(sendable);
    const { code } = r.close;
    const ownEcho = echoed.includes(code) || (code === 1005 && c.frames.some((f) => f.what === 'close of 0 bytes'));
    if (!DOCUMENTED_CLOSE_CODES.has(code) && !ownEcho) problems.push(`close code ${code} (${r.close.reason})`);
  }
  // A FIN, or a clean close after whole frames, is answered by the end of the connection.
  const whole = c.cutAt === 1 && c.frames.every((f) => f.claimedLength === undefined);
  if ((c.end === 'fin' || (c.end === 'close' && whole)) && !r.closedByServer)
    problems.push(`the connection stayed open after the client's ${c.end}`);
  return problems;
}
