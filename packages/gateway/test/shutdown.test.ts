// SIGTERM to a gateway run by runGateway: open streams see 1001, the process exits within 5 s.
import t from 'tap';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LogsClient } from '@enginegate/test-client';

t.test(
  'SIGTERM with an open stream: the client sees 1001 and the process exits within 5 s',
  { timeout: 30_000 },
  async (t) => {
    const token = 'shutdown-token';
    const child = fork(fileURLToPath(new URL('./fixtures/run-gateway.mjs', import.meta.url)), [], {
      env: { ...process.env, TEST_TOKEN: token },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const { url } = await new Promise<{ url: string }>((resolve) => child.once('message', resolve as never));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.once('exit', (code) => resolve({ code, at: Date.now() })),
    );

    const client = new LogsClient(url, token).socket('/passthrough/engine/logs/mock-chatty?tail=1', [
      'v1.json.enginegate',
    ]);
    await client.waitForMessages(2);
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const closed = await client.closed;
    t.equal(closed.code, 1001, 'the client sees 1001');
    t.match(closed.reason, /shutting down/);
    const exit = await exited;
    t.equal(exit.code, 0, 'a clean exit');
    t.ok(exit.at - signalledAt < 5000, `exited ${exit.at - signalledAt} ms after SIGTERM`);
  },
);
