import { NS_PER_S, type UnixNanos } from '@enginegate/plugin-api';

/** Docker's `since`/`until` query form: `<seconds>.<nanoseconds>` (nine digits). */
export function toDockerTimeParam(ns: UnixNanos): string {
  let seconds = ns / NS_PER_S;
  let fraction = ns % NS_PER_S;
  if (fraction < 0n) {
    fraction += NS_PER_S;
    seconds -= 1n;
  }
  return `${seconds}.${fraction.toString().padStart(9, '0')}`;
}
