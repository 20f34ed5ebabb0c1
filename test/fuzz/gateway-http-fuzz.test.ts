// Issue 12: generated HTTP requests over every route of the gateway's route table, with a token
// and with --no-auth. Every answer is as documented (see answer-checks.ts), and afterwards the
// gateway still serves a normal client with no stream left open. FUZZ_SCALE multiplies the runs.
import t from 'tap';
import fc from 'fast-check';
import { FUZZ_SCALE, assertStillServes, fuzz, startFuzzGateway } from './fuzz-gateway.js';
import { sendBatch, sentRequest } from './fuzz-requests.js';
import { fuzzRequest } from './request-arbitraries.js';

t.setTimeout(Math.max(240_000, 240_000 * FUZZ_SCALE));

const batchOf = (request: ReturnType<typeof fuzzRequest>) => fc.array(request, { minLength: 1, maxLength: 12 });

t.test('HTTP requests with a token', async (t) => {
  const fx = await startFuzzGateway(t);
  await fuzz(t, fx, 'http with a token', batchOf(fuzzRequest(fx)), 2400, async (batch) => {
    await sendBatch(
      fx,
      batch.map((request) => sentRequest(request)),
    );
  });
  await assertStillServes(t, fx);
});

t.test('HTTP requests with --no-auth', async (t) => {
  const fx = await startFuzzGateway(t, { noAuth: true, token: undefined });
  await fuzz(t, fx, 'http with --no-auth', batchOf(fuzzRequest(fx)), 500, async (batch) => {
    await sendBatch(
      fx,
      batch.map((request) => sentRequest(request)),
    );
  });
  await assertStillServes(t, fx);
});
