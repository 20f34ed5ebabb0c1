// Docker's `since`/`until` query form is plugin-api's `<seconds>.<nanoseconds>` (Podman takes it too).
export { formatUnixSeconds as toDockerTimeParam } from '@enginegate/plugin-api';
