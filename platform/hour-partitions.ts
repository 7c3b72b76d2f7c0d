import * as glue from 'aws-cdk-lib/aws-glue';

/**
 * A Glue table's partitions by UTC day and hour, `<location>dt=YYYY-MM-DD/hour=HH/`, as Athena partition projection:
 * Athena computes them from the query's `dt`/`hour` predicates, so a new hour is queryable at once (no crawler, no
 * MSCK REPAIR). `arrived` says what the hour is of, in the keys' comments.
 */
export function hourPartitions(location: string, arrived: string): Pick<glue.CfnTable.TableInputProperty, 'partitionKeys'> & { parameters: Record<string, string> } {
  return {
    parameters: {
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2020-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
      'storage.location.template': `${location}dt=\${dt}/hour=\${hour}/`,
    },
    partitionKeys: [
      { name: 'dt', type: 'string', comment: `UTC day ${arrived}, YYYY-MM-DD` },
      { name: 'hour', type: 'string', comment: 'UTC hour, 00-23' },
    ],
  };
}
