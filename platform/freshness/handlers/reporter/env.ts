/** The reporter's environment, set by the Freshness construct. */
export const ENV = {
  /** The stack name: the metric's Pipeline dimension. */
  pipeline: 'PIPELINE_NAME',
} as const;
