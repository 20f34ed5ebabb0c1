import { splitNanos, type UnixNanos } from '@enginegate/plugin-api';

/** Docker's `since`/`until` query form: `<seconds>.<nanoseconds>` (nine digits). */
export function toDockerTimeParam(ns: UnixNanos): string {
  const [seconds, nanos] = splitNanos(ns);
  return `${seconds}.${nanos.toString().padStart(9, '0')}`;
}
