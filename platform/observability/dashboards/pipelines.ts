import { CloudMonitoringQuery, CloudWatchQuery, DashboardSpec, DataSourceKind, PanelSpec, PrometheusQuery, RowSpec, VariableSpec } from './grafana';
import { StreamFoundryConfig } from '../../config';
import { dataSources } from '../../data-source';
import { FRESHNESS_METRIC } from '../../freshness/contract';
import { METRIC as VALIDATOR_METRIC, METRICS_NAMESPACE as VALIDATOR_NAMESPACE, SOURCE_DIMENSION, VALIDATOR_SERVICE } from '../../landing-zone/validator/contract';
import { runbookUrl } from '../../pipeline/runbook';
import { PIPELINES, stackName } from '../../../pipelines';
import SPARK_CONTRACT from '../../../pipelines/kinesis-to-delta-lake/job/src/stream_foundry_delta/contract.json';
import { JOB_DIMENSION, METRIC as RESTARTER_METRIC, METRICS_NAMESPACE as RESTARTER_NAMESPACE, RESTARTER_SERVICE } from '../../../pipelines/kinesis-to-delta-lake/handlers/glue-streaming-job/contract';
import FLINK_CONTRACT from '../../../pipelines/msk-to-iceberg/job/src/main/resources/stream-foundry-contract.json';
import { CONSUMER_SERVICE, METRIC as CONSUMER_METRIC } from '../../../pipelines/queue-to-s3/consumer/contract';
import { SCRAPE_JOBS } from '../scrape-config';

