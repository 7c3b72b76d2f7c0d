import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, IConstruct } from 'constructs';
import type { StreamFoundryConfig } from '../config';
import { DataSource, tableSchema } from '../data-source';
import { BundledFunction, functionRole, HandlerProvider } from '../functions';
import { fromRoot } from '../paths';
import { PipelineBaseProps, pipelineBase } from '../pipeline';
import { PipelineMonitoring } from '../pipeline-monitoring';
import { alphanumeric } from '../names';
import { ACCOUNT_PRINCIPAL, CustomerConfig } from './config';
import {
  catalogParameterName,
  CatalogSource,
  consumerGroupPrefix,
  CustomerCatalog,
  deliveryTopic,
  monitoredConsumerGroup,
  schemaVersion,
} from './catalog';
import { ENV, HANDLER_EXPORT, SCHEMAS_FOLDER, schemaFileName } from './api/contract';

export { deliveryTopic, schemaVersion } from './catalog';
export { customersSchema, MAX_CONSUMERS_PER_STREAM } from './config';
export type { CustomerConfig } from './config';

/** The delivery layer's runbook, docs/runbooks/<RUNBOOK>.md. */
export const RUNBOOK = 'customer-delivery';

/** A customer as the construct takes it: the `customers` entry (platform/customer-delivery/config.ts). */
export type DeliveryCustomer = Pick<CustomerConfig, 'name' | 'principals' | 'externalId' | 'sources' | 'apiRequestsPerSecond'>;

/** A source whose processed events are delivered: what customers read, and in which schema. */
export interface DeliverySource {
  /** The source's name (`sources.<name>`). */
  readonly name: string;
  /** The event field that identifies an event (the customers' dedup key). */
  readonly idField: string;
  /** The JSON Schema of the delivered events: the source's, or its processing rules' output schema. */
  readonly schema: object;
}

/** The MSK cluster of pipeline 5, for delivery topics. */
export interface DeliveryCluster {
  /** The cluster's ARN. */
  readonly clusterArn: string;
  /** The cluster's name. */
  readonly clusterName: string;
  /** MSK Serverless (customers read through a reader role) or provisioned (through the cluster policy). */
  readonly type: 'serverless' | 'provisioned';
  /** `arn:...:topic|group/<cluster>/<uuid>/<name>` (a trailing `*` names a prefix). */
  resourceArn(kind: 'topic' | 'group', name: string): string;
}

/** Props of `CustomerDelivery`: the customers, the delivered sources, and the broker that carries their events. */
export interface CustomerDeliveryProps extends PipelineBaseProps {
  /** Every configured customer; those reading none of `sources` are not this construct's. */
  readonly customers: DeliveryCustomer[];
  /** The sources of this stack whose events are delivered. */
  readonly sources: DeliverySource[];
  /**
   * Where the events are: Kinesis delivery streams this construct creates (pipeline 2), or the topics
   * `delivery.<source>` of an MSK cluster (pipeline 5; the pipeline creates the topics and its jobs write them).
   */
  readonly broker: { kind: 'kinesis'; retention?: Duration } | { kind: 'kafka'; cluster: DeliveryCluster; bootstrapBrokers: string };
  /** A customer's consumer falling further behind than this raises its lag alarm. @default 5 minutes */
  readonly maxConsumerLag?: Duration;
}

/**
 * The customer delivery layer of one stack (README.md): per source with customers, a delivery stream (Kinesis) or
 * topic (Kafka) that the pipeline's job writes; per customer, access to exactly its sources (an enhanced fan-out
 * consumer with a resource policy naming only its principals; on Kafka, per-topic and per-group permissions through
 * the cluster policy or a reader role), an entry in the delivery API (API Gateway, IAM authorization, a resource
 * policy per customer path, a usage plan), lag alarms and a dashboard row. Removing a customer from the configuration
 * removes all of it on the next deploy.
 */
