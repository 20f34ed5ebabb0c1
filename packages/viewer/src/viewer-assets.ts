import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The page runs only its own bundled script and stylesheet and talks only to the gateway that
 * served it: no inline script or style element, no other origin, no framing. Styles set from
 * script go through the CSSOM (`element.style`), which `style-src 'self'` allows.
 */
export const VIEWER_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Sent with the page and every asset. */
export const VIEWER_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': VIEWER_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
});

export interface ViewerAsset {
  /** The file name under `/viewer/` (`index.html` is served at `/`). */
  name: string;
  contentType: string;
  body: Buffer;
  /** A strong ETag of the body. */
  etag: string;
}

export interface ViewerAssets {
  /** `index.html`: the page. */
  page: ViewerAsset;
  /** By file name: the bundle, the stylesheet, the icon. */
  files: ReadonlyMap<string, ViewerAsset>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Where scripts/build.mjs writes the bundle: beside this module's compiled file. */
const APP_DIR = fileURLToPath(new URL('./app/', import.meta.url));

/**
 * The built page, read once into memory (a few tens of KiB), or null when the bundle has not been
 * built (`npm run build` builds it).
 */
export function loadViewerAssets(dir: string = APP_DIR): ViewerAssets | null {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const files = new Map<string, ViewerAsset>();
  for (const name of names) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType === undefined) continue; // source maps and the like are not served
    const body = readFileSync(`${dir}/${name}`);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    files.set(name, { name, contentType, body, etag });
  }
  const page = files.get('index.html');
  if (page === undefined) return null;
  files.delete('index.html');
  return { page, files };
}
