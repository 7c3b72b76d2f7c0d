import { Assumptions, describeAssumptions, Estimate, Volume } from './model';
import { PriceTable } from './prices';

/** Text, Markdown and JSON renderings of estimates (scripts/cost.ts picks one). */

export interface Report {
  readonly estimates: Estimate[];
  /** Registry keys the configuration does not build. */
  readonly notBuilt: string[];
  readonly volumes: Volume[];
  readonly prices: PriceTable;
  readonly assumptions: Assumptions;
  /** The AWS region set in the configuration, if any. */
  readonly configuredRegion?: string;
}

const number = (n: number) => n.toLocaleString('en-US');

/** Dollars: cents below $100, whole dollars above. */
export function usd(value: number): string {
  return value >= 100 ? `$${Math.round(value).toLocaleString('en-US')}` : `$${value.toFixed(2)}`;
}

/** A quantity with the precision it has: whole numbers from 100, three significant digits below. */
export function quantity(value: number): string {
  if (value === 0) return '0';
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 10 });
}

/** A recorded unit price as written in the table, with at least cents. */
export function unitPrice(value: number): string {
  const decimals = (String(value).split('.')[1] ?? '').length;
  return `$${value.toFixed(Math.max(2, decimals))}`;
}

const volumeLabel = (v: Volume) => `${number(v.eventsPerSecond)} events/s`;

function header(report: Report): string[] {
  const { prices } = report;
  const lines = [
    `Prices: AWS ${prices.aws.region} (recorded ${prices.aws.recorded}), Google Cloud ${prices.gcp.region} (recorded ${prices.gcp.recorded}), platform/cost/prices.json.`,
    prices.basis,
  ];
  if (report.configuredRegion && report.configuredRegion !== prices.aws.region) {
    lines.push(`The configuration deploys to ${report.configuredRegion}: prices there differ from ${prices.aws.region}'s.`);
  }
  return lines;
}

function pad(rows: string[][], rightAligned: number[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => (rightAligned.includes(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

/** The readable report: per architecture and volume, its line items and total; then totals, assumptions. */
export function formatText(report: Report): string {
  const out: string[] = ['Monthly cost before you deploy (USD, list prices, on-demand)', ...header(report), ''];
  for (const e of report.estimates) {
    const sources = e.sources.length > 0 ? `sources: ${e.sources.join(', ')}` : 'source: the database';
    out.push(`== ${e.title} (${e.name}, ${e.cloud === 'aws' ? 'AWS' : 'Google Cloud'}) · ${sources} · ${volumeLabel(e.volume)}${e.sources.length > 1 ? ' each' : ''} of ${number(e.volume.eventBytes)} bytes ==`);
    const rows = [
      ['Component', 'Quantity', 'Unit', 'Unit price', 'Monthly'],
      ...e.items.map((item) => [item.component, quantity(item.quantity), item.unit, unitPrice(item.unitPrice), usd(item.monthlyUsd)]),
      ['Total', '', '', '', usd(e.totalUsd)],
    ];
    out.push(...pad(rows, [1, 3, 4]).map((line) => `  ${line}`));
    for (const note of e.notes) out.push(`  note: ${note}`);
    out.push('');
  }
  out.push('Totals per architecture (USD a month):', ...pad(totalsRows(report), report.volumes.map((_, i) => i + 2)).map((l) => `  ${l}`));
  if (report.notBuilt.length > 0) out.push(`Not built by this configuration (no estimate): ${report.notBuilt.join(', ')}`);
  out.push('', 'Assumptions:', ...describeAssumptions(report.assumptions).map((a) => `  - ${a}`));
  out.push('  - left out: CloudWatch (logs, metrics, alarms, dashboards), KMS keys and requests, Secrets Manager secrets, Glue optimizer runs, Athena queries, customer delivery streams and topics, data transfer between zones and out to the internet, free tiers');
  return out.join('\n') + '\n';
}

function totalsRows(report: Report): string[][] {
  const rows = [['Architecture', 'Sources', ...report.volumes.map(volumeLabel)]];
  for (const key of [...new Set(report.estimates.map((e) => e.key))]) {
    const estimates = report.estimates.filter((e) => e.key === key);
    rows.push([estimates[0].title, estimates[0].sources.join(', ') || '(database)', ...report.volumes.map((v) => {
      const e = estimates.find((x) => x.volume === v)!;
      return usd(e.totalUsd);
    })]);
  }
  return rows;
}

/** The README's table: totals per architecture and volume, each with its three largest components. */
export function formatMarkdown(report: Report): string {
  const bytes = number(report.volumes[0].eventBytes);
  const out = [
    `Monthly estimate at ${report.volumes.map(volumeLabel).join(' and ')} per source, ${bytes}-byte events, for the sources in \`cdk.json\`. ` +
      `AWS list prices for ${report.prices.aws.region}, Google Cloud for ${report.prices.gcp.region}, recorded ${report.prices.aws.recorded}; the three largest components in brackets.`,
    '',
    `| Architecture | Sources | ${report.volumes.map(volumeLabel).join(' | ')} |`,
    `|---|---|${report.volumes.map(() => '---|').join('')}`,
  ];
  for (const key of [...new Set(report.estimates.map((e) => e.key))]) {
    const estimates = report.estimates.filter((e) => e.key === key);
    const cells = report.volumes.map((v) => {
      const e = estimates.find((x) => x.volume === v)!;
      const top = [...e.items].sort((a, b) => b.monthlyUsd - a.monthlyUsd).slice(0, 3);
      return `**${usd(e.totalUsd)}** (${top.map((item) => `${item.component} ${usd(item.monthlyUsd)}`).join('; ')})`;
    });
    out.push(`| ${estimates[0].title} | ${estimates[0].sources.join(', ') || '(database)'} | ${cells.join(' | ')} |`);
  }
  const notes = [...new Set(report.estimates.flatMap((e) => e.notes.map((n) => `${e.title}: ${n}`)))];
  if (notes.length > 0) out.push('', ...notes.map((n) => `- ${n}`));
  out.push('', 'Assumptions:', '', ...describeAssumptions(report.assumptions).map((a) => `- ${a}`));
  return out.join('\n') + '\n';
}

/** Machine output: everything the text shows, unrounded. */
export function formatJson(report: Report): string {
  return (
    JSON.stringify(
      {
        prices: { basis: report.prices.basis, aws: { region: report.prices.aws.region, recorded: report.prices.aws.recorded }, gcp: { region: report.prices.gcp.region, recorded: report.prices.gcp.recorded } },
        volumes: report.volumes,
        assumptions: report.assumptions,
        estimates: report.estimates,
        notBuilt: report.notBuilt,
      },
      null,
      2,
    ) + '\n'
  );
}
