import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { BigqueryDataset } from '@cdktf/provider-google/lib/bigquery-dataset';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table';
import { BigQueryField, jsonSchemaToBigQuery, tableLayoutProblems } from './bigquery-schema';
import { ResolvedProps } from './props';

/** Schema of the template's dead-letter table (DataflowTemplates v2/common .../pubsubmessage_deadletter_table_schema.json). */
export const DEAD_LETTER_FIELDS: BigQueryField[] = [
  { name: 'timestamp', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'payloadString', type: 'STRING', mode: 'REQUIRED' },
  { name: 'payloadBytes', type: 'BYTES', mode: 'REQUIRED' },
  {
    name: 'attributes',
    type: 'RECORD',
    mode: 'REPEATED',
    fields: [
      { name: 'key', type: 'STRING', mode: 'NULLABLE' },
      { name: 'value', type: 'STRING', mode: 'NULLABLE' },
    ],
  },
  { name: 'errorMessage', type: 'STRING', mode: 'NULLABLE' },
  { name: 'stacktrace', type: 'STRING', mode: 'NULLABLE' },
];

const DAY_MS = 24 * 60 * 60 * 1000;

/** The main table's fields, derived from the JSON Schema; throws if they cannot be partitioned and clustered as asked. */
export function tableFields(scope: Construct, props: ResolvedProps): BigQueryField[] {
  const fields = jsonSchemaToBigQuery(props.schema);
  const problems = tableLayoutProblems(fields, props.eventTimeField, props.clusteringFields ?? []);
  if (problems.length > 0) throw new Error(`PubSubToBigQuery "${scope.node.id}": ${problems.join('; ')}`);
  return fields;
}

/** The dataset both tables live in: `existingDataset`, or one we create (then also returned as `created`). */
export function buildDataset(
  scope: Construct,
  props: ResolvedProps,
  encryptionGrants: ITerraformDependable[],
): { datasetId: string; created?: BigqueryDataset } {
  if (props.existingDataset) return { datasetId: props.existingDataset.datasetId };
  const created = new BigqueryDataset(scope, 'Dataset', {
    project: props.projectId,
    datasetId: props.name.replace(/-/g, '_'),
    location: 'EU',
    description: `Events delivered by the ${props.name} Pub/Sub → Dataflow pipeline.`,
    labels: props.labels,
    defaultEncryptionConfiguration: encryptionConfiguration(props),
    deleteContentsOnDestroy: props.allowDataDestruction,
    dependsOn: encryptionGrants,
    ...props.datasetProps,
  });
  return { datasetId: created.datasetId, created };
}

/** The table events land in: day-partitioned on the event time, clustered as asked. */
export function buildEventTable(
  scope: Construct,
  props: ResolvedProps,
  datasetId: string,
  fields: BigQueryField[],
): BigqueryTable {
  return new BigqueryTable(scope, 'Table', {
    project: props.projectId,
    datasetId,
    tableId: props.tableId,
    description: `One row per event; schema derived from the source's JSON Schema.`,
    labels: props.labels,
    schema: JSON.stringify(fields),
    timePartitioning: {
      type: 'DAY',
      field: props.eventTimeField,
      expirationMs: props.partitionExpirationDays > 0 ? props.partitionExpirationDays * DAY_MS : undefined,
    },
    clustering: props.clusteringFields?.length ? props.clusteringFields : undefined,
    encryptionConfiguration: encryptionConfiguration(props),
    deletionProtection: !props.allowDataDestruction,
  });
}

/** The template's dead-letter table, `<tableId>_dead_letter`, created by us so it is partitioned, labelled and encrypted. */
export function buildDeadLetterTable(scope: Construct, props: ResolvedProps, datasetId: string): BigqueryTable {
  return new BigqueryTable(scope, 'DeadLetterTable', {
    project: props.projectId,
    datasetId,
    tableId: `${props.tableId}_dead_letter`,
    description:
      'Messages the pipeline could not write to the main table, with the error (Dataflow template dead-letter table).',
    labels: props.labels,
    schema: JSON.stringify(DEAD_LETTER_FIELDS),
    timePartitioning: {
      type: 'DAY',
      field: 'timestamp',
      expirationMs: props.deadLetterRetentionDays * DAY_MS,
    },
    encryptionConfiguration: encryptionConfiguration(props),
    deletionProtection: !props.allowDataDestruction,
  });
}

function encryptionConfiguration(props: ResolvedProps): { kmsKeyName: string } | undefined {
  return props.kmsKeyName ? { kmsKeyName: props.kmsKeyName } : undefined;
}
