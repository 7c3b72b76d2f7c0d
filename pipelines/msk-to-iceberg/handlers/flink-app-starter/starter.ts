import { GetTableCommand, GlueClient, EntityNotFoundException } from '@aws-sdk/client-glue';
import {
  ApplicationRestoreType,
  DescribeApplicationCommand,
  DescribeApplicationOperationCommand,
  KinesisAnalyticsV2Client,
  ListApplicationOperationsCommand,
  ListApplicationSnapshotsCommand,
  StartApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { z } from 'zod';
import { customResource } from '../../../../platform/handlers/custom-resource';
import { StarterProperties } from './contract';

/**
 * Keeps a Managed Service for Apache Flink application running across deployments. CloudFormation creates an
 * application READY (stopped) and leaves a READY application READY after an update; this resource runs after every
 * create and update of the application (`ConfigHash`) and drives it to RUNNING:
 *
 *  - READY, not started since this deployment began → StartApplication, restoring the latest snapshot when there is
 *    one (state and Kafka offsets survive), without restoring when there is none (a new application);
 *  - STARTING, UPDATING, AUTOSCALING, ... → wait (an update of a RUNNING application is applied by Managed Flink
 *    itself: snapshot, stop, restart from that snapshot);
 *  - RUNNING, and the Iceberg table the job creates at start exists → complete;
 *  - READY again after this deployment's start, or ROLLED_BACK → fail the deployment with the service's reason.
 *
 * Driven by the CDK Provider framework: `onEvent` answers at once, `isComplete` is polled. Nothing is remembered
 * between polls: each reads the application's state and operations from the service.
 */

/** States that settle by themselves: wait. */
const IN_TRANSITION = new Set(['STARTING', 'UPDATING', 'AUTOSCALING', 'STOPPING', 'FORCE_STOPPING', 'ROLLING_BACK', 'MAINTENANCE', 'DELETING']);

export interface StarterDeps {
  readonly flink: Pick<KinesisAnalyticsV2Client, 'send'>;
  readonly glue: Pick<GlueClient, 'send'>;
  readonly now?: () => Date;
  readonly log?: (message: string, details?: Record<string, unknown>) => void;
}

const schema = z
  .object({
    ApplicationName: z.string().min(1),
    ConfigHash: z.string().optional(),
    DatabaseName: z.string().optional(),
    TableName: z.string().optional(),
    AllowNonRestoredState: z.literal('true').optional(),
  })
  .refine((p) => Boolean(p.DatabaseName) === Boolean(p.TableName), { message: 'give both DatabaseName and TableName, or neither', path: ['TableName'] });

export function createStarter(deps: StarterDeps) {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? (() => undefined);

  async function tableExists(database: string, table: string): Promise<boolean> {
    try {
      await deps.glue.send(new GetTableCommand({ DatabaseName: database, Name: table }));
      return true;
    } catch (error) {
      if (error instanceof EntityNotFoundException) return false;
      throw error;
    }
  }

  /** The newest StartApplication operation begun at or after `since`, if any. */
  async function startSince(name: string, since: Date) {
    const { ApplicationOperationInfoList: ops = [] } = await deps.flink.send(
      new ListApplicationOperationsCommand({ ApplicationName: name, Operation: 'StartApplication', Limit: 10 }),
    );
    return ops
      .filter((op) => op.StartTime && op.StartTime.getTime() >= since.getTime())
      .sort((a, b) => b.StartTime!.getTime() - a.StartTime!.getTime())[0];
  }

  async function failureOf(name: string, operationId: string | undefined): Promise<string> {
    if (!operationId) return 'no reason given';
    const { ApplicationOperationInfoDetails: details } = await deps.flink.send(
      new DescribeApplicationOperationCommand({ ApplicationName: name, OperationId: operationId }),
    );
    return details?.OperationFailureDetails?.ErrorInfo?.ErrorString ?? 'no reason given';
  }

  async function restoreType(name: string): Promise<ApplicationRestoreType> {
    const { SnapshotSummaries = [] } = await deps.flink.send(new ListApplicationSnapshotsCommand({ ApplicationName: name, Limit: 50 }));
    return SnapshotSummaries.some((s) => s.SnapshotStatus === 'READY')
      ? ApplicationRestoreType.RESTORE_FROM_LATEST_SNAPSHOT
      : ApplicationRestoreType.SKIP_RESTORE_FROM_SNAPSHOT;
  }

  async function driveToRunning(p: Omit<StarterProperties, 'ConfigHash'>, requestedAt: Date): Promise<boolean> {
    const name = p.ApplicationName;
    const { ApplicationDetail: app } = await deps.flink.send(new DescribeApplicationCommand({ ApplicationName: name }));
    const status = app?.ApplicationStatus ?? 'UNKNOWN';
    if (status === 'RUNNING') {
      if (!p.DatabaseName || !p.TableName) return true;
      const exists = await tableExists(p.DatabaseName, p.TableName);
      if (!exists) log('running; waiting for the job to create its table', { database: p.DatabaseName, table: p.TableName });
      return exists;
    }
    if (IN_TRANSITION.has(status)) return false;
    if (status === 'ROLLED_BACK') {
      throw new Error(`application ${name} rolled back its last update: see its operations (ListApplicationOperations) and CloudWatch logs`);
    }
    if (status !== 'READY') throw new Error(`application ${name} is in an unexpected state "${status}"`);

    const start = await startSince(name, requestedAt);
    if (start?.OperationStatus === 'IN_PROGRESS') return false;
    if (start) {
      // Started during this deployment and READY again: it failed to start, or stopped since.
      const reason = start.OperationStatus === 'FAILED' ? await failureOf(name, start.OperationId) : `start ${start.OperationStatus}, then stopped`;
      throw new Error(`application ${name} did not stay running: ${reason} (see the application's CloudWatch logs)`);
    }
    const restore = await restoreType(name);
    log('starting application', { application: name, restore });
    await deps.flink.send(
      new StartApplicationCommand({
        ApplicationName: name,
        RunConfiguration: {
          ApplicationRestoreConfiguration: { ApplicationRestoreType: restore },
          // A snapshot whose state the new job cannot map fails the start, loudly, rather than dropping state, unless
          // this deployment asked to skip it (to change or remove an aggregate section: the runbook).
          FlinkRunConfiguration: { AllowNonRestoredState: p.AllowNonRestoredState === 'true' },
        },
      }),
    );
    return false;
  }

  return customResource({
    schema,
    async onCreate(p, event) {
      log(`starter ${event.RequestType}`, { application: p.ApplicationName });
      return { PhysicalResourceId: `${p.ApplicationName}/starter`, Data: { RequestedAt: now().toISOString() } };
    },
    // Delete: nothing to undo; CloudFormation deletes the application (a running one is stopped by the service).

    async isComplete(p, event) {
      if (event.RequestType === 'Delete') return true;
      return driveToRunning(p, new Date(event.Data?.RequestedAt ?? 0));
    },
  });
}
