import t from 'tap';
import { TimestampParser, parseRfc3339 } from '@enginegate/plugin-api';

t.test('the cached-second fast path agrees with parseRfc3339, from bytes and from text', async (t) => {
  const samples = [
    '2026-11-27T03:16:09.473072603Z',
    '2026-11-27T03:16:09.473676083Z', // same second: the cached path
    '2026-11-27T03:16:10.000000001Z',
    '2026-11-27T03:16:10.999999999Z',
    '2026-11-27T03:16:10.5Z', // trimmed fraction
    '2026-11-27T03:16:10Z',
    '1999-12-31T23:59:59.000000000Z',
    '2026-11-27T04:16:10.123456789+01:00', // an offset: the general parser
    '2026-11-27T03:16:1x.000000000Z', // not a time
    'garbage',
  ];
  const fromBytes = new TimestampParser();
  const fromText = new TimestampParser();
  for (const text of samples) {
    const expected = parseRfc3339(text);
    t.equal(fromBytes.parse(Buffer.from(`> ${text} rest`), 2, 2 + text.length), expected, `bytes ${text}`);
    t.equal(fromText.parseText(text), expected, `text ${text}`);
  }
  t.equal(fromBytes.parse(Buffer.from('2026-11-27T03:16:1x.000000000Z'), 0, 30), undefined);
});
