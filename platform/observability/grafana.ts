import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as grafana from 'aws-cdk-lib/aws-grafana';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GrafanaSettings } from './config';
import { DASHBOARDS_FOLDER, GrafanaDashboardsProperties } from './handlers/grafana-dashboards/contract';
import { HandlerProvider } from '../functions';
import { fromRoot } from '../paths';

/** The dashboards `npm run dashboards` generates (platform/observability/dashboards): what the workspace gets. */
export const GRAFANA_DASHBOARDS_DIR = fromRoot('docs', 'grafana');

/** The dashboard JSON files of `dir` (every `*.json`; the folder's README is not one) and their combined SHA-256. */
export function dashboardBundle(dir: string = GRAFANA_DASHBOARDS_DIR): { files: string[]; sha256: string } {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const hash = crypto.createHash('sha256');
  for (const file of files) hash.update(file).update('\0').update(fs.readFileSync(path.join(dir, file))).update('\0');
  return { files, sha256: hash.digest('hex') };
}

/** What bundling adds to the handler: each dashboard file copied to `<bundle>/dashboards/`, where the handler reads them. */
export function dashboardsBundling(dir: string, files: string[]) {
  return {
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_input: string, output: string) => [`mkdir -p "${output}/${DASHBOARDS_FOLDER}"`, ...files.map((f) => `cp "${path.join(dir, f)}" "${output}/${DASHBOARDS_FOLDER}/"`)],
    },
  };
}

export interface ManagedGrafanaProps {
  readonly settings: GrafanaSettings;
  /** The AMP workspace the Prometheus data source queries; absent: CloudWatch only. */
  readonly prometheusWorkspace?: { readonly arn: string; readonly queryEndpoint: string };
  /** Of the provisioning handler's log groups. The workspace itself is always deleted with the stack. */
  readonly removalPolicy: RemovalPolicy;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Where the dashboards come from. @default docs/grafana */
  readonly dashboardsDir?: string;
}

/**
 * An Amazon Managed Grafana workspace with the repository's dashboards in it.
 *
 *   AWS::Grafana::Workspace (CUSTOMER_MANAGED role: CloudWatch metric reads, AMP queries on one workspace)
 *     <- Custom::GrafanaDashboards: service-account token -> Grafana HTTP API: data sources (fixed uids), dashboards
 *
 * Users sign in through IAM Identity Center or SAML (`grafana.authentication`); Identity Center users and groups are
 * assigned to the workspace afterwards (console, or `aws grafana update-permissions`): CloudFormation has no resource
 * for it. The workspace holds dashboards the deploy re-creates from code: it is deleted with the stack.
 */
export class ManagedGrafana extends Construct {
  readonly workspace: grafana.CfnWorkspace;
  /** The role the workspace's data sources authenticate as. */
  readonly role: iam.Role;
  readonly provider: HandlerProvider;
  readonly dashboards: CustomResource;

