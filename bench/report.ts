/**
 * Figures as the benchmarks measure them: each printed at once with its target beside it, all
 * kept for the closing table and the JSON file.
 */

export interface Target {
  op: '<=' | '<' | '=';
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

export function meets(value: number, target: Target): boolean {
  switch (target.op) {
    case '<=':
      return value <= target.value;
    case '<':
      return value < target.value;
    case '=':
      return value === target.value;
  }
}

export class Results {
  readonly figures: Figure[] = [];
  readonly failures: Array<{ section: string; error: string }> = [];

  /** Records a figure and prints it (with its target and whether it is met). */
  add(section: string, key: string, measure: string, value: number, unit: string, text: string, target?: Target): Figure {
    const figure: Figure = { section, key: `${section}.${key}`, measure, value, unit, text, ...(target && { target, pass: meets(value, target) }) };
    this.figures.push(figure);
    const verdict = figure.pass === undefined ? '' : figure.pass ? '  ok' : '  MISSED';
    console.log(`  ${measure.padEnd(58)} ${text.padEnd(34)} ${target ? `target ${target.text}` : ''}${verdict}`);
    return figure;
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
