// A one-layer OCI image of a rootfs, for `ctr images import` (no registry is ever reached).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** An OCI image layout (one layer: the rootfs, command `sleep`), tarred for `ctr images import`. */
export async function buildOciImageTar(dir: string, rootfs: string, name: string): Promise<string> {
  const layout = join(dir, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layerTar = join(dir, 'layer.tar');
  await run('tar', ['--numeric-owner', '-C', rootfs, '-cf', layerTar, '.']);
  const layer = await readFile(layerTar);
  const put = async (data: Buffer) => {
    const digest = createHash('sha256').update(data).digest('hex');
    await writeFile(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const layerBlob = await put(layer);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sleep', '2147483647'] },
      rootfs: { type: 'layers', diff_ids: [layerBlob.digest] },
    }),
  );
  const configBlob = await put(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerBlob }],
    }),
  );
  const manifestBlob = await put(manifest);
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifestBlob,
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name },
        },
      ],
    }),
  );
  const tar = join(dir, 'image.tar');
  await run('tar', ['-C', layout, '-cf', tar, '.']);
  return tar;
}
