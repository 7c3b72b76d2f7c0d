/**
 * checkov beside cdk-nag: test/compliance/checkov.test.ts runs it over every synthesized template and fails on any
 * failed check. A check that does not apply is skipped on its one resource, with the reason (`skipCheckov`). The
 * passes below handle what many resources share, once: the functions and policies aws-cdk-lib creates for itself, the
 * project's own functions, log groups (CloudWatch Logs' own encryption), SSE-SQS queues.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { IConstruct } from 'constructs';

/**
 * Skips one checkov check on one resource (checkov's own resource Metadata, `checkov.skip`), with the reason as the
 * comment checkov reports. The test fails on a skip without a reason.
 */
export function skipCheckov(construct: IConstruct, id: string, reason: string): void {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) throw new Error(`${construct.node.path}: no CloudFormation resource to skip ${id} on`);
  const checkov = (resource.getMetadata('checkov') ?? { skip: [] }) as { skip: { id: string; comment: string }[] };
  if (!checkov.skip.some((s) => s.id === id)) checkov.skip.push({ id, comment: reason });
  resource.addMetadata('checkov', checkov);
}

/** Resources aws-cdk-lib creates and configures itself, with no property to change them (besides the Provider framework's). */
const CDK_SINGLETONS = [
  /\/BucketNotificationsHandler[0-9a-f]{32}\//, // s3.Bucket.addEventNotification
  /\/Custom::VpcRestrictDefaultSGCustomResourceProvider\//, // ec2.Vpc restrictDefaultSecurityGroup
  /\/LogRetention[0-9a-f]{32}\//, // rds.DatabaseInstance cloudwatchLogsRetention
  /\/KubectlProvider\//, // eks-v2 Cluster
];

const CDK_OWNED = 'aws-cdk-lib creates and configures this resource for its own deploy-time work, with no property to change this';

/** The reasons, one per check. */
const REASONS = {
  cdkFunction: {
    CKV_AWS_115: `${CDK_OWNED}; it runs only while CloudFormation deploys, and a reservation would take concurrency from the account's unreserved pool.`,
    CKV_AWS_116: `${CDK_OWNED}; CloudFormation invokes it synchronously, and a dead-letter queue only receives failed asynchronous events.`,
    CKV_AWS_117: `${CDK_OWNED}; it calls only AWS APIs.`,
    CKV_AWS_173: `${CDK_OWNED}; its variables hold ARNs and names, no secrets, and Lambda encrypts them at rest with the AWS-managed key.`,
  },
  cdkPolicy: {
    CKV_AWS_111: `${CDK_OWNED}: the Provider waiter state machine's log delivery actions support only Resource "*", and the LogRetention function learns the log group names only at deploy time.`,
  },
  function: {
    CKV_AWS_115:
      "Reserving concurrency takes it from the account's unreserved pool, which Lambda keeps at 100 or more (10 in new low-quota accounts, where any reservation fails the deploy); the function runs rarely or is bounded by its event source.",
    CKV_AWS_117: 'The function calls only AWS APIs; a VPC would add NAT or interface endpoints and network interfaces without reducing exposure.',
    CKV_AWS_173:
      'The variables hold names, ARNs and numbers, never secrets (those come from Secrets Manager at run time); Lambda encrypts them at rest with the AWS-managed key.',
  },
  customResourceHandler: {
    CKV_AWS_116: 'A custom-resource handler, invoked synchronously by the Provider framework at deploy time; a dead-letter queue only receives failed asynchronous events.',
  },
  onFailureDestination: {
    CKV_AWS_116: 'Failed asynchronous invocations go to an on-failure destination (SQS), which supersedes a dead-letter queue and records the error with the event.',
  },
  networkInterfacePolicy: {
    CKV_AWS_111:
      'Network-interface actions of a function or Flink application in a VPC, which support no resource scoping (the AWS-managed AWSLambdaVPCAccessExecutionRole grants them on "*"), and kafka:GetBootstrapBrokers, which has no resource type.',
    CKV_AWS_109: 'ec2:CreateNetworkInterfacePermission lets Managed Flink attach its network interfaces in the VPC; it supports no resource scoping.',
  },
  logGroup: {
    CKV_AWS_158:
      "Encrypted at rest by CloudWatch Logs (AES-256-GCM). No customer-managed key: CloudWatch Logs calls KMS on its callers' behalf (kms:ViaService), so every role writing or reading the group would need the key, and one missing grant would lose its logs.",
  },
  sseSqs: {
    CKV_AWS_27: 'Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); checkov recognises only a KMS key.',
  },
} as const;

