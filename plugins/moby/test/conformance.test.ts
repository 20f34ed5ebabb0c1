// The LogSource conformance suite (@enginegate/testkit) against the moby plugin and a private
// dockerd. Containers are busybox shells that printf the suite's bytes.
import t from 'tap';
import { runConformanceSuite } from '@enginegate/testkit';
import mobyPlugin, { MobyEngine } from '@enginegate/plugin-moby';
import { dockerdForTest, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { linesScript } from '@enginegate/test-harness/lines-script';

t.setTimeout(300_000);
const dockerd = await dockerdForTest(t);
if (dockerd) await suite(dockerd);

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
