// esbuild bundles these, in this order, into viewer.css.
import './styles/theme.css';
import './styles/base.css';
import './styles/layout.css';
import './styles/sidebar.css';
import './styles/log.css';
import './styles/ansi.css';
import './styles/gate.css';
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { parseFragment, takeToken, TOKEN_STORAGE_KEY } from './auth.js';
import { GatewayApi, GatewayRequestError } from './gateway-api.js';
import { App } from './ui/app.js';
import { TokenPrompt, type GateReason } from './ui/token-prompt.js';

/** Lines a stream keeps unless configured: `#lines=N` in the link, or the "Keep" choice (remembered). */
const DEFAULT_CAP = 100_000;
const CAP_STORAGE_KEY = 'enginegate.maxLines';
const MAX_CAP = 2_000_000;

function configuredCap(fragment: string): number {
  const parse = (text: string | null | undefined) => {
    const n = Number(text);
    return Number.isSafeInteger(n) && n > 0 && n <= MAX_CAP ? n : undefined;
  };
  return parse(parseFragment(fragment).get('lines')) ?? parse(localStorage.getItem(CAP_STORAGE_KEY)) ?? DEFAULT_CAP;
}

// The token leaves the address bar before anything else runs (and before any request is made).
const initial = takeToken(location.hash, sessionStorage);
if (initial.fromFragment)
  history.replaceState(history.state, '', location.pathname + location.search + initial.fragment);
const initialCap = configuredCap(initial.fragment);

type Gate = { phase: 'checking' } | { phase: 'open' } | { phase: 'closed'; reason: GateReason };

function Root() {
  const [token, setToken] = useState(initial.token);
  const [gate, setGate] = useState<Gate>({ phase: 'checking' });
  const [attempt, setAttempt] = useState(0);
  const api = useMemo(() => new GatewayApi(location.origin, token), [token]);

  useEffect(() => {
    setGate({ phase: 'checking' });
    api.getJson('/engine').then(
      () => setGate({ phase: 'open' }),
      (err: unknown) => {
        if (!(err instanceof GatewayRequestError)) return setGate({ phase: 'closed', reason: 'unreachable' });
        if (err.status === 401) return setGate({ phase: 'closed', reason: token === null ? 'missing' : 'refused' });
        if (err.status === 403) return setGate({ phase: 'closed', reason: 'forbidden' });
        setGate({ phase: 'open' }); // anything else (an engine error) the viewer itself shows
      },
    );
  }, [api, attempt]);

  if (gate.phase === 'checking') return <div class="gate" aria-busy="true" />;
  if (gate.phase === 'closed') {
    return (
      <TokenPrompt
        reason={gate.reason}
        onToken={(next) => {
          sessionStorage.setItem(TOKEN_STORAGE_KEY, next);
          setToken(next);
        }}
        onRetry={() => setAttempt((n) => n + 1)}
      />
    );
  }
  return (
    <App
      api={api}
      initialCap={initialCap}
      onCap={(cap) => localStorage.setItem(CAP_STORAGE_KEY, String(cap))}
      onUnauthorized={() => {
        sessionStorage.removeItem(TOKEN_STORAGE_KEY);
        setGate({ phase: 'closed', reason: 'refused' });
      }}
    />
  );
}

render(<Root />, document.getElementById('app')!);
