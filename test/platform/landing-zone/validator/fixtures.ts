import type { SNSEvent } from 'aws-lambda';
import { fromRoot } from '../../../../platform/paths';

export const SCHEMA_PATH = fromRoot('schemas/clickstream.schema.json');

let n = 0;
/** A valid clickstream event; `overrides` replace fields (undefined removes one). */
export function clickEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  const event: Record<string, unknown> = {
    event_id: `0b7e4a52-8a1f-4c57-9a39-${String(n).padStart(12, '0')}`,
    event_type: 'page_view',
    occurred_at: '2026-11-20T09:15:02.120Z',
    user_id: `u-${n % 7}`,
    session_id: `s-${n % 13}`,
    page: { url: 'https://shop.example.com/', title: 'Home' },
    ...overrides,
  };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete event[k];
  return event;
}

export interface S3ObjectSpec {
  bucket?: string;
  /** As S3 puts it in the event: URL-encoded, '+' for spaces. */
  encodedKey: string;
  etag?: string;
  versionId?: string;
  eventTime?: string;
}

export function s3Notification(objects: S3ObjectSpec[]): string {
  return JSON.stringify({
    Records: objects.map((o) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventTime: o.eventTime ?? '2026-11-20T09:30:00.000Z',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:publisher' },
      requestParameters: { sourceIPAddress: '10.0.0.1' },
      responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': 'i' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'landing',
        bucket: { name: o.bucket ?? 'landing', ownerIdentity: { principalId: 'p' }, arn: `arn:aws:s3:::${o.bucket ?? 'landing'}` },
        object: { key: o.encodedKey, size: 1, eTag: o.etag ?? 'etag-1', ...(o.versionId ? { versionId: o.versionId } : {}), sequencer: '01' },
      },
    })),
  });
}

export const S3_TEST_EVENT = JSON.stringify({
  Service: 'Amazon S3',
  Event: 's3:TestEvent',
  Time: '2026-11-20T09:00:00.000Z',
  Bucket: 'landing',
  RequestId: 'r',
  HostId: 'h',
});

export function snsEvent(...messages: string[]): SNSEvent {
  return {
    Records: messages.map((Message, i) => ({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: 'arn:aws:sns:eu-west-1:123456789012:clickstream-landing:sub',
      Sns: {
        Type: 'Notification',
        MessageId: `m-${i}`,
        TopicArn: 'arn:aws:sns:eu-west-1:123456789012:clickstream-landing',
        Subject: 'Amazon S3 Notification',
        Message,
        Timestamp: '2026-11-20T09:30:01.000Z',
        SignatureVersion: '1',
        Signature: 's',
        SigningCertUrl: 'https://example.com/cert',
        UnsubscribeUrl: 'https://example.com/unsub',
        MessageAttributes: {},
      },
    })),
  };
}
