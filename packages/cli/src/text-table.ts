/**
 * A table as `docker ps` prints it: a header row, columns left-aligned and separated by three
 * spaces, no trailing blanks.
 */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const render = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('   ')
      .trimEnd();
  return [header, ...rows].map(render).join('\n') + '\n';
}
