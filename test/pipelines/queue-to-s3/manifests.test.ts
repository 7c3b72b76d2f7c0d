/**
 * The Kubernetes objects QueueToS3Consumer applies, taken from the synthesized template (the artifact that is
 * deployed), validated against the JSON schema of the cluster's Kubernetes version (kubernetes-validate, pinned in
 * scripts/setup/requirements.txt, strict: unknown fields are errors) and KEDA's CRD schemas (@kubernetes-models/keda).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { PipelineMonitoring } from '../../../platform/pipeline-monitoring';
import { KUBERNETES_VERSION, QueueToS3Consumer } from '../../../pipelines/queue-to-s3/construct';
import { SCHEMAS_DIR } from '../../../platform/config';
import { testStack } from '../../support/aws';
import { PROJECT_ROOT } from '../../../platform/paths';

const KUBERNETES_VALIDATE = path.join(PROJECT_ROOT, '.venv', 'bin', 'kubernetes-validate');
const K8S_VERSION = `${KUBERNETES_VERSION.version}.0`;

type KubernetesObject = { apiVersion: string; kind: string; metadata: { name: string } };

/** Every object of every KubernetesManifest resource, CloudFormation references replaced by a placeholder string. */
function appliedObjects(): KubernetesObject[] {
  const stack = testStack({ 'aws:cdk:bundling-stacks': [] });
  const monitoring = new PipelineMonitoring(stack, 'Monitoring', { alarmEmails: ['oncall@example.com'] });
  new QueueToS3Consumer(stack, 'Pipeline', { source: { name: 'orders', schemaFile: path.join(SCHEMAS_DIR, 'orders.schema.json'), idField: 'event_id' }, monitoring });
  const manifests = Object.values(Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-KubernetesResource'));
  return manifests.flatMap((r) => {
    const m = r.Properties.Manifest;
    return JSON.parse(typeof m === 'string' ? m : m['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'placeholder')).join(''));
  });
}

/** kubernetes-validate over the objects, one file each; returns its findings (empty when all are valid). */
function validateBuiltIn(objects: object[]): { status: number | null; findings: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-'));
  const files = objects.map((o, i) => {
    const file = path.join(dir, `${i}.json`);
    fs.writeFileSync(file, JSON.stringify(o));
    return file;
  });
  const run = spawnSync(KUBERNETES_VALIDATE, ['-k', K8S_VERSION, '--strict', '--quiet', ...files], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: run.status, findings: `${run.stdout}${run.stderr}`.split('\n').filter(Boolean) };
}

/** KEDA's CRD schemas (the package is ESM: it runs in a child Node.js process). */
function validateKeda(objects: object[]): string[] {
  const script = `
    import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
    const kinds = { ScaledObject, TriggerAuthentication };
    const objects = JSON.parse(process.argv[1]);
    for (const o of objects) {
      try { new kinds[o.kind](o).validate(); } catch (e) { console.log(o.kind + '/' + o.metadata.name + ': ' + e.message); }
    }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(objects)], { encoding: 'utf8', cwd: PROJECT_ROOT });
  if (run.status !== 0) throw new Error(run.stderr);
  return run.stdout.split('\n').filter(Boolean);
}

describe('QueueToS3Consumer Kubernetes manifests', () => {
  const objects = appliedObjects();
  const keda = objects.filter((o) => o.apiVersion.startsWith('keda.sh/'));
  const builtIn = objects.filter((o) => !o.apiVersion.startsWith('keda.sh/'));

  test('the construct applies the consumer objects and KEDA objects', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(
      ['Deployment', 'Namespace', 'PodDisruptionBudget', 'ScaledObject', 'Service', 'ServiceAccount', 'TriggerAuthentication'].sort(),
    );
  });

  test(`built-in kinds are valid for Kubernetes ${K8S_VERSION}, strictly (no unknown field)`, () => {
    expect(fs.existsSync(KUBERNETES_VALIDATE)).toBe(true); // installed by `npm test` (scripts/setup/python-venv.sh)
    expect(validateBuiltIn(builtIn)).toEqual({ status: 0, findings: [] });
  });

  test('the validator is live: an unknown container field or a wrong type fails', () => {
    const deployment = builtIn.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: object[] } } } };
    const broken = structuredClone(deployment);
    (broken.spec.template.spec.containers[0] as Record<string, unknown>).livenessProbes = {};
    const result = validateBuiltIn([broken]);
    expect(result.status).not.toBe(0);
    expect(result.findings.join('\n')).toMatch(/livenessProbes/);
  });

  test("KEDA's ScaledObject and TriggerAuthentication are valid for its CRD schemas; a wrong type is not", () => {
    expect(validateKeda(keda)).toEqual([]);
    const scaled = structuredClone(keda.find((o) => o.kind === 'ScaledObject')) as unknown as { spec: { minReplicaCount: unknown } };
    scaled.spec.minReplicaCount = 'one';
    expect(validateKeda([scaled])).toEqual([expect.stringMatching(/minReplicaCount must be integer/)]);
  });
});
