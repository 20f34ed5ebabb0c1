/**
 * `name | ` before each line of a merged stream, as `docker compose logs` prints it: names
 * padded to the longest member joined so far, each in its own colour on a terminal.
 */
export class MemberPrefixes {
  private width = 0;
  private readonly colours = new Map<string, string>();

  /** `colour`: ANSI colours (a terminal, no `--no-color`). */
  constructor(private readonly colour: boolean) {}

  /** A `join` record: the member's name and index (its colour). */
  join(name: string, index: number): void {
    this.width = Math.max(this.width, name.length);
    this.colours.set(name, PALETTE[index % PALETTE.length]!);
  }

  of(name: string): Buffer {
    this.width = Math.max(this.width, name.length);
    const text = `${name.padEnd(this.width)} | `;
    const colour = this.colour ? this.colours.get(name) : undefined;
    return Buffer.from(colour === undefined ? text : `\x1b[${colour}m${text}\x1b[0m`);
  }
}

/** docker compose's cycle: cyan, yellow, green, magenta, blue, then their bright forms. */
const PALETTE = ['36', '33', '32', '35', '34', '96', '93', '92', '95', '94'];
