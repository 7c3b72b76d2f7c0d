import { Tags } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The cost-allocation tags every resource carries, so AWS Budgets and Cost Explorer can split the bill. */
export interface CostTags {
  /** The `Project` tag. */
  readonly project: string;
  /** The `Team` tag. */
  readonly team: string;
  /** The `CostCenter` tag. */
  readonly costCenter: string;
  /** The `Environment` tag. */
  readonly environment: string;
}

/** The tag keys as they appear on resources (activate them as cost allocation tags in the Billing console). */
export const COST_TAG_KEYS = ['Project', 'Team', 'CostCenter', 'Environment'] as const;

/**
 * Tags every taggable resource under `scope` (an app, a stage or a stack). `Tags.of` is CDK's tagging aspect: it
 * reaches resources created after this call too, and L1 resources that support tags.
 */
export function applyCostTags(scope: IConstruct, tags: CostTags): void {
  const values = [tags.project, tags.team, tags.costCenter, tags.environment];
  COST_TAG_KEYS.forEach((key, i) => Tags.of(scope).add(key, values[i]));
}
