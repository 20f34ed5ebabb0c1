// The followers of the fan-out benchmark, in a process of their own (as real clients are):
// opens N WebSocket followers of one container (text framing, tail=10), checks that each one
// receives consecutive lines ("line <n>", none twice, none skipped), and on "stop" from stdin
// prints one JSON summary line.
//
//   node followers-process.js URL CONTAINER COUNT
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { BENCH_TOKEN } from './gateway-readers.js';

const [url, container, countText] = process.argv.slice(2);
const count = Number(countText);

interface Follower {
  lines: number;
  last: number | undefined;
  broken: string | undefined;
  closed: number | undefined;
}

const followers: Follower[] = [];
let opened = 0;
for (let i = 0; i < count; i++) {
  const follower: Follower = { lines: 0, last: undefined, broken: undefined, closed: undefined };
  followers.push(follower);
  const ws = new WebSocket(
    `${url!.replace('http', 'ws')}/passthrough/engine/logs/${container}?tail=10`,
    ['v1.text.enginegate'],
    { headers: { authorization: `Bearer ${BENCH_TOKEN}` } },
  );
  ws.on('open', () => {
    opened += 1;
    if (opened === count) console.log(JSON.stringify({ type: 'opened', count }));
  });
  ws.on('message', (data: Buffer) => {
    const n = Number(/^line (\d+)$/.exec(data.toString())?.[1]);
    if (follower.last !== undefined && n !== follower.last + 1 && follower.broken === undefined) {
      follower.broken = `line ${n} after line ${follower.last}`;
    }
    follower.last = n;
    follower.lines += 1;
  });
  ws.on('close', (code) => (follower.closed = code));
  ws.on('error', (err) => (follower.broken ??= err.message));
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'stop') return;
  const broken = followers.filter((f) => f.broken !== undefined || f.closed !== undefined);
  const lines = followers.map((f) => f.lines);
  const lasts = followers.map((f) => f.last ?? -1);
  console.log(
    JSON.stringify({
      type: 'summary',
      followers: followers.length,
      broken: broken.length,
      firstBroken: broken[0]?.broken ?? (broken[0] ? `closed ${broken[0].closed}` : undefined),
      minLines: Math.min(...lines),
      maxLines: Math.max(...lines),
      newestLine: Math.max(...lasts),
      oldestLastLine: Math.min(...lasts),
    }),
  );
  process.exit(0);
});
