import type { PassthroughEndpoint } from '@enginegate/plugin-api';

/** One row of `GET /passthrough`. */
export interface PassthroughListing {
  controller: string;
  endpoint: string;
  path: string;
}

/** The gateway's own endpoints, always listed. */
const BUILTIN_ENDPOINTS: readonly PassthroughListing[] = [
  { controller: 'engine', endpoint: 'containers', path: '/passthrough/engine/containers' },
  { controller: 'engine', endpoint: 'events', path: '/passthrough/engine/events' },
  { controller: 'engine', endpoint: 'logs', path: '/passthrough/engine/logs/{container}' },
];

const SEGMENT = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

function byControllerThenEndpoint(a: PassthroughListing, b: PassthroughListing): number {
  if (a.controller !== b.controller) return a.controller < b.controller ? -1 : 1;
  if (a.endpoint !== b.endpoint) return a.endpoint < b.endpoint ? -1 : 1;
  return 0;
}

/**
 * The endpoints under `/passthrough`: the built-in ones plus those the active engine adds
 * (`Engine.passthroughs()`). Listed sorted, so discovery is byte-identical across restarts.
 */
export class PassthroughRegistry {
  private extra = new Map<string, PassthroughEndpoint>();

  constructor(private readonly logger: { warn(obj: object, msg: string): void }) {}

  /** Replaces the engine-provided endpoints (on every engine switch). Bad or clashing names are skipped. */
  setEngineEndpoints(engineName: string | null, endpoints: readonly PassthroughEndpoint[]): void {
    const next = new Map<string, PassthroughEndpoint>();
    for (const endpoint of endpoints) {
      const key = `${endpoint.controller}/${endpoint.endpoint}`;
      const builtin = BUILTIN_ENDPOINTS.some(
        (b) => b.controller === endpoint.controller && b.endpoint === endpoint.endpoint,
      );
      if (
        !SEGMENT.test(String(endpoint.controller)) ||
        !SEGMENT.test(String(endpoint.endpoint)) ||
        typeof endpoint.handler !== 'function'
      ) {
        this.logger.warn(
          { engine: engineName, endpoint: key },
          'engine passthrough endpoint skipped: bad controller/endpoint name or no handler',
        );
      } else if (builtin || next.has(key)) {
        this.logger.warn(
          { engine: engineName, endpoint: key },
          'engine passthrough endpoint skipped: the path is taken',
        );
      } else {
        next.set(key, endpoint);
      }
    }
    this.extra = next;
  }

  find(controller: string, endpoint: string): PassthroughEndpoint | undefined {
    return this.extra.get(`${controller}/${endpoint}`);
  }

  list(): PassthroughListing[] {
    const listed = [...BUILTIN_ENDPOINTS];
    for (const { controller, endpoint } of this.extra.values()) {
      listed.push({ controller, endpoint, path: `/passthrough/${controller}/${endpoint}` });
    }
    return listed.sort(byControllerThenEndpoint);
  }
}
