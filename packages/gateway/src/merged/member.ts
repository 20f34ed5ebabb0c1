import { createHash } from 'node:crypto';

/** One container of a merged stream, as its records and control records name it. */
export interface Member {
  /** Its place in the stream, from 0 in join order; the binary framing sends it as 4 bytes. */
  readonly index: number;
  /** The container's full ID. */
  readonly id: string;
  /** The container's name, as prefixes and JSON records show it. */
  readonly name: string;
  /** The containerd namespace it lives in, when the engine has them. */
  readonly namespace?: string;
  /** Names the member in a merged cursor: the same for the same container on every connection. */
  readonly key: string;
}

/** Length of a member key in a merged cursor (base64url characters). */
export const MEMBER_KEY_LENGTH = 11;

/** A short, stable name of a container ID for merged cursors: 66 bits of its SHA-256. */
export function memberKey(containerId: string): string {
  return createHash('sha256').update(containerId).digest('base64url').slice(0, MEMBER_KEY_LENGTH);
}

/** At most this many containers in one merged stream. */
export const MAX_MEMBERS = 256;
