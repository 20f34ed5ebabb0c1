// The LogSource conformance suite (@enginegate/testkit) against the moby plugin and a private
// dockerd. Containers are busybox shells that printf the suite's bytes.
import t from 'tap';
import type { ContainerOptions, ContainerWrite } from '@enginegate/testkit';
import { runConformanceSuite } from '@enginegate/testkit';
import mobyPlugin, { MobyEngine } from '@enginegate/plugin-moby';
import { dockerdForTest, type PrivateDockerd } from '@enginegate/test-harness/dockerd';

t.setTimeout(300_000);
const dockerd = await dockerdForTest(t);
if (dockerd) await suite(dockerd);

/** Bytes as a printf format: safe ASCII as is, everything else as a 3-digit octal escape. */
function printfFormat(bytes: Buffer): string {
  let format = '';
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    format += /[A-Za-z0-9 ,.:_=+-]/.test(c) ? c : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return format;
}

/** A shell script that writes the lines, `intervalMs` apart, then exits or keeps running. */
function linesScript(lines: ContainerWrite[], { intervalMs = 0, exitCode }: ContainerOptions): string {
  const commands: string[] = [];
  lines.forEach((line, i) => {
    if (i > 0 && intervalMs > 0) commands.push(`sleep ${intervalMs / 1000}`);
    commands.push(`printf '${printfFormat(line.bytes)}\\n'${line.stream === 'stderr' ? ' >&2' : ''}`);
  });
  commands.push(exitCode === undefined ? 'while true; do sleep 3600; done' : `exit ${exitCode}`);
  return `${commands.join('\n')}\n`;
}

/** A one-file tar (ustar), for Docker's putArchive: the script is too big for an argument. */
function singleFileTar(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) =>
    header.write(value.padEnd(length, '\0').slice(0, length), offset, 'latin1');
  const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, '0')}\0`;
  field(0, 100, name);
  field(100, 8, octal(0o755, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(content.length, 12));
  field(136, 12, octal(Math.floor(Date.now() / 1000), 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 8, 'ustar\x0000');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

async function suite(dockerd: PrivateDockerd): Promise<void> {
  await runConformanceSuite(t, {
    name: 'moby',
    plugin: mobyPlugin,
    pluginConfig: { dockerSocket: dockerd.socket },
    async createContainer(lines, options, { name }) {
      const container = await dockerd.docker.createContainer({
        name,
        Image: dockerd.image,
        Cmd: ['sh', '/lines.sh'],
        Tty: options.tty === true,
        StopTimeout: 1,
        HostConfig: {
          NetworkMode: 'none',
          // `local` keeps bytes that are not UTF-8 (json-file cannot); TTY containers stay on
          // json-file, where Docker 20.10's `local` driver mangles long TTY lines.
          ...(options.tty ? {} : { LogConfig: { Type: 'local', Config: {} } }),
        },
      });
      await container.putArchive(singleFileTar('lines.sh', Buffer.from(linesScript(lines, options), 'latin1')), {
        path: '/',
      });
      await container.start();
      return { ref: name, remove: () => container.remove({ force: true }).catch(() => undefined) };
    },
    engineHandle: { stop: () => dockerd.stop(), start: () => dockerd.start() },
    countOpenStreams: (engine) => (engine as MobyEngine).openStreamCount,
  });
}
