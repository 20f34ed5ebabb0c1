import type { StreamName } from '@enginegate/plugin-api';
import type { MockContainerSpec } from './simulated-container.js';

/** The simulated Compose project's name (`com.docker.compose.project`). */
export const DEMO_PROJECT = 'demo';
/** When demo-worker-1 starts, after the engine started: a container that joins later. */
export const DEMO_WORKER_START_MS = 3000;
/** demo-migrate-1's exit code: it runs its migrations, then exits. */
export const DEMO_MIGRATE_EXIT_CODE = 0;

export type DemoContainerName = 'demo-web-1' | 'demo-db-1' | 'demo-migrate-1' | 'demo-worker-1';

/** A demo container and when it starts, counted from the engine's start. */
export interface DemoContainer {
  spec: MockContainerSpec;
  startAfterMs: number;
}

/** The labels `docker compose up` puts on a service's first container. */
function composeLabels(service: string): Record<string, string> {
  return {
    'com.docker.compose.project': DEMO_PROJECT,
    'com.docker.compose.service': service,
    'com.docker.compose.container-number': '1',
    'com.docker.compose.oneoff': 'False',
  };
}

const line = (stream: StreamName, text: string) => ({ stream, bytes: Buffer.from(text, 'utf8') });

const MIGRATE_LINES = 12;

/**
 * Compose project 'demo', as `docker compose up` would run it: web and db from the start
 * (with history), a migration that runs about 1.1 s and exits 0, and a worker that starts
 * DEMO_WORKER_START_MS later. For merged views and events with no daemon.
 */
export function demoProjectContainers(): DemoContainer[] {
  const container = (name: DemoContainerName, service: string, rest: Omit<MockContainerSpec, 'name' | 'labels'>) => ({
    name,
    image: `enginegate/demo-${service}:latest`,
    labels: composeLabels(service),
    ...rest,
  });
  return [
    {
      startAfterMs: 0,
      spec: container('demo-web-1', 'web', {
        lineCount: Infinity,
        intervalMs: 400,
        historyLines: 50,
        lineAt: (i) =>
          i % 10 === 9
            ? line('stderr', `web: slow upstream on request ${i + 1}`)
            : line('stdout', `web: GET /items/${i % 37} 200 (request ${i + 1})`),
      }),
    },
    {
      startAfterMs: 0,
      spec: container('demo-db-1', 'db', {
        lineCount: Infinity,
        intervalMs: 1500,
        historyLines: 20,
        lineAt: (i) => line('stdout', `db: checkpoint ${i + 1} complete`),
      }),
    },
    {
      startAfterMs: 0,
      spec: container('demo-migrate-1', 'migrate', {
        lineCount: MIGRATE_LINES,
        intervalMs: 100,
        historyLines: 1,
        exitCode: DEMO_MIGRATE_EXIT_CODE,
        lineAt: (i) =>
          line('stdout', i === MIGRATE_LINES - 1 ? 'migrate: done' : `migrate: applying migration ${i + 1}`),
      }),
    },
    {
      startAfterMs: DEMO_WORKER_START_MS,
      spec: container('demo-worker-1', 'worker', {
        lineCount: Infinity,
        intervalMs: 700,
        historyLines: 1,
        lineAt: (i) => line(i % 5 === 4 ? 'stderr' : 'stdout', `worker: job ${i + 1} done`),
      }),
    },
  ];
}
