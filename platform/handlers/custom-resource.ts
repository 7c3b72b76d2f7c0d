/**
 * The one base of our custom-resource handlers (served by platform/functions' HandlerProvider, CDK's Provider
 * framework). A handler declares the zod schema of its properties and what it does on create, update and delete (and,
 * for an asynchronous resource, how to tell it is complete); this module dispatches on the request type and parses the
 * properties, failing with the property and what was wrong with it.
 *
 * CloudFormation passes every property value as a string: numbers and booleans arrive as "6" and "true". Declare
 * them with `cfn.number()` and `cfn.boolean()`, which accept both forms.
 */
import type {
  CdkCustomResourceEvent,
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponse,
  CdkCustomResourceResponse,
} from 'aws-lambda';
import { z } from 'zod';

export type { CdkCustomResourceEvent, CdkCustomResourceIsCompleteEvent, CdkCustomResourceIsCompleteResponse, CdkCustomResourceResponse };

/** Property types for what CloudFormation turns into strings. */
export const cfn = {
  /** A number, given as a number or as CloudFormation's string of one. */
  number: () => z.coerce.number(),
  /** A whole number of at least `min`. */
  wholeNumber: (min: number) => z.coerce.number().int().min(min),
  /** A boolean, given as one or as "true"/"false". */
  boolean: () => z.union([z.boolean(), z.stringbool()]),
};

/** The Lambda context, for handlers that watch their remaining time. */
export interface HandlerContext {
  getRemainingTimeInMillis(): number;
}

/** The isComplete event: the request plus what onEvent answered (`PhysicalResourceId`, `Data`). */
export type IsCompleteEvent = CdkCustomResourceIsCompleteEvent;

export interface CustomResourceHandler<S extends z.ZodType> {
  /** The resource's properties (without `ServiceToken`). */
  readonly schema: S;
  onCreate(properties: z.infer<S>, event: CdkCustomResourceEvent, context?: HandlerContext): Promise<CdkCustomResourceResponse>;
  /** Default: as `onCreate`. `old` are the properties before the update. */
  onUpdate?(properties: z.infer<S>, old: z.infer<S>, event: CdkCustomResourceEvent & { PhysicalResourceId: string }, context?: HandlerContext): Promise<CdkCustomResourceResponse>;
  /** Default: nothing to undo. */
  onDelete?(properties: z.infer<S>, event: CdkCustomResourceEvent & { PhysicalResourceId: string }, context?: HandlerContext): Promise<CdkCustomResourceResponse | void>;
  /** Polled by the framework after onEvent (asynchronous resources only): true once the request is done. */
  isComplete?(properties: z.infer<S>, event: IsCompleteEvent): Promise<boolean | CdkCustomResourceIsCompleteResponse>;
}

/**
 * Parses `raw` (a request's ResourceProperties) with `schema`, or fails naming each bad property:
 * `invalid properties of Custom::KafkaTopics: Topics.0.Partitions: Too small: expected number to be >=1`.
 */
export function parseProperties<S extends z.ZodType>(schema: S, raw: unknown, resourceType = 'the custom resource'): z.infer<S> {
  const { ServiceToken: _token, ...properties } = (raw ?? {}) as Record<string, unknown>;
  const result = schema.safeParse(properties);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(properties)'}: ${i.message}`);
  throw new Error(`invalid properties of ${resourceType}: ${issues.join('; ')}`);
}

/** The Lambda entry points (`onEvent`, `isComplete`) of `handler`. */
export function customResource<S extends z.ZodType>(handler: CustomResourceHandler<S>) {
  const parse = (event: CdkCustomResourceEvent, old = false) =>
    parseProperties(handler.schema, old ? (event as { OldResourceProperties?: unknown }).OldResourceProperties : event.ResourceProperties, event.ResourceType);

  return {
    async onEvent(event: CdkCustomResourceEvent, context?: HandlerContext): Promise<CdkCustomResourceResponse> {
      const properties = parse(event);
      switch (event.RequestType) {
        case 'Create':
          return handler.onCreate(properties, event, context);
        case 'Update':
          return handler.onUpdate
            ? handler.onUpdate(properties, parse(event, true), event, context)
            : handler.onCreate(properties, event, context);
        case 'Delete':
          return (await handler.onDelete?.(properties, event, context)) ?? { PhysicalResourceId: event.PhysicalResourceId };
      }
    },

    async isComplete(event: IsCompleteEvent): Promise<CdkCustomResourceIsCompleteResponse> {
      if (!handler.isComplete) return { IsComplete: true };
      const done = await handler.isComplete(parse(event), event);
      return typeof done === 'boolean' ? (done ? { IsComplete: true } : { IsComplete: false }) : done;
    },
  };
}
