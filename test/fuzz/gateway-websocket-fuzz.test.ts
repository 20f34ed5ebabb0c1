// Issue 12: generated WebSocket frames after real upgrades of the logs, merged and events routes
// on the mock engine (see websocket-frame-arbitraries.ts for what is sent). Every upgrade is a
// 101 or an answer as documented; every frame the gateway sends is well formed, none after its
// close frame; every close code is one docs/api.md lists, or the client's own valid code echoed;
// a FIN or a clean close is answered by the end of the connection; nothing is logged at error.
// Afterwards a normal client is served, no stream stays open and close() ends every socket.
import t from 'tap';
import fc from 'fast-check';
import {
  FUZZ_SCALE,
  assertStillServes,
  fuzz,
  logProblems,
  startFuzzGateway,
  type FuzzGateway,
} from './fuzz-gateway.js';
import { resultProblems, webSocketCase } from './websocket-cases.js';
import { webSocketExchange, type WebSocketCase } from './websocket-exchange.js';

t.setTimeout(Math.max(120_000, 120_000 * FUZZ_SCALE));

const EXCHANGE_TIMEOUT_MS = 5000;
/** close() waits 1 s for streams to end and 1 s for close handshakes; then every socket is cut. */
const CLOSE_LIMIT_MS = 4000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let frames = 0;

async function sendWebSocketBatch(fx: FuzzGateway, batch: readonly WebSocketCase[]): Promise<void> {
  const results = await Promise.all(batch.map((c) => webSocketExchange(fx.port, c, EXCHANGE_TIMEOUT_MS)));
  fx.requests += batch.length;
  frames += batch.reduce((sum, c) => sum + c.frames.length, 0);
  const problems = results.flatMap((r, i) => resultProblems(batch[i]!, r).map((p) => `${batch[i]!.what}: ${p}`));
  const inputs = batch.flatMap((c) => c.inputs);
  problems.push(...logProblems(fx.takeLogLines(), [...inputs, ...fx.previousInputs]));
  fx.previousInputs = inputs;
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/** Pings come between the client's frames, and a client silent for two of them is dropped. */
const PING_INTERVAL_MS = 250;
/**
 * Every upgrade here is whole and valid, and must be a 101: node's header timeout counts from
 * the connection's accept, so the raw suites' 250 ms would answer 408 whenever the loaded
 * machine reads a new connection late.
 */
const TIMEOUTS = { headersTimeoutMs: 5000, bodyTimeoutMs: 5000 };

t.test('WebSocket frames after real upgrades', async (t) => {
  const fx = await startFuzzGateway(t, { pingIntervalMs: PING_INTERVAL_MS, ...TIMEOUTS });
  const batch = fc.array(webSocketCase(fx), { minLength: 1, maxLength: 8 });
  const before = frames;
  await fuzz(t, fx, 'websocket frames', batch, 200, (cases) => sendWebSocketBatch(fx, cases), false);
  t.comment(`websocket frames: ${frames - before} frames sent`);
  await assertStillServes(t, fx);
  const started = performance.now();
  const closed = await Promise.race([fx.gw.close().then(() => true), sleep(CLOSE_LIMIT_MS).then(() => false)]);
  t.comment(`close() after the fuzz: ${closed ? `${(performance.now() - started).toFixed(0)} ms` : 'hung'}`);
  t.ok(closed, `close() ends every connection within ${CLOSE_LIMIT_MS} ms`);
});

t.test('close() with clients left in every state', async (t) => {
  // No pings: the heartbeat would drop the silent clients before close() is asked to.
  const fx = await startFuzzGateway(t, TIMEOUTS);
  const seed = process.env.FUZZ_SEED === undefined ? Date.now() | 0 : Number(process.env.FUZZ_SEED);
  const held = fc.sample(webSocketCase(fx, 'hold'), { numRuns: Math.max(10, Math.round(40 * FUZZ_SCALE)), seed });
  t.comment(`held clients: seed ${seed}`);
  const sent: Array<Promise<void>> = [];
  const exchanges = held.map((c) => {
    let onSent = () => undefined as void;
    sent.push(new Promise((resolve) => (onSent = resolve)));
    return webSocketExchange(fx.port, c, EXCHANGE_TIMEOUT_MS + CLOSE_LIMIT_MS, onSent);
  });
  // Every client upgraded and its frames sent: the gateway has each connection in its state.
  await Promise.all(sent);
  await sleep(100);
  const started = performance.now();
  const closed = await Promise.race([fx.gw.close().then(() => true), sleep(CLOSE_LIMIT_MS).then(() => false)]);
  t.comment(
    `close() with ${held.length} clients: ${closed ? `${(performance.now() - started).toFixed(0)} ms` : 'hung'}`,
  );
  t.ok(closed, `close() ends every connection within ${CLOSE_LIMIT_MS} ms`);
  const results = await Promise.all(exchanges);
  // An upgrade answered before (or while) the gateway closed is judged as in the fuzz above.
  const problems = held.flatMap((c, i) => {
    const r = results[i]!;
    const found = resultProblems(c, r);
    if (r.answer.status === 101 && !r.closedByServer) found.push('left open by close()');
    return found.map((problem) => `${c.what}: ${problem}`);
  });
  t.same(problems, [], 'every client connection was ended by the gateway, every answer as documented');
});
