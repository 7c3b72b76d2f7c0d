import * as fs from 'fs';
import * as path from 'path';

/**
 * The price table (prices.json beside this file): list prices of one AWS region and one Google Cloud region, the date
 * they were written down and the page each comes from. The estimate (model.ts) reads prices only through `price()`,
 * so a missing price fails with the key to add rather than costing nothing.
 */

export interface Price {
  readonly usd: number;
  /** What one unit is, as the provider bills it. */
  readonly per: string;
  /** The pricing page to check it against. */
  readonly source: string;
}

export interface CloudPrices {
  readonly region: string;
  /** ISO date the prices were written down. */
  readonly recorded: string;
  readonly prices: Readonly<Record<string, Price>>;
}

export interface PriceTable {
  /** Where the prices come from and what they leave out. */
  readonly basis: string;
  readonly aws: CloudPrices;
  readonly gcp: CloudPrices;
}

export const PRICES_FILE = path.join(__dirname, 'prices.json');

export function loadPrices(file = PRICES_FILE): PriceTable {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as PriceTable;
}

/** The estimate cannot price what the configuration asks for: the message names the setting or price to fix. */
export class CostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CostError';
  }
}

/** A configured size (instance class, worker type) that the price table has no price for. */
export class MissingPriceError extends CostError {
  constructor(readonly cloud: 'aws' | 'gcp', readonly key: string, readonly setting?: string) {
    super(
      `no ${cloud} price "${key}" in platform/cost/prices.json${setting ? ` (needed by the setting ${setting})` : ''}: ` +
        'add it with its unit and source URL from the provider\'s pricing page',
    );
  }
}

/** The price `key` of `cloud`; throws MissingPriceError naming the key (and the setting that asked for it). */
export function price(table: PriceTable, cloud: 'aws' | 'gcp', key: string, setting?: string): Price {
  const found = table[cloud].prices[key];
  if (!found) throw new MissingPriceError(cloud, key, setting);
  return found;
}
