/**
 * Snapshot serializer: a list of assets (a policy's resources naming two asset objects, say) is ordered by CDK by the
 * assets' real hashes, which change with every edit of their files; the snapshot records a list whose every element
 * names an asset sorted by its elements with the hashes masked (asset-hash-serializer.ts), so its order does not flip
 * with the hashes. Lists with other elements (an Fn::Join's parts, a policy's statements) keep their order.
 */
const ASSET_HASHES = /[0-9a-f]{64}/g;
const NAMES_AN_ASSET = /[0-9a-f]{64}/;
const maskedJson = (value: unknown) => JSON.stringify(value).replace(ASSET_HASHES, '[ASSET HASH]');
const sortedLists = new WeakSet<object>();

module.exports = {
  test: (value: unknown) => Array.isArray(value) && !sortedLists.has(value) && value.length > 1 && value.every((v) => NAMES_AN_ASSET.test(JSON.stringify(v) ?? '')),
  serialize: (value: unknown[], config: unknown, indentation: string, depth: number, refs: unknown[], printer: (...args: unknown[]) => string) => {
    const sorted = [...value].sort((a, b) => maskedJson(a).localeCompare(maskedJson(b)));
    sortedLists.add(sorted);
    return printer(sorted, config, indentation, depth, refs);
  },
};
