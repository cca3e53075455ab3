package io.arangopipe.server;

import io.arangopipe.server.config.CommandLine;
import io.arangopipe.server.config.ServerConfig;
import io.arangopipe.server.config.StoreOptions;
import io.arangopipe.server.store.GraphStore;
import io.arangopipe.server.transfer.DumpFormat;
import io.arangopipe.server.transfer.Exporter;
import io.arangopipe.server.transfer.Progress;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code arangopipe-server export}: the whole store as JSON lines (see {@link DumpFormat}). */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    versionProvider = CommandLine.Version.class,
    sortOptions = false,
    usageHelpWidth = 120,
    description = {"Writes everything a store holds (types, vertices, edges, change history, request ids, users and"
        + " tokens) as JSON lines, for `import` into another store or as a backup.",
        "The embedded store must not be in use: stop the server first. Progress and a summary go to stderr."},
    footer = {"", "Example: arangopipe-server export --data-dir ./arangopipe-data --out arangopipe-export.jsonl"})
public final class ExportCommand implements Callable<Integer> {

  @Mixin
  StoreOptions storeOptions = new StoreOptions();

  @Option(names = "--out", defaultValue = "-", paramLabel = "FILE",
      description = "Where to write: a file (written beside it under a temporary name, renamed when complete,"
          + " readable by its owner only), or - for standard output. Default: ${DEFAULT-VALUE}.")
  String out;

  private final OutputStream stdout;
  private final PrintStream stderr;

  public ExportCommand() {
    // Not System.out: a PrintStream swallows write errors, and a full disk or a closed pipe must fail the export.
    this(new FileOutputStream(FileDescriptor.out), System.err);
  }

  ExportCommand(OutputStream stdout, PrintStream stderr) {
    this.stdout = stdout;
    this.stderr = stderr;
  }

  @Override
  public Integer call() {
    ServerConfig config;
    try {
      config = storeOptions.toServerConfig();
    } catch (IllegalArgumentException e) {
      stderr.println("arangopipe-server export: " + e.getMessage());
      return 2;
    }
    try (GraphStore store = TransferSupport.open(config, true, "export")) {
      Exporter exporter = new Exporter(store, 1000, Progress.to(stderr, "export"));
      String version = new CommandLine.Version().getVersion()[0];
      if (out.equals("-")) {
        Writer w = new BufferedWriter(new OutputStreamWriter(stdout, StandardCharsets.UTF_8), 1 << 16);
        exporter.export(w, version, Clock.systemUTC()); // flushes; a write error throws
      } else {
        Path file = Path.of(out).toAbsolutePath();
        Path tmp = file.resolveSibling(file.getFileName() + ".partial");
        try {
          Files.deleteIfExists(tmp);
          if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
          }
          try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            exporter.export(w, version, Clock.systemUTC());
          }
          try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            c.force(true); // on disk before it gets its final name
          }
          Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
          try {
            Files.deleteIfExists(tmp);
          } catch (IOException ignored) {
            // Reported below; the partial file is only a leftover.
          }
          if (e instanceof IOException io) {
            throw new UncheckedIOException("cannot write " + file + ": " + io.getMessage(), io);
          }
          throw (RuntimeException) e;
        }
        stderr.println("export: wrote " + file + " from " + store.describe());
      }
      return 0;
    } catch (TransferSupport.Failure e) {
      stderr.println("arangopipe-server export: " + e.getMessage());
      return e.exitCode();
    } catch (UncheckedIOException e) {
      stderr.println("arangopipe-server export: " + e.getMessage());
      return 1;
    } catch (RuntimeException e) {
      stderr.println("arangopipe-server export: failed: " + e);
      return 1;
    }
  }
}