export class CustomerDelivery extends Construct {
  /** Kinesis delivery streams by source (pipeline 2): the job of each source writes its stream. */
  readonly streams: Record<string, kinesis.Stream> = {};
  /** Consumers by source, then customer. */
  readonly consumers: Record<string, Record<string, kinesis.StreamConsumer>> = {};
  /** MSK Serverless: the role each customer assumes to read its topics. */
  readonly readerRoles: Record<string, iam.Role> = {};
  /** On a provisioned MSK cluster: the cluster policy granting each customer its topics and groups. */
  readonly clusterPolicy?: msk.CfnClusterPolicy;
  /** On Kinesis: the customer-managed key of the delivery streams, which cross-account readers may use to decrypt. */
  readonly key?: kms.Key;
  /** The delivery API (API Gateway, IAM authorization, a resource policy per customer path, a usage plan). */
  readonly api: apigateway.RestApi;
  /** The Lambda function behind the delivery API. */
  readonly apiFunction: BundledFunction;
  /** The customers reading at least one of this stack's sources. */
  readonly customers: DeliveryCustomer[];
  /** Where the customers' lag alarms and dashboard rows go. */
  readonly monitoring: PipelineMonitoring;
  private readonly catalogs: Record<string, CatalogSource[]> = {};

  constructor(scope: Construct, id: string, props: CustomerDeliveryProps) {
    super(scope, id);
    const here = new Set(props.sources.map((s) => s.name));
    this.customers = props.customers
      .map((c) => ({ ...c, sources: c.sources.filter((s) => here.has(s)) }))
      .filter((c) => c.sources.length > 0);
    if (this.customers.length === 0) throw new Error(`${this.node.path}: no customer reads any of ${[...here].join(', ')}`);
    const base = pipelineBase(this, props, RUNBOOK);
    this.monitoring = base.monitoring;
    const sources = props.sources.filter((s) => this.customers.some((c) => c.sources.includes(s.name)));
    for (const customer of this.customers) this.catalogs[customer.name] = [];

    const { broker } = props;
    if (broker.kind === 'kinesis') {
      // Cross-account readers must decrypt: an AWS-managed key's policy cannot name them, a customer-managed key's can.
      this.key = new kms.Key(this, 'Key', {
        description: `Encrypts the customer delivery streams of ${Stack.of(this).stackName}`,
        enableKeyRotation: true,
        removalPolicy: base.removalPolicy,
      });
      const waiter = new HandlerProvider(this, 'ConsumerWaiter', {
        entry: fromRoot('platform', 'customer-delivery', 'handlers', 'consumer-active', 'index.ts'),
        purpose: 'Waits until each customer stream consumer is ACTIVE',
        isComplete: { queryInterval: Duration.seconds(5), totalTimeout: Duration.minutes(10) },
        logRetention: base.logRetention,
        removalPolicy: base.removalPolicy,
      });
      for (const source of sources) this.addKinesisSource(source, broker.retention ?? Duration.hours(24), waiter, base.removalPolicy);
    } else {
      this.clusterPolicy = this.addKafkaSources(sources, broker.cluster, broker.bootstrapBrokers);
    }

    const lag = props.maxConsumerLag ?? Duration.minutes(5);
    const runbook = base.runbook;
    this.monitorStreams(runbook);
    if (broker.kind === 'kafka') this.monitorTopics(broker.cluster, sources);
    for (const customer of this.customers) this.monitorCustomer(customer, props, lag, runbook);

    const prefix = `/stream-foundry/${Stack.of(this).stackName}/customers`;
    this.apiFunction = this.buildApiFunction(prefix, sources, base.logRetention, base.removalPolicy);
    this.api = this.buildApi(base.logRetention, base.removalPolicy);
    for (const customer of this.customers) this.publishCatalog(customer, prefix);
    this.monitoring.facade.monitorApiGateway({
      api: this.api,
      apiStage: this.api.deploymentStage.stageName,
      alarmFriendlyName: 'delivery-api',
      humanReadableName: 'Customer delivery API',
      add5XXFaultCountAlarm: { Critical: { maxErrorCount: 0, runbookLink: runbook('api-errors') } },
    });
  }

  /** Every alarm of the construct (and of whatever shares its monitoring). */
  get alarms() {
    return this.monitoring.alarms;
  }

