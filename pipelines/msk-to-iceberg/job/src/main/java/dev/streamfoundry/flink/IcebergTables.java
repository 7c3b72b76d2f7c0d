package dev.streamfoundry.flink;

import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.TableLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The catalog chosen by configuration (Glue in AWS, Hadoop on a local or test warehouse) and the table the job writes. */
public final class IcebergTables {
    private static final Logger LOG = LoggerFactory.getLogger(IcebergTables.class);

    /** Properties of a table the job creates: v2, Parquet + zstd, old metadata files pruned (one commit per checkpoint). */
    public static final Map<String, String> TABLE_PROPERTIES = Map.of(
            TableProperties.FORMAT_VERSION, "2",
            TableProperties.DEFAULT_FILE_FORMAT, "parquet",
            TableProperties.PARQUET_COMPRESSION, "zstd",
            TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true",
            TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, "100",
            TableProperties.COMMIT_NUM_RETRIES, "10");

    private IcebergTables() {
    }

    public static CatalogLoader catalogLoader(JobConfig cfg) {
        Configuration hadoopConf = new Configuration();
        Map<String, String> props = new HashMap<>();
        props.put("warehouse", cfg.warehouse);
        switch (cfg.catalogType) {
            case GLUE:
                props.put("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
                return CatalogLoader.custom("glue", props, hadoopConf, "org.apache.iceberg.aws.glue.GlueCatalog");
            case HADOOP:
                return CatalogLoader.hadoop("hadoop", hadoopConf, props);
            default:
                throw new IllegalStateException(cfg.catalogType.toString());
        }
    }

    public static TableIdentifier identifier(JobConfig cfg) {
        return TableIdentifier.of(Namespace.of(cfg.database), cfg.table);
    }

    /**
     * Creates the table (and, where missing, the database) from the derived schema, partitioned by event day; an
     * existing table must have the same columns (no silent schema drift: evolve it deliberately).
     */
    public static Table ensureTable(CatalogLoader loader, TableIdentifier id, Schema schema, PartitionSpec spec) {
        return ensureTable(loader, id, schema, spec, false);
    }

    /** As below: {@code evolve} is {@link Evolution#RULES}, else {@link Evolution#NONE}. */
    public static Table ensureTable(CatalogLoader loader, TableIdentifier id, Schema schema, PartitionSpec spec, boolean evolve) {
        return ensureTable(loader, id, schema, spec, evolve ? Evolution.RULES : Evolution.NONE);
    }

    /** What an existing table with other columns than the job's schema becomes at start. */
    public enum Evolution {
        /** Refused: the columns must match. */
        NONE,
        /**
         * The source schema changed (issue 19: the synth gate checked the change against the last released version):
         * new columns are added (optional: older rows have none), types widened where Iceberg can, required columns the
         * schema relaxed made optional. A column the table has and the schema does not is kept and written null if it
         * is optional (a property of a newer version, after a rollback to the code before it); a required one is
         * refused (a removed required field is a breaking change: a new table, or the wrong source.schema).
         */
        SOURCE,
        /**
         * The processing rules changed (docs/processing-rules.md "The output schema"): as {@link #SOURCE}, and a
         * column the rules no longer produce is kept with its data and made optional (new rows write null).
         */
        RULES
    }

    /**
     * As above; with {@code evolution} other than {@link Evolution#NONE}, an existing table with other columns is
     * evolved instead of refused (see {@link Evolution}). A type Iceberg cannot change in place (a cast to another type)
     * still fails at start, naming the column: rename the old column or write to a new table. The returned table's
     * schema is the one to write rows of.
     */
    public static Table ensureTable(CatalogLoader loader, TableIdentifier id, Schema schema, PartitionSpec spec, Evolution evolution) {
        Catalog catalog = loader.loadCatalog();
        try {
            if (catalog instanceof SupportsNamespaces) {
                SupportsNamespaces ns = (SupportsNamespaces) catalog;
                if (!ns.namespaceExists(id.namespace())) {
                    try {
                        ns.createNamespace(id.namespace());
                        LOG.info("Created namespace {}", id.namespace());
                    } catch (AlreadyExistsException e) {
                        // created concurrently
                    }
                }
            }
            Table table;
            if (catalog.tableExists(id)) {
                table = catalog.loadTable(id);
            } else {
                try {
                    table = catalog.buildTable(id, schema).withPartitionSpec(spec).withProperties(TABLE_PROPERTIES).create();
                    LOG.info("Created Iceberg table {} partitioned by {}", id, spec);
                } catch (AlreadyExistsException e) {
                    table = catalog.loadTable(id);
                }
            }
            String want = SourceSchema.shape(schema);
            String have = SourceSchema.shape(table.schema());
            if (!want.equals(have) && evolution != Evolution.NONE) {
                evolve(table, schema, id, evolution);
                table.refresh();
                return table;
            }
            if (!want.equals(have)) {
                throw new IllegalStateException("Iceberg table " + id + " exists with other columns than the source schema derives.\n"
                        + "  table:  " + have + "\n  schema: " + want + "\nEvolve the table (ALTER TABLE) to match, or write to a new table.");
            }
            return table;
        } finally {
            if (catalog instanceof Closeable) {
                try {
                    ((Closeable) catalog).close();
                } catch (IOException e) {
                    LOG.warn("Closing catalog", e);
                }
            }
        }
    }

    private static void evolve(Table table, Schema schema, TableIdentifier id, Evolution evolution) {
        String target = evolution == Evolution.RULES ? "the processing rules' output schema" : "the source schema";
        try {
            UpdateSchema update = table.updateSchema().unionByNameWith(schema);
            Map<String, Integer> wanted = TypeUtil.indexByName(schema.asStruct());
            List<String> removedRequired = new ArrayList<>();
            // Each column once, by its full name (indexByName also has short names: items.sku for items.element.sku).
            for (Map.Entry<Integer, String> e : TypeUtil.indexNameById(table.schema().asStruct()).entrySet()) {
                String name = e.getValue();
                if (!wanted.containsKey(name) && table.schema().findField(e.getKey()).isRequired()) {
                    int dot = name.lastIndexOf('.');
                    if (evolution == Evolution.RULES) update.makeColumnOptional(name);
                    // Inside a struct the schema no longer has at all, that struct alone counts.
                    else if (dot < 0 || wanted.containsKey(name.substring(0, dot))) removedRequired.add(name);
                }
            }
            if (!removedRequired.isEmpty()) {
                Collections.sort(removedRequired);
                throw new IllegalStateException("Iceberg table " + id + " has required columns that " + target + " no longer has: "
                        + removedRequired + ". Removing a required field is not a compatible change: write to a new table (a new "
                        + "major version of the schema), or check source.schema.");
            }
            update.commit();
            LOG.info("Evolved Iceberg table {} to {}: {}", id, target, SourceSchema.shape(table.schema()));
        } catch (IllegalArgumentException | org.apache.iceberg.exceptions.ValidationException e) {
            throw new IllegalStateException("Iceberg table " + id + " cannot be evolved to " + target + ": "
                    + e.getMessage() + ". Rename the old column (ALTER TABLE ... RENAME COLUMN) or write to a new table.", e);
        }
    }

    public static TableLoader tableLoader(CatalogLoader loader, TableIdentifier id) {
        return TableLoader.fromCatalog(loader, id);
    }
}
