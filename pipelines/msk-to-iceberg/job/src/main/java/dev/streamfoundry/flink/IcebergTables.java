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
import java.util.HashMap;
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

    /**
     * As above; with {@code evolve} (the processing rules' tables, docs/processing-rules.md "The output schema"), an
     * existing table with other columns is evolved instead of refused: new columns are added (optional: older rows
     * have none), types widened where Iceberg can (int -> long, float -> double), and columns the schema no longer has
     * are kept with their data and made optional (new rows write null). A type Iceberg cannot change in place (a cast
     * to another type) still fails at start, naming the column: rename the old column or write to a new table.
     * The returned table's schema is the one to write rows of.
     */
    public static Table ensureTable(CatalogLoader loader, TableIdentifier id, Schema schema, PartitionSpec spec, boolean evolve) {
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
            if (!want.equals(have) && evolve) {
                evolve(table, schema, id);
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

    private static void evolve(Table table, Schema schema, TableIdentifier id) {
        try {
            UpdateSchema update = table.updateSchema().unionByNameWith(schema);
            Map<String, Integer> wanted = TypeUtil.indexByName(schema.asStruct());
            for (Map.Entry<String, Integer> e : TypeUtil.indexByName(table.schema().asStruct()).entrySet()) {
                if (!wanted.containsKey(e.getKey()) && table.schema().findField(e.getValue()).isRequired()) {
                    update.makeColumnOptional(e.getKey());
                }
            }
            update.commit();
            LOG.info("Evolved Iceberg table {} to the processing rules' output schema: {}", id, SourceSchema.shape(table.schema()));
        } catch (IllegalArgumentException | org.apache.iceberg.exceptions.ValidationException e) {
            throw new IllegalStateException("Iceberg table " + id + " cannot be evolved to the processing rules' output schema: "
                    + e.getMessage() + ". Rename the old column (ALTER TABLE ... RENAME COLUMN) or write to a new table.", e);
        }
    }

    public static TableLoader tableLoader(CatalogLoader loader, TableIdentifier id) {
        return TableLoader.fromCatalog(loader, id);
    }
}
