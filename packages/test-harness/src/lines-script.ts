// The busybox shell script a conformance container runs (moby, podman): it writes the suite's
// lines byte for byte, `intervalMs` apart, then exits or keeps running.
import type { ContainerOptions, ContainerWrite } from '@enginegate/testkit';

/** Bytes as a printf format: safe ASCII as is, everything else as a 3-digit octal escape. */
export function printfFormat(bytes: Buffer): string {
  let format = '';
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    format += /[A-Za-z0-9 ,.:_=+-]/.test(c) ? c : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return format;
}

/** A shell script that writes the lines, `intervalMs` apart, then exits or keeps running. */
export function linesScript(lines: ContainerWrite[], { intervalMs = 0, exitCode }: ContainerOptions): string {
  const commands: string[] = [];
  lines.forEach((line, i) => {
    if (i > 0 && intervalMs > 0) commands.push(`sleep ${intervalMs / 1000}`);
    commands.push(`printf '${printfFormat(line.bytes)}\\n'${line.stream === 'stderr' ? ' >&2' : ''}`);
  });
  commands.push(exitCode === undefined ? 'while true; do sleep 3600; done' : `exit ${exitCode}`);
  return `${commands.join('\n')}\n`;
}

/** A busybox loop writing `<name> <n>` for n = 1..count, `pauseSeconds` apart, then running `then`. */
export function countingScript(name: string, count: number, pauseSeconds: number, then: string): string {
  return `i=1; while [ $i -le ${count} ]; do echo "${name} $i"; i=$((i+1)); sleep ${pauseSeconds}; done; ${then}`;
}