  /**
   * One delivery stream; per customer an enhanced fan-out consumer (dedicated 2 MB/s per shard, its own metrics) whose
   * resource policy names only that customer. The stream's own policy lets every reader of the source find the shards
   * (ListShards, DescribeStreamSummary) and nothing more: no GetRecords, so customers stay on their consumers.
   */
  private addKinesisSource(source: DeliverySource, retention: Duration, waiter: HandlerProvider, removalPolicy: RemovalPolicy): void {
    const readers = this.customers.filter((c) => c.sources.includes(source.name));
    const stream = new kinesis.Stream(this, `${source.name}Stream`, {
      streamMode: kinesis.StreamMode.ON_DEMAND,
      retentionPeriod: retention,
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.key,
      removalPolicy,
    });
    Validations.of(stream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason: "Customers in other accounts decrypt the delivered records: an AWS-managed key's policy cannot admit them, a customer-managed key's can (and revokes them on removal).",
    });
    this.streams[source.name] = stream;
    this.consumers[source.name] = {};
    stream.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CustomersFindShards',
        principals: readers.flatMap((c) => c.principals.map(principalOf)),
        actions: ['kinesis:DescribeStreamSummary', 'kinesis:ListShards'],
        resources: [stream.streamArn],
      }),
    );
    const waits: CustomResource[] = [];
    readers.forEach((customer, i) => {
      const consumer = new kinesis.StreamConsumer(this, `${source.name}${customer.name}Consumer`, { streamConsumerName: customer.name, stream });
      // Kinesis registers at most 5 consumers of a stream at a time: the 6th waits for the 1st to be ACTIVE.
      if (i >= 5) consumer.node.addDependency(waits[i - 5]);
      const active = new CustomResource(this, `${source.name}${customer.name}ConsumerActive`, {
        serviceToken: waiter.serviceToken,
        resourceType: 'Custom::KinesisConsumerActive',
        properties: { ConsumerArn: consumer.streamConsumerArn },
      });
      waits.push(active);
      const policy = new kinesis.ResourcePolicy(this, `${source.name}${customer.name}ConsumerPolicy`, {
        streamConsumer: consumer,
        policyDocument: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'CustomerReadsItsConsumer',
              principals: customer.principals.map(principalOf),
              actions: ['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard'],
              resources: [consumer.streamConsumerArn],
            }),
          ],
        }),
      });
      policy.node.addDependency(active);
      this.consumers[source.name][customer.name] = consumer;
      this.catalogs[customer.name].push({
        ...this.catalogBase(source),
        kinesis: { streamArn: stream.streamArn, streamName: stream.streamName, consumerName: customer.name, consumerArn: consumer.streamConsumerArn, keyArn: this.key!.keyArn },
      });
    });
    const consumerArns = `${stream.streamArn}/consumer/*`;
    waiter.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kinesis:DescribeStreamConsumer'], resources: [consumerArns] }));
    acknowledgeWildcard(waiter.role, consumerArns, "a consumer's ARN ends in its creation timestamp, unknown before it exists: the waiter describes this stream's consumers");
    // Records are decrypted for the reader: each reader's principals may use the key, through Kinesis only.
    this.key!.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `CustomersDecrypt${alphanumeric(source.name)}`,
        principals: readers.flatMap((c) => c.principals.map(principalOf)),
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:ViaService': `kinesis.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }

  /**
   * Kafka delivery topics (created by the pipeline). Per customer: Connect, read its topics, use the consumer groups
   * `<customer>.*`. MSK provisioned carries that in the cluster policy for the customer's own principals (cross-account
   * clients connect through a VPC connection); MSK Serverless takes no cross-account client, so each customer gets a
   * reader role here that its principals assume, with its external id.
   */
  private addKafkaSources(sources: DeliverySource[], cluster: DeliveryCluster, bootstrapBrokers: string): msk.CfnClusterPolicy | undefined {
    const statements: iam.PolicyStatement[] = [];
    for (const customer of this.customers) {
      const topics = customer.sources.map((s) => cluster.resourceArn('topic', deliveryTopic(s)));
      const read = [
        new iam.PolicyStatement({ actions: ['kafka-cluster:Connect'], resources: [cluster.clusterArn] }),
        new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resources: topics }),
        new iam.PolicyStatement({
          actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
          resources: [cluster.resourceArn('group', `${consumerGroupPrefix(customer.name)}*`)],
        }),
      ];
      let readerRoleArn: string | undefined;
      if (cluster.type === 'serverless') {
        const role = new iam.Role(this, `${customer.name}Reader`, {
          description: `Customer ${customer.name} reads its delivery topics of ${cluster.clusterName} (assumed with its external id)`,
          assumedBy: new iam.CompositePrincipal(...customer.principals.map(principalOf)),
          externalIds: customer.externalId ? [customer.externalId] : undefined,
          maxSessionDuration: Duration.hours(1),
        });
        const policy = new iam.Policy(this, `${customer.name}ReaderPolicy`, { roles: [role], statements: read });
        acknowledgeWildcard(policy, read[2].resources[0], `the consumer groups of customer ${customer.name} are its to name, under its own prefix "${consumerGroupPrefix(customer.name)}"`);
        this.readerRoles[customer.name] = role;
        readerRoleArn = role.roleArn;
      } else {
        const principals = customer.principals.map(principalOf);
        for (const statement of read) {
          statements.push(new iam.PolicyStatement({ principals, actions: statement.actions, resources: statement.resources }));
        }
        statements.push(
          new iam.PolicyStatement({
            principals,
            actions: ['kafka:CreateVpcConnection', 'kafka:GetBootstrapBrokers', 'kafka:DescribeCluster', 'kafka:DescribeClusterV2'],
            resources: [cluster.clusterArn],
          }),
        );
      }
      for (const name of customer.sources) {
        const source = sources.find((s) => s.name === name)!;
        this.catalogs[customer.name].push({
          ...this.catalogBase(source),
          kafka: {
            topic: deliveryTopic(name),
            clusterArn: cluster.clusterArn,
            bootstrapBrokers,
            consumerGroupPrefix: consumerGroupPrefix(customer.name),
            monitoredConsumerGroup: monitoredConsumerGroup(customer.name, name),
            ...(readerRoleArn ? { readerRoleArn } : {}),
          },
        });
      }
    }
    if (statements.length === 0) return undefined;
    return new msk.CfnClusterPolicy(this, 'ClusterPolicy', {
      clusterArn: cluster.clusterArn,
      policy: new iam.PolicyDocument({ statements }).toJSON(),
    });
  }

  private catalogBase(source: DeliverySource): Omit<CatalogSource, 'kinesis' | 'kafka'> {
    return { source: source.name, schemaVersion: schemaVersion(source.schema), idField: source.idField };
  }

  /** The API's function: serves catalogs and schemas, and bounded pages of the Kinesis delivery streams. */
  private buildApiFunction(prefix: string, sources: DeliverySource[], logRetention: logs.RetentionDays, removalPolicy: RemovalPolicy): BundledFunction {
    const logGroup = new logs.LogGroup(this, 'ApiLogs', { retention: logRetention, removalPolicy });
    const role = functionRole(this, 'ApiRole', 'The customer delivery API: catalogs, schemas, pages of delivery streams', logGroup);
    // The delivered schemas travel with the function (what `GET .../schema` serves), staged by content.
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-schemas-'));
    for (const source of sources) fs.writeFileSync(path.join(staging, schemaFileName(source.name)), `${JSON.stringify(source.schema, null, 2)}\n`);
    const fn = new BundledFunction(this, 'ApiFunction', {
      description: `Customer delivery API of ${Stack.of(this).stackName}`,
      entry: fromRoot('platform', 'customer-delivery', 'api', 'index.ts'),
      handler: HANDLER_EXPORT,
      timeout: Duration.seconds(25),
      memorySize: 512,
      environment: { [ENV.catalogPrefix]: prefix },
      role,
      logGroup,
      bundling: { commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling: (_i: string, output: string) => [`mkdir -p "${output}/${SCHEMAS_FOLDER}"`, `cp "${staging}"/* "${output}/${SCHEMAS_FOLDER}/"`] } },
    });
    const catalogs = Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${prefix.slice(1)}/*` });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [catalogs] }));
    acknowledgeWildcard(role, catalogs, "the catalogs of this stack's customers, one parameter each under the stack's prefix");
    const streams = Object.values(this.streams);
    if (streams.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords'], resources: streams.map((s) => s.streamArn) }),
      );
      this.key!.grantDecrypt(role);
    }
    return fn;
  }

  /**
   * REST API, IAM authorization: a caller signs with its own credentials, and the resource policy admits each
   * customer's principals to that customer's paths only. Usage plans throttle per customer (their API keys identify
   * the caller to the plan; IAM is the authorization).
   */
  private buildApi(logRetention: logs.RetentionDays, removalPolicy: RemovalPolicy): apigateway.RestApi {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy });
    const statements = this.customers.map(
      (customer) =>
        new iam.PolicyStatement({
          sid: `Customer${alphanumeric(customer.name)}`,
          principals: customer.principals.map(principalOf),
          actions: ['execute-api:Invoke'],
          resources: [`execute-api:/*/GET/customers/${customer.name}`, `execute-api:/*/GET/customers/${customer.name}/*`],
        }),
    );
    const api = new apigateway.RestApi(this, 'Api', {
      description: `Customer delivery API of ${Stack.of(this).stackName}: what each customer may read, and pages of its events`,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      policy: new iam.PolicyDocument({ statements }),
      // Access and execution logs need the account's API Gateway CloudWatch role; kept when the stack goes (account-wide).
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: removalPolicy,
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
      },
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM, apiKeyRequired: true },
    });
    const integration = new apigateway.LambdaIntegration(this.apiFunction);
    // GET requests carry no body; the parameters each route declares are required (or optional) as listed.
    const validator = api.addRequestValidator('Parameters', { validateRequestParameters: true, validateRequestBody: true });
    const customer = api.root.addResource('customers').addResource('{customer}');
    customer.addMethod('GET', integration, { requestValidator: validator, requestParameters: { 'method.request.path.customer': true } });
    const source = customer.addResource('sources').addResource('{source}');
    const pathParameters = { 'method.request.path.customer': true, 'method.request.path.source': true };
    source.addResource('schema').addMethod('GET', integration, { requestValidator: validator, requestParameters: pathParameters });
    source.addResource('events').addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: {
        ...pathParameters,
        'method.request.querystring.limit': false,
        'method.request.querystring.cursor': false,
        'method.request.querystring.since': false,
      },
    });
    for (const c of this.customers) {
      const plan = api.addUsagePlan(`${c.name}Plan`, {
        description: `Customer ${c.name}`,
        throttle: { rateLimit: c.apiRequestsPerSecond, burstLimit: 2 * c.apiRequestsPerSecond },
        apiStages: [{ api, stage: api.deploymentStage }],
      });
      const key = api.addApiKey(`${c.name}ApiKey`, { description: `Customer ${c.name}: identifies its requests to its usage plan (not an authorization)` });
      plan.addApiKey(key);
      new CfnOutput(this, `${alphanumeric(c.name)}ApiKeyId`, {
        value: key.keyId,
        description: `API key of customer ${c.name}: aws apigateway get-api-key --include-value --api-key <this>`,
      });
    }
    acknowledgeApi(api);
    return api;
  }

  /** The customer's catalog in Parameter Store: what `GET /customers/<name>` answers. */
  private publishCatalog(customer: DeliveryCustomer, prefix: string): void {
    const catalog: CustomerCatalog = {
      customer: customer.name,
      principals: customer.principals,
      region: Stack.of(this).region,
      sources: this.catalogs[customer.name],
    };
    // Standard parameters hold 4 KB, advanced 8 KB (and cost a little): an ARN is ~120 characters once deployed.
    const size = Buffer.byteLength(JSON.stringify(catalog, (_k, v) => (typeof v === 'string' && Token.isUnresolved(v) ? 'x'.repeat(140) : v)));
    if (size > 8192 * 0.9) {
      throw new Error(`${this.node.path}: the catalog of customer "${customer.name}" (~${size} bytes for ${customer.sources.length} sources) exceeds a Parameter Store parameter (8 KB): split its sources across customers`);
    }
    new ssm.StringParameter(this, `${customer.name}Catalog`, {
      parameterName: catalogParameterName(prefix, customer.name),
      description: `What customer ${customer.name} may read (served by the delivery API)`,
      stringValue: Stack.of(this).toJsonString(catalog),
      tier: size > 4096 * 0.9 ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
    });
  }

  /** Per delivery stream: what the job wrote, and its throttled puts (the on-demand stream is scaling). */
  private monitorStreams(runbook: (section: string) => string): void {
    for (const [source, stream] of Object.entries(this.streams)) {
      this.monitoring.facade.monitorKinesisDataStream({
        streamName: stream.streamName,
        alarmFriendlyName: `${source}-delivery-stream`,
        humanReadableName: `${source} delivery stream`,
        addPutRecordsThrottledAlarm: { Warning: { maxRecordsThrottledThreshold: 0, runbookLink: runbook('delivery-throttled') } },
      });
    }
  }

  /**
   * Per delivery topic on MSK Serverless, what the jobs wrote (its per-topic metrics; provisioned clusters publish
   * them only at the PER_TOPIC_PER_BROKER monitoring level, per broker). The producer retries throttled writes itself.
   */
  private monitorTopics(cluster: DeliveryCluster, sources: DeliverySource[]): void {
    if (cluster.type !== 'serverless') return;
    this.monitoring.facade.monitorCustom({
      alarmFriendlyName: 'delivery-topics',
      humanReadableName: 'Delivery topics',
      metricGroups: sources.map((source) => ({
        title: `${deliveryTopic(source.name)}: messages and bytes in (per second)`,
        metrics: ['MessagesInPerSec', 'BytesInPerSec'].map(
          (metricName) =>
            new Metric({ namespace: 'AWS/Kafka', metricName, dimensionsMap: { 'Cluster Name': cluster.clusterName, Topic: deliveryTopic(source.name) }, statistic: 'Average', period: Duration.minutes(5) }),
        ),
      })),
    });
  }

  /**
   * A dashboard row per customer: per source, how far behind it reads, with an alarm. An idle customer sends no
   * metrics: missing data is not lag.
   */
  private monitorCustomer(customer: DeliveryCustomer, props: CustomerDeliveryProps, lag: Duration, runbook: (section: string) => string): void {
    const { broker } = props;
    const { facade } = this.monitoring;
    const description = (source: string) => `Customer ${customer.name} reads ${source} more than ${lag.toHumanString()} behind.`;
    facade.addLargeHeader(`Customer ${customer.name}`);
    if (broker.kind === 'kinesis') {
      for (const source of customer.sources) {
        facade.monitorKinesisDataStreamConsumer({
          streamName: this.streams[source].streamName,
          consumerName: customer.name,
          alarmFriendlyName: `customer-${customer.name}-${source}`,
          humanReadableName: `${customer.name} on ${source}`,
          addConsumerIteratorMaxAgeAlarm: {
            Warning: { maxAgeInMillis: lag.toMilliseconds(), treatMissingDataOverride: TreatMissingData.NOT_BREACHING, runbookLink: runbook('customer-lag'), alarmDescriptionOverride: description(source) },
          },
        });
      }
      return;
    }
    facade.monitorCustom({
      alarmFriendlyName: `customer-${customer.name}`,
      humanReadableName: `Customer ${customer.name}`,
      metricGroups: customer.sources.map((source) => ({
        title: `${customer.name} on ${source}: how far behind (s)`,
        metrics: [
          {
            metric: new Metric({
              namespace: 'AWS/Kafka',
              metricName: 'EstimatedMaxTimeLag',
              dimensionsMap: { 'Cluster Name': broker.cluster.clusterName, 'Consumer Group': monitoredConsumerGroup(customer.name, source), Topic: deliveryTopic(source) },
              statistic: 'Maximum',
              period: Duration.minutes(5),
            }),
            alarmFriendlyName: `${source}-lag`, // after the group's name: customer-<name>-<source>-lag
            addAlarm: {
              Warning: {
                threshold: lag.toSeconds(),
                comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
                additionalDescription: description(source),
                runbookLink: runbook('customer-lag'),
              },
            },
          },
        ],
      })),
    });
  }
}

