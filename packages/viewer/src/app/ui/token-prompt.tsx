import { useState } from 'preact/hooks';

export type GateReason = 'missing' | 'refused' | 'forbidden' | 'unreachable';

const MESSAGES: Record<GateReason, string> = {
  missing:
    'This page needs the gateway’s access token. Open the link that `enginegate serve` printed (it ends in #token=…), or paste the token here.',
  refused:
    'The gateway refused the token (401): it is not the token of this gateway. Open the link that `enginegate serve` printed, or paste the right token.',
  forbidden:
    'The gateway refused this page’s origin (403). Open the page at the address `enginegate serve` printed, or start it with --allow-origin.',
  unreachable: 'The gateway does not answer. Is `enginegate serve` still running?',
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
