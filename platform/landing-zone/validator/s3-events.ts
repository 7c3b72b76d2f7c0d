import type { S3Event, SNSEvent } from 'aws-lambda';

/** One uploaded object to validate, as named by an S3 event notification. */
export interface ObjectRef {
  bucket: string;
  /** Decoded object key. */
  key: string;
  versionId?: string;
  etag?: string;
  /** When S3 raised the event (ISO 8601); its UTC date partitions the error output. */
  eventTime: string;
}

export interface ExtractedObjects {
  objects: ObjectRef[];
  /** Notifications deliberately not processed (test events, other event types), for the log. */
  ignored: string[];
}

/**
 * Unwraps S3 notifications from an SNS event: each SNS record carries one S3 notification (JSON) and each
 * notification may carry several object records. S3's `s3:TestEvent`, sent when a notification is configured, is
 * ignored. Anything unexpected throws, so the invocation fails visibly and ends in the dead-letter queue.
 */
export function objectsFromSnsEvent(event: SNSEvent): ExtractedObjects {
  const objects: ObjectRef[] = [];
  const ignored: string[] = [];
  for (const record of event.Records ?? []) {
    let notification: Partial<S3Event> & { Event?: string };
    try {
      notification = JSON.parse(record.Sns.Message);
    } catch {
      throw new Error(`SNS message ${record.Sns.MessageId} is not an S3 event notification (not JSON)`);
    }
    if (notification.Event === 's3:TestEvent') {
      ignored.push(`s3:TestEvent in SNS message ${record.Sns.MessageId}`);
      continue;
    }
    if (!Array.isArray(notification.Records)) {
      throw new Error(`SNS message ${record.Sns.MessageId} is not an S3 event notification (no Records)`);
    }
    for (const s3Record of notification.Records) {
      if (!s3Record.eventName?.startsWith('ObjectCreated:')) {
        ignored.push(`${s3Record.eventName} for s3://${s3Record.s3?.bucket?.name}/${s3Record.s3?.object?.key}`);
        continue;
      }
      const { bucket, object } = s3Record.s3;
      if (Number.isNaN(Date.parse(s3Record.eventTime))) {
        throw new Error(`S3 event for s3://${bucket.name}/${object.key} has an invalid eventTime "${s3Record.eventTime}"`);
      }
      objects.push({
        bucket: bucket.name,
        key: decodeS3Key(object.key),
        versionId: object.versionId || undefined,
        etag: object.eTag || undefined,
        eventTime: new Date(s3Record.eventTime).toISOString(),
      });
    }
  }
  return { objects, ignored };
}

/** S3 event keys are URL-encoded with '+' for spaces (a literal '+' arrives as %2B). */
export const decodeS3Key = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));
