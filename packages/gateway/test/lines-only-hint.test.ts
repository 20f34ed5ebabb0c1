// The `linesOnly` hint an engine gets: set for a finished read in a framing that shows neither
// times nor cursors (so moby can ask Docker without timestamps), and for nothing else.
import t from 'tap';
import type { LogOptions } from '@enginegate/plugin-api';
import { startGateway } from './fixtures/harness.js';
import { optionsRecordingPlugin } from './fixtures/test-engines.js';

t.test(
  'linesOnly for follow=false raw, text and binary without timestamps; not for JSON, times or a follow',
  async (t) => {
    const opened: LogOptions[] = [];
    const { client } = await startGateway(t, { builtinPlugins: [optionsRecordingPlugin(opened)], engine: 'recording' });
    const hinted = async (read: () => Promise<unknown>) => {
      const before = opened.length;
      await read();
      t.ok(opened.length > before, 'the engine was asked');
      return opened.slice(before).some((options) => options.linesOnly === true);
    };
    const finished = { follow: false, tail: 2 };
    for (const framing of ['raw', 'text', 'binary'] as const) {
      t.ok(await hinted(() => client.readSocket('mock-exit', finished, framing)), `${framing}: hinted`);
      t.notOk(
        await hinted(() => client.readSocket('mock-exit', { ...finished, timestamps: true }, framing)),
        `${framing} with timestamps: not hinted`,
      );
    }
    t.ok(await hinted(() => client.readHttp('mock-exit', finished)), 'plain HTTP text: hinted');
    t.notOk(await hinted(() => client.readSocket('mock-exit', finished, 'json')), 'JSON (cursors): not hinted');
    t.notOk(
      await hinted(() => client.readHttp('mock-exit', finished, { accept: 'application/x-ndjson' })),
      'NDJSON: not hinted',
    );
    t.notOk(
      await hinted(() => client.readSocket('mock-exit', { tail: 2 }, 'raw')),
      'a follow (it joins a live tail by cursor): not hinted',
    );
  },
);
