import { FRAMING_PROTOCOL, type LogSocket, type MergedQuery } from '@enginegate/test-client';
import { SETTLE_TIMEOUT_MS, eventually, type SuiteHarness } from '../suite-harness.js';

/** How long after the engine made a change its event, join or leave may take (the gateway polls engines without events every 250 ms here). */
export const MEMBERSHIP_BOUND_MS = 3_000;

/** The full ID of a test container, from the engine's own listing (merged records and events name full IDs). */
export async function containerId(h: SuiteHarness, ref: string): Promise<string> {
  let id: string | undefined;
  const found = await eventually(
    async () => {
      const listed = await h.engine.containers();
      id = listed.find((c) => c.id === ref || c.names.some((name) => name.replace(/^\//, '') === ref))?.id;
      return id !== undefined;
    },
    SETTLE_TIMEOUT_MS,
    50,
  );
  if (!found || id === undefined) throw new Error(`${ref} is not in the engine's containers()`);
  return id;
}

/** A merged stream in the JSON framing, open (the upgrade accepted). */
export async function openMergedJson(h: SuiteHarness, query: MergedQuery): Promise<LogSocket> {
  const socket = h.client.mergedSocket(query, [FRAMING_PROTOCOL.json]);
  await socket.opened;
  return socket;
}

/** Reads a merged stream to its end; the close must be 1000. */
export async function readMergedJson(h: SuiteHarness, query: MergedQuery): Promise<LogSocket> {
  const socket = await openMergedJson(h, query);
  const close = await socket.waitClosed(SETTLE_TIMEOUT_MS);
  if (close.code !== 1000)
    throw new Error(`the merged stream ended with close ${close.code} ${close.reason}, not 1000`);
  return socket;
}

/** The events stream (`GET /passthrough/engine/events`) in the JSON framing, open. */
export async function openEvents(h: SuiteHarness): Promise<LogSocket> {
  const socket = h.client.socket('/passthrough/engine/events', [FRAMING_PROTOCOL.json]);
  await socket.opened;
  return socket;
}
