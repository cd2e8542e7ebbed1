// Printing: JSON for tools, small aligned tables for people. Nothing is logged elsewhere.

export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const width = widths[i] ?? 0;
        const clipped = c.length > width ? `${c.slice(0, width - 1)}…` : c;
        return clipped.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(headers)}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

export class UsageError extends Error {}
