// Sends a batch of generated requests at once (each on a connection of its own) and collects
// what is wrong with the answers and with the log lines they caused.
import { answerProblems } from './answer-checks.js';
import { REQUEST_TIMEOUT_MS, logProblems, type FuzzGateway } from './fuzz-gateway.js';
import { exchange, type ExchangeOptions } from './raw-exchange.js';
import { requestBytes, type FuzzRequest } from './request-arbitraries.js';

export interface SentBytes {
  bytes: Buffer | Buffer[];
  inputs: string[];
  options?: ExchangeOptions;
  /** A short name for the report. */
  what: string;
}

export function sentRequest(request: FuzzRequest, options: ExchangeOptions = {}): SentBytes {
  return {
    bytes: requestBytes(request),
    inputs: request.inputs,
    options: { headRequest: request.method === 'HEAD', ...options },
    what: `${request.method} ${request.target.slice(0, 100)}`,
  };
}

/**
 * Sends every one of `batch` and throws a report of every problem: an answer not as documented,
 * no answer at all, or a log line at error level or echoing an input. The log lines checked
 * are those written since the previous batch (a stream's close may log after its answer came).
 */
export async function sendBatch(fx: FuzzGateway, batch: readonly SentBytes[]) {
  const answers = await Promise.all(
    batch.map((one) => exchange(fx.port, one.bytes, { timeoutMs: REQUEST_TIMEOUT_MS, ...one.options })),
  );
  fx.requests += batch.length;
  const problems: string[] = [];
  answers.forEach((answer, i) => {
    const sent = batch[i]!;
    const found = answerProblems(answer, sent.inputs, sent.options?.headRequest);
    if (answer.status === 0) found.push(answer.timedOut ? 'no answer in time' : 'closed without an answer');
    problems.push(...found.map((problem) => `${sent.what}: ${problem}`));
  });
  const inputs = batch.flatMap((one) => one.inputs);
  problems.push(...logProblems(fx.takeLogLines(), [...inputs, ...fx.previousInputs]));
  fx.previousInputs = inputs;
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return answers;
}
