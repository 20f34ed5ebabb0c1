import type { Test } from 'tap';
import { lineRecords } from '../framing-decoders.js';
import { decodeMergedJsonMessages, mergedLines, type MergedRecord } from '../merged-decoders.js';
import {
  SETTLE_TIMEOUT_MS,
  numberedLines,
  sameLines,
  type SuiteHarness,
  type TestContainer,
} from '../suite-harness.js';
import type { Scenario } from './scenario.js';
import { MEMBERSHIP_BOUND_MS, containerId, openMergedJson, readMergedJson } from './stream-helpers.js';

/** Containers that write `count` lines `intervalMs` apart at the same time, and their IDs. */
async function concurrentContainers(
  t: Test,
  h: SuiteHarness,
  labels: string[],
  count: number,
  options: { intervalMs: number; exitCodes?: number[] },
): Promise<Array<{ container: TestContainer; id: string }>> {
  const created = await Promise.all(
    labels.map((label, i) =>
      h.createContainer(t, numberedLines(label, count), {
        intervalMs: options.intervalMs,
        ...(options.exitCodes ? { exitCode: options.exitCodes[i]! } : {}),
      }),
    ),
  );
  return Promise.all(created.map(async (container) => ({ container, id: await containerId(h, container.ref) })));
}

/** The line records of one member, compared by stream and bytes (merged cursors are the stream's own). */
function checkMemberLines(
  t: Test,
  records: MergedRecord[],
  id: string,
  expected: Array<{ stream?: string; bytes: Buffer }>,
  label: string,
) {
  sameLines(t, mergedLines(records, id), expected, label);
}

/** How often consecutive entries differ. */
function switchCount(members: Array<string | number>): number {
  return members.filter((member, i) => i > 0 && member !== members[i - 1]).length;
}

const mergedTimeOrder: Scenario = async (t, h) => {
  const members = await concurrentContainers(t, h, ['alpha', 'bravo', 'charlie'], 6, {
    intervalMs: 120,
    ...(h.capabilities.exits ? { exitCodes: [0, 0, 0] } : {}),
  });
  const references = await Promise.all(
    members.map(async ({ container }) => {
      if (h.capabilities.exits) await h.waitForEnd(container.ref, container.written.length);
      return lineRecords(await h.readJsonWhenComplete(container.ref, container.written.length));
    }),
  );
  const socket = await readMergedJson(h, { container: members.map((m) => m.container.ref), follow: false });
  const records = decodeMergedJsonMessages(socket.messages);
  const lines = mergedLines(records);
  t.equal(lines.length, 18, 'the merged history holds every line of the three containers');
  for (const [i, { id, container }] of members.entries())
    checkMemberLines(t, records, id, references[i]!, `${container.ref}: its own lines, in its own order`);
  const outOfOrder = lines.findIndex((line, i) => i > 0 && line.time! < lines[i - 1]!.time!);
  t.equal(outOfOrder, -1, 'the merged history is in time order across the members');
  // Members interleave as far as the engine's times tell them apart (Podman's are whole seconds:
  // ties keep the stable member order, so fewer switches are expected there).
  const byTime = references
    .flatMap((reference, member) => reference.map((line) => ({ member, time: line.time! })))
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.member - b.member));
  const expected = Math.min(3, switchCount(byTime.map((line) => line.member)));
  const switches = switchCount(lines.map((line) => line.container));
  t.ok(
    switches >= expected,
    `the members interleave (${switches} switches between members, ${expected} or more expected)`,
  );
  t.equal(new Set(lines.map((line) => line.cursor)).size, lines.length, 'every merged record has its own cursor');
};

