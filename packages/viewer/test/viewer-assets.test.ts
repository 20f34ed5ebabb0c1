import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadViewerAssets, VIEWER_CONTENT_SECURITY_POLICY, VIEWER_SECURITY_HEADERS } from '@enginegate/viewer';

t.test('the built page: read into memory with types and ETags; none when not built', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'viewer-assets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(loadViewerAssets(join(dir, 'missing')), null, 'no directory: not built');
  t.equal(loadViewerAssets(dir), null, 'no index.html: not built');
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script defer src="/viewer/viewer.js"></script>');
  writeFileSync(join(dir, 'viewer.js'), 'void 0;');
  writeFileSync(join(dir, 'viewer.js.map'), '{}');
  const assets = loadViewerAssets(dir);
  t.ok(assets);
  t.equal(assets!.page.contentType, 'text/html; charset=utf-8');
  t.same([...assets!.files.keys()], ['viewer.js'], 'the page itself and source maps are not among the files');
  t.equal(assets!.files.get('viewer.js')!.contentType, 'text/javascript; charset=utf-8');
  t.match(assets!.page.etag, /^"[\w-]{27}"$/);
});

t.test('the built bundle is there after npm run build, with no inline script', async (t) => {
  const assets = loadViewerAssets();
  t.ok(assets, 'npm run build wrote dist/app');
  const html = assets!.page.body.toString();
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  t.ok(scripts.length > 0);
  t.ok(
    scripts.every(([, attributes, body]) => /\bsrc="\/viewer\/[\w.-]+"/.test(attributes!) && body!.trim() === ''),
    'every script is an external file of the viewer',
  );
  t.notMatch(html, /\sstyle=|<style/i, 'no inline style');
  t.ok(assets!.files.has('viewer.js') && assets!.files.has('viewer.css') && assets!.files.has('icon.svg'));
});

t.test('a strict Content-Security-Policy', async (t) => {
  t.match(VIEWER_CONTENT_SECURITY_POLICY, /default-src 'none'/);
  t.match(VIEWER_CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
  t.match(VIEWER_CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
  t.notMatch(
    VIEWER_CONTENT_SECURITY_POLICY,
    /unsafe-|\*|data:|https?:/,
    'nothing unsafe, no wildcard, no other origin',
  );
  t.equal(VIEWER_SECURITY_HEADERS['content-security-policy'], VIEWER_CONTENT_SECURITY_POLICY);
});
