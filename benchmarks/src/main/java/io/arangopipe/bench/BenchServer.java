package io.arangopipe.bench;

import io.arangopipe.server.ArangopipeServer;
import io.arangopipe.server.config.CommandLine;
import io.arangopipe.server.config.ServerConfig;
import io.grpc.ServerBuilder;
import java.util.concurrent.CountDownLatch;

/**
 * The real server (the server jar's classes, the same flags, transport and executor) plus the
 * benchmark-only {@link EchoService}, for the LogRun benchmark's transport ceiling. Run with the server's
 * jar and this module's jar on the class path; stops on SIGTERM.
 */
public final class BenchServer {
  private BenchServer() {}

  public static void main(String[] args) throws Exception {
    picocli.CommandLine cli = new picocli.CommandLine(new CommandLine());
    cli.parseArgs(args);
    ServerConfig config = ((CommandLine) cli.getCommand()).call();
    ServerBuilder<?> b = ArangopipeServer.netty(config);
    b.addService(EchoService.definition());
    ArangopipeServer server = new ArangopipeServer(config, b);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "bench-server-shutdown"));
    System.out.println("bench server on " + config.bind() + ":" + server.port() + " with " + config.threads()
        + " RPC threads");
    stopped.await();
  }
}