const mergedJoinLeave: Scenario = async (t, h) => {
  // A selector stream (all=true) picks up a container started after it opened; the container leaves with its code.
  const stream = await openMergedJson(h, { all: true, follow: true });
  t.teardown(() => stream.close());
  const late = numberedLines('late', 3);
  const container = await h.createContainer(t, late, { intervalMs: 150, exitCode: 3 });
  const createdAt = performance.now();
  const id = await containerId(h, container.ref);
  const records = () => decodeMergedJsonMessages(stream.messages);
  await stream.waitFor(
    () => records().some((r) => r.type === 'join' && r.container === id),
    'the join',
    SETTLE_TIMEOUT_MS,
  );
  const joinAt = stream.messages[records().findIndex((r) => r.type === 'join' && r.container === id)]!.at;
  t.ok(
    joinAt - createdAt <= MEMBERSHIP_BOUND_MS,
    `the later container joined ${Math.round(joinAt - createdAt)} ms after it started (bound ${MEMBERSHIP_BOUND_MS} ms)`,
  );
  await stream.waitFor(
    () => records().some((r) => r.type === 'leave' && r.container === id),
    'the leave',
    SETTLE_TIMEOUT_MS,
  );
  const own = records().filter((r) => 'container' in r && r.container === id);
  checkMemberLines(t, own, id, late, 'the joined container: every line');
  t.equal(own[0]?.type, 'join', 'its join comes before its lines');
  const leave = own.at(-1);
  t.same(leave?.type === 'leave' ? leave.exitCode : leave, 3, 'it leaves last, with exit code 3');

  // A container= list ends (1000) once every listed container has exited, each leaving with its code.
  // They write for ~2 s, and the stream is open before the first has written half: both exit while followed.
  const listed = await concurrentContainers(t, h, ['one', 'two'], 6, { intervalMs: 400, exitCodes: [2, 5] });
  const ended = await openMergedJson(h, { container: listed.map((m) => m.container.ref), follow: true });
  const endClose = await ended.waitClosed(SETTLE_TIMEOUT_MS);
  t.equal(endClose.code, 1000, 'the container= stream closed with 1000 once both had exited');
  const all = decodeMergedJsonMessages(ended.messages);
  for (const [i, { id: member, container: c }] of listed.entries()) {
    const mine = all.filter((r) => 'container' in r && r.container === member);
    checkMemberLines(t, mine, member, c.written, `${c.ref}: every line`);
    const last = mine.at(-1);
    t.same(
      last?.type === 'leave' ? last.exitCode : last,
      [2, 5][i],
      `${c.ref} leaves last, with exit code ${[2, 5][i]}`,
    );
  }
};

const mergedCursorResume: Scenario = async (t, h) => {
  const members = await concurrentContainers(t, h, ['left', 'right'], 10, { intervalMs: 150, exitCodes: [0, 0] });
  const query = { container: members.map((m) => m.container.ref), follow: true };
  const first = await openMergedJson(h, query);
  await first.waitFor((messages) => mergedLines(decodeMergedJsonMessages(messages)).length >= 6, '6 lines');
  first.close();
  await first.waitClosed();
  const before = mergedLines(decodeMergedJsonMessages(first.messages));
  const after = before.at(-1)!.cursor!;
  const rest = mergedLines(decodeMergedJsonMessages((await readMergedJson(h, { ...query, after })).messages));
  const seen = [...before, ...rest];
  for (const { id, container } of members) {
    sameLines(
      t,
      seen.filter((line) => line.container === id),
      container.written,
      `dropped after ${before.length} merged lines, resumed with after=: ${container.ref}'s lines exactly once`,
    );
  }
  t.equal(new Set(seen.map((line) => line.cursor)).size, seen.length, 'no merged cursor came twice');
};

const mergedTail: Scenario = async (t, h) => {
  const finished = await Promise.all(['north', 'south'].map((label) => h.createFinished(t, numberedLines(label, 6))));
  const refs = finished.map(({ container }) => container.ref);
  const ids = await Promise.all(refs.map((ref) => containerId(h, ref)));
  for (const tail of [2, 0]) {
    const records = decodeMergedJsonMessages(
      (await readMergedJson(h, { container: refs, follow: false, tail })).messages,
    );
    for (const [i, { reference }] of finished.entries())
      checkMemberLines(
        t,
        records,
        ids[i]!,
        reference.slice(reference.length - tail),
        `tail=${tail}: the last ${tail} lines of ${refs[i]}`,
      );
  }
};

export const mergedScenarios: Record<string, Scenario> = {
  'merged-time-order': mergedTimeOrder,
  'merged-join-leave': mergedJoinLeave,
  'merged-cursor-resume': mergedCursorResume,
  'merged-tail': mergedTail,
};
