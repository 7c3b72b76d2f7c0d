/**
 * Google Cloud half of the diagrams: a synthesized CDK for Terraform stack as a `StackModel`, and the table of what is
 * drawn and which references mean data flow.
 */
import { TerraformResource, TerraformStack } from 'cdktf';
import { Access, ModelResource, Reference, StackModel, Vocabulary } from './graph';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Every `${type.name...}` interpolation in `value` that names one of `ids` (`type.name`), with the property it is under. */
export function terraformReferences(value: unknown, ids: Set<string>, property = ''): { to: string; property: string }[] {
  const found: { to: string; property: string }[] = [];
  const walk = (v: unknown, at: string) => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(/\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)/g)) if (ids.has(`${m[1]}.${m[2]}`)) found.push({ to: `${m[1]}.${m[2]}`, property: at });
    } else if (Array.isArray(v)) v.forEach((item, i) => walk(item, at ? `${at}.${i}` : String(i)));
    else if (v && typeof v === 'object') for (const [key, child] of Object.entries(v)) if (key !== '//') walk(child, at ? `${at}.${key}` : key);
  };
  walk(value, property);
  return found;
}

/** IAM roles that move data, by direction (a member with one sends data to the resource, or receives data from it). */
export const DATA_ROLES: { pattern: RegExp; access: Access['access'] }[] = [
  { pattern: /\.(publisher|dataEditor|dataOwner|objectAdmin|objectCreator|admin|editor)$/, access: 'write' },
  { pattern: /\.(subscriber|dataViewer|objectViewer|viewer|reader)$/, access: 'read' },
];

/** A property through which a resource runs as a service account. */
const RUNS_AS = /(^|\.)service_account(_email)?$/;

/** The model of one CDK for Terraform stack. */
export function gcpStackModel(stack: TerraformStack, title = stack.node.id): StackModel {
  const synthesized = stack.toTerraform() as { resource?: Record<string, Record<string, Record<string, unknown>>> };
  const paths = new Map<string, string[]>();
  for (const c of stack.node.findAll()) {
    if (c instanceof TerraformResource) paths.set(`${c.terraformResourceType}.${c.friendlyUniqueId}`, c.node.path.split('/').slice(stack.node.path.split('/').length));
  }
  const resources: ModelResource[] = Object.entries(synthesized.resource ?? {}).flatMap(([type, byName]) =>
    Object.entries(byName).map(([name, properties]) => ({ id: `${type}.${name}`, type, path: paths.get(`${type}.${name}`) ?? [name], properties })),
  );
  return terraformModel(stack.node.id, title, resources);
}

/** The model of Terraform resources (`type.name` ids). */
export function terraformModel(id: string, title: string, resources: ModelResource[]): StackModel {
  const ids = new Set(resources.map((r) => r.id));
  const references: Reference[] = resources.flatMap((r) => terraformReferences(r.properties, ids).map((ref) => ({ from: r.id, ...ref })));

  // Who runs as each service account, and what its IAM memberships let it do to the resource they are on.
  const runsAs = new Map<string, string[]>();
  for (const ref of references) {
    if (ref.to.startsWith('google_service_account.') && RUNS_AS.test(ref.property) && !ref.from.includes('_iam_')) runsAs.set(ref.to, [...(runsAs.get(ref.to) ?? []), ref.from]);
  }
  const accesses: Access[] = [];
  for (const r of resources) {
    if (!/_iam_(member|binding)$/.test(r.type)) continue;
    const role = String(r.properties.role ?? '');
    const access = DATA_ROLES.find((d) => d.pattern.test(role))?.access;
    if (!access) continue;
    const refs = terraformReferences(r.properties, ids);
    const accounts = refs.filter((ref) => /^members?(\.\d+)?$/.test(ref.property)).map((ref) => ref.to);
    const targets = refs.filter((ref) => !/^members?(\.\d+)?$/.test(ref.property) && !ref.to.startsWith('google_service_account.')).map((ref) => ref.to);
    for (const account of accounts) for (const principal of runsAs.get(account) ?? []) for (const resource of targets) accesses.push({ principal, resource, access });
  }
  return { id, title, resources, references, accesses };
}

/** What is drawn, and which references are data flow, in a Google Cloud Terraform stack. */
export const GCP_VOCABULARY: Vocabulary = {
  shown: {
    google_pubsub_topic: { label: 'Pub/Sub topic', category: 'messaging' },
    google_pubsub_subscription: { label: 'Pub/Sub subscription', category: 'messaging' },
    google_dataflow_flex_template_job: { label: 'Dataflow job (Flex Template)', category: 'compute' },
    google_dataflow_job: { label: 'Dataflow job', category: 'compute' },
    google_cloud_scheduler_job: { label: 'Cloud Scheduler job', category: 'compute' },
    google_cloudfunctions2_function: { label: 'Cloud Function', category: 'compute' },
    google_bigquery_table: { label: 'BigQuery table', category: 'database' },
    google_storage_bucket: { label: 'Cloud Storage bucket', category: 'storage' },
    google_monitoring_dashboard: { label: 'Cloud Monitoring dashboard', category: 'monitoring' },
  },
  counted: {
    google_monitoring_alert_policy: { label: 'alert policies', category: 'monitoring' },
  },
  flows: [
    { type: 'google_pubsub_subscription', from: /^topic$/, label: 'subscription' },
    { type: 'google_pubsub_subscription', to: /^dead_letter_policy\.dead_letter_topic$/, label: 'dead letter' },
    { type: 'google_dataflow_flex_template_job', from: /^parameters\.input/, to: /^parameters\.output/ },
    { type: 'google_dataflow_job', from: /^parameters\.input/, to: /^parameters\.output/ },
    { type: 'google_cloud_scheduler_job', to: /^(pubsub_target\.topic_name|http_target\.uri)$/, label: 'scheduled' },
    { type: 'google_monitoring_alert_policy', to: /^notification_channels\./, label: 'alert' },
  ],
  plumbingReference: /^$/,
  plumbingClosure: new Set(),
};
