import { z } from 'zod';
import { cfn, customResource, CdkCustomResourceEvent, IsCompleteEvent } from '../../platform/handlers/custom-resource';

const schema = z.object({ Name: z.string().min(1), Count: cfn.wholeNumber(1), Enabled: cfn.boolean() });

/** A request as CloudFormation sends it through the Provider framework: every value a string. */
function event(RequestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown>, old?: Record<string, unknown>): CdkCustomResourceEvent {
  return {
    RequestType,
    ServiceToken: 'arn:token',
    ResponseURL: 'https://example.com',
    StackId: 'stack',
    RequestId: 'request',
    LogicalResourceId: 'Thing',
    ResourceType: 'Custom::Thing',
    ResourceProperties: { ServiceToken: 'arn:token', ...properties },
    ...(RequestType !== 'Create' && { PhysicalResourceId: 'thing-1' }),
    ...(old && { OldResourceProperties: { ServiceToken: 'arn:token', ...old } }),
  } as CdkCustomResourceEvent;
}

describe('customResource: the one base of our custom-resource handlers', () => {
  const calls: unknown[][] = [];
  const handler = customResource({
    schema,
    onCreate: async (p) => (calls.push(['create', p]), { PhysicalResourceId: `thing-${p.Count}` }),
    onUpdate: async (p, old) => (calls.push(['update', p, old]), { PhysicalResourceId: `thing-${p.Count}` }),
    isComplete: async (p, e) => e.RequestType === 'Delete' || p.Enabled,
  });
  beforeEach(() => (calls.length = 0));

  test('dispatches on the request type, with properties parsed and coerced from the strings CloudFormation sends', async () => {
    await expect(handler.onEvent(event('Create', { Name: 'a', Count: '3', Enabled: 'false' }))).resolves.toEqual({ PhysicalResourceId: 'thing-3' });
    await handler.onEvent(event('Update', { Name: 'a', Count: '4', Enabled: 'true' }, { Name: 'a', Count: '3', Enabled: 'false' }));
    expect(calls).toEqual([
      ['create', { Name: 'a', Count: 3, Enabled: false }],
      ['update', { Name: 'a', Count: 4, Enabled: true }, { Name: 'a', Count: 3, Enabled: false }],
    ]);
  });

  test('Delete without onDelete undoes nothing and keeps the physical id; Update without onUpdate runs onCreate', async () => {
    await expect(handler.onEvent(event('Delete', { Name: 'a', Count: '3', Enabled: 'true' }))).resolves.toEqual({ PhysicalResourceId: 'thing-1' });
    const createOnly = customResource({ schema, onCreate: async (p) => ({ PhysicalResourceId: p.Name }) });
    await expect(createOnly.onEvent(event('Update', { Name: 'b', Count: '1', Enabled: true }, { Name: 'a', Count: '1', Enabled: true }))).resolves.toEqual({ PhysicalResourceId: 'b' });
    await expect(createOnly.isComplete(event('Create', { Name: 'b', Count: '1', Enabled: true }) as IsCompleteEvent)).resolves.toEqual({ IsComplete: true });
  });

  test('isComplete answers in the framework\'s shape', async () => {
    const poll = (enabled: string) => handler.isComplete({ ...event('Create', { Name: 'a', Count: '1', Enabled: enabled }), PhysicalResourceId: 'thing-1' } as IsCompleteEvent);
    await expect(poll('false')).resolves.toEqual({ IsComplete: false });
    await expect(poll('true')).resolves.toEqual({ IsComplete: true });
  });

  test('invalid properties fail naming the resource type, each bad property and what was wrong', async () => {
    await expect(handler.onEvent(event('Create', { Name: '', Count: 'many', Enabled: 'maybe' }))).rejects.toThrow(
      /^invalid properties of Custom::Thing: Name: .*; Count: .*expected number.*; Enabled: /,
    );
    await expect(handler.onEvent(event('Create', { Name: 'a', Count: '0', Enabled: 'true' }))).rejects.toThrow(/Count: .*>=1/);
  });
});
