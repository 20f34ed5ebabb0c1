/**
 * Parses Docker's multiplexed stream (`[stream, 0, 0, 0, size32be]` + payload, repeated) as
 * the Engine API sends it for non-TTY containers. Stream 0 is stdin, 1 stdout, 2 stderr and
 * 3 an in-band error (the daemon failed while streaming).
 *
 * A pure push parser: it holds no stream and so never buffers ahead of its consumer; the
 * caller pulls bytes only as fast as it handles frames. Payloads that arrive whole in one chunk
 * are views of that chunk.
 */
export type DockerStreamType = 0 | 1 | 2 | 3;
export type FrameSink = (stream: DockerStreamType, payload: Buffer) => void;

const HEADER_BYTES = 8;

export class DockerFrameError extends Error {
  override readonly name = 'DockerFrameError';
  readonly code = 'DOCKER_FRAME_INVALID';
}

export class DockerFrameDemuxer {
  private header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private stream: DockerStreamType = 1;
  private payload: Buffer | null = null;
  private payloadFill = 0;

  push(chunk: Buffer, sink: FrameSink): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.payload === null) {
        // Fast path: a whole header and payload inside this chunk.
        if (this.headerFill === 0 && chunk.length - pos >= HEADER_BYTES) {
          const stream = this.checkStream(chunk[pos]!);
          const size = chunk.readUInt32BE(pos + 4);
          if (chunk.length - pos - HEADER_BYTES >= size) {
            sink(stream, chunk.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + size));
            pos += HEADER_BYTES + size;
            continue;
          }
        }
        const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - pos);
        chunk.copy(this.header, this.headerFill, pos, pos + take);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < HEADER_BYTES) return;
        this.stream = this.checkStream(this.header[0]!);
        this.payload = Buffer.allocUnsafe(this.header.readUInt32BE(4));
        this.payloadFill = 0;
        this.headerFill = 0;
      }
      const take = Math.min(this.payload.length - this.payloadFill, chunk.length - pos);
      chunk.copy(this.payload, this.payloadFill, pos, pos + take);
      this.payloadFill += take;
      pos += take;
      if (this.payloadFill === this.payload.length) {
        const payload = this.payload;
        this.payload = null;
        sink(this.stream, payload);
      }
    }
  }

  /** True when the stream ended inside a frame (the daemon cut the connection). */
  get midFrame(): boolean {
    return this.headerFill > 0 || this.payload !== null;
  }

  private checkStream(byte: number): DockerStreamType {
    if (byte > 3) throw new DockerFrameError(`invalid Docker stream type ${byte} in log frame header`);
    return byte as DockerStreamType;
  }
}
