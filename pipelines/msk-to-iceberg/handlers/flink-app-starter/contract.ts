/**
 * The contract between the MskToIceberg construct (pipelines/msk-to-iceberg/construct/application.ts) and this handler:
 * the custom resource's properties (CloudFormation passes every value as a string).
 */
export interface StarterProperties {
  readonly ApplicationName: string;
  /**
   * Changes whenever the application's configuration (its JAR included) changes: what makes CloudFormation run this
   * resource's update after every update of the application.
   */
  readonly ConfigHash: string;
  /** The Iceberg table the job creates on start: the start is complete once the application runs and the table exists. */
  readonly DatabaseName?: string;
  readonly TableName?: string;
  /** 'true': the start may skip snapshot state the job cannot map (mskToIceberg.application.allowNonRestoredState). */
  readonly AllowNonRestoredState?: 'true';
}
