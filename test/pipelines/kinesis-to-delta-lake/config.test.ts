import { parseConfig, readCdkJsonContext, sourcesFeeding } from '../../../platform/config';
import { configProblems } from '../../support/config';

const base = readCdkJsonContext();

describe('kinesisToDeltaLake configuration', () => {
  test('the shipped cdk.json feeds clickstream into pipeline 2 with the documented defaults', () => {
    const config = parseConfig(base);
    expect(sourcesFeeding(config, 'kinesisToDeltaLake')).toEqual(['clickstream']);
    expect(config.kinesisToDeltaLake).toEqual({
      stream: { shards: 0, retentionHours: 24 },
      job: { triggerIntervalSeconds: 5, workerType: 'G.1X', workers: 5, autoScaling: true, watermarkDelayMinutes: 10, maxRestartsPerHour: 5 },
      maintenance: { intervalMinutes: 60, optimizeDays: 2, vacuumRetentionHours: 168, logRetentionDays: 7 },
      alarms: { iteratorAgeSeconds: 300, noDataMinutes: 60 },
      eventTimeFields: {},
    });
    expect(parseConfig({}).kinesisToDeltaLake).toEqual(config.kinesisToDeltaLake);
  });

  test('-c overrides reach one setting; strings are coerced', () => {
    const config = parseConfig({ ...base, 'kinesisToDeltaLake.job.triggerIntervalSeconds': '2', 'kinesisToDeltaLake.maintenance.intervalMinutes': '120' });
    expect(config.kinesisToDeltaLake.job.triggerIntervalSeconds).toBe(2);
    expect(config.kinesisToDeltaLake.maintenance.intervalMinutes).toBe(120);
    expect(config.kinesisToDeltaLake.job.workers).toBe(5);
  });

  test('processing rules: a source with rules may feed only the pipelines whose jobs apply them; a bad rules file names the setting', () => {
    const sources = (clickstream: Record<string, unknown>) => ({ ...base, sources: { clickstream: { ...(base.sources as Record<string, object>).clickstream, ...clickstream } } });
    expect(configProblems(sources({ rules: 'clickstream.rules.json' }))).toContainEqual(
      expect.stringMatching(/^sources\.clickstream\.rules: received "clickstream\.rules\.json"; expected no processing rules on a source that feeds gcp: only the kinesisToDeltaLake and mskToIceberg jobs apply them/),
    );
    const ok = sources({ rules: 'clickstream.rules.json', pipelines: ['landingZone', 'kinesisToDeltaLake'] });
    expect(parseConfig({ ...ok, gcp: undefined }).sources.clickstream.rules).toBe('clickstream.rules.json');
    expect(configProblems(sources({ rules: 'missing.rules.json', pipelines: ['kinesisToDeltaLake'] }))).toContainEqual(
      'sources.clickstream.rules: received "missing.rules.json"; expected a file in schemas/ (none found)',
    );
    expect(configProblems(sources({ rules: 'clickstream.schema.json' }))[0]).toMatch(/expected a file name in schemas\/ ending in \.rules\.json/);
  });

  test('invalid settings name the setting, the value and what is expected', () => {
    expect(configProblems({ ...base, 'kinesisToDeltaLake.job.workerType': 'G.3X' })).toEqual([
      'kinesisToDeltaLake.job.workerType: received "G.3X"; expected one of: G.025X, G.1X, G.2X, G.4X, G.8X',
    ]);
    expect(configProblems({ ...base, 'kinesisToDeltaLake.maintenance.vacuumRetentionHours': '24' })).toEqual([
      'kinesisToDeltaLake.maintenance.vacuumRetentionHours: received 24; expected a whole number from 168 to 87600',
    ]);
    expect(configProblems({ ...base, 'kinesisToDeltaLake.maintenance.intervalMinutes': '0' })).toEqual([
      'kinesisToDeltaLake.maintenance.intervalMinutes: received 0; expected a whole number from 1 to 10080',
    ]);
    // The former scheduled upkeep job's settings are gone: the upkeep runs inside the streaming job (one writer).
    expect(configProblems({ ...base, 'kinesisToDeltaLake.maintenance.schedule': 'rate(1 hour)' })[0]).toMatch(/unknown setting\(s\) schedule/);
    expect(configProblems({ ...base, 'kinesisToDeltaLake.strem': {} })[0]).toMatch(/unknown setting\(s\) strem/);
  });
});
