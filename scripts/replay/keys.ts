/**
 * The partition key (and event id) of a replayed record: the ones the landing zone's validator gave it, computed the
 * same way (its `keyField` on the source's `partitionKeyField` / `idField`), so a replayed event lands on the same
 * shard or partition, in the same order relative to its key's other events, as the first time.
 */
import { createHash } from 'node:crypto';
import { StreamFoundryConfig, sourcesFeeding } from '../../platform/config';
import { dataSource } from '../../platform/data-source';
import { loadSchema, Validator } from '../../platform/handlers/schema-validator';
import { keyField } from '../../platform/landing-zone/validator/classify';
import { UsageError } from './window';

/** The raw-zone name of the LandingZone stack's one stream, shared by every source that lists `landingZone`. */
export const LANDING_ZONE_RAW_NAME = 'events';

export interface Keyer {
  source: string;
  idField: string;
  partitionKeyField: string;
  /** Only when several sources share the stream: the event belongs to the first source whose schema accepts it. */
  validate?: Validator;
}

/**
 * How to key the records of raw-zone `name`: a configured source is keyed by its own fields; `events` (the
 * LandingZone stack's stream) carries every source that lists `landingZone`, each keyed by its own fields.
 */
export function keyersFor(config: StreamFoundryConfig, name: string): Keyer[] {
  if (config.sources[name]) {
    const { idField, partitionKeyField } = dataSource(config, name);
    return [{ source: name, idField, partitionKeyField }];
  }
  if (name === LANDING_ZONE_RAW_NAME) {
    const sources = sourcesFeeding(config, 'landingZone');
    if (sources.length === 0) throw new UsageError(`--source ${name}: no source in cdk.json lists the landingZone pipeline`);
    return sources.map((source) => {
      const { idField, partitionKeyField, schemaFile } = dataSource(config, source);
      return { source, idField, partitionKeyField, ...(sources.length > 1 ? { validate: loadSchema(schemaFile) } : {}) };
    });
  }
  throw new UsageError(
    `--source "${name}" is not a configured source (cdk.json sources: ${Object.keys(config.sources).join(', ')}; "${LANDING_ZONE_RAW_NAME}" for the LandingZone stack's stream)`,
  );
}

export interface RecordKeys {
  id: string;
  partitionKey: string;
  /** False when the record gave no usable key and the stable hash stands in. */
  keyed: boolean;
}

/** SHA-256 of the record's bytes: the same record always gets the same key, so it always lands on the same shard. */
export const stableKey = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The validator's keys for one record. A record that is not a JSON object with a usable partition key (one the
 * broker accepts) is keyed by its hash instead (counted as unkeyed); its id falls back to the hash too.
 */
export function recordKeys(bytes: Buffer, keyers: Keyer[], checkPartitionKey: (key: string) => string | undefined): RecordKeys {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    value = undefined;
  }
  const keyer = keyers.length === 1 ? keyers[0] : pick(value, keyers);
  const partitionKey = keyField(value, keyer.partitionKeyField);
  const usable = typeof partitionKey === 'string' && checkPartitionKey(partitionKey) === undefined;
  const id = keyField(value, keyer.idField);
  const hash = usable && typeof id === 'string' ? '' : stableKey(bytes);
  return {
    id: typeof id === 'string' ? id : hash,
    partitionKey: usable ? (partitionKey as string) : hash,
    keyed: usable,
  };
}

/** Of several sources on one stream, the one whose schema accepts the event (its validator published it), else the first that has a key. */
function pick(value: unknown, keyers: Keyer[]): Keyer {
  if (typeof value !== 'object' || value === null) return keyers[0];
  return (
    keyers.find((k) => k.validate !== undefined && k.validate(value) === undefined) ??
    keyers.find((k) => typeof keyField(value, k.partitionKeyField) === 'string') ??
    keyers[0]
  );
}
