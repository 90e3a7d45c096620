package penstock.clients;

// --- README snippet: Java (imports) ---
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.cloud.NoCredentials;
import com.google.cloud.bigquery.BigQuery;
import com.google.cloud.bigquery.BigQueryOptions;
import com.google.cloud.bigquery.storage.v1.BigQueryWriteClient;
import com.google.cloud.bigquery.storage.v1.BigQueryWriteSettings;
import io.grpc.ManagedChannelBuilder;
// --- end of README snippet ---
import java.io.IOException;

/**
 * How the Java clients connect to Penstock: the code the README shows. Addresses come from
 * PENSTOCK_HTTP_URL / PENSTOCK_GRPC_ADDR and default to Penstock's defaults.
 */
final class Connect {
  static final String HTTP_URL = env("PENSTOCK_HTTP_URL", "http://127.0.0.1:9050");
  static final String GRPC_ADDR = env("PENSTOCK_GRPC_ADDR", "127.0.0.1:9060");
  static final String PROJECT = env("PENSTOCK_PROJECT", "my-project");

  private Connect() {}

  /** The REST client (datasets, tables, insertAll, tabledata.list). */
  static BigQuery bigQuery() {
    // --- README snippet: Java (REST) ---
    BigQuery bq =
        BigQueryOptions.newBuilder()
            .setProjectId(PROJECT)
            .setHost(HTTP_URL)
            .setCredentials(NoCredentials.getInstance())
            .build()
            .getService();
    // --- end of README snippet ---
    return bq;
  }

  /** The Storage Write API settings: plaintext gRPC, no credentials. */
  static BigQueryWriteSettings writeSettings() throws IOException {
    // --- README snippet: Java (Storage Write API) ---
    // Pass the client to StreamWriter.newBuilder(stream, client) and
    // JsonStreamWriter.newBuilder(streamOrTable, client): writers take the
    // endpoint, channel and credentials from it.
    BigQueryWriteSettings settings =
        BigQueryWriteSettings.newBuilder()
            .setEndpoint(GRPC_ADDR)
            .setCredentialsProvider(NoCredentialsProvider.create())
            .setTransportChannelProvider(
                BigQueryWriteSettings.defaultGrpcTransportProviderBuilder()
                    .setChannelConfigurator(ManagedChannelBuilder::usePlaintext)
                    .build())
            .build();
    // --- end of README snippet ---
    return settings;
  }

  /** A Storage Write API client on {@link #writeSettings}. */
  static BigQueryWriteClient writeClient() throws IOException {
    return BigQueryWriteClient.create(writeSettings());
  }

  private static String env(String name, String def) {
    String v = System.getenv(name);
    return v == null || v.isEmpty() ? def : v;
  }
}
