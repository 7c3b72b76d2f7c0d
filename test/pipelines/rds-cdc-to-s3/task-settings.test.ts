import {
  buildTaskSettings,
  LOG_COMPONENTS,
  MIGRATION_TYPE,
  renderTaskSettings,
  TaskSettingsOptions,
} from '../../../pipelines/rds-cdc-to-s3/construct/task-settings';
import { errorOf } from './error-of';

describe('buildTaskSettings', () => {
  it('defaults for a full load + CDC task to S3', () => {
    const settings = buildTaskSettings();
    expect(MIGRATION_TYPE).toBe('full-load-and-cdc');
    expect(settings.TargetMetadata).toMatchObject({
      SupportLobs: true,
      FullLobMode: false,
      LimitedSizeLobMode: true,
      LobMaxSize: 32,
      BatchApplyEnabled: false,
    });
    expect(settings.FullLoadSettings).toEqual({
      TargetTablePrepMode: 'DROP_AND_CREATE',
      CreatePkAfterFullLoad: false,
      StopTaskCachedChangesApplied: false,
      StopTaskCachedChangesNotApplied: false,
      MaxFullLoadSubTasks: 8,
      TransactionConsistencyTimeout: 600,
      CommitRate: 10000,
    });
    expect(settings.Logging).toEqual({
      EnableLogging: true,
      LogComponents: [
        { Id: 'SOURCE_UNLOAD', Severity: 'LOGGER_SEVERITY_DEFAULT' },
        { Id: 'SOURCE_CAPTURE', Severity: 'LOGGER_SEVERITY_DEFAULT' },
        { Id: 'SORTER', Severity: 'LOGGER_SEVERITY_DEFAULT' },
        { Id: 'TARGET_LOAD', Severity: 'LOGGER_SEVERITY_DEFAULT' },
        { Id: 'TARGET_APPLY', Severity: 'LOGGER_SEVERITY_DEFAULT' },
        { Id: 'TASK_MANAGER', Severity: 'LOGGER_SEVERITY_DEFAULT' },
        { Id: 'TABLES_MANAGER', Severity: 'LOGGER_SEVERITY_DEFAULT' },
        { Id: 'METADATA_MANAGER', Severity: 'LOGGER_SEVERITY_DEFAULT' },
        { Id: 'FILE_FACTORY', Severity: 'LOGGER_SEVERITY_DEFAULT' },
        { Id: 'TRANSFORMATION', Severity: 'LOGGER_SEVERITY_DEFAULT' },
      ],
    });
    expect(settings.ChangeProcessingTuning).toMatchObject({ CommitTimeout: 1, BatchApplyPreserveTransaction: true });
    expect(settings.ChangeProcessingDdlHandlingPolicy).toEqual({
      HandleSourceTableDropped: true,
      HandleSourceTableTruncated: true,
      HandleSourceTableAltered: true,
    });
    expect(settings.ErrorBehavior).toMatchObject({
      DataErrorPolicy: 'LOG_ERROR',
      TableErrorPolicy: 'SUSPEND_TABLE',
      TableErrorEscalationPolicy: 'STOP_TASK',
      RecoverableErrorCount: -1,
      ApplyErrorUpdatePolicy: 'LOG_ERROR',
      // The walkthrough creates the tables after the deploy: the task must start with none.
      FailOnNoTablesCaptured: false,
    });
    expect(settings.ValidationSettings).toEqual({ EnableValidation: false });
    expect(settings.ControlTablesSettings).toMatchObject({
      HistoryTableEnabled: false,
      StatusTableEnabled: false,
      SuspendedTablesTableEnabled: false,
    });
  });

  it('options change their settings and nothing else', () => {
    const options: TaskSettingsOptions = {
      logSeverity: 'LOGGER_SEVERITY_DEBUG',
      targetTablePrepMode: 'DO_NOTHING',
      maxFullLoadSubTasks: 49,
      lobMaxSizeKb: 1024,
      recoverableErrorCount: 10,
      applyTruncates: false,
    };
    const base = buildTaskSettings();
    const custom = buildTaskSettings(options);
    expect(custom.Logging.LogComponents.every((c) => c.Severity === 'LOGGER_SEVERITY_DEBUG')).toBe(true);
    expect(custom.Logging.LogComponents.map((c) => c.Id)).toEqual([...LOG_COMPONENTS]);
    expect(custom).toEqual({
      ...base,
      Logging: custom.Logging,
      TargetMetadata: { ...base.TargetMetadata, LobMaxSize: 1024 },
      FullLoadSettings: { ...base.FullLoadSettings, TargetTablePrepMode: 'DO_NOTHING', MaxFullLoadSubTasks: 49 },
      ErrorBehavior: { ...base.ErrorBehavior, RecoverableErrorCount: 10 },
      ChangeProcessingDdlHandlingPolicy: { ...base.ChangeProcessingDdlHandlingPolicy, HandleSourceTableTruncated: false },
    });
  });

  it('renders the JSON string a replication task takes', () => {
    expect(JSON.parse(renderTaskSettings({ maxFullLoadSubTasks: 4 }))).toEqual(
      buildTaskSettings({ maxFullLoadSubTasks: 4 }),
    );
  });

  it.each<[TaskSettingsOptions, string]>([
    [
      { logSeverity: 'VERBOSE' as never },
      'taskSettings.logSeverity: received "VERBOSE"; expected one of: LOGGER_SEVERITY_ERROR, LOGGER_SEVERITY_WARNING, LOGGER_SEVERITY_INFO, LOGGER_SEVERITY_DEFAULT, LOGGER_SEVERITY_DEBUG, LOGGER_SEVERITY_DETAILED_DEBUG',
    ],
    [
      { targetTablePrepMode: 'TRUNCATE' as never },
      'taskSettings.targetTablePrepMode: received "TRUNCATE"; expected one of: DROP_AND_CREATE, TRUNCATE_BEFORE_LOAD, DO_NOTHING',
    ],
    [{ maxFullLoadSubTasks: 50 }, 'taskSettings.maxFullLoadSubTasks: received 50; expected a whole number from 1 to 49'],
    [{ lobMaxSizeKb: 0.5 }, 'taskSettings.lobMaxSizeKb: received 0.5; expected a whole number from 1 to 102400'],
    [
      { recoverableErrorCount: 0 },
      'taskSettings.recoverableErrorCount: received 0; expected -1 (retry forever) or at least 1: with 0 a passing network error stops replication until someone restarts it',
    ],
    [{ applyTruncates: 'yes' as never }, 'taskSettings.applyTruncates: received "yes"; expected true or false'],
  ])('rejects %j', (options, message) => {
    expect(errorOf(() => buildTaskSettings(options))).toBe(message);
  });
});
