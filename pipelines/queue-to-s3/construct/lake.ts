import * as fs from 'fs';
import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { addQueryWorkgroup } from '../../../platform/query-workgroup';
import { hourPartitions } from '../../../platform/hour-partitions';

interface JsonSchema {
  type?: string | string[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
}

/** The Hive type Athena's JSON SerDe reads a JSON Schema property as (timestamps stay ISO-8601 strings). */
export function hiveType(schema: JsonSchema): string {
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]).filter((t) => t !== 'null');
  const type = types.length === 1 ? types[0] : 'string';
  switch (type) {
    case 'integer':
      return 'bigint';
    case 'number':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `array<${schema.items ? hiveType(schema.items) : 'string'}>`;
    case 'object':
      return schema.properties && Object.keys(schema.properties).length > 0
        ? `struct<${Object.entries(schema.properties).map(([name, p]) => `${name.toLowerCase()}:${hiveType(p)}`).join(',')}>`
        : 'string';
    default:
      return 'string';
  }
}

/** Glue columns from a JSON Schema's top-level properties. */
export function columnsOf(schemaFile: string): glue.CfnTable.ColumnProperty[] {
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as JsonSchema;
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({ name: name.toLowerCase(), type: hiveType(property) }));
}

export interface OutputTableProps {
  readonly databaseName: string;
  readonly tableName: string;
  readonly bucket: s3.IBucket;
  /** The consumer's OUTPUT_PREFIX: objects land under `<prefix>dt=YYYY-MM-DD/hour=HH/`. */
  readonly prefix: string;
  readonly schemaFile: string;
  readonly workgroupName: string;
  readonly allowDestroy: boolean;
}

/**
 * The consumer's output as an Athena table: a Glue database and an external table over the gzip NDJSON objects,
 * partitioned by `dt` and `hour` with partition projection (no crawler, no MSCK REPAIR: a new hour is queryable the
 * moment its first object lands); an Athena workgroup on engine v3 with encrypted, expiring results; an example query.
 */
export class OutputTable extends Construct {
  readonly database: glue.CfnDatabase;
  readonly table: glue.CfnTable;
  readonly workgroup: athena.CfnWorkGroup;
  readonly resultsBucket: s3.IBucket;
  readonly exampleQuery: athena.CfnNamedQuery;

  constructor(scope: Construct, id: string, props: OutputTableProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const location = `s3://${props.bucket.bucketName}/${props.prefix}`;
    const partitions = hourPartitions(location, 'the message was sent to the queue');
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: props.databaseName, description: `Output of the SNS to SQS to EKS to S3 pipeline (${stack.stackName})` },
    });
    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: stack.account,
      databaseName: props.databaseName,
      tableInput: {
        name: props.tableName,
        description: 'One row per message the consumer wrote (gzip NDJSON), partitioned by the hour (UTC) it was sent to the queue',
        tableType: 'EXTERNAL_TABLE',
        parameters: { EXTERNAL: 'TRUE', classification: 'json', compressionType: 'gzip', ...partitions.parameters },
        partitionKeys: partitions.partitionKeys,
        storageDescriptor: {
          location,
          columns: columnsOf(props.schemaFile),
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          compressed: true,
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            // A field the schema does not know, or a malformed line, must not fail the whole query.
            parameters: { 'ignore.malformed.json': 'true', 'case.insensitive': 'true' },
          },
        },
      },
    });
    this.table.addResourceDependency(this.database);

    ({ workgroup: this.workgroup, resultsBucket: this.resultsBucket } = addQueryWorkgroup(this, 'WorkGroup', {
      name: props.workgroupName,
      description: `Queries the output of ${stack.stackName} (Athena engine v3, results encrypted)`,
      allowDestroy: props.allowDestroy,
      bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
    }));
    this.exampleQuery = new athena.CfnNamedQuery(this, 'ExampleQuery', {
      name: `${props.tableName}: messages per hour, today`,
      description: 'Messages written per hour today (UTC): partition projection reads only today\'s prefixes.',
      database: props.databaseName,
      workGroup: this.workgroup.ref,
      queryString: exampleQuery(props.databaseName, props.tableName),
    });
    this.exampleQuery.addResourceDependency(this.database);
  }
}

/** Messages per hour of today: the partition filter keeps the scan to today's objects. */
export function exampleQuery(database: string, table: string): string {
  return [
    `SELECT dt, hour, count(*) AS messages`,
    `FROM "${database}"."${table}"`,
    `WHERE dt = cast(current_date AS varchar)`,
    `GROUP BY dt, hour`,
    `ORDER BY hour DESC;`,
  ].join('\n');
}
