import type { SwarmView } from '@enginegate/plugin-moby';
import { formatTable } from '../text-table.js';

/** Docker shows IDs cut to 12 characters. */
const SHORT_ID_LENGTH = 12;

/**
 * `enginegate ps --services`: the services as `docker service ls` lists them, then their tasks
 * as `docker service ps` does — those meant to run only, unless `all` (the history too).
 */
export function formatServicesTable(view: SwarmView, options: { all: boolean }): string {
  const services = formatTable(
    ['ID', 'NAME', 'MODE', 'REPLICAS', 'IMAGE'],
    view.services.map((service) => {
      const running = service.tasks.filter((task) => task.state === 'running').length;
      const wanted = service.replicas ?? service.tasks.filter((task) => task.desiredState === 'running').length;
      return [service.id.slice(0, SHORT_ID_LENGTH), service.name, service.mode, `${running}/${wanted}`, service.image];
    }),
  );
  const rows = view.services.flatMap((service) =>
    service.tasks
      .filter((task) => options.all || task.desiredState === 'running')
      .map((task) => [
        task.id.slice(0, SHORT_ID_LENGTH),
        task.name,
        service.image,
        task.node,
        task.desiredState,
        task.state,
        task.error ?? '',
      ]),
  );
  const tasks = formatTable(['TASK ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR'], rows);
  return `${services}\n${tasks}`;
}
