/**
 * Client input that an error message or a log line repeats is cut to this many characters, so
 * that a 15 KB parameter never comes back whole (in the answer or in the gateway's log).
 */
export const MAX_ECHOED_INPUT_CHARS = 64;

/**
 * `value` as a message may repeat it: at most MAX_ECHOED_INPUT_CHARS characters of it, an
 * ellipsis marking a cut (never half a surrogate pair). Not a string: its JSON text, cut alike.
 */
export function cutInput(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  if (text.length <= MAX_ECHOED_INPUT_CHARS) return text;
  let end = MAX_ECHOED_INPUT_CHARS;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** `cutInput(value)` in double quotes (JSON string syntax): `tail="ten" is not a number`. */
export function quoteInput(value: unknown): string {
  return JSON.stringify(cutInput(value));
}
