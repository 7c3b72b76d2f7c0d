import * as s3 from 'aws-cdk-lib/aws-s3';
import { JOB_CONTRACT } from './job-code';

/**
 * Where one source's data lives in the lake bucket: everything under `<source>/`, so a role scoped to that prefix
 * can touch nothing of another source.
 *   <source>/events/      the Delta table of valid events (Athena: <database>.<source>)
 *   <source>/errors/      the Delta table of rejected records with the reason (Athena: <database>.<source>_errors)
 *   <source>/aggregates/<digest>/  the Delta table of the processing rules' window aggregates (<database>.<source>_aggregates),
 *                         one location per aggregate definition (a changed definition is recomputed into a new one)
 *   <source>/checkpoint/  the Structured Streaming checkpoint (Kinesis positions, dedup state)
 *   _freshness/<source>/  the freshness canaries' receipts (platform/freshness): outside every table, at the key the
 *                         reporter reads (receiptKey), so the job may write there and nowhere else outside <source>/
 */
export class LakeLayout {
  constructor(
    readonly bucket: s3.IBucket,
    readonly source: string,
  ) {}

  get prefix(): string {
    return `${this.source}/`;
  }
  get eventsPrefix(): string {
    return `${this.source}/events/`;
  }
  get errorsPrefix(): string {
    return `${this.source}/errors/`;
  }
  aggregatesPrefix(digest: string): string {
    return `${this.source}/aggregates/${digest}/`;
  }
  get checkpointPrefix(): string {
    return `${this.source}/checkpoint/`;
  }
  /** This source's freshness receipts: `<receiptsPrefix><source>/` (the job's contract, a copy of platform/freshness's). */
  get receiptsPrefix(): string {
    return `${JOB_CONTRACT.canary.receiptsPrefix}${this.source}/`;
  }
  /** Rejected records' data files (the Delta log excluded): what the error alarm counts. */
  get errorFilesPrefix(): string {
    return errorFilesPrefix(this.source);
  }
  url(prefix: string): string {
    return `s3://${this.bucket.bucketName}/${prefix}`;
  }
}

/** The error table's data files of a source (its partitions `error_date=...`; the Delta log excluded). */
export const errorFilesPrefix = (source: string): string => `${source}/errors/error_date=`;
