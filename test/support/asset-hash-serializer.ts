/**
 * Snapshot serializer: asset hashes change with every dependency bump or handler edit, so snapshots record
 * "[ASSET HASH]" instead, and a snapshot diff shows only real template changes.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;

module.exports = {
  test: (value: unknown) => typeof value === 'string' && /[0-9a-f]{64}/.test(value),
  serialize: (value: string) => JSON.stringify(value.replace(ASSET_HASH, '[ASSET HASH]')),
};