/** A synthesized CloudFormation template (the parts the dashboards read). */
export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** The pipelines that get a dashboard: the five architectures (the landing zone's metrics appear in pipelines 2 and 5). */
export const DASHBOARD_PIPELINES = ['queueToS3', 'kinesisToDeltaLake', 'rdsCdcToS3', 'gcp', 'mskToIceberg'] as const;
export type DashboardPipeline = (typeof DASHBOARD_PIPELINES)[number];

/**
 * AWS service metrics the stacks' own alarms and CloudWatch dashboards do not already use, with the page that
 * documents them. Glue publishes these for a job with `--enable-metrics` (AWS Glue developer guide, "Monitoring AWS
 * Glue using Amazon CloudWatch metrics"): dimensions JobName, JobRunId (`ALL` aggregates every run), Type.
 */
export const DOCUMENTED_AWS_METRICS = {
  Glue: {
    source: 'https://docs.aws.amazon.com/glue/latest/dg/monitoring-awsglue-with-cloudwatch-metrics.html',
    dimensions: ['JobName', 'JobRunId', 'Type'],
    metrics: [
      'glue.driver.system.cpuSystemLoad',
      'glue.ALL.system.cpuSystemLoad',
      'glue.driver.jvm.heap.usage',
      'glue.ALL.jvm.heap.usage',
      'glue.driver.ExecutorAllocationManager.executors.numberAllExecutors',
      'glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors',
    ],
  },
} as const;

/**
 * Dataflow metrics pipeline 4's alerts do not use, with the page that documents them (Google Cloud metrics list,
 * "dataflow"): vCPUs in use, memory allocated (GB-seconds), elements produced per step.
 */
export const DOCUMENTED_GCP_METRICS = {
  source: 'https://cloud.google.com/monitoring/api/metrics_gcp#gcp-dataflow',
  metrics: ['dataflow.googleapis.com/job/current_num_vcpus', 'dataflow.googleapis.com/job/total_memory_usage_time', 'dataflow.googleapis.com/job/elements_produced_count'],
} as const;

const cw = (namespace: string, metricName: string, dimensions: Record<string, string>, statistic: CloudWatchQuery['statistic'], label?: string): CloudWatchQuery => ({
  kind: 'cloudwatch',
  namespace,
  metricName,
  dimensions,
  statistic,
  label,
});
const prom = (expr: string, legend: string): PrometheusQuery => ({ kind: 'prometheus', expr, legend });
const panel = (title: string, unit: string, description: string, ...queries: PanelSpec['queries']): PanelSpec => ({ title, unit, description, queries });

/** Resources of `type` in `template`. */
function resources(template: Template, type: string): Record<string, unknown>[] {
  return Object.values(template.Resources)
    .filter((r) => r.Type === type)
    .map((r) => r.Properties ?? {});
}

/** The one literal string property `key` of the resources of `type` that `match`es; fails naming what it looked for. */
function literal(template: Template, type: string, key: string, match: (props: Record<string, unknown>) => boolean = () => true): string {
  const values = resources(template, type).filter(match).map((p) => p[key]);
  if (values.length !== 1 || typeof values[0] !== 'string') {
    throw new Error(`dashboards: expected one ${type} with a literal ${key} in the template, found ${JSON.stringify(values)}`);
  }
  return values[0];
}

/** `value` with a leading stack name written as `$stack`, so the dashboard follows the Stack variable to another environment. */
function viaStack(stack: string, value: string): string {
  return value.startsWith(`${stack}-`) || value === stack ? `$stack${value.slice(stack.length)}` : value;
}

/** A dimension-values variable over the stack's own resources (CloudFormation names them `<stack>-<logical id>-<suffix>`). */
function stackResources(name: string, label: string, stack: string, namespace: string, metricName: string, dimensionKey: string, contains = ''): VariableSpec {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return { kind: 'cloudwatch-dimension', name, label, namespace, metricName, dimensionKey, regex: `/^${escape(stack)}-.*${escape(contains)}/` };
}

const stackVariable = (stack: string): VariableSpec => ({
  kind: 'text',
  name: 'stack',
  label: 'Stack',
  value: stack,
  description: 'The CloudFormation stack name (<project>-<environment>-<pipeline>): the Pipeline dimension of the Freshness metric',
});

/** Freshness (platform/freshness): seconds from a canary's publish to its commit, per source. */
function freshnessPanel(): PanelSpec {
  const { namespace, name, dimensions, service } = FRESHNESS_METRIC;
  // The reporter publishes through Powertools EMF, which adds the service dimension.
  const dims = { service, [dimensions.pipeline]: '$stack', [dimensions.source]: '*' };
  return panel(
    'Freshness (p95)',
    's',
    'Seconds from a freshness canary event published at the entrance to its commit at the exit, per source (StreamFoundry/Freshness; the SLO alarm watches the p95)',
    cw(namespace, name, dims, 'p95', "p95 ${PROP('Dim.Source')}"),
    cw(namespace, name, dims, 'Maximum', "max ${PROP('Dim.Source')}"),
  );
}

/** The landing zone's validator, per source: events read, valid (published to the broker) and rejected. */
function landingPanels(source: string): PanelSpec[] {
  const dims = { [SOURCE_DIMENSION]: source, service: VALIDATOR_SERVICE };
  const m = (name: string, label: string) => cw(VALIDATOR_NAMESPACE, name, dims, 'Sum', label);
  return [
    panel(
      `${source}: events in, valid, rejected (landing zone)`,
      'short',
      'Events the landing validator read from uploaded files, found valid, and rejected to the error bucket (sums per period)',
      m(VALIDATOR_METRIC.eventsRead, 'in'),
      m(VALIDATOR_METRIC.eventsValid, 'valid'),
      m(VALIDATOR_METRIC.eventsInvalid, 'rejected'),
      m(VALIDATOR_METRIC.eventsPublished, 'published to the broker'),
    ),
  ];
}

function links(config: StreamFoundryConfig, key: DashboardPipeline) {
  const entry = PIPELINES.find((p) => p.key === key)!;
  return [{ title: 'Runbook', url: runbookUrl(config.docsUrl, entry.name) }];
}

function dashboard(config: StreamFoundryConfig, key: DashboardPipeline, datasources: DataSourceKind[], variables: VariableSpec[], rows: RowSpec[], description: string): DashboardSpec {
  const entry = PIPELINES.find((p) => p.key === key)!;
  return {
    uid: `sf-${entry.name}`.slice(0, 40),
    title: `Stream Foundry: ${entry.name}`,
    description,
    tags: ['stream-foundry', entry.name],
    datasources,
    variables,
    rows,
    links: links(config, key),
  };
}

/** Pipeline 1: SNS -> SQS -> consumer on EKS -> S3. Prometheus for the pods, CloudWatch for SNS, SQS and freshness. */
export function queueToS3Dashboard(config: StreamFoundryConfig, template: Template): DashboardSpec {
  const stack = stackName(PIPELINES.find((p) => p.key === 'queueToS3')!, config);
  const [source] = dataSources(config, 'queueToS3');
  const topic = viaStack(stack, literal(template, 'AWS::SNS::Topic', 'TopicName', (p) => typeof p.TopicName === 'string' && p.TopicName.endsWith(`-${source.name}`)));
  const namespace = 'queue-to-s3';
  const pods = `namespace="${namespace}", service="${CONSUMER_SERVICE}"`;
  const containers = `job="${SCRAPE_JOBS.cadvisor}", namespace="${namespace}", container="consumer"`;
  const rate = (metric: string, extra = '') => `sum${extra ? ` by (${extra})` : ''} (rate(${metric}{${pods}}[5m]))`;
  const p95 = (histogram: string) => `histogram_quantile(0.95, sum by (le) (rate(${histogram}_bucket{${pods}}[5m])))`;
  const queue = { QueueName: '$queue' };
  return dashboard(
    config,
    'queueToS3',
    ['prometheus', 'cloudwatch'],
    [stackVariable(stack), stackResources('queue', 'SQS queues', stack, 'AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName')],
    [
      {
        title: 'Business: events in, written, rejected, committed, freshness, lag',
        panels: [
          panel(
            'Events in',
            'cps',
            'Messages published to the topic (CloudWatch) and received by the consumer pods from SQS, redeliveries included (Prometheus)',
            cw('AWS/SNS', 'NumberOfMessagesPublished', { TopicName: topic }, 'Sum', 'published to SNS (per period)'),
            prom(rate(CONSUMER_METRIC.messagesReceived), 'received by the consumer /s'),
          ),
          panel(
            'Written: valid and rejected',
            'cps',
            'Messages written to S3 by output: data (valid JSON, to the table prefix) and error (not JSON, to the error prefix)',
            prom(rate(CONSUMER_METRIC.messagesWritten, 'output'), '{{output}} /s'),
          ),
          panel(
            'Committed (deleted from the queue)',
            'cps',
            "Messages deleted from SQS after their batch's object was written: the consumer's commit",
            prom(rate(CONSUMER_METRIC.messagesDeleted), 'committed /s'),
          ),
          freshnessPanel(),
          panel(
            'Lag: age of the oldest message',
            's',
            'How long the oldest message has waited in each queue (the main queue and its dead-letter queue)',
            cw('AWS/SQS', 'ApproximateAgeOfOldestMessage', queue, 'Maximum', "${PROP('Dim.QueueName')}"),
          ),
          panel(
            'Messages waiting',
            'short',
            'Visible messages per queue: the backlog KEDA scales on, and dead-lettered messages',
            cw('AWS/SQS', 'ApproximateNumberOfMessagesVisible', queue, 'Maximum', "${PROP('Dim.QueueName')}"),
          ),
          panel(
            'Failures',
            'cps',
            'Messages whose write, delete or visibility extension failed, and failed ReceiveMessage calls',
            prom(rate(CONSUMER_METRIC.messagesFailed, 'stage'), 'failed at {{stage}} /s'),
            prom(rate(CONSUMER_METRIC.receiveErrors, 'code'), 'receive error {{code}} /s'),
          ),
          panel(
            'Batches: age at flush and flush duration (p95)',
            's',
            "Seconds from a batch's first message to its flush, and to write its objects and delete its messages",
            prom(p95(CONSUMER_METRIC.batchAge), 'batch age p95'),
            prom(p95(CONSUMER_METRIC.flushDuration), 'flush duration p95'),
          ),
          panel(
            'Messages held in memory',
            'short',
            'Messages buffered or being written, per pod',
            prom(`sum by (pod) (${CONSUMER_METRIC.bufferedMessages}{${pods}})`, '{{pod}}'),
          ),
        ],
      },
      {
        title: 'Resources: consumer pods on EKS',
        panels: [
          panel(
            'CPU per pod',
            'short',
            'CPU cores used by the consumer container of each pod (cAdvisor through the API server)',
            prom(`sum by (pod) (rate(container_cpu_usage_seconds_total{${containers}}[5m]))`, '{{pod}}'),
          ),
          panel(
            'Memory per pod',
            'bytes',
            'Working set of the consumer container (what the memory limit is enforced on)',
            prom(`sum by (pod) (container_memory_working_set_bytes{${containers}})`, '{{pod}}'),
          ),
          panel(
            'CPU throttling',
            'percentunit',
            'Share of CFS periods in which the consumer container was throttled at its CPU limit',
            prom(
              `sum by (pod) (rate(container_cpu_cfs_throttled_periods_total{${containers}}[5m])) / sum by (pod) (rate(container_cpu_cfs_periods_total{${containers}}[5m]))`,
              '{{pod}}',
            ),
          ),
          panel(
            'Pods scraped',
            'short',
            'Consumer pods the managed collector reaches (1 per healthy target): the replicas KEDA runs',
            prom(`sum (up{job="${SCRAPE_JOBS.pods}", namespace="${namespace}"})`, 'pods up'),
          ),
          panel(
            'Node.js: heap and event loop lag',
            'short',
            'prom-client default metrics of the consumer process: heap used (bytes) and event loop lag p99 (seconds)',
            prom(`sum by (pod) (nodejs_heap_size_used_bytes{${pods}})`, 'heap {{pod}}'),
            prom(`max by (pod) (nodejs_eventloop_lag_p99_seconds{${pods}})`, 'event loop lag p99 {{pod}}'),
          ),
          panel(
            'Process CPU',
            'short',
            'CPU seconds per second of the consumer process, as the process itself counts them',
            prom(`sum by (pod) (rate(process_cpu_seconds_total{${pods}}[5m]))`, '{{pod}}'),
          ),
        ],
      },
    ],
    `Pipeline 1 (${stack}): SNS -> SQS -> consumer on EKS -> S3. Consumer and pod metrics from Amazon Managed Service for Prometheus (the stack's managed collector), SNS, SQS and freshness from CloudWatch.`,
  );
}

/** Pipeline 2: landing zone -> Kinesis -> Glue streaming (Spark) -> Delta Lake. */
export function kinesisToDeltaLakeDashboard(config: StreamFoundryConfig, template: Template): DashboardSpec {
  const stack = stackName(PIPELINES.find((p) => p.key === 'kinesisToDeltaLake')!, config);
  const spark = SPARK_CONTRACT.metrics;
  const rows: RowSpec[] = [];
  for (const source of dataSources(config, 'kinesisToDeltaLake')) {
    const job = viaStack(stack, literal(template, 'AWS::Glue::Job', 'Name', (p) => (p.DefaultArguments as Record<string, unknown> | undefined)?.['--source'] === source.name));
    const jobDims = { [spark.dimension]: job };
    const sparkMetric = (name: keyof typeof spark.names, label: string, statistic: CloudWatchQuery['statistic'] = 'Sum') => cw(spark.namespace, spark.names[name], jobDims, statistic, label);
    const glue = (metric: string, label: string) => cw('Glue', metric, { JobName: job, JobRunId: 'ALL', Type: 'gauge' }, 'Average', label);
    rows.push({
      title: `${source.name}: business`,
      panels: [
        ...landingPanels(source.name),
        panel(
          `${source.name}: events read, rejected, filtered, late (Spark job)`,
          'short',
          'Per micro-batch sums the job publishes (StreamFoundry/SparkDelta): events read from Kinesis, rejected to the error table, removed by a filter rule, and arriving after the watermark',
          sparkMetric('eventsIn', 'in'),
          sparkMetric('eventsRejected', 'rejected'),
          sparkMetric('eventsFiltered', 'filtered'),
          sparkMetric('eventsLate', 'late'),
        ),
        panel(
          `${source.name}: committed micro-batches`,
          'short',
          'Micro-batches committed to the Delta table (each one a Delta commit) and their duration',
          sparkMetric('batches', 'batches'),
        ),
        panel(`${source.name}: micro-batch duration`, 'ms', 'Milliseconds per micro-batch (p95 of the period and maximum)', sparkMetric('batchDurationMs', 'p95', 'p95'), sparkMetric('batchDurationMs', 'max', 'Maximum')),
        panel(
          `${source.name}: lag (Kinesis iterator age)`,
          'ms',
          'How far behind the newest record the job reads, per stream of the stack',
          cw('AWS/Kinesis', 'GetRecords.IteratorAgeMilliseconds', { StreamName: '$stream' }, 'Maximum', "${PROP('Dim.StreamName')}"),
        ),
        panel(
          `${source.name}: job restarts`,
          'short',
          'Runs the restarter started after the job stopped, and whether it gave up (StreamFoundry/GlueStreamingJob)',
          cw(RESTARTER_NAMESPACE, RESTARTER_METRIC.restartsStarted, { service: RESTARTER_SERVICE, [JOB_DIMENSION]: job }, 'Sum', 'restarts'),
          cw(RESTARTER_NAMESPACE, RESTARTER_METRIC.restartsExhausted, { service: RESTARTER_SERVICE, [JOB_DIMENSION]: job }, 'Sum', 'restarts exhausted'),
        ),
      ],
    });
    rows.push({
      title: `${source.name}: resources (Glue job)`,
      panels: [
        panel('CPU load', 'percentunit', 'CPU system load of the driver and the average over all executors (Glue job metrics)', glue('glue.driver.system.cpuSystemLoad', 'driver'), glue('glue.ALL.system.cpuSystemLoad', 'all executors')),
        panel('JVM heap used', 'percentunit', 'Fraction of JVM heap used by the driver and on average by the executors', glue('glue.driver.jvm.heap.usage', 'driver'), glue('glue.ALL.jvm.heap.usage', 'all executors')),
        panel(
          'Executors',
          'short',
          'Executors running, and how many the job would need for its current load (auto scaling adds workers up to the configured maximum)',
          glue('glue.driver.ExecutorAllocationManager.executors.numberAllExecutors', 'running'),
          glue('glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors', 'needed'),
        ),
      ],
    });
  }
  rows.unshift({ title: 'Freshness', panels: [freshnessPanel()] });
  return dashboard(
    config,
    'kinesisToDeltaLake',
    ['cloudwatch'],
    [stackVariable(stack), stackResources('stream', 'Kinesis streams', stack, 'AWS/Kinesis', 'GetRecords.IteratorAgeMilliseconds', 'StreamName')],
    rows,
    `Pipeline 2 (${stack}): landing zone -> Kinesis -> Spark Structured Streaming on AWS Glue -> Delta Lake. Everything here is CloudWatch: Glue and Kinesis publish nowhere else.`,
  );
}

/** Pipeline 3: RDS -> DMS (CDC) -> S3. */
export function rdsCdcToS3Dashboard(config: StreamFoundryConfig, template: Template): DashboardSpec {
  const stack = stackName(PIPELINES.find((p) => p.key === 'rdsCdcToS3')!, config);
  const instance = viaStack(stack, literal(template, 'AWS::DMS::ReplicationInstance', 'ReplicationInstanceIdentifier'));
  const task = viaStack(stack, literal(template, 'AWS::DMS::ReplicationTask', 'ResourceIdentifier'));
  const taskDims = { ReplicationInstanceIdentifier: instance, ReplicationTaskIdentifier: task };
  const instanceDims = { ReplicationInstanceIdentifier: instance };
  return dashboard(
    config,
    'rdsCdcToS3',
    ['cloudwatch'],
    [stackVariable(stack)],
    [
      {
        title: 'Business: rows in, committed, freshness, lag',
        panels: [
          panel(
            'Rows in and committed',
            'short',
            'Change rows per second read from the source database and written to S3 by the replication task (DMS averages per minute)',
            cw('AWS/DMS', 'CDCThroughputRowsSource', taskDims, 'Average', 'read from the source'),
            cw('AWS/DMS', 'CDCThroughputRowsTarget', taskDims, 'Average', 'written to S3'),
            cw('AWS/DMS', 'FullLoadThroughputRowsTarget', taskDims, 'Average', 'full load written'),
          ),
          freshnessPanel(),
          panel(
            'Lag: CDC latency',
            's',
            'Seconds between a change in the database and its capture (source) and its write to S3 (target)',
            cw('AWS/DMS', 'CDCLatencySource', taskDims, 'Maximum', 'source'),
            cw('AWS/DMS', 'CDCLatencyTarget', taskDims, 'Maximum', 'target'),
          ),
          panel(
            'Rejected: full-load errors',
            'short',
            "Errors in the task's log during the full load (a metric filter of the stack, StreamFoundry/RdsCdc)",
            cw('StreamFoundry/RdsCdc', 'FullLoadErrors', {}, 'Sum', 'full-load errors'),
          ),
        ],
      },
      {
        title: 'Resources: DMS replication instance',
        panels: [
          panel('CPU', 'percent', 'CPU utilisation of the DMS replication instance', cw('AWS/DMS', 'CPUUtilization', instanceDims, 'Average', 'CPU')),
          panel('Freeable memory', 'bytes', 'Memory available on the replication instance', cw('AWS/DMS', 'FreeableMemory', instanceDims, 'Minimum', 'freeable memory')),
          panel('Free storage', 'bytes', 'Storage left on the replication instance (CDC caches spill here)', cw('AWS/DMS', 'FreeStorageSpace', instanceDims, 'Minimum', 'free storage')),
        ],
      },
    ],
    `Pipeline 3 (${stack}): RDS -> DMS change data capture -> S3 (Parquet). All CloudWatch: DMS publishes nowhere else.`,
  );
}

/** Pipeline 5: landing zone -> MSK -> Managed Flink -> Iceberg. */
export function mskToIcebergDashboard(config: StreamFoundryConfig, template: Template): DashboardSpec {
  const stack = stackName(PIPELINES.find((p) => p.key === 'mskToIceberg')!, config);
  const cluster = viaStack(stack, literal(template, 'AWS::MSK::ServerlessCluster', 'ClusterName'));
  const names = FLINK_CONTRACT.metrics;
  const rows: RowSpec[] = [{ title: 'Freshness', panels: [freshnessPanel()] }];
  for (const source of dataSources(config, 'mskToIceberg')) {
    const application = viaStack(stack, literal(template, 'AWS::KinesisAnalyticsV2::Application', 'ApplicationName', (p) => p.ApplicationName === `${stack}-${source.name}`));
    const app = { Application: application };
    const flink = (metric: string, statistic: CloudWatchQuery['statistic'], label: string) => cw('AWS/KinesisAnalytics', metric, app, statistic, label);
    const kafka = { 'Cluster Name': cluster, 'Consumer Group': '*', Topic: source.name };
    rows.push({
      title: `${source.name}: business`,
      panels: [
        ...landingPanels(source.name),
        panel(
          `${source.name}: events in and rejected per second (Flink job)`,
          'short',
          "The job's own one-minute rates (kinesisanalytics metric group): records read from Kafka and records written to the error location",
          flink(names.eventsInPerSecond, 'Average', 'in /s'),
          flink(names.eventsMalformedPerSecond, 'Average', 'rejected /s'),
        ),
        panel(
          `${source.name}: valid, deduplicated, filtered, late (since the job started)`,
          'short',
          "The job's counters as Managed Flink reports them: totals since the application (re)started",
          flink(names.eventsValid, 'Maximum', 'valid'),
          flink(names.duplicatesDropped, 'Maximum', 'duplicates dropped'),
          flink(names.eventsFiltered, 'Maximum', 'filtered'),
          flink(names.eventsLate, 'Maximum', 'late'),
        ),
        panel(
          `${source.name}: committed (checkpoints)`,
          'ms',
          'Iceberg commits happen on checkpoints: duration of the last checkpoint, and failed checkpoints',
          flink('lastCheckpointDuration', 'Maximum', 'last checkpoint duration'),
          flink('numberOfFailedCheckpoints', 'Maximum', 'failed checkpoints'),
        ),
        panel(
          `${source.name}: lag (Kafka consumer)`,
          'short',
          "The application's consumer-group lag on the topic: records (max offset lag) and time (estimated max time lag, seconds)",
          cw('AWS/Kafka', 'MaxOffsetLag', kafka, 'Maximum', 'records'),
          cw('AWS/Kafka', 'EstimatedMaxTimeLag', kafka, 'Maximum', 'seconds'),
        ),
      ],
    });
    rows.push({
      title: `${source.name}: resources (Managed Flink)`,
      panels: [
        panel('KPUs', 'short', 'Kinesis Processing Units the application uses (1 vCPU and 4 GiB each): what it bills', flink('KPUs', 'Maximum', 'KPUs')),
        panel('CPU', 'percent', 'CPU utilisation across the task managers', flink('cpuUtilization', 'Average', 'CPU')),
        panel('Heap', 'percent', 'JVM heap utilisation across the task managers', flink('heapMemoryUtilization', 'Average', 'heap')),
        panel('Restarts and downtime', 'short', 'Full restarts of the job, and milliseconds it has been down', flink('fullRestarts', 'Maximum', 'full restarts'), flink('downtime', 'Maximum', 'downtime ms')),
        panel('Back pressure', 'ms', 'Milliseconds per second the job was back-pressured (the sink or an operator cannot keep up)', flink('backPressuredTimeMsPerSecond', 'Maximum', 'back-pressured ms/s')),
      ],
    });
  }
  return dashboard(
    config,
    'mskToIceberg',
    ['cloudwatch'],
    [stackVariable(stack)],
    rows,
    `Pipeline 5 (${stack}): landing zone -> MSK Serverless -> Managed Service for Apache Flink -> Iceberg. All CloudWatch: Managed Flink and MSK publish nowhere else.`,
  );
}

/** The names pipeline 4's stack gives its resources (pipelines/pubsub-to-bigquery/stack.ts and construct/pubsub.ts). */
export function pubsubToBigQueryNames(config: StreamFoundryConfig): { job: string; topic: string; subscription: string } {
  const [source] = dataSources(config, 'gcp');
  const name = `${config.project}-${config.environment}-${source.name}`;
  return { job: name, topic: name, subscription: `${name}-dataflow` };
}

/**
 * What pipeline 4's dead-letter alert counts: records on their way to the dead-letter table
 * (pipelines/pubsub-to-bigquery/monitoring/conditions.ts, DEAD_LETTER_PCOLLECTION_REGEX).
 */
const DEAD_LETTER_PCOLLECTION = 'WriteFailedRecords[0-9]*/FailedRecordToTableRow(/.*)?[.]out[0-9]*';

/** Pipeline 4: Pub/Sub -> Dataflow -> BigQuery, on Google Cloud Monitoring. */
export function pubsubToBigQueryDashboard(config: StreamFoundryConfig): DashboardSpec {
  const names = pubsubToBigQueryNames(config);
  const gcm = (metricType: string, resourceType: string, filters: Record<string, string>, aligner: CloudMonitoringQuery['aligner'], reducer: CloudMonitoringQuery['reducer'] = 'REDUCE_NONE'): CloudMonitoringQuery => ({
    kind: 'cloud-monitoring',
    metricType,
    resourceType,
    filters,
    aligner,
    reducer,
  });
  const job = (metric: string, aligner: CloudMonitoringQuery['aligner'], extra: Record<string, string> = {}) =>
    gcm(`dataflow.googleapis.com/job/${metric}`, 'dataflow_job', { 'resource.label.job_name': '$job', ...extra }, aligner, 'REDUCE_SUM');
  const subscription = (metric: string) => gcm(`pubsub.googleapis.com/subscription/${metric}`, 'pubsub_subscription', { 'resource.label.subscription_id': '$subscription' }, 'ALIGN_MAX');
  const text = (name: string, label: string, value: string, description: string): VariableSpec => ({ kind: 'text', name, label, value, description });
  return dashboard(
    config,
    'gcp',
    ['googleCloud'],
    [
      text('gcp_project', 'Google Cloud project', config.gcp?.projectId ?? '', 'The project the pipeline runs in (gcp.projectId)'),
      text('job', 'Dataflow job', names.job, 'The streaming job name (<project>-<environment>-<source>)'),
      text('topic', 'Pub/Sub topic', names.topic, 'The topic publishers send to'),
      text('subscription', 'Pub/Sub subscription', names.subscription, "The job's subscription"),
    ],
    [
      {
        title: 'Business: events in, written, rejected, freshness, lag',
        panels: [
          panel('Events in', 'short', 'Publish requests to the topic per minute', gcm('pubsub.googleapis.com/topic/send_message_operation_count', 'pubsub_topic', { 'resource.label.topic_id': '$topic' }, 'ALIGN_DELTA')),
          panel('Elements produced', 'short', 'Elements the job produced per step (the BigQuery write steps commit them)', job('elements_produced_count', 'ALIGN_DELTA')),
          panel(
            'Rejected (dead-letter records)',
            'short',
            "Records on their way to the dead-letter table: the element count of the template's WriteFailedRecords steps (a gauge: elements so far in this job run)",
            job('element_count', 'ALIGN_MAX', { 'metric.label.pcollection': `=~${DEAD_LETTER_PCOLLECTION}` }),
          ),
          panel('Freshness (data watermark age)', 's', "Dataflow's data freshness: now minus the job's data watermark (the freshness SLO's metric for this pipeline)", job('data_watermark_age', 'ALIGN_MAX')),
          panel('Lag: system lag', 's', 'The longest time an element has waited inside the job', job('system_lag', 'ALIGN_MAX')),
          panel('Lag: oldest unacknowledged message', 's', 'Age of the oldest message the job has not acknowledged', subscription('oldest_unacked_message_age')),
          panel('Backlog', 'short', 'Messages waiting in the subscription', subscription('num_undelivered_messages')),
        ],
      },
      {
        title: 'Resources: Dataflow job',
        panels: [
          panel('vCPUs', 'short', 'vCPUs the job uses now (workers scale up to gcp.maxWorkers)', job('current_num_vcpus', 'ALIGN_MAX')),
          panel('Memory allocated', 'decbytes', 'GB-seconds of worker memory per second: the memory allocated to the job', job('total_memory_usage_time', 'ALIGN_RATE')),
          panel('Job failed', 'short', '1 when the job has failed', job('is_failed', 'ALIGN_MAX')),
        ],
      },
    ],
    `Pipeline 4 (${names.job}): Pub/Sub -> Dataflow -> BigQuery on Google Cloud, from the Google Cloud Monitoring data source.`,
  );
}

/** Every pipeline's dashboard spec, from the configuration and the synthesized templates of the AWS stacks (by stack name). */
export function dashboardSpecs(config: StreamFoundryConfig, templates: Record<string, Template>): Record<string, DashboardSpec> {
  const template = (key: DashboardPipeline) => {
    const name = stackName(PIPELINES.find((p) => p.key === key)!, config);
    const found = templates[name];
    if (!found) throw new Error(`dashboards: no synthesized template for ${name}; is the pipeline configured in cdk.json?`);
    return found;
  };
  const specs: Record<string, DashboardSpec> = {};
  const entry = (key: DashboardPipeline) => PIPELINES.find((p) => p.key === key)!.name;
  specs[entry('queueToS3')] = queueToS3Dashboard(config, template('queueToS3'));
  specs[entry('kinesisToDeltaLake')] = kinesisToDeltaLakeDashboard(config, template('kinesisToDeltaLake'));
  specs[entry('rdsCdcToS3')] = rdsCdcToS3Dashboard(config, template('rdsCdcToS3'));
  specs[entry('gcp')] = pubsubToBigQueryDashboard(config);
  specs[entry('mskToIceberg')] = mskToIcebergDashboard(config, template('mskToIceberg'));
  return specs;
}
