import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { catalogName } from '../../../platform/names';
import { addQueryWorkgroup } from '../../../platform/query-workgroup';
import { LakeLayout } from './layout';

export interface DeltaCatalogProps {
  readonly databaseName: string;
  readonly workgroupName: string;
  readonly source: string;
  readonly eventTimeField: string;
  readonly layout: LakeLayout;
  /** The digest of the source's aggregate definition, when its rules aggregate: a third table, `<source>_aggregates`. */
  readonly aggregatesDigest?: string;
  readonly allowDestroy: boolean;
}

/**
 * The tables as Athena (engine v3) reads them: a Glue database with the events table and the error table, each
 * registered as a native Delta table (`table_type=DELTA`: Athena reads schema, partitions and files from the Delta
 * log at the table's location, so new columns appear without a crawler); an Athena workgroup on engine v3 whose
 * settings are enforced (results encrypted with KMS in a bucket of its own, expiring after 30 days, 10 GB scanned
 * per query at most); and saved example queries.
 */
export class DeltaCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly eventsTable: glue.CfnTable;
  readonly errorsTable: glue.CfnTable;
  /** The processing rules' window aggregates, when the rules have an `aggregate` section. */
  readonly aggregatesTable?: glue.CfnTable;
  readonly workgroup: athena.CfnWorkGroup;
  readonly resultsBucket: s3.IBucket;
  readonly namedQueries: athena.CfnNamedQuery[];
  readonly databaseName: string;
  readonly tableName: string;
  readonly errorsTableName: string;

  constructor(scope: Construct, id: string, props: DeltaCatalogProps) {
    super(scope, id);
    const { layout } = props;
    this.databaseName = catalogName(props.databaseName);
    this.tableName = catalogName(props.source);
    this.errorsTableName = `${this.tableName}_errors`;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Stack.of(this).account,
      databaseInput: { name: this.databaseName, description: `Delta Lake tables of ${Stack.of(this).stackName}` },
    });
    this.eventsTable = this.deltaTable('EventsTable', this.tableName, layout.url(layout.eventsPrefix), `${props.source} events, one row per valid event, partitioned by event_date`);
    this.errorsTable = this.deltaTable('ErrorsTable', this.errorsTableName, layout.url(layout.errorsPrefix), `${props.source} records that failed the schema or a processing rule, with the reason`);
    if (props.aggregatesDigest) {
      this.aggregatesTable = this.deltaTable('AggregatesTable', `${this.tableName}_aggregates`, layout.url(layout.aggregatesPrefix(props.aggregatesDigest)), `${props.source} window aggregates of the processing rules (docs/processing-rules.md)`);
    }

    ({ workgroup: this.workgroup, resultsBucket: this.resultsBucket } = addQueryWorkgroup(this, 'WorkGroup', {
      name: props.workgroupName,
      description: `Queries the Delta Lake tables of ${this.databaseName} (Athena engine v3, results encrypted)`,
      allowDestroy: props.allowDestroy,
      bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
    }));

    const table = `"${this.databaseName}"."${this.tableName}"`;
    this.namedQueries = [
      this.query('LatestEventsQuery', `${props.source}: latest events`, 'The 100 newest events of today (UTC) and yesterday.', [
        `SELECT *`,
        `FROM ${table}`,
        `WHERE event_date >= current_date - INTERVAL '1' DAY`,
        `ORDER BY ${props.eventTimeField} DESC`,
        `LIMIT 100;`,
      ]),
      this.query('EventsPerDayQuery', `${props.source}: events per day and end-to-end latency`, 'Events per day for the last week, with the median and p95 delay from event time to the Delta commit.', [
        `SELECT event_date, count(*) AS events,`,
        `       approx_percentile(date_diff('millisecond', ${props.eventTimeField}, ingested_at), 0.5) AS p50_ms_event_to_table,`,
        `       approx_percentile(date_diff('millisecond', kinesis_arrival_time, ingested_at), 0.95) AS p95_ms_stream_to_table`,
        `FROM ${table}`,
        `WHERE event_date >= current_date - INTERVAL '7' DAY`,
        `GROUP BY event_date ORDER BY event_date DESC;`,
      ]),
      this.query('RejectedRecordsQuery', `${props.source}: rejected records`, 'Records the job rejected in the last day, newest first, with the reason.', [
        `SELECT ingested_at, reason, raw, kinesis_sequence_number`,
        `FROM "${this.databaseName}"."${this.errorsTableName}"`,
        `WHERE error_date >= current_date - INTERVAL '1' DAY`,
        `ORDER BY ingested_at DESC`,
        `LIMIT 100;`,
      ]),
    ];
  }

  /**
   * A Delta table registered in both forms Athena engine v3 documents, so it reads the table whichever it checks:
   * `table_type=DELTA` with the location (Athena "Delta Lake tables, Get started": Athena infers schema and
   * partitions from the Delta log), and the form Spark writes and Athena's "Synchronize Delta Lake metadata" page
   * gives for tables registered outside Athena: `'spark.sql.sources.provider' = 'delta'` (that page: "not
   * 'table_type' = 'delta'"), the S3 path as the `path` SerDe parameter, and the placeholder column
   * `col array<string>`. No partition keys: partitions come from the log. The saved queries use only columns the job
   * writes (pinned by the construct test against pipelines/kinesis-to-delta-lake/job's table schema).
   */
  private deltaTable(id: string, name: string, location: string, description: string): glue.CfnTable {
    const table = new glue.CfnTable(this, id, {
      catalogId: Stack.of(this).account,
      databaseName: this.databaseName,
      tableInput: {
        name,
        description,
        tableType: 'EXTERNAL_TABLE',
        parameters: { table_type: 'DELTA', 'spark.sql.sources.provider': 'delta', EXTERNAL: 'TRUE' },
        partitionKeys: [],
        storageDescriptor: {
          location,
          columns: [{ name: 'col', type: 'array<string>', comment: 'placeholder: the schema is read from the Delta log' }],
          serdeInfo: { parameters: { path: location } },
        },
      },
    });
    table.addResourceDependency(this.database);
    return table;
  }

  private query(id: string, name: string, description: string, lines: string[]): athena.CfnNamedQuery {
    const query = new athena.CfnNamedQuery(this, id, {
      name,
      description,
      database: this.databaseName,
      workGroup: this.workgroup.ref,
      queryString: lines.join('\n'),
    });
    query.addResourceDependency(this.database);
    return query;
  }
}
