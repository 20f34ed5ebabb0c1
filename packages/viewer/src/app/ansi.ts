import Anser from 'anser';

/**
 * ANSI SGR colours and styles, parsed by anser. The 16 standard colours become classes (the
 * stylesheet picks shades that read on the light and the dark theme); 256-colour and true-colour
 * codes become an rgb() value the row sets through the CSSOM (no inline style attribute, which
 * the page's CSP forbids).
 */
export interface AnsiSegment {
  text: string;
  /** CSS classes: `ansi-red-fg`, `ansi-bright-blue-bg`, `ansi-bold`… */
  classes: string;
  color?: string;
  background?: string;
}

const ESC = '\x1b';
const STANDARD = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

export function hasAnsi(text: string): boolean {
  return text.includes(ESC);
}

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * Control characters left after the SGR codes are gone (a NUL, an OSC title, a lone ESC) shown as
 * their Unicode control pictures (U+2400…), one for one: the text keeps its length, so filter
 * ranges computed on it still line up with the rendered runs.
 */
export function showControls(text: string): string {
  return text.replace(CONTROL, (c) => String.fromCharCode(c === '\x7f' ? 0x2421 : 0x2400 + c.charCodeAt(0)));
}

/** The text a reader sees: escapes removed, controls made visible (what the filter matches and a download holds). */
export function stripAnsi(text: string): string {
  return showControls(hasAnsi(text) ? Anser.ansiToText(text) : text);
}

/** xterm's 256-colour table above the 16 standard colours: a 6×6×6 cube, then 24 greys. */
function paletteRgb(index: number): string {
  if (index >= 232) {
    const level = 8 + (index - 232) * 10;
    return `rgb(${level}, ${level}, ${level})`;
  }
  const cube = index - 16;
  const step = (n: number) => (n === 0 ? 0 : 55 + n * 40);
  return `rgb(${step(Math.floor(cube / 36))}, ${step(Math.floor(cube / 6) % 6)}, ${step(cube % 6)})`;
}

/** anser's class name (`ansi-green`, `ansi-bright-red`, `ansi-palette-208`, `ansi-truecolor`) → class or colour. */
function colour(name: string | null, truecolor: string | null, layer: 'fg' | 'bg'): { cls?: string; rgb?: string } {
  if (name === null) return {};
  if (name === 'ansi-truecolor') return truecolor === null ? {} : { rgb: `rgb(${truecolor})` };
  const palette = /^ansi-palette-(\d+)$/.exec(name);
  if (palette) {
    const index = Number(palette[1]);
    if (index < 8) return { cls: `ansi-${STANDARD[index]}-${layer}` };
    if (index < 16) return { cls: `ansi-bright-${STANDARD[index - 8]}-${layer}` };
    return { rgb: paletteRgb(index) };
  }
  return { cls: `${name}-${layer}` };
}

/** A line split into runs of one style; the runs' texts joined are `stripAnsi(text)`. */
export function ansiSegments(text: string): AnsiSegment[] {
  if (!hasAnsi(text)) return [{ text: showControls(text), classes: '' }];
  const segments: AnsiSegment[] = [];
  for (const entry of Anser.ansiToJson(text, { use_classes: true, remove_empty: true })) {
    const fg = colour(entry.fg, entry.fg_truecolor, 'fg');
    const bg = colour(entry.bg, entry.bg_truecolor, 'bg');
    const classes = [fg.cls, bg.cls, ...entry.decorations.map((d) => `ansi-${d}`)].filter(Boolean).join(' ');
    const segment: AnsiSegment = { text: showControls(entry.content), classes };
    if (fg.rgb !== undefined) segment.color = fg.rgb;
    if (bg.rgb !== undefined) segment.background = bg.rgb;
    segments.push(segment);
  }
  return segments;
}
