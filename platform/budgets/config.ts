import { z } from 'zod';
import { flag, integer, list, oneOf } from '../config/settings';
import { AwsPipelineKey, PIPELINES } from '../../pipelines';

/** The AWS pipelines of the registry: the keys `monthlyLimitUsdPerStack` accepts. */
const AWS_PIPELINE_KEYS = PIPELINES.filter((p) => p.cloud === 'aws').map((p) => p.key) as [AwsPipelineKey, ...AwsPipelineKey[]];

/** Defaults of the `budgets` section (platform/budgets/README.md says why). */
export const BUDGET_DEFAULTS = {
  /**
   * USD a month per stack. The stacks differ by two orders of magnitude (a landing zone of Lambda and S3 costs a few
   * dollars; a Glue streaming job alone is ~2 DPU around the clock), so this is a ceiling that catches a runaway
   * rather than an estimate: set your own per stack with `monthlyLimitUsdPerStack` (`npm run cost` estimates them).
   */
  monthlyLimitUsd: 1000,
  /** Actual spend at the limit. */
  actualPercent: 100,
  /** Forecast for the month at the limit: the warning that comes days before the actual one. */
  forecastPercent: 100,
  /** An anomaly's total impact in USD from which it notifies (smaller ones stay visible in the console only). */
  anomalyImpactUsd: 50,
} as const;

/** AWS Budgets: at most 10 e-mail subscribers per notification; Cost Anomaly Detection: 10 per subscription. */
const MAX_EMAILS = 10;

const anomalyDetectionSchema = z.strictObject({
  /**
   * A Cost Anomaly Detection monitor of the stack's costs (a cost-allocation-tag monitor) and an alert subscription.
   * AWS documents that such monitors can only be created in the management (payer) account or a standalone account,
   * so it is off by default: a member account's first deploy must not fail on it. Turn it on where it can exist.
   */
  enabled: flag().default(false),
  /** An anomaly notifies once its total cost impact reaches this many USD. */
  impactUsd: integer(1, 1_000_000).default(BUDGET_DEFAULTS.anomalyImpactUsd),
});

/**
 * The `budgets` section: an AWS Budgets cost budget per AWS pipeline stack, filtered to that stack's costs, notifying
 * the stack's alarm topic (and `emails`), and a Cost Anomaly Detection monitor per stack (platform/budgets).
 */
export const budgetsSchema = z.strictObject({
  /** Off: no budget and no anomaly monitor in any stack. */
  enabled: flag().default(true),
  /** Monthly limit in USD of every stack without an entry in `monthlyLimitUsdPerStack`. */
  monthlyLimitUsd: integer(1, 10_000_000).default(BUDGET_DEFAULTS.monthlyLimitUsd),
  /** Monthly limits in USD by pipeline (registry key, e.g. `{"mskToIceberg": 2500}`). */
  monthlyLimitUsdPerStack: z
    .partialRecord(oneOf(AWS_PIPELINE_KEYS), integer(1, 10_000_000), { error: 'expected an object of pipeline keys to whole numbers of USD' })
    .default({}),
  /** Notify when the month's actual cost reaches this percentage of the limit. */
  actualPercent: integer(1, 1000).default(BUDGET_DEFAULTS.actualPercent),
  /** Notify when the month's forecast cost reaches this percentage of the limit. */
  forecastPercent: integer(1, 1000).default(BUDGET_DEFAULTS.forecastPercent),
  /** E-mail addresses notified directly, besides the alarm topic (at most 10). */
  emails: list(z.email({ error: 'expected an e-mail address' }))
    .pipe(z.array(z.string()).max(MAX_EMAILS, { error: `expected at most ${MAX_EMAILS} e-mail addresses (the AWS Budgets limit per notification)` }))
    .default([]),
  /** A Cost Anomaly Detection monitor of the stack's costs, and its alert threshold. */
  anomalyDetection: anomalyDetectionSchema.default(() => anomalyDetectionSchema.parse({})),
});

export type BudgetsConfig = z.output<typeof budgetsSchema>;

/** The monthly limit of the pipeline `key` (undefined: a stack outside the registry) under `config`. */
export function monthlyLimitUsd(config: BudgetsConfig, key: AwsPipelineKey | undefined): number {
  return (key && config.monthlyLimitUsdPerStack[key]) ?? config.monthlyLimitUsd;
}
