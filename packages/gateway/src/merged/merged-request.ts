import { setMaxListeners } from 'node:events';
import { InvalidArgumentError, validateNamespace, type ContainerEvent, type Engine } from '@enginegate/plugin-api';
import {
  parseBooleanParam,
  parseStreamParams,
  single,
  type RequestInput,
  type StreamParams,
} from '../logs/log-request.js';
import { MAX_MEMBERS } from './member.js';
import {
  containerName,
  matchesSelector,
  parseMemberSelector,
  selectMembers,
  type MemberSelector,
} from './member-selection.js';
import { decodeMergedCursor, isMergedCursor, type MergedCursor } from './merged-cursor.js';
import { MergedLogSource } from './merged-log-source.js';

/** A merged logs request (`GET /passthrough/engine/logs?container=…|label=…|project=…|all=true|service=…|pod=…`), validated. */
export interface MergedLogRequest extends StreamParams {
  selector: MemberSelector;
  namespace?: string;
  resume?: MergedCursor;
  /** Text and raw framings: `name | ` before each line (`prefix=false` turns it off). */
  prefix: boolean;
  /** The selector as logs show it, e.g. `project=demo` (openCountedStream cuts it to 64 characters). */
  description: string;
}

function describe(selector: MemberSelector): string {
  switch (selector.kind) {
    case 'all':
      return 'all=true';
    case 'containers':
      return `container=${selector.refs.join(',')}`;
    case 'labels':
      return selector.labels.map(({ key, value }) => (value === undefined ? key : `${key}=${value}`)).join(',');
    case 'service':
      return `service=${selector.service}`;
    case 'pod':
      return `pod=${selector.pod}`.slice(0, 64);
  }
}

/** Reads a merged request: the selector, every single-container parameter, `after` (a merged cursor) and `prefix`. */
export function parseMergedLogRequest(input: RequestInput): MergedLogRequest {
  const { query } = input;
  const selector = parseMemberSelector(query);
  if (selector === undefined)
    throw new InvalidArgumentError(
      'container',
      'name the containers to merge: container= (repeatable), label=, project=, all=true, service= or pod=; or one container in the path',
    );
  const request: MergedLogRequest = {
    selector,
    ...parseStreamParams(input),
    prefix: parseBooleanParam('prefix', single(query, 'prefix'), true),
    description: describe(selector),
  };
  const namespace = single(query, 'namespace');
  if (namespace !== undefined) request.namespace = validateNamespace(namespace);
  const after = single(query, 'after');
  if (after !== undefined) {
    if (!isMergedCursor(after))
      throw new InvalidArgumentError(
        'after',
        'after= on a merged stream takes a merged cursor (the cursor of one of its records)',
      );
    request.resume = decodeMergedCursor(after);
  }
  return request;
}

/**
 * Finds the members of a merged request (a listed container that is not there is a 404, an
 * ambiguous one a 409) and opens their histories; a selector matching more than MAX_MEMBERS
 * takes the first by name and says what it left out.
 */
export async function openMergedSource(
  engine: Pick<Engine, 'logs' | 'containers'>,
  request: MergedLogRequest,
  signal: AbortSignal,
  subscribe?: (signal: AbortSignal) => Promise<AsyncIterable<ContainerEvent[]>>,
): Promise<MergedLogSource> {
  // Every member's history and live stream listen on this one signal: past 10 members Node
  // would warn of a leak that is none (up to 256 members, each with two opens, and the events).
  setMaxListeners(2 * MAX_MEMBERS + 8, signal);
  // Subscribed before the listing, so that a container starting in between is not missed.
  const events = request.options.follow && subscribe !== undefined ? await subscribe(signal) : undefined;
  const containers = await engine.containers(
    request.namespace === undefined ? undefined : { namespace: request.namespace },
  );
  const selected = selectMembers(request.selector, containers);
  const { selector } = request;
  const listed = new Set(selector.kind === 'containers' ? selected.map((c) => c.id) : []);
  return MergedLogSource.open({
    engine,
    members: selected.slice(0, MAX_MEMBERS),
    leftOut: selected.slice(MAX_MEMBERS).map(containerName),
    options: request.options,
    ...(request.resume !== undefined && { resume: request.resume }),
    endsWhenAllLeft: selector.kind === 'containers',
    ...(events !== undefined && { events }),
    matches: (info) => (selector.kind === 'containers' ? listed.has(info.id) : matchesSelector(selector, info)),
    signal,
  });
}
