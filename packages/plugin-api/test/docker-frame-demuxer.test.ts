import t from 'tap';
import { DockerFrameDemuxer, DockerFrameError, type DockerStreamType } from '@enginegate/plugin-api';

function frame(stream: number, payload: string | Buffer): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

t.test('demuxes whole frames and frames split at every byte', async (t) => {
  const wire = Buffer.concat([
    frame(1, 'out one\n'),
    frame(2, 'err\n'),
    frame(1, Buffer.alloc(70000, 0x61)),
    frame(3, 'boom'),
  ]);
  const expected = [
    [1, 'out one\n'],
    [2, 'err\n'],
    [1, 'a'.repeat(70000)],
    [3, 'boom'],
  ];
  for (const step of [wire.length, 1, 3, 7, 8, 9, 4096]) {
    const d = new DockerFrameDemuxer();
    const got: Array<[DockerStreamType, string]> = [];
    for (let i = 0; i < wire.length; i += step)
      d.push(wire.subarray(i, i + step), (s, p) => got.push([s, p.toString()]));
    t.same(got, expected, `chunks of ${step}`);
    t.notOk(d.midFrame);
  }
});

t.test('reports a cut frame and rejects garbage', async (t) => {
  const d = new DockerFrameDemuxer();
  d.push(frame(1, 'hello').subarray(0, 10), () => {});
  t.ok(d.midFrame);
  t.throws(() => new DockerFrameDemuxer().push(Buffer.from('HTTP/1.1 200 OK\r\n'), () => {}), DockerFrameError);
});
