import type { Deployment } from 'kubernetes-types/apps/v1';
import type { Container, Namespace, SecurityContext, Service, ServiceAccount } from 'kubernetes-types/core/v1';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1';
import { CONSUMER_SERVICE, DEFAULT_HTTP_PORT, ENV, HEALTH_PATH, METRICS_PATH } from '../consumer/contract';

/** Everything the consumer's manifests need to know, as plain values (CDK tokens allowed in strings). */
export interface WorkloadSpec {
  readonly namespace: string;
  readonly name: string;
  readonly images: { node: string; awsCli: string };
  /** s3://bucket/key of the consumer bundle (one CommonJS file). */
  readonly bundleUrl: string;
  readonly region: string;
  /** The consumer's environment: contract names → values. */
  readonly environment: Record<string, string>;
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
  /** Seconds the consumer may take to drain on SIGTERM (SHUTDOWN_TIMEOUT_SECONDS). */
  readonly shutdownTimeoutSeconds: number;
}

export type KubernetesObject = Namespace | ServiceAccount | Deployment | PodDisruptionBudget | Service;

/** Non-root, read-only, no privilege escalation, no capabilities: what Pod Security "restricted" requires, and more. */
const RESTRICTED: SecurityContext = {
  runAsNonRoot: true,
  runAsUser: 1000, // the `node` user of the official Node.js images
  runAsGroup: 1000,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

const BUNDLE_DIR = '/bundle';

/**
 * The consumer's Kubernetes objects, typed (kubernetes-types) and validated in the tests against the JSON schema of
 * the cluster's Kubernetes version: a namespace enforcing Pod Security "restricted", the service account its AWS
 * permissions are bound to (EKS Pod Identity), the Deployment (replicas left to KEDA), a PodDisruptionBudget and a
 * Service for /metrics.
 *
 * The pod runs the stock Node.js image. An init container (the stock AWS CLI image, same identity) copies the
 * consumer's esbuild bundle from its S3 asset into an emptyDir; the container runs it with plain `node`.
 */
export function consumerManifests(spec: WorkloadSpec): KubernetesObject[] {
  const labels = { 'app.kubernetes.io/name': spec.name, 'app.kubernetes.io/part-of': 'stream-foundry' };
  const metadata = { name: spec.name, namespace: spec.namespace, labels };
  const volumeMounts = [
    { name: 'bundle', mountPath: BUNDLE_DIR },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  const fetchBundle: Container = {
    name: 'fetch-bundle',
    image: spec.images.awsCli,
    command: ['aws', 's3', 'cp', spec.bundleUrl, `${BUNDLE_DIR}/index.js`, '--only-show-errors'],
    env: [
      { name: 'AWS_REGION', value: spec.region },
      { name: 'HOME', value: '/tmp' },
    ],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    securityContext: RESTRICTED,
    volumeMounts,
  };
  const probe = (failureThreshold: number, periodSeconds: number) => ({
    httpGet: { path: HEALTH_PATH, port: 'http' },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  const consumer: Container = {
    name: 'consumer',
    image: spec.images.node,
    command: ['node', `${BUNDLE_DIR}/index.js`],
    env: [
      ...Object.entries(spec.environment).map(([name, value]) => ({ name, value })),
      // V8's heap stays below the container limit, leaving room for buffers and gzip.
      { name: 'NODE_OPTIONS', value: `--max-old-space-size=${Math.floor(spec.memoryMiB * 0.75)}` },
    ],
    ports: [{ name: 'http', containerPort: DEFAULT_HTTP_PORT, protocol: 'TCP' }],
    startupProbe: probe(30, 2),
    readinessProbe: probe(2, 10),
    livenessProbe: probe(3, 20),
    resources: {
      requests: { cpu: `${spec.cpuMillicores}m`, memory: `${spec.memoryMiB}Mi` },
      limits: { cpu: `${spec.cpuMillicores * 2}m`, memory: `${spec.memoryMiB}Mi` },
    },
    securityContext: RESTRICTED,
    volumeMounts,
  };

  const namespace: Namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: spec.namespace,
      labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' },
    },
  };
  const serviceAccount: ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata, automountServiceAccountToken: false };
  const deployment: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      // No `replicas`: KEDA's HPA owns it (kubectl apply then leaves the current count alone).
      selector: { matchLabels: { 'app.kubernetes.io/name': spec.name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels,
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(DEFAULT_HTTP_PORT), 'prometheus.io/path': METRICS_PATH },
        },
        spec: {
          serviceAccountName: spec.name,
          automountServiceAccountToken: false, // Pod Identity injects its own token; the consumer never calls the Kubernetes API
          securityContext: { runAsNonRoot: true, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          // SIGTERM: the consumer stops polling, flushes and deletes; Kubernetes waits a little longer than it may take.
          terminationGracePeriodSeconds: spec.shutdownTimeoutSeconds + 5,
          initContainers: [fetchBundle],
          containers: [consumer],
          volumes: [
            { name: 'bundle', emptyDir: { sizeLimit: '64Mi' } },
            { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
          ],
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': spec.name } } },
          ],
        },
      },
    },
  };
  const disruptionBudget: PodDisruptionBudget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata,
    // One pod at a time may be evicted (node upgrades, Auto Mode consolidation); "minAvailable: 1" would block
    // draining a node that runs the only replica.
    spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': spec.name } } },
  };
  const service: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: { type: 'ClusterIP', selector: { 'app.kubernetes.io/name': spec.name }, ports: [{ name: 'http', port: DEFAULT_HTTP_PORT, targetPort: 'http' }] },
  };
  return [namespace, serviceAccount, deployment, disruptionBudget, service];
}

/** The consumer's environment from the construct's settings, by the names in the service's contract. */
export function consumerEnvironment(settings: {
  queueUrl: string;
  bucket: string;
  outputPrefix: string;
  errorPrefix: string;
  /** The data source and its id field: the consumer recognises its freshness canaries and writes their receipts. */
  sourceName: string;
  idField: string;
  region: string;
  flushMaxMessages: number;
  flushMaxAgeMs: number;
  visibilityTimeoutSeconds: number;
  shutdownTimeoutSeconds: number;
}): Record<string, string> {
  return {
    [ENV.queueUrl]: settings.queueUrl,
    [ENV.outputBucket]: settings.bucket,
    [ENV.outputPrefix]: settings.outputPrefix,
    [ENV.errorPrefix]: settings.errorPrefix,
    [ENV.sourceName]: settings.sourceName,
    [ENV.idField]: settings.idField,
    [ENV.flushMaxMessages]: String(settings.flushMaxMessages),
    [ENV.flushMaxAgeMs]: String(settings.flushMaxAgeMs),
    [ENV.visibilityTimeoutSeconds]: String(settings.visibilityTimeoutSeconds),
    [ENV.shutdownTimeoutSeconds]: String(settings.shutdownTimeoutSeconds),
    [ENV.httpPort]: String(DEFAULT_HTTP_PORT),
    [ENV.region]: settings.region,
  };
}

export { CONSUMER_SERVICE };
