import { createHash } from 'crypto';
import { ITerraformDependable, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { GoogleDataflowFlexTemplateJob } from '@cdktf/provider-google-beta/lib/google-dataflow-flex-template-job';
import { GoogleBetaProvider } from '@cdktf/provider-google-beta/lib/provider';
import { BigqueryTable } from '@cdktf/provider-google/lib/bigquery-table';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { BigQueryField } from './bigquery-schema';
import { CanaryFilter } from './canary-filter';
import { ResolvedProps } from './props';
import { stagingLocation, tempLocation } from './temp-bucket';

/** What the job reads, writes, runs as and waits for. */
export interface JobInputs {
  readonly subscription: PubsubSubscription;
  readonly datasetId: string;
  readonly table: BigqueryTable;
  readonly deadLetterTable: BigqueryTable;
  readonly tempBucketName: string;
  /** The JavaScript UDF the template runs on every message, if any. */
  readonly udf?: CanaryFilter;
  readonly serviceAccount: ServiceAccount;
  /** The IAM grants the job's identities need. */
  readonly grants: ITerraformDependable[];
  /** The columns of `table`: a change of them updates the running job (label `table-schema`). */
  readonly fields: BigQueryField[];
}

/**
 * The streaming job: the Google-provided PubSub_to_BigQuery_Flex template, writing through the BigQuery Storage Write
 * API, on Streaming Engine. Created with google-beta, the only provider that has the resource type.
 */
export function buildFlexTemplateJob(
  scope: Construct,
  props: ResolvedProps,
  inputs: JobInputs,
): GoogleDataflowFlexTemplateJob {
  const { projectId: project, region } = props;
  const exactlyOnce = props.writeSemantics === 'exactly-once';
  const tableSpec = (table: BigqueryTable) => `${project}:${inputs.datasetId}.${table.tableId}`;
  return new GoogleDataflowFlexTemplateJob(scope, 'Job', {
    // Without it Terraform picks hashicorp/google from the type prefix, which has no such resource: plan fails.
    provider: props.betaProvider ?? stackBetaProvider(scope),
    project,
    region,
    name: props.name,
    containerSpecGcsPath: `gs://dataflow-templates-${region}/${props.templateVersion}/flex/PubSub_to_BigQuery_Flex`,
    parameters: {
      inputSubscription: inputs.subscription.id,
      outputTableSpec: tableSpec(inputs.table),
      outputDeadletterTable: tableSpec(inputs.deadLetterTable),
      useStorageWriteApi: 'true',
      useStorageWriteApiAtLeastOnce: String(!exactlyOnce),
      // The template requires both when the Storage Write API runs exactly-once.
      ...(exactlyOnce && {
        numStorageWriteApiStreams: String(props.storageWriteApiStreams),
        storageWriteApiTriggeringFrequencySec: String(props.storageWriteApiTriggeringFrequencySeconds),
      }),
      ...(inputs.udf && {
        javascriptTextTransformGcsPath: inputs.udf.gcsPath,
        javascriptTextTransformFunctionName: inputs.udf.functionName,
      }),
    },
    serviceAccountEmail: inputs.serviceAccount.email,
    tempLocation: tempLocation(inputs.tempBucketName),
    stagingLocation: stagingLocation(inputs.tempBucketName),
    enableStreamingEngine: true,
    maxWorkers: props.maxWorkers,
    machineType: props.workerMachineType,
    subnetwork: props.subnetwork,
    ipConfiguration: props.privateWorkerIps ? 'WORKER_IP_PRIVATE' : undefined,
    kmsKeyName: props.kmsKeyName,
    // The Storage Write API sink reads the table's schema once per worker, and a row with a column it has not seen
    // fails to the dead-letter table. A digest of the columns as a label makes a schema change update the job too
    // (google-beta: a label change launches a replacement job with update=true, keeping its state), after the table.
    labels: { ...props.labels, 'table-schema': schemaDigest(inputs.fields) },
    onDelete: props.onDestroy,
    // Workers must hold their permissions before they start, or the job fails at launch.
    dependsOn: inputs.grants,
  });
}

/** 12 hex digits of the columns' SHA-256: a valid label value that changes whenever a column does. */
export function schemaDigest(fields: BigQueryField[]): string {
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 12);
}

/** The one GoogleBetaProvider of the stack; none or several is an error that says what to do. */
function stackBetaProvider(scope: Construct): GoogleBetaProvider {
  const found = TerraformStack.of(scope)
    .node.findAll()
    .filter((c): c is GoogleBetaProvider => c instanceof GoogleBetaProvider);
  if (found.length !== 1) {
    throw new Error(
      `PubSubToBigQuery "${scope.node.id}": found ${found.length} GoogleBetaProvider in the stack; add exactly one before this ` +
        'construct or pass betaProvider (google_dataflow_flex_template_job exists only in google-beta).',
    );
  }
  return found[0];
}
