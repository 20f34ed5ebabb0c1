import { DockerFrameDemuxer } from './docker-frame-demuxer.js';
import type { UnixNanos } from './time.js';
import { TimestampParser } from './timestamp-parser.js';
import type { StreamName } from './types.js';

/**
 * One log entry: the stream, the time the engine stamped it (0n for a body asked without
 * timestamps), and its content after the timestamp (a view of the pushed chunk, valid until
 * the next push; a trailing `\n` included when the engine sent one).
 */
export type DockerLogEntrySink = (stream: StreamName, time: UnixNanos, content: Buffer) => void;

const SPACE = 0x20;
/** A timestamp is 20–35 bytes; a space further in means the entry has none. */
const MAX_TIMESTAMP_BYTES = 40;

/**
 * The body of a Docker-style logs request with `timestamps=true`, as the Docker Engine API
 * sends it for non-TTY containers and Podman's libpod API for every container: 8-byte-header
 * frames, one per log entry, each payload `<RFC3339 time> <content>`. Stdin frames are
 * dropped; a stream-3 frame is the daemon's in-band error, after which nothing is read.
 *
 * How entries make lines differs by engine (Docker cuts long lines into 16 KiB pieces that
 * share one time, Podman's conmon into 8 KiB pieces with their own times), so that is left to
 * the caller. A push parser: it holds no stream.
 */
export class DockerLogEntryReader {
  private readonly demuxer = new DockerFrameDemuxer();
  private readonly timestamps = new TimestampParser();
  private lastTime: UnixNanos = 0n;
  /** The daemon's in-band error, once one arrived; nothing follows it. */
  inBandError: string | undefined;
  /** stdout and stderr entries read so far. */
  entries = 0;

  /** @param timestamped false for a body asked with `timestamps=false`: each payload is all content. */
  constructor(private readonly timestamped = true) {}

  push(chunk: Buffer, sink: DockerLogEntrySink): void {
    this.demuxer.push(chunk, (type, payload) => {
      if (this.inBandError !== undefined) return;
      if (type === 3) {
        this.inBandError = payload.toString('utf8').trim() || 'the daemon failed while sending logs';
        return;
      }
      if (type === 0) return; // stdin: never part of logs
      this.entries++;
      if (!this.timestamped) {
        sink(type === 1 ? 'stdout' : 'stderr', 0n, payload);
        return;
      }
      const space = payload.indexOf(SPACE);
      const time = space > 0 && space <= MAX_TIMESTAMP_BYTES ? this.timestamps.parse(payload, 0, space) : undefined;
      if (time === undefined) {
        // Not expected (timestamps are asked for): the entry keeps the time of the one before.
        sink(type === 1 ? 'stdout' : 'stderr', this.lastTime, payload);
        return;
      }
      this.lastTime = time;
      sink(type === 1 ? 'stdout' : 'stderr', time, payload.subarray(space + 1));
    });
  }

  /** True when the body ended inside a frame (the daemon cut the connection). */
  get midFrame(): boolean {
    return this.demuxer.midFrame;
  }
}
