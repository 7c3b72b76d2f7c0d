import { CdcOptionError, checkBoolean, checkInteger, checkOneOf } from './option-error';

/**
 * Typed options → DMS ReplicationTaskSettings JSON for a full load + CDC task writing to S3, with defaults chosen for
 * that target. Section and key names are those of the DMS User Guide ("Task settings example", "Target metadata",
 * "Full-load", "Logging", "Change processing tuning", "Change processing DDL handling", "Error handling", "Data
 * validation" task settings).
 */

/** The task's migration type (`AWS::DMS::ReplicationTask.MigrationType`): existing rows, then every change. */
export const MIGRATION_TYPE = 'full-load-and-cdc';

export const LOG_SEVERITIES = [
  'LOGGER_SEVERITY_ERROR',
  'LOGGER_SEVERITY_WARNING',
  'LOGGER_SEVERITY_INFO',
  'LOGGER_SEVERITY_DEFAULT',
  'LOGGER_SEVERITY_DEBUG',
  'LOGGER_SEVERITY_DETAILED_DEBUG',
] as const;
export type LogSeverity = (typeof LOG_SEVERITIES)[number];

/**
 * The components logged to CloudWatch: the ones a full load + CDC task to S3 runs through (unload and capture on the
 * source, sorter, load and apply on the target, the task and table managers, table-mapping transformations).
 */
export const LOG_COMPONENTS = [
  'SOURCE_UNLOAD',
  'SOURCE_CAPTURE',
  'SORTER',
  'TARGET_LOAD',
  'TARGET_APPLY',
  'TASK_MANAGER',
  'TABLES_MANAGER',
  'METADATA_MANAGER',
  'FILE_FACTORY',
  'TRANSFORMATION',
] as const;

export const TARGET_TABLE_PREP_MODES = ['DROP_AND_CREATE', 'TRUNCATE_BEFORE_LOAD', 'DO_NOTHING'] as const;
export type TargetTablePrepMode = (typeof TARGET_TABLE_PREP_MODES)[number];

/** The replication task's settings a user may change: how target tables are prepared, logging, error handling. */
export interface TaskSettingsOptions {
  /** Severity for every logged component. @default 'LOGGER_SEVERITY_DEFAULT' */
  readonly logSeverity?: LogSeverity;
  /**
   * What a (re)load does to the table's existing S3 folder. `DROP_AND_CREATE` removes it, so after a reload the folder
   * holds exactly one consistent full load plus the changes after it, and the current-state query stays right even if
   * rows were deleted while the task was stopped. `DO_NOTHING` keeps the old history (and such rows).
   * @default 'DROP_AND_CREATE'
   */
  readonly targetTablePrepMode?: TargetTablePrepMode;
  /** Tables loaded in parallel during the full load (DMS: at most 49). @default 8 */
  readonly maxFullLoadSubTasks?: number;
  /**
   * Largest LOB (text, bytea, json...) value kept, in KB, in limited LOB mode (S3 targets don't support full LOB mode);
   * longer values are truncated. @default 32
   */
  readonly lobMaxSizeKb?: number;
  /** Restarts after environmental errors before the task stops; -1 retries forever (the DMS default). @default -1 */
  readonly recoverableErrorCount?: number;
  /**
   * Whether a source TRUNCATE removes the table's S3 files (DMS's behaviour for S3 targets), keeping the current state
   * right; `false` keeps them and the lake then still shows the truncated rows. @default true
   */
  readonly applyTruncates?: boolean;
}

export interface LogComponentJson {
  readonly Id: string;
  readonly Severity: LogSeverity;
}

/** The ReplicationTaskSettings document (the sections this pipeline sets). */
export interface ReplicationTaskSettings {
  readonly TargetMetadata: Record<string, string | number | boolean>;
  readonly FullLoadSettings: Record<string, string | number | boolean>;
  readonly Logging: { readonly EnableLogging: boolean; readonly LogComponents: readonly LogComponentJson[] };
  readonly ControlTablesSettings: Record<string, string | number | boolean>;
  readonly StreamBufferSettings: Record<string, number>;
  readonly ChangeProcessingTuning: Record<string, number | boolean>;
  readonly ChangeProcessingDdlHandlingPolicy: Record<string, boolean>;
  readonly ErrorBehavior: Record<string, string | number | boolean>;
  readonly ValidationSettings: { readonly EnableValidation: boolean };
}

