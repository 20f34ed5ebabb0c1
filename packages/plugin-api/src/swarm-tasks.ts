/**
 * Docker Swarm's labels on the container of a task, as the moby engine lists them and the
 * gateway's `service=NAME` selector matches them.
 */
export const SWARM_LABELS = {
  serviceId: 'com.docker.swarm.service.id',
  serviceName: 'com.docker.swarm.service.name',
  taskId: 'com.docker.swarm.task.id',
  taskName: 'com.docker.swarm.task.name',
  nodeId: 'com.docker.swarm.node.id',
} as const;

/** `docker service logs` shows a task ID cut to 12 characters. */
const SHORT_TASK_ID = 12;

/**
 * The name `docker service logs` gives a task's lines, `web.1.b3znzh2pkx7y@node`, from its
 * container's labels and node; undefined for a container that is not a swarm task.
 */
export function swarmTaskName(labels: Readonly<Record<string, string>>, node: string | undefined): string | undefined {
  const name = labels[SWARM_LABELS.taskName];
  const id = labels[SWARM_LABELS.taskId];
  if (name === undefined || id === undefined) return undefined;
  const short = name.endsWith(`.${id}`) ? `${name.slice(0, -id.length)}${id.slice(0, SHORT_TASK_ID)}` : name;
  return node === undefined || node === '' ? short : `${short}@${node}`;
}
