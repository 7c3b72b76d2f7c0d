/**
 * What `terraform plan` does with a changed `schema` of a `google_bigquery_table`, without the provider binary (the
 * Terraform registry is not reachable here): a line-by-line port of the google provider's decision, at the version
 * the synthesized stack pins (`required_providers.google.version`, 6.50.0).
 *
 * Source: hashicorp/terraform-provider-google tag v6.50.0 (commit 956f510990a78614a06730c34e93779171c5e8f7),
 * google/services/bigquery/resource_bigquery_table.go:
 *  - the table's `schema` argument is not ForceNew (line 1023); `CustomizeDiff` calls
 *    `resourceBigQueryTableSchemaCustomizeDiffFunc` (line 406), which calls `d.ForceNew("schema")` (a replacement:
 *    destroy, then create) when `resourceBigQueryTableSchemaIsChangeable(old, new, isExternal, topLevel=true)`
 *    (line 291) is false, and otherwise leaves an in-place update;
 *  - the update (`resourceBigQueryTableUpdate`, line 2195) drops removed top-level columns with
 *    `ALTER TABLE ... DROP COLUMN` (`resourceBigQueryTableColumnDrop`) and then calls `tables.update`;
 *  - the delete (line 2316) fails with "cannot destroy table ... without setting deletion_protection=false and running
 *    `terraform apply`" while `deletion_protection` is true, so a replacement of a protected table fails the apply.
 * HEAD (v7.45.0) has the same rules plus one: dropping columns is a replacement when the table has row access policies.
 */

type Json = unknown;

/** `bigQueryTableTypeEq` (line 242): case-insensitive, INTEGER=INT64, FLOAT=FLOAT64, BOOLEAN=BOOL. */
export function typeEq(oldType: string, newType: string): boolean {
  const a = oldType.toUpperCase();
  const b = newType.toUpperCase();
  const sets = [['INTEGER', 'INT64'], ['FLOAT', 'FLOAT64'], ['BOOLEAN', 'BOOL']];
  return a === b || sets.some((set) => set.includes(a) && set.includes(b));
}

/** `bigQueryTableNormalizeMode` (line 258): a missing mode is NULLABLE. */
const normalizeMode = (mode: Json): string => (mode === undefined || mode === null ? 'NULLABLE' : String(mode).toUpperCase());

/** `bigQueryTableModeIsForceNew` (line 266): any mode change but REQUIRED -> NULLABLE. */
export const modeIsForceNew = (oldMode: string, newMode: string): boolean => !(oldMode === newMode || (oldMode === 'REQUIRED' && newMode === 'NULLABLE'));

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `resourceBigQueryTableSchemaIsChangeable` (line 291). One liberty: Go ranges over a field's keys in random order and
 * returns as soon as it meets "fields"; here "fields" comes last, so a RECORD column's own type and mode are always
 * compared (the stricter of the orders Go may take).
 */
export function schemaIsChangeable(old: Json, next: Json, isExternalTable: boolean, topLevel: boolean): boolean {
  if (Array.isArray(old)) {
    if (!Array.isArray(next)) return false;
    for (const list of [old, next]) {
      if (list.some((f) => !isObject(f) || !('name' in f))) throw new Error(`No name in schema ${JSON.stringify(list)}`);
    }
    const byName = (list: Json[]) => new Map(list.map((f) => [(f as Record<string, Json>).name as string, f]));
    const mapOld = byName(old);
    const mapNew = byName(next);
    // A new column in REQUIRED mode cannot be added in place.
    for (const [name, field] of mapNew) {
      if (!mapOld.has(name) && (field as Record<string, Json>).mode === 'REQUIRED') return false;
    }
    let sameNameColumns = 0;
    let droppedColumns = 0;
    for (const [name, field] of mapOld) {
      if (!mapNew.has(name)) {
        // Top-level columns of a native table can be dropped in place; nested ones cannot.
        if (!topLevel || isExternalTable) return false;
        droppedColumns++;
        continue;
      }
      if (!schemaIsChangeable(field, mapNew.get(name), isExternalTable, false)) return false;
      if (topLevel) sameNameColumns++;
    }
    // Dropping and adding columns in one change is ambiguous (a rename?): not in place.
    const newColumns = next.length - sameNameColumns;
    return droppedColumns === 0 || newColumns === 0;
  }
  if (isObject(old)) {
    if (!isObject(next)) return false;
    const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
    if (keys.has('foreignTypeDefinition')) {
      keys.delete('type');
      keys.delete('fields');
    }
    for (const key of [...keys].filter((k) => k !== 'fields')) {
      const a = old[key];
      const b = next[key];
      if (key === 'name' && a !== b) return false;
      if (key === 'type') {
        if (a === undefined || b === undefined) return true;
        if (!typeEq(String(a), String(b))) return false;
      }
      if (key === 'mode' && modeIsForceNew(normalizeMode(a), normalizeMode(b))) return false;
      // description, policyTags: changeable
    }
    if (keys.has('fields')) return schemaIsChangeable(old.fields, next.fields, isExternalTable, false);
    return true;
  }
  return old === next;
}

/** What a plan does with the table when its `schema` goes from `oldSchema` to `newSchema` (JSON text, as synthesized). */
export function planForSchemaChange(oldSchema: string, newSchema: string): 'no-op' | 'update in place' | 'replace' {
  const old = JSON.parse(oldSchema === 'null' ? '[]' : oldSchema);
  const next = JSON.parse(newSchema === 'null' ? '[]' : newSchema);
  if (JSON.stringify(old) === JSON.stringify(next)) return 'no-op';
  return schemaIsChangeable(old, next, false, true) ? 'update in place' : 'replace';
}
