package io.arangopipe.server;

import io.arangopipe.server.config.CommandLine;
import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.server.config.StoreOptions;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.store.StoreException;
import io.arangopipe.server.transfer.DumpFormat;
import io.arangopipe.server.transfer.Importer;
import io.arangopipe.server.transfer.Progress;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code arangopipe-server import}: a file written by {@code export}, into a store. */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLine.Version.class,
    sortOptions = false,
    usageHelpWidth = 120,
    description = {"Imports a file written by `export` into a store: into an empty one, or again into the same one"
        + " (what is there unchanged is skipped, so an interrupted import can simply be run again).",
        "A file is checked completely before anything is written. The embedded store must not be in use: stop the"
            + " server first. Progress and a summary go to stderr."},
    footer = {"", "Example: arangopipe-server import --data-dir ./new-data --in arangopipe-export.jsonl"})
public final class ImportCommand implements Callable<Integer> {

  @Mixin
  StoreOptions storeOptions = new StoreOptions();

  @Option(names = "--in", defaultValue = "-", paramLabel = "FILE",
      description = "The file to import, or - for standard input (read once: checked line by line as it is"
          + " imported). Default: ${DEFAULT-VALUE}.")
  String in;

  @Option(names = "--on-conflict", defaultValue = "fail", paramLabel = "MODE",
      description = "A record the store holds with other contents: fail (stop; the batches before stay imported)"
          + " or skip (keep the store's version, count it). Default: ${DEFAULT-VALUE}.")
  String onConflict;

  @Option(names = "--batch-size", defaultValue = "1000", paramLabel = "N",
      description = "Records written per atomic transaction (1-100000). Default: ${DEFAULT-VALUE}.")
  int batchSize;

  private final InputStream stdin;
  private final PrintStream stderr;

  public ImportCommand() {
    this(System.in, System.err);
  }

  ImportCommand(InputStream stdin, PrintStream stderr) {
    this.stdin = stdin;
    this.stderr = stderr;
  }

  @Override
  public Integer call() {
    ServerConfig config;
    Importer.OnConflict mode;
    try {
      config = storeOptions.toServerConfig();
      try {
        mode = Importer.OnConflict.valueOf(onConflict.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--on-conflict must be fail or skip (got \"" + onConflict + "\")");
      }
      if (batchSize < 1 || batchSize > 100_000) {
        throw new IllegalArgumentException("--batch-size must be between 1 and 100000 (got " + batchSize + ")");
      }
      if (!in.equals("-") && !Files.isRegularFile(Path.of(in))) {
        throw new IllegalArgumentException("--in " + in + ": no such file");
      }
      if (in.equals("-") && stdin == System.in && System.console() != null) {
        throw new IllegalArgumentException("give the file with --in FILE, or pipe it to standard input");
      }
    } catch (IllegalArgumentException e) {
      stderr.println("arangopipe-server import: " + e.getMessage());
      return 2;
    }
    String source = in.equals("-") ? "standard input" : Path.of(in).toAbsolutePath().toString();
    try {
      if (!in.equals("-")) {
        // A file can be read twice: check all of it first, so a bad or truncated file writes nothing.
        try (Reader r = open()) {
          Importer.check(r);
        }
      }
      try (GraphStore store = TransferSupport.open(config, false, "import"); Reader r = open()) {
        Progress progress = Progress.to(stderr, "import");
        Importer.Summary s = new Importer(store, batchSize, mode, progress).run(r);
        stderr.println("import: " + Progress.total(s.read()) + " records from " + source + " into "
            + store.describe() + ": " + Progress.total(s.written()) + " written, " + Progress.total(s.unchanged())
            + " already there unchanged, " + Progress.total(s.conflicts()) + " conflicts kept as the store had them");
        for (var k : DumpFormat.Kind.DATA) {
          stderr.println(String.format(Locale.ROOT, "  %-10s %9d read %9d written %9d unchanged %9d conflicts",
              k.label(), s.read().get(k), s.written().get(k), s.unchanged().get(k), s.conflicts().get(k)));
        }
      }
      return 0;
    } catch (TransferSupport.Failure e) {
      stderr.println("arangopipe-server import: " + e.getMessage());
      return e.exitCode();
    } catch (DumpFormat.FormatException e) {
      stderr.println("arangopipe-server import: " + source + ": " + e.getMessage());
      return 1;
    } catch (Importer.ImportException | StoreException e) {
      stderr.println("arangopipe-server import: " + e.getMessage());
      return 1;
    } catch (IOException | UncheckedIOException e) {
      stderr.println("arangopipe-server import: " + e.getMessage());
      return 1;
    }
  }

  private Reader open() throws IOException {
    InputStream s = in.equals("-") ? stdin : Files.newInputStream(Path.of(in));
    // Malformed UTF-8 is an error, never silently replaced.
    return new BufferedReader(new InputStreamReader(s, StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)), 1 << 16);
  }
}
