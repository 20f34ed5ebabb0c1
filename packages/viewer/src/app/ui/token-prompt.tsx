import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export type GateReason = 'missing' | 'refused' | 'forbidden' | 'unreachable';

const SERVE = <code>enginegate serve</code>;

const MESSAGES: Record<GateReason, ComponentChildren> = {
  missing: (
    <>
      This page needs the gateway’s access token. Open the link that {SERVE} printed (it ends in <code>#token=…</code>),
      or paste the token here.
    </>
  ),
  refused: (
    <>
      The gateway refused the token (401): it is not this gateway’s token. Open the link that {SERVE} printed, or paste
      the right token.
    </>
  ),
  forbidden: (
    <>
      The gateway refused this page’s origin (403). Open the page at the address {SERVE} printed, or start it with{' '}
      <code>--allow-origin</code>.
    </>
  ),
  unreachable: <>The gateway does not answer. Is {SERVE} still running?</>,
};

/** What the page shows instead of logs when it cannot use the gateway: why, and a way to fix it. */
export function TokenPrompt(props: { reason: GateReason; onToken: (token: string) => void; onRetry: () => void }) {
  const [value, setValue] = useState('');
  const { reason } = props;
  return (
    <main class="gate">
      <div class="gate-card" role="alert">
        <h1 class="brand">
          <img src="/viewer/icon.svg" alt="" width="28" height="28" /> enginegate
        </h1>
        <p class="gate-message">{MESSAGES[reason]}</p>
        {reason === 'missing' || reason === 'refused' ? (
          <form
            class="gate-form"
            onSubmit={(event) => {
              event.preventDefault();
              if (value.trim() !== '') props.onToken(value.trim());
            }}
          >
            <label>
              Token
              <input
                type="password"
                autocomplete="off"
                spellcheck={false}
                value={value}
                onInput={(event) => setValue(event.currentTarget.value)}
              />
            </label>
            <button type="submit">Open</button>
          </form>
        ) : (
          <button type="button" onClick={props.onRetry}>
            Try again
          </button>
        )}
        <p class="gate-hint">
          A generated token is also in the file <code>token</code> of the gateway’s state directory (by default{' '}
          <code>~/.local/state/enginegate/token</code>).
        </p>
      </div>
    </main>
  );
}
