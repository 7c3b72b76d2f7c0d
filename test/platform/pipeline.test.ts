import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { checkSourceName, DEFAULT_DOCS_URL, pipelineBase, requireEither } from '../../platform/pipeline';
import { PipelineMonitoring } from '../../platform/pipeline-monitoring';
import { testStack } from '../support/aws';

describe('pipelineBase: what every pipeline construct resolves the same way', () => {
  test('defaults: data retained, logs kept a month, named <stack>-<id>, a monitoring of its own linking the runbook', () => {
    const scope = new Construct(testStack(), 'Pipe');
    const base = pipelineBase(scope, {}, 'queue-to-s3');
    expect(base).toMatchObject({ allowDestroy: false, removalPolicy: RemovalPolicy.RETAIN, logRetention: logs.RetentionDays.ONE_MONTH, name: 'TestStack-Pipe' });
    expect(base.monitoring.node.path).toBe('TestStack/Pipe/Monitoring');
    expect(base.monitoring.pipelineName).toBe('TestStack-Pipe');
    expect(base.runbook('no-data')).toBe(`${DEFAULT_DOCS_URL}/runbooks/queue-to-s3.md#no-data`);
  });

  test('allowDestroy destroys; a given monitoring is used, with its docs location', () => {
    const stack = testStack();
    const monitoring = new PipelineMonitoring(stack, 'Monitoring', { docsUrl: 'https://docs.example.com/docs', alarmEmails: ['oncall@example.com'] });
    const base = pipelineBase(new Construct(stack, 'Pipe'), { allowDestroy: true, logRetention: logs.RetentionDays.ONE_WEEK, monitoring }, 'landing-zone');
    expect(base).toMatchObject({ removalPolicy: RemovalPolicy.DESTROY, logRetention: logs.RetentionDays.ONE_WEEK });
    expect(base.monitoring).toBe(monitoring);
    expect(base.runbook('rejected-records')).toBe('https://docs.example.com/docs/runbooks/landing-zone.md#rejected-records');
  });
});

describe('props rules', () => {
  const scope = new Construct(testStack(), 'Pipe');

  test('give either X or Y, not both', () => {
    expect(() => requireEither(scope, { existingStream: {}, streamProps: {} }, ['existingStream', 'streamProps'])).toThrow(
      'TestStack/Pipe: give either "existingStream" or "streamProps", not both',
    );
    expect(() => requireEither(scope, { streamProps: {} } as { existingStream?: object; streamProps?: object }, ['existingStream', 'streamProps'])).not.toThrow();
  });

  test.each(['orders', 'click-stream', 'a1', 'a'.repeat(63)])('source name %s is accepted', (name) => {
    expect(() => checkSourceName(scope, name)).not.toThrow();
  });

  test.each(['Orders', '1orders', 'or_ders', '', 'a'.repeat(64)])('source name "%s" is refused, naming the rule', (name) => {
    expect(() => checkSourceName(scope, name)).toThrow(`TestStack/Pipe: source.name must be lower-case letters, digits and "-", starting with a letter, at most 63 characters (got "${name}")`);
  });
});
