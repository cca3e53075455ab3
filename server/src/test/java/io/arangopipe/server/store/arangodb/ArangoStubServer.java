package io.arangopipe.server.store.arangodb;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A few endpoints of ArangoDB's HTTP API over a real socket, answering in its JSON formats (results and
 * {@code {"error":true,"code":..,"errorNum":..,"errorMessage":..}}), with scripted failures for AQL
 * cursor requests. Enough for the driver (HTTP/1.1 JSON) to run stream transactions and queries.
 */
final class ArangoStubServer implements AutoCloseable {

  /** One scripted answer. */
  record Answer(int status, String body, long delayMillis) {
    static Answer error(int status, int errorNum, String message) {
      return new Answer(status, "{\"error\":true,\"code\":" + status + ",\"errorNum\":" + errorNum
          + ",\"errorMessage\":\"" + message + "\"}", 0);
    }

    static Answer slow(long millis) {
      return new Answer(0, null, millis);
    }
  }

  /** Answers for the next cursor (AQL) requests, in order; afterwards, an empty result. */
  final Deque<Answer> cursorScript = new ConcurrentLinkedDeque<>();
  /** When set, every cursor request gets this answer. */
  volatile Answer alwaysCursor;
  final List<String> requests = java.util.Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger txIds = new AtomicInteger(100);
  private final int port;
  private final javax.net.ssl.SSLContext tls;
  private HttpServer server;
  private ExecutorService executor;

  ArangoStubServer(int port) throws IOException {
    this(port, null);
  }

  /** With {@code tls}, the stub speaks HTTPS with that context's certificate. */
  ArangoStubServer(int port, javax.net.ssl.SSLContext tls) throws IOException {
    this.tls = tls;
    start(port);
    this.port = server.getAddress().getPort();
  }

  int port() {
    return port;
  }

  String endpoint() {
    return (tls == null ? "http" : "https") + "://127.0.0.1:" + port;
  }

  private void start(int p) throws IOException {
    InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), p);
    if (tls == null) {
      server = HttpServer.create(at, 50);
    } else {
      com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(at, 50);
      https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
      server = https;
    }
    executor = Executors.newCachedThreadPool();
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Stops listening: connections are refused until {@link #restart}. */
  void stop() {
    server.stop(0);
    executor.shutdownNow();
  }

  void restart() throws IOException {
    start(port);
  }

  long count(String prefix) {
    synchronized (requests) {
      return requests.stream().filter(r -> r.startsWith(prefix)).count();
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      ex.getRequestBody().readAllBytes();
      String method = ex.getRequestMethod();
      String path = ex.getRequestURI().getPath();
      Answer a;
      if (path.endsWith("/_api/transaction/begin")) {
        requests.add("begin " + path);
        a = new Answer(201, "{\"error\":false,\"code\":201,\"result\":{\"id\":\"" + txIds.incrementAndGet()
            + "\",\"status\":\"running\"}}", 0);
      } else if (path.contains("/_api/transaction/") && method.equals("PUT")) {
        requests.add("commit " + path);
        a = new Answer(200, "{\"error\":false,\"code\":200,\"result\":{\"id\":\"" + last(path)
            + "\",\"status\":\"committed\"}}", 0);
      } else if (path.contains("/_api/transaction/") && method.equals("DELETE")) {
        requests.add("abort " + path);
        a = new Answer(200, "{\"error\":false,\"code\":200,\"result\":{\"id\":\"" + last(path)
            + "\",\"status\":\"aborted\"}}", 0);
      } else if (path.endsWith("/_api/cursor")) {
        requests.add("cursor " + path);
        Answer scripted = alwaysCursor != null ? alwaysCursor : cursorScript.poll();
        a = scripted != null ? scripted : new Answer(201, "{\"error\":false,\"code\":201,\"result\":[],"
            + "\"hasMore\":false,\"cached\":false,\"extra\":{\"warnings\":[],\"stats\":{}}}", 0);
      } else if (path.endsWith("/_api/version")) {
        requests.add("version " + path);
        a = new Answer(200, "{\"server\":\"arango\",\"version\":\"3.12.4\",\"license\":\"community\"}", 0);
      } else {
        requests.add("other " + method + " " + path);
        a = Answer.error(404, 404, "unknown path in the stub");
      }
      if (a.delayMillis() > 0) {
        try {
          Thread.sleep(a.delayMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        a = new Answer(201, "{\"error\":false,\"code\":201,\"result\":[],\"hasMore\":false}", 0);
      }
      byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json; charset=utf-8");
      ex.sendResponseHeaders(a.status(), body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    } catch (IOException e) {
      // The client went away (e.g. its time-out): nothing to answer.
    }
  }

  private static String last(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  @Override
  public void close() {
    stop();
  }
}
