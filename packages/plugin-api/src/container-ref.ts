import { InvalidArgumentError } from './errors.js';
import { quoteInput } from './input-echo.js';

/** Names as Docker accepts them; IDs (hex) match the same pattern. */
const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const MAX_CONTAINER_REF_BYTES = 255;
const NAMESPACE = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,74}[a-zA-Z0-9])?$/;

/**
 * Checks a container reference (full ID, ID prefix or name) before any engine is touched,
 * so that `../x`, empty or over-long references never reach a daemon.
 */
export function validateContainerRef(ref: unknown): string {
  if (typeof ref !== 'string' || ref.length === 0) {
    throw new InvalidArgumentError('container', 'container reference is empty');
  }
  if (Buffer.byteLength(ref) > MAX_CONTAINER_REF_BYTES) {
    throw new InvalidArgumentError('container', `container reference is longer than ${MAX_CONTAINER_REF_BYTES} bytes`);
  }
  if (!CONTAINER_REF.test(ref)) {
    throw new InvalidArgumentError(
      'container',
      `container reference ${quoteInput(ref)} is not an ID or a name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)`,
    );
  }
  return ref;
}

/** containerd namespaces: letters, digits, `_ . -`, starting and ending alphanumeric. */
export function validateNamespace(ns: unknown): string {
  if (typeof ns !== 'string' || !NAMESPACE.test(ns)) {
    throw new InvalidArgumentError('namespace', `namespace ${quoteInput(ns)} is not a valid namespace name`);
  }
  return ns;
}

const HEX = /^[0-9a-f]+$/;
/** True when `ref` could be a prefix of a hex container ID. */
export function looksLikeIdPrefix(ref: string): boolean {
  return ref.length <= 64 && HEX.test(ref);
}
