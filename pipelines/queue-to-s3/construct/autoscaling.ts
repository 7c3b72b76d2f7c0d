import type { ObjectMeta } from 'kubernetes-types/meta/v1';

/** KEDA's TriggerAuthentication (keda.sh/v1alpha1), the fields used here. */
export interface TriggerAuthentication {
  apiVersion: 'keda.sh/v1alpha1';
  kind: 'TriggerAuthentication';
  metadata: ObjectMeta;
  spec: { podIdentity: { provider: 'aws' | 'none'; roleArn?: string; identityOwner?: 'keda' | 'workload' } };
}

/** KEDA's ScaledObject (keda.sh/v1alpha1), the fields used here. */
export interface ScaledObject {
  apiVersion: 'keda.sh/v1alpha1';
  kind: 'ScaledObject';
  metadata: ObjectMeta;
  spec: {
    scaleTargetRef: { apiVersion?: string; kind?: string; name: string };
    pollingInterval?: number;
    cooldownPeriod?: number;
    minReplicaCount?: number;
    maxReplicaCount?: number;
    triggers: { type: string; metadata: Record<string, string>; authenticationRef?: { name: string; kind?: string } }[];
  };
}

export interface ScalingSpec {
  readonly namespace: string;
  /** The Deployment to scale. */
  readonly name: string;
  readonly queueUrl: string;
  readonly region: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly messagesPerReplica: number;
}

/**
 * Autoscaling on queue depth with KEDA's SQS scaler. The scaler reads the queue's attributes with the KEDA operator's
 * own AWS identity (TriggerAuthentication `podIdentity.provider: aws`, no role to assume): with EKS Pod Identity the
 * default `identityOwner: pod` looks for keys that do not exist ("awsAccessKeyID not found", kedacore/keda#6418).
 *
 * It scales on visible messages only (`scaleOnInFlight: false`): the consumer holds thousands of received messages
 * in memory until they are flushed, so counting in-flight messages would scale out consumers that keep up.
 */
export function scalingManifests(spec: ScalingSpec): [TriggerAuthentication, ScaledObject] {
  const metadata = { name: spec.name, namespace: spec.namespace, labels: { 'app.kubernetes.io/name': spec.name } };
  return [
    { apiVersion: 'keda.sh/v1alpha1', kind: 'TriggerAuthentication', metadata, spec: { podIdentity: { provider: 'aws' } } },
    {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata,
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: spec.name },
        pollingInterval: 15,
        cooldownPeriod: 300,
        minReplicaCount: spec.minReplicas,
        maxReplicaCount: spec.maxReplicas,
        triggers: [
          {
            type: 'aws-sqs-queue',
            authenticationRef: { name: spec.name },
            metadata: {
              queueURL: spec.queueUrl,
              awsRegion: spec.region,
              queueLength: String(spec.messagesPerReplica),
              scaleOnInFlight: 'false',
            },
          },
        ],
      },
    },
  ];
}