/** Actions granted on "*" because they support no resource scoping: VPC network interfaces (and Kafka's broker lookup). */
const NETWORK_INTERFACE_ACTIONS = new Set([
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
  'ec2:CreateNetworkInterfacePermission',
  'ec2:DescribeVpcs',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeDhcpOptions',
]);
const UNSCOPABLE_ACTIONS = new Set([...NETWORK_INTERFACE_ACTIONS, 'kafka:GetBootstrapBrokers']);

/**
 * Skips, with their reasons, the checkov checks that do not apply to what many resources share: the functions and
 * policies aws-cdk-lib creates for itself, the project's functions (reserved concurrency, VPC, environment key, and the
 * dead-letter queue of custom-resource handlers and of functions with an on-failure destination), policies whose only
 * "*" grants are network-interface actions, log groups without a key, SSE-SQS queues. Each skip is added only where
 * the resource lacks what the check looks for.
 */
export function acknowledgeCheckovFindings(scope: IConstruct): void {
  const all = scope.node.findAll();
  const providers = all.filter((c): c is cr.Provider => c instanceof cr.Provider);
  const handlers = new Set<IConstruct>(providers.flatMap((p) => [p.onEventHandler, p.isCompleteHandler].filter((f) => f !== undefined)));
  const cdkOwned = (c: IConstruct) =>
    c.node.scopes.some((s) => s instanceof cr.Provider) || CDK_SINGLETONS.some((pattern) => pattern.test(`/${c.node.path}/`));
  const skip = (c: CfnResource, reasons: Record<string, string>, failing: Record<string, boolean>) => {
    for (const [id, reason] of Object.entries(reasons)) if (failing[id]) skipCheckov(c, id, reason);
  };

  for (const c of all) {
    if (!(c instanceof CfnResource)) continue;
    const property = (name: string) => Stack.of(c).resolve(cfnProperties(c)[name] ?? cfnProperties(c)[name[0].toUpperCase() + name.slice(1)]);
    if (c.cfnResourceType === 'AWS::Lambda::Function') {
      const variables = property('environment')?.variables ?? property('environment')?.Variables ?? {};
      const failing = {
        CKV_AWS_115: property('reservedConcurrentExecutions') === undefined,
        CKV_AWS_116: property('deadLetterConfig') === undefined,
        CKV_AWS_117: property('vpcConfig') === undefined,
        CKV_AWS_173: Object.keys(variables).length > 0 && property('kmsKeyArn') === undefined,
      };
      if (cdkOwned(c)) {
        skip(c, REASONS.cdkFunction, failing);
        continue;
      }
      skip(c, REASONS.function, failing);
      const fn = c.node.scope as IConstruct;
      if (handlers.has(fn)) skip(c, REASONS.customResourceHandler, failing);
      else if (hasOnFailureDestination(fn)) skip(c, REASONS.onFailureDestination, failing);
    } else if (c instanceof iam.CfnPolicy) {
      const statements: { Action: string | string[]; Resource: unknown }[] = property('policyDocument')?.Statement ?? [];
      const onAnyResource = statements.filter((s) => [s.Resource].flat().includes('*')).flatMap((s) => [s.Action].flat());
      if (onAnyResource.length === 0) continue;
      if (cdkOwned(c)) skip(c, REASONS.cdkPolicy, { CKV_AWS_111: true });
      else if (onAnyResource.every((a) => UNSCOPABLE_ACTIONS.has(a)) && onAnyResource.some((a) => NETWORK_INTERFACE_ACTIONS.has(a))) {
        skip(c, REASONS.networkInterfacePolicy, { CKV_AWS_111: true, CKV_AWS_109: onAnyResource.includes('ec2:CreateNetworkInterfacePermission') });
      }
    } else if (c instanceof logs.CfnLogGroup) {
      skip(c, REASONS.logGroup, { CKV_AWS_158: property('kmsKeyId') === undefined });
    } else if (c instanceof sqs.CfnQueue) {
      skip(c, REASONS.sseSqs, { CKV_AWS_27: property('sqsManagedSseEnabled') === true && property('kmsMasterKeyId') === undefined });
    }
  }
}

/** A resource's properties as given (L1 classes: camelCase; a plain CfnResource: PascalCase). */
function cfnProperties(resource: CfnResource): Record<string, unknown> {
  return (resource as unknown as { cfnProperties: Record<string, unknown> }).cfnProperties ?? {};
}

/** Whether a Lambda function sends failed asynchronous invocations to an on-failure destination. */
function hasOnFailureDestination(fn: IConstruct): boolean {
  const config = fn.node.tryFindChild('EventInvokeConfig')?.node.defaultChild;
  return config instanceof lambda.CfnEventInvokeConfig && Stack.of(config).resolve(config.destinationConfig)?.onFailure !== undefined;
}
