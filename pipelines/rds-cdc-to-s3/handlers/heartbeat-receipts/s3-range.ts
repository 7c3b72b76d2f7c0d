import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { AsyncBuffer } from 'hyparquet';

/**
 * An object read by byte ranges (hyparquet reads the footer, then only the column chunks asked for): memory stays bounded
 * by the columns read, whatever the object's size. `size` comes from the S3 event.
 */
export function s3AsyncBuffer(s3: S3Client, bucket: string, key: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const last = (end ?? size) - 1;
      if (last < start) return new ArrayBuffer(0);
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${last}` }));
      if (!out.Body) throw new Error(`s3://${bucket}/${key}: empty response for bytes ${start}-${last}`);
      const bytes = await out.Body.transformToByteArray();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}