/**
 * The sources among `sources` that some customer reads, as the delivery layer sees them: the delivered schema is the
 * output schema of the source's processing rules when it has some (what the job writes), else its own.
 */
export function deliverySources(config: Pick<StreamFoundryConfig, 'customers'>, sources: DataSource[]): DeliverySource[] {
  const read = new Set(config.customers.flatMap((c) => c.sources));
  return sources
    .filter((s) => read.has(s.name))
    .map((s) => ({ name: s.name, idField: s.idField, schema: tableSchema(s) }));
}

/** An account id is its root principal (the account's own IAM decides who in it reads); a role ARN is that role. */
function principalOf(principal: string): iam.IPrincipal {
  return ACCOUNT_PRINCIPAL.test(principal) ? new iam.AccountPrincipal(principal) : new iam.ArnPrincipal(principal);
}

/** cdk-nag's IAM5 on one wildcard resource of `scope`'s policy, with why. */
function acknowledgeWildcard(scope: IConstruct, resource: string, reason: string): void {
  const policy = scope instanceof iam.Role ? (scope.node.tryFindChild('DefaultPolicy') ?? scope) : scope;
  Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resource))}]`, reason });
}

function acknowledgeApi(api: apigateway.RestApi): void {
  Validations.of(api).acknowledge(
    { id: 'AwsSolutions-APIG3', reason: 'Every method needs SigV4 (IAM) from a principal the resource policy names, and each customer is throttled by its usage plan; a WAF web ACL adds cost without adding an authorization.' },
    { id: 'AwsSolutions-COG4', reason: 'IAM authorization, not Cognito: customers are AWS principals (accounts and roles) named in the resource policy.' },
  );
  const role = api.node.tryFindChild('CloudWatchRole');
  if (role) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: "API Gateway's account-level logging role: AWS's managed policy for it is the documented one.",
    });
  }
}