export function buildTaskSettings(options: TaskSettingsOptions = {}): ReplicationTaskSettings {
  const severity =
    options.logSeverity === undefined
      ? 'LOGGER_SEVERITY_DEFAULT'
      : checkOneOf('taskSettings.logSeverity', options.logSeverity, LOG_SEVERITIES);
  const prepMode =
    options.targetTablePrepMode === undefined
      ? 'DROP_AND_CREATE'
      : checkOneOf('taskSettings.targetTablePrepMode', options.targetTablePrepMode, TARGET_TABLE_PREP_MODES);
  const subTasks =
    options.maxFullLoadSubTasks === undefined
      ? 8
      : checkInteger('taskSettings.maxFullLoadSubTasks', options.maxFullLoadSubTasks, 1, 49);
  const lobMaxSize =
    options.lobMaxSizeKb === undefined ? 32 : checkInteger('taskSettings.lobMaxSizeKb', options.lobMaxSizeKb, 1, 102_400);
  const recoverable =
    options.recoverableErrorCount === undefined
      ? -1
      : checkInteger('taskSettings.recoverableErrorCount', options.recoverableErrorCount, -1, 1_000_000);
  const applyTruncates =
    options.applyTruncates === undefined ? true : checkBoolean('taskSettings.applyTruncates', options.applyTruncates);
  if (recoverable === 0) {
    throw new CdcOptionError(
      'taskSettings.recoverableErrorCount',
      0,
      '-1 (retry forever) or at least 1: with 0 a passing network error stops replication until someone restarts it',
    );
  }

  return {
    TargetMetadata: {
      TargetSchema: '',
      SupportLobs: true,
      // S3 targets don't support full LOB mode (DMS: "Limitations to using Amazon S3 as a target").
      FullLobMode: false,
      LobChunkSize: 64,
      LimitedSizeLobMode: true,
      LobMaxSize: lobMaxSize,
      InlineLobMaxSize: 0,
      LoadMaxFileSize: 0,
      ParallelLoadThreads: 0,
      ParallelLoadBufferSize: 0,
      // Batch apply on an S3 target "might result in loss of data" (DMS S3 target limitations): off.
      BatchApplyEnabled: false,
      TaskRecoveryTableEnabled: false,
    },
    FullLoadSettings: {
      TargetTablePrepMode: prepMode,
      CreatePkAfterFullLoad: false,
      StopTaskCachedChangesApplied: false,
      StopTaskCachedChangesNotApplied: false,
      MaxFullLoadSubTasks: subTasks,
      TransactionConsistencyTimeout: 600,
      CommitRate: 10000,
    },
    Logging: {
      EnableLogging: true,
      LogComponents: LOG_COMPONENTS.map((Id) => ({ Id, Severity: severity })),
    },
    // Control tables would be written into the lake as extra tables: off.
    ControlTablesSettings: {
      ControlSchema: '',
      HistoryTimeslotInMinutes: 5,
      HistoryTableEnabled: false,
      SuspendedTablesTableEnabled: false,
      StatusTableEnabled: false,
    },
    StreamBufferSettings: { StreamBufferCount: 3, StreamBufferSizeInMB: 8, CtrlStreamBufferSizeInMB: 5 },
    // DMS's defaults. CommitTimeout 1 s: a transaction is handed to the S3 writer within a second; the file is then
    // written when CdcMaxBatchInterval elapses (see target-endpoint.ts).
    ChangeProcessingTuning: {
      BatchApplyPreserveTransaction: true,
      BatchApplyTimeoutMin: 1,
      BatchApplyTimeoutMax: 30,
      BatchApplyMemoryLimit: 500,
      BatchSplitSize: 0,
      MinTransactionSize: 1000,
      CommitTimeout: 1,
      MemoryLimitTotal: 1024,
      MemoryKeepTime: 60,
      StatementCacheSize: 50,
    },
    ChangeProcessingDdlHandlingPolicy: {
      HandleSourceTableDropped: true,
      HandleSourceTableTruncated: applyTruncates,
      HandleSourceTableAltered: true,
    },
    // DMS's documented defaults, written out so the deployed behaviour is visible: data errors are logged and suspend
    // the table, table errors stop the task (which the pipeline alarms on); nothing is skipped silently.
    ErrorBehavior: {
      DataErrorPolicy: 'LOG_ERROR',
      DataTruncationErrorPolicy: 'LOG_ERROR',
      DataErrorEscalationPolicy: 'SUSPEND_TABLE',
      DataErrorEscalationCount: 0,
      TableErrorPolicy: 'SUSPEND_TABLE',
      TableErrorEscalationPolicy: 'STOP_TASK',
      TableErrorEscalationCount: 0,
      RecoverableErrorCount: recoverable,
      RecoverableErrorInterval: 5,
      RecoverableErrorThrottling: true,
      RecoverableErrorThrottlingMax: 1800,
      ApplyErrorDeletePolicy: 'IGNORE_RECORD',
      ApplyErrorInsertPolicy: 'LOG_ERROR',
      ApplyErrorUpdatePolicy: 'LOG_ERROR',
      ApplyErrorEscalationPolicy: 'LOG_ERROR',
      ApplyErrorEscalationCount: 0,
      FullLoadIgnoreConflicts: true,
      // The README's walkthrough creates the tables after the deploy, so the task starts before any selected table exists.
      // With true (DMS's default) DMS fails such a task at start ("No tables were found at task initialization"; DMS
      // User Guide, "Error handling task settings"), the starter fails and the stack rolls back. With false the task
      // runs with no table and picks each selected table up as CDC sees it created.
      FailOnNoTablesCaptured: false,
    },
    // Validation compares source and target rows; for an S3 target it needs extra setup and reads the files back.
    ValidationSettings: { EnableValidation: false },
  };
}

/** The settings as the JSON string `AWS::DMS::ReplicationTask.ReplicationTaskSettings` takes. */
export function renderTaskSettings(options: TaskSettingsOptions = {}): string {
  return JSON.stringify(buildTaskSettings(options));
}
