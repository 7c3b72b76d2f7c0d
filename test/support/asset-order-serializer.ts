/**
 * Snapshot serializer: a list of assets (a policy's resources naming two asset objects, say) is ordered by CDK by the
 * assets' real hashes, which change with every edit of their files; the snapshot records a list whose every element
 * names an asset sorted by its elements with the hashes masked (asset-hash-serializer.ts), so its order does not flip
 * with the hashes. Lists with other elements (an Fn::Join's parts, a policy's statements) keep their order.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;
const HAS_HASH = /[0-9a-f]{64}/;
const masked = (value: unknown) => JSON.stringify(value).replace(ASSET_HASH, '[ASSET HASH]');
const done = new WeakSet<object>();

module.exports = {
  test: (value: unknown) => Array.isArray(value) && !done.has(value) && value.length > 1 && value.every((v) => HAS_HASH.test(JSON.stringify(v) ?? '')),
  serialize: (value: unknown[], config: unknown, indentation: string, depth: number, refs: unknown[], printer: (...args: unknown[]) => string) => {
    const sorted = [...value].sort((a, b) => masked(a).localeCompare(masked(b)));
    done.add(sorted);
    return printer(sorted, config, indentation, depth, refs);
  },
};
