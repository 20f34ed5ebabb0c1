/**
 * The token: `serve` prints `http://HOST:PORT/#token=…`. A fragment never reaches the server (nor
 * its log, nor a Referer); the page moves it into sessionStorage (this tab only, gone when the
 * tab closes) and takes it out of the address bar, so that it is neither bookmarked nor shared
 * by a copied URL.
 */

/** The part of `Storage` this needs (sessionStorage in the page, a Map in tests). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const TOKEN_STORAGE_KEY = 'enginegate.token';

/** `#a=1&b=2` → entries, decoded with decodeURIComponent ('+' stays '+': tokens may hold it). */
export function parseFragment(hash: string): Map<string, string> {
  const params = new Map<string, string>();
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    try {
      params.set(decodeURIComponent(key), decodeURIComponent(value));
    } catch {
      // A malformed escape: the parameter is ignored rather than the whole fragment.
    }
  }
  return params;
}

/** The fragment without `token`, as it should stay in the address bar ('' when nothing is left). */
export function fragmentWithoutToken(hash: string): string {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  const kept = text.split('&').filter((part) => part !== '' && !/^token(=|$)/.test(part));
  return kept.length === 0 ? '' : `#${kept.join('&')}`;
}

export interface TokenFromLocation {
  /** The token to use, or null when there is none (the page asks for one). */
  token: string | null;
  /** What `location.hash` should become: the fragment without the token. */
  fragment: string;
  /** The token came from the address bar (and the address bar must be rewritten). */
  fromFragment: boolean;
}

/** A token in the fragment wins (and is stored); else the stored one from earlier in this tab. */
export function takeToken(hash: string, store: KeyValueStore): TokenFromLocation {
  const given = parseFragment(hash).get('token');
  if (given !== undefined && given !== '') {
    store.setItem(TOKEN_STORAGE_KEY, given);
    return { token: given, fragment: fragmentWithoutToken(hash), fromFragment: true };
  }
  return { token: store.getItem(TOKEN_STORAGE_KEY), fragment: hash, fromFragment: false };
}

/** base64url of the UTF-8 bytes, without padding: what the auth subprotocol carries. */
export function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Must match the gateway's AUTH_SUBPROTOCOL_PREFIX (docs/api.md, "Authentication"). */
export const AUTH_SUBPROTOCOL_PREFIX = 'base64url.bearer.authorization.enginegate.';

export function authSubprotocol(token: string): string {
  return AUTH_SUBPROTOCOL_PREFIX + base64url(token);
}
