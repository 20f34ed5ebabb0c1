// DockerLogEntryReader: Docker's timestamped log frames (Docker Engine API, Podman's libpod API)
// into (stream, time, content) entries, whatever the chunking; and isConnectionFailure.
import t from 'tap';
import {
  DockerLogEntryReader,
  EngineUnavailableError,
  isConnectionFailure,
  parseRfc3339,
  type StreamName,
} from '@enginegate/plugin-api';

function frame(stream: number, payload: string): Buffer {
  const body = Buffer.from(payload, 'latin1');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

t.test('entries with their streams and times, in chunks of any size; stdin dropped; in-band error last', (t) => {
  const wire = Buffer.concat([
    frame(1, '2026-12-01T22:10:43Z out 0\n'),
    frame(0, '2026-12-01T22:10:43Z typed on stdin\n'),
    frame(2, '2026-12-01T22:10:43.123456789Z err piece'),
    frame(1, 'no timestamp\n'),
    frame(3, 'the daemon failed\n'),
    frame(1, '2026-12-01T22:10:44Z after the error\n'),
  ]);
  for (const step of [wire.length, 1, 5, 13]) {
    const reader = new DockerLogEntryReader();
    const got: Array<[StreamName, bigint, string]> = [];
    for (let i = 0; i < wire.length; i += step) {
      reader.push(wire.subarray(i, i + step), (stream, time, content) =>
        got.push([stream, time, content.toString('latin1')]),
      );
    }
    const second = parseRfc3339('2026-12-01T22:10:43Z')!;
    t.same(
      got,
      [
        ['stdout', second, 'out 0\n'],
        ['stderr', second + 123_456_789n, 'err piece'],
        ['stdout', second + 123_456_789n, 'no timestamp\n'],
      ],
      `chunks of ${step}: contents after the timestamp (newline kept); an entry without one keeps the time before`,
    );
    t.equal(reader.inBandError, 'the daemon failed', 'the in-band error, nothing after it');
    t.equal(reader.entries, 3, 'three stdout/stderr entries');
    t.notOk(reader.midFrame);
  }
  const cut = new DockerLogEntryReader();
  cut.push(frame(1, '2026-12-01T22:10:43Z cut').subarray(0, 12), () => t.fail('no entry from half a frame'));
  t.ok(cut.midFrame, 'a body cut inside a frame is told');
  t.end();
});

t.test('isConnectionFailure: a daemon not there, not one that answered with an error', (t) => {
  for (const code of ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']) {
    t.ok(isConnectionFailure(Object.assign(new Error('x'), { code })), code);
  }
  t.ok(isConnectionFailure(new Error('socket hang up')), 'socket hang up');
  t.ok(isConnectionFailure(new DOMException('timed out', 'TimeoutError')), 'a request timeout');
  t.ok(isConnectionFailure(new EngineUnavailableError('gone')), 'EngineUnavailableError');
  t.notOk(isConnectionFailure(Object.assign(new Error('no such container'), { statusCode: 404 })), 'an HTTP error');
  t.notOk(isConnectionFailure(undefined), 'nothing');
  t.end();
});
