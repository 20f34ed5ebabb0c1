// A merged cursor taken before a member joined: the joined member's lines came after that
// cursor in the stream (its history first, stamped before the cursor's time), so a resume with
// it must give them all again — not only those after the cursor's time.
import t from 'tap';
import type { MockEngine } from '@enginegate/plugin-mock';
import { startGateway } from './fixtures/harness.js';

interface JsonRecord {
  type: string;
  name?: string;
  line?: string;
  cursor?: string;
}

const JSON_PROTOCOL = 'v1.json.enginegate';
const labels = { 'com.docker.compose.project': 'resume' };
const text = (prefix: string) => (i: number) => ({ stream: 'stdout' as const, bytes: Buffer.from(`${prefix} ${i}`) });

t.test('a resume with a cursor from before a join gives every line the joined member sent', async (t) => {
  const { client, gw } = await startGateway(t);
  const mock = gw.engines.snapshot().engine as unknown as MockEngine;
  mock.addContainer({
    name: 'resume-a',
    lineCount: Infinity,
    intervalMs: 20,
    historyLines: 3,
    labels,
    lineAt: text('a'),
  });
  const query = { project: 'resume' };
  const socket = client.mergedSocket(query, [JSON_PROTOCOL]);
  t.teardown(() => socket.close());
  await socket.opened;
  const records = () => socket.jsonMessages() as JsonRecord[];
  await socket.waitFor(() => records().filter((r) => r.type === 'line').length >= 10, 'lines of a');

  // b comes with history: five lines stamped in the 400 ms before its start.
  mock.addContainer({
    name: 'resume-b',
    lineCount: Infinity,
    intervalMs: 100,
    historyLines: 5,
    labels,
    lineAt: text('b'),
  });
  await socket.waitFor(() => records().filter((r) => r.name === 'resume-b' && r.type === 'line').length >= 6, 'b');
  const all = records();
  const joinAt = all.findIndex((r) => r.type === 'join' && r.name === 'resume-b');
  // The client was cut right at the join: its last cursor is that of the line before.
  const cursor = all
    .slice(0, joinAt)
    .filter((r) => r.type === 'line')
    .at(-1)!.cursor!;
  const bAfterCut = all
    .slice(joinAt)
    .filter((r) => r.name === 'resume-b' && r.type === 'line')
    .map((r) => r.line);
  t.same(bAfterCut.slice(0, 5), ['b 0', 'b 1', 'b 2', 'b 3', 'b 4'], 'b’s history came after the join');

  const again = client.mergedSocket({ ...query, after: cursor }, [JSON_PROTOCOL]);
  t.teardown(() => again.close());
  const resumedB = () =>
    (again.jsonMessages() as JsonRecord[]).filter((r) => r.name === 'resume-b' && r.type === 'line').map((r) => r.line);
  await again.waitFor(() => resumedB().length >= bAfterCut.length, 'b in the resumed stream', 5000).catch(() => {});
  t.same(resumedB().slice(0, bAfterCut.length), bAfterCut, 'every line of b that came after the cursor, again');
});
