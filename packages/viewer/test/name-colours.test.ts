import t from 'tap';
import { memberColour, nameColour, NAME_COLOURS } from '../src/app/log-session.js';

t.test('a name keeps its colour: the same in every call', async (t) => {
  for (const name of ['demo-web-1', 'mock-chatty', 'x']) t.equal(nameColour(name), nameColour(name), name);
  t.ok([...'abcdefghijklmnopqrstuvwxyz'].every((c) => nameColour(c) >= 0 && nameColour(c) < NAME_COLOURS));
});

t.test('names that differ only in the middle spread over the colours', async (t) => {
  // With a multiplier of 31 (1 modulo 10) web, db and worker all got colour 0.
  const compose = ['demo-web-1', 'demo-db-1', 'demo-worker-1', 'demo-migrate-1'].map(nameColour);
  t.ok(new Set(compose).size >= 3, `demo's four names: colours ${compose.join(', ')}`);
  const replicas = Array.from({ length: 10 }, (_, i) => nameColour(`web.${i + 1}`));
  t.ok(new Set(replicas).size >= 5, `ten replicas: ${new Set(replicas).size} colours`);
});

t.test('members of one stream never share a colour while a free one is left', async (t) => {
  const taken = new Set<number>();
  for (let i = 0; i < NAME_COLOURS; i++) {
    const colour = memberColour(`same-${i % 2}`, taken);
    t.notOk(taken.has(colour), `member ${i} gets a colour of its own (${colour})`);
    taken.add(colour);
  }
  t.equal(memberColour('one-more', taken), nameColour('one-more'), 'all taken: the name’s own colour');
  t.equal(memberColour('alone', new Set()), nameColour('alone'), 'nothing taken: the name’s own colour');
});
