import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { OBSERVABILITY_DEFAULTS } from './config';
import { scrapeConfigYaml } from './scrape-config';

export interface PrometheusScrapingProps {
  /** ARN and name of the EKS cluster to scrape (its authentication mode must include API: access entries). */
  readonly clusterArn: string;
  readonly clusterName: string;
  /** Two or more of the cluster's subnets in two zones: the collector's network interfaces go there. */
  readonly subnetIds: string[];
  /** Security groups of those interfaces: the cluster security group, which the API server and Auto Mode nodes share. */
  readonly securityGroupIds: string[];
  /** Namespaces whose annotated pods (prometheus.io/scrape) are scraped. */
  readonly podNamespaces: string[];
  /** @default 30 */
  readonly scrapeIntervalSeconds?: number;
  /** @default 150 */
  readonly retentionDays?: number;
  /** Of the log groups. The workspace and the scraper are always deleted with the stack (see the class comment). */
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
}

/**
 * An Amazon Managed Service for Prometheus workspace and an AWS managed collector (`AWS::APS::Scraper`) that scrapes
 * one EKS cluster into it: agentless, nothing to run in the cluster.
 *
 *   EKS cluster (pods with prometheus.io annotations, cAdvisor and API server through the API server)
 *     -> managed scraper (ENIs in the cluster's subnets, cluster security group) -> AMP workspace -> Grafana
 *
 * Access to the cluster: with the cluster's authentication mode API or API_AND_CONFIG_MAP (EKS Auto Mode clusters use
 * API), creating the scraper creates its EKS access entry with the permissions it needs (AMP user guide, "Configuring
 * your Amazon EKS cluster"): no ClusterRole, no aws-auth edit. Encryption at rest: AMP encrypts every workspace with an
 * AWS owned key. A customer managed key is deliberately not used: a managed collector writes to such a workspace only
 * through a pair of customer roles whose trust names the scraper's own ARN (unknown until it exists), and a
 * workspace's key cannot be changed after creation (README, "Encryption"). The workspace holds operational metrics,
 * not pipeline data: it is deleted with the stack whatever `allowDataDestruction` says; its log groups follow it.
 */
export class PrometheusScraping extends Construct {
  readonly workspace: aps.CfnWorkspace;
  readonly scraper: aps.CfnScraper;
  /** The rendered scrape configuration (YAML; tokens resolve at deploy time). */
  readonly scrapeConfiguration: string;
  readonly workspaceLogs: logs.LogGroup;
  readonly scraperLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PrometheusScrapingProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    if (props.subnetIds.length < 2) throw new Error(`${this.node.path}: the managed scraper needs at least two subnets in two zones (prometheus.subnetIds)`);
    // Vended logs: under /aws/vendedlogs/ the service's log-delivery resource policy covers every group with one statement.
    // The stack's id (unique per creation) is in the name: a retained group must not block the next deploy of the stack.
    const stackUuid = Fn.select(2, Fn.split('/', Stack.of(this).stackId));
    const logGroup = (name: string) =>
      new logs.LogGroup(this, `${name}Logs`, {
        logGroupName: `/aws/vendedlogs/prometheus/${stackName}/${stackUuid}/${id}/${name.toLowerCase()}`,
        retention: props.logRetention,
        removalPolicy: props.removalPolicy,
      });
    this.workspaceLogs = logGroup('Workspace');
    this.scraperLogs = logGroup('Scraper');

    this.workspace = new aps.CfnWorkspace(this, 'Workspace', {
      alias: `${stackName}-${id}`,
      loggingConfiguration: { logGroupArn: this.workspaceLogs.logGroupArn },
      workspaceConfiguration: { retentionPeriodInDays: props.retentionDays ?? OBSERVABILITY_DEFAULTS.retentionDays },
    });
    // Operational metrics, not pipeline data: like the cluster, the workspace goes with the stack (a retained one
    // keeps billing for storage and leaves a failed first deploy's rollback behind).
    this.workspace.applyRemovalPolicy(RemovalPolicy.DESTROY);

    this.scrapeConfiguration = scrapeConfigYaml({
      scrapeIntervalSeconds: props.scrapeIntervalSeconds ?? OBSERVABILITY_DEFAULTS.scrapeIntervalSeconds,
      clusterName: props.clusterName,
      podNamespaces: props.podNamespaces,
    });
    this.scraper = new aps.CfnScraper(this, 'Scraper', {
      alias: `${stackName}-${id}`.slice(0, 100),
      source: { eksConfiguration: { clusterArn: props.clusterArn, subnetIds: props.subnetIds, securityGroupIds: props.securityGroupIds } },
      destination: { ampConfiguration: { workspaceArn: this.workspace.attrArn } },
      scrapeConfiguration: { configurationBlob: Fn.base64(this.scrapeConfiguration) },
      scraperLoggingConfiguration: {
        loggingDestination: { cloudWatchLogs: { logGroupArn: this.scraperLogs.logGroupArn } },
        scraperComponents: [{ type: 'SERVICE_DISCOVERY' }, { type: 'COLLECTOR' }, { type: 'EXPORTER' }],
      },
    });
    // A scraper left behind keeps scraping whatever cluster later takes the same ARN (AMP user guide): never retained.
    this.scraper.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }

  /** The workspace's Prometheus-compatible query endpoint (`.../api/v1/`), for a Grafana data source. */
  get queryEndpoint(): string {
    return this.workspace.attrPrometheusEndpoint;
  }
}