  constructor(scope: Construct, id: string, props: ManagedGrafanaProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { settings } = props;
    this.role = this.buildRole(props.prometheusWorkspace);

    this.workspace = new grafana.CfnWorkspace(this, 'Workspace', {
      name: `${stack.stackName}-${id}`.slice(0, 255),
      description: `Stream Foundry dashboards of ${stack.stackName} (docs/grafana)`,
      accountAccessType: 'CURRENT_ACCOUNT',
      authenticationProviders: [settings.authentication],
      // CloudFormation can only create customer-managed workspaces (Managed Grafana API, CreateWorkspace permissionType).
      permissionType: 'CUSTOMER_MANAGED',
      roleArn: this.role.roleArn,
      dataSources: props.prometheusWorkspace ? ['CLOUDWATCH', 'PROMETHEUS'] : ['CLOUDWATCH'],
      grafanaVersion: settings.grafanaVersion,
      pluginAdminEnabled: false,
      samlConfiguration: settings.samlMetadataUrl ? { idpMetadata: { url: settings.samlMetadataUrl } } : undefined,
    });
    this.workspace.applyRemovalPolicy(RemovalPolicy.DESTROY);
    if (settings.authentication === 'SAML' && !settings.samlMetadataUrl) {
      Annotations.of(this).addWarningV2(
        'stream-foundry:grafana-saml-not-configured',
        'grafana: authentication SAML without grafana.samlMetadataUrl: the workspace starts with SAML not configured; finish it in the Managed Grafana console',
      );
    }

    const dir = props.dashboardsDir ?? GRAFANA_DASHBOARDS_DIR;
    const bundle = dashboardBundle(dir);
    if (bundle.files.length === 0) throw new Error(`${this.node.path}: no dashboards in ${dir} (run npm run dashboards)`);
    this.warnIfGeneratedForAnotherStack(dir, stack.stackName);
    this.provider = new HandlerProvider(this, 'Provisioner', {
      entry: fromRoot('platform', 'observability', 'handlers', 'grafana-dashboards', 'index.ts'),
      purpose: 'Creates the data sources and imports the dashboards of the Managed Grafana workspace',
      timeout: Duration.minutes(2),
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
      bundling: dashboardsBundling(dir, bundle.files),
    });
    // The service account and its tokens of this one workspace (Service Authorization Reference: resource "workspace").
    this.provider.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'grafana:ListWorkspaceServiceAccounts',
          'grafana:CreateWorkspaceServiceAccount',
          'grafana:DeleteWorkspaceServiceAccount',
          'grafana:CreateWorkspaceServiceAccountToken',
          'grafana:DeleteWorkspaceServiceAccountToken',
        ],
        resources: [this.workspaceArn],
      }),
    );

    const properties: GrafanaDashboardsProperties = {
      WorkspaceId: this.workspace.attrId,
      Endpoint: this.workspace.attrEndpoint,
      Region: stack.region,
      PrometheusQueryEndpoint: props.prometheusWorkspace?.queryEndpoint,
      DashboardsSha256: bundle.sha256,
    };
    this.dashboards = new CustomResource(this, 'Dashboards', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::GrafanaDashboards',
      properties: { ...properties },
    });
    // The handler's role must be allowed before the first call.
    this.dashboards.node.addDependency(this.provider.role);
  }

  /** arn:<partition>:grafana:<region>:<account>:/workspaces/<id> */
  get workspaceArn(): string {
    return Stack.of(this).formatArn({ service: 'grafana', resource: '/workspaces', resourceName: this.workspace.attrId });
  }

  /** https:// URL users sign in at. */
  get url(): string {
    return `https://${this.workspace.attrEndpoint}`;
  }

  /**
   * The workspace's role: Managed Grafana assumes it for this account's workspaces only. CloudWatch metric reads
   * (the dashboards' queries and dimension-value variables) and, with Prometheus, AMP's four query actions on that
   * one workspace (the actions of AmazonPrometheusQueryAccess).
   */
  private buildRole(prometheus: ManagedGrafanaProps['prometheusWorkspace']): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'WorkspaceRole', {
      description: 'Amazon Managed Grafana workspace: reads CloudWatch metrics and queries the Prometheus workspace',
      assumedBy: new iam.ServicePrincipal('grafana.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'grafana', resource: '/workspaces', resourceName: '*' }) },
      }),
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'], resources: ['*'] }));
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Managed Grafana workspace role: cloudwatch:GetMetricData and ListMetrics support no resource-level permissions (Service Authorization Reference); read only.',
    });
    if (prometheus) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'], resources: [prometheus.arn] }),
      );
    }
    return role;
  }

  /** The dashboards' `stack` text box defaults to the stack name they were generated for: a mismatch shows wrong names. */
  private warnIfGeneratedForAnotherStack(dir: string, stackName: string): void {
    const file = path.join(dir, 'queue-to-s3.json');
    if (!fs.existsSync(file)) return;
    const stackVariable = (JSON.parse(fs.readFileSync(file, 'utf8')).templating?.list ?? []).find((v: { name?: string }) => v.name === 'stack');
    const generatedFor = stackVariable?.query;
    if (typeof generatedFor === 'string' && generatedFor !== stackName && !stackName.startsWith('${Token')) {
      Annotations.of(this).addWarningV2(
        'stream-foundry:grafana-dashboards-other-stack',
        `grafana: docs/grafana was generated for ${generatedFor}, this stack is ${stackName}: run npm run dashboards with this configuration before deploying (the dashboards' stack box defaults to the generated name)`,
      );
    }
  }
}

/** The workspace (when `grafana.enabled`) with outputs naming it; undefined when off. */
export function addManagedGrafana(scope: Construct, id: string, props: ManagedGrafanaProps): ManagedGrafana | undefined {
  if (!props.settings.enabled) return undefined;
  const managed = new ManagedGrafana(scope, id, props);
  new CfnOutput(scope, `${id}WorkspaceUrl`, { value: managed.url, description: 'Amazon Managed Grafana workspace (sign in through IAM Identity Center or SAML)' });
  new CfnOutput(scope, `${id}WorkspaceId`, { value: managed.workspace.attrId, description: 'Managed Grafana workspace id (assign users: aws grafana update-permissions --workspace-id ...)' });
  return managed;
}
