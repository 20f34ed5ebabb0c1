import t from 'tap';
import {
  authSubprotocol,
  base64url,
  fragmentWithoutToken,
  parseFragment,
  takeToken,
  TOKEN_STORAGE_KEY,
  type KeyValueStore,
} from '../src/app/auth.js';

function memoryStore(): KeyValueStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
  };
}

t.test('the fragment: decoded with decodeURIComponent, "+" kept, bad escapes skipped', async (t) => {
  const params = parseFragment('#token=a%2Bb+c%3D&lines=5000&bad=%E0%A4%A&flag');
  t.equal(params.get('token'), 'a+b+c=');
  t.equal(params.get('lines'), '5000');
  t.equal(params.has('bad'), false);
  t.equal(params.get('flag'), '');
});

t.test('a token in the fragment is stored and taken out of the address', async (t) => {
  const store = memoryStore();
  const taken = takeToken('#token=s3cret&lines=20000', store);
  t.same(taken, { token: 's3cret', fragment: '#lines=20000', fromFragment: true });
  t.equal(store.map.get(TOKEN_STORAGE_KEY), 's3cret');
  t.equal(fragmentWithoutToken('#token=x'), '', 'nothing left: no fragment at all');
  t.equal(fragmentWithoutToken('#a=1&token=x&tokens=2'), '#a=1&tokens=2', 'only the token parameter goes');
});

t.test('without one in the fragment, the stored token (this tab) is used; else none', async (t) => {
  const store = memoryStore();
  t.same(takeToken('', store), { token: null, fragment: '', fromFragment: false });
  store.setItem(TOKEN_STORAGE_KEY, 'earlier');
  t.same(takeToken('#lines=10', store), { token: 'earlier', fragment: '#lines=10', fromFragment: false });
  t.same(takeToken('#token=', store).token, 'earlier', 'an empty token parameter is no token');
});

t.test('the auth subprotocol carries base64url of the UTF-8 token, unpadded', async (t) => {
  for (const token of ['a', 'ab', 'abc', 'tök€n/+=', 'browser-test-token/with+chars=that-need-encoding']) {
    t.equal(base64url(token), Buffer.from(token, 'utf8').toString('base64url'), token);
  }
  t.equal(authSubprotocol('tok'), 'base64url.bearer.authorization.enginegate.dG9r');
});
