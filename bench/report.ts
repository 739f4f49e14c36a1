/**
 * Figures as the benchmarks measure them: each printed at once with its target beside it, all
 * kept for the closing table and the JSON file.
 */

export interface Target {
  op: '<=' | '<' | '>=' | '=';
  value: number;
  /** How the target reads beside the figure, e.g. `<= 143.1 MiB (150 MB)`. */
  text: string;
}

export interface Figure {
  section: string;
  /** Stable key for the JSON, e.g. `idle.rssWithSessions`. */
  key: string;
  /** What was measured, as the table says it. */
  measure: string;
  value: number;
  unit: string;
  /** The figure as printed (value, unit and anything useful beside them). */
  text: string;
  target?: Target;
  pass?: boolean;
}

export const MIB = 1024 * 1024;
export const MB = 1000 * 1000;

export const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

/** A target in MB (10^6 bytes, the stricter reading of "MB"), shown in MiB like the figures. */
export function atMostMB(mb: number): Target {
  return { op: '<=', value: mb * MB, text: `<= ${mib(mb * MB)} (${mb} MB)` };
}

/** A ratio target, e.g. `ratio('<=', 1.15)` reads `<= x1.15`. */
export function ratio(op: '<=' | '>=', value: number): Target {
  return { op, value, text: `${op} x${value}` };
}

export const x = (value: number) => `x${value.toFixed(2)}`;

/** The `p`th percentile (nearest rank) of `samples`. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const median = (samples: readonly number[]) => percentile(samples, 50);

/**
 * A row of the side-by-side table (issue 11's): the reference, the proxy, how they compare now
 * and the target. Its verdict comes from its figures' targets; a row left out says why instead.
 */
export interface Row {
  what: string;
  reference: string;
  proxy: string;
  now: string;
  target: string;
  figures: Figure[];
  leftOut?: string;
}

export function verdict(row: Row): string {
  if (row.leftOut) return `left out: ${row.leftOut}`;
  const judged = row.figures.filter((figure) => figure.pass !== undefined);
  if (!judged.length) return '';
  return judged.every((figure) => figure.pass) ? 'target met' : '**target missed**';
}

export function meets(value: number, target: Target): boolean {
  switch (target.op) {
    case '<=':
      return value <= target.value;
    case '<':
      return value < target.value;
    case '>=':
      return value >= target.value;
    case '=':
      return value === target.value;
  }
}

export class Results {
  readonly figures: Figure[] = [];
  readonly rows: Row[] = [];
  readonly failures: Array<{ section: string; error: string }> = [];

  /** Records a figure and prints it (with its target and whether it is met). */
  add(section: string, key: string, measure: string, value: number, unit: string, text: string, target?: Target): Figure {
    const figure: Figure = { section, key: `${section}.${key}`, measure, value, unit, text, ...(target && { target, pass: meets(value, target) }) };
    this.figures.push(figure);
    const verdict = figure.pass === undefined ? '' : figure.pass ? '  ok' : '  MISSED';
    console.log(`  ${measure.padEnd(58)} ${text.padEnd(34)} ${target ? `target ${target.text}` : ''}${verdict}`);
    return figure;
  }

  /** Records a row of the side-by-side table and prints it. */
  row(row: Row): void {
    this.rows.push(row);
    console.log(`  => ${row.what}: ${row.reference || '-'} | ${row.proxy || '-'} | ${row.now} | target ${row.target || '-'} | ${verdict(row) || '-'}`);
  }

  fail(section: string, error: unknown): void {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.failures.push({ section, error: message });
    console.log(`  ${section} FAILED: ${message}`);
  }

  get missed(): Figure[] {
    return this.figures.filter((figure) => figure.pass === false);
  }

  /** The closing table (Markdown, so it can go into the README as it is). */
  table(): string {
    const rows = this.figures.map((f) => `| ${f.section} | ${f.measure} | ${f.text} | ${f.target?.text ?? ''} | ${f.pass === undefined ? '' : f.pass ? 'ok' : '**missed**'} |`);
    return ['| section | measure | figure | target | |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
  }

  /** The side-by-side table (Markdown), in the order the rows were recorded. */
  sideBySide(): string {
    const rows = this.rows.map((r) => `| ${r.what} | ${r.reference || '-'} | ${r.proxy || '-'} | ${r.now} | ${r.target} | ${verdict(r)} |`);
    return ['| what | reference | through the proxy | now | target | |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
  }
}

/** Records how many process warnings (MaxListenersExceededWarning and the like) a process printed; target none. */
export function reportWarnings(results: Results, section: string, proc: { warnings: string[] }, who = 'proxy'): void {
  const { warnings } = proc;
  results.add(section, `${who}Warnings`, `${who} process warnings (MaxListeners and the like)`, warnings.length, 'count', `${warnings.length}${warnings.length ? `: ${warnings[0]!.slice(0, 60)}` : ''}`, {
    op: '=',
    value: 0,
    text: '0',
  });
}
