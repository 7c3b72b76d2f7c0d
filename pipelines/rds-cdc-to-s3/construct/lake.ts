import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { catalogName } from '../../../platform/names';
import { addQueryWorkgroup } from '../../../platform/query-workgroup';
import { athenaRelation, cdcGlueTableInput, CdcTableDefinition, currentStateQuery, glueTableName, LakeTableSource, lakeTableDefinition } from './cdc-table-schema';
import { TableMappingOptions } from './table-mappings';
import { resolveLayout, S3TargetOptions } from './target-endpoint';

export interface CdcLakeProps {
  readonly rawBucket: s3.IBucket;
  readonly lakeTables: readonly LakeTableSource[];
  readonly tables: TableMappingOptions;
  readonly target?: Partial<S3TargetOptions>;
  /** Glue database and Athena workgroup name. */
  readonly name: string;
  readonly allowDestroy: boolean;
}

/**
 * The Glue database's name (platform/names' catalogName). This database's name turned a run of other characters into
 * one "_" ("a--b" → "a_b") before the names had one rule; the run is still collapsed first, so a deployed database
 * keeps its name (a new name would replace it).
 */
export function glueDatabaseName(name: string): string {
  return catalogName(name.toLowerCase().replace(/[^a-z0-9_]+/g, '_'));
}

/**
 * What makes the change log queryable: a Glue database with one table per declared table (its columns derived from the
 * same selection as the DMS table mappings), an Athena workgroup (engine v3, results encrypted in a bucket of their own,
 * settings enforced) and, per table, a saved query that rebuilds the table's current state from its change log.
 */
export class CdcLake extends Construct {
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  readonly workgroup: athena.CfnWorkGroup;
  readonly resultsBucket: s3.IBucket;
  readonly tables: Record<string, glue.CfnTable> = {};
  readonly currentStateQueries: Record<string, athena.CfnNamedQuery> = {};
  readonly definitions: CdcTableDefinition[];

  constructor(scope: Construct, id: string, props: CdcLakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.databaseName = glueDatabaseName(props.name);
    const layout = resolveLayout(props.target);
    const schemaOptions = { layout, changeSequenceColumn: props.tables.changeSequenceColumn };

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: this.databaseName, description: `Change logs replicated by DMS (${this.node.path})` },
    });

    ({ workgroup: this.workgroup, resultsBucket: this.resultsBucket } = addQueryWorkgroup(this, 'WorkGroup', {
      name: props.name,
      description: `Queries over the CDC change logs of ${this.node.path}`,
      allowDestroy: props.allowDestroy,
    }));

    this.definitions = props.lakeTables.map((source, i) => lakeTableDefinition(source, `lakeTables[${i}]`));
    for (const def of this.definitions) {
      const name = glueTableName(def);
      if (this.tables[name]) throw new Error(`${this.node.path}: two lake tables are named ${name}`);
      const table = new glue.CfnTable(this, `Table-${name}`, {
        catalogId: stack.account,
        databaseName: this.databaseName,
        tableInput: cdcGlueTableInput(def, { ...schemaOptions, bucketName: props.rawBucket.bucketName }),
      });
      table.addResourceDependency(this.database);
      this.tables[name] = table;
      const query = new athena.CfnNamedQuery(this, `CurrentState-${name}`, {
        name: `${name}: current state`,
        description: `The rows of ${def.schema}.${def.table} as they are now: the latest change of each primary key, unless deleted`,
        database: this.databaseName,
        workGroup: this.workgroup.name,
        queryString: currentStateQuery(def, { ...schemaOptions, relation: athenaRelation(this.databaseName, def) }),
      });
      query.addResourceDependency(this.workgroup);
      query.addResourceDependency(table);
      this.currentStateQueries[name] = query;
    }
  }
}
