import type { LineStore } from './line-store.js';
import type { Member } from './log-session.js';

export interface TextOptions {
  timestamps: boolean;
  members: readonly Member[];
}

/**
 * The visible log (what the filter lets through) as text: one line per row, escapes removed; the
 * names of a merged stream padded and followed by ` | `, and the time first when shown, as
 * `docker compose logs -t` prints them.
 */
export function visibleText(store: LineStore, options: TextOptions): string {
  const width = Math.max(0, ...options.members.map((m) => m.name.length));
  const out: string[] = [];
  for (const entry of store.visible()) {
    let prefix = '';
    if (options.timestamps && entry.time !== null) prefix += `${entry.time} `;
    const member = options.members[entry.member];
    if (member !== undefined && entry.kind === 'line') prefix += `${member.name.padEnd(width)} | `;
    out.push(entry.kind === 'marker' ? `-- ${entry.plain} --` : prefix + entry.plain);
  }
  if (store.dropped > 0) out.unshift(`-- ${store.dropped} older lines were dropped before these --`);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
